import Foundation
import NIOPosix
import Vapor

/// Admission to the bcrypt threads: at most `capacity` computations running or waiting at once.
/// One more is refused at once instead of queueing without end. Thread-safe.
final class WorkGate: @unchecked Sendable {
    let capacity: Int
    private let lock = NSLock()
    private var inFlight = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Takes a place; false when all `capacity` are taken (take nothing then).
    func enter() -> Bool {
        lock.withLock {
            guard inFlight < capacity else { return false }
            inFlight += 1
            return true
        }
    }

    /// Gives back a place taken by `enter`.
    func leave() {
        lock.withLock { inFlight = max(0, inFlight - 1) }
    }

    /// Places taken now.
    var count: Int { lock.withLock { inFlight } }
}

extension PasswordHasher {
    /// The answer when the bcrypt threads and their queue are full.
    static let busy = AppError(
        .serviceUnavailable, code: "busy",
        key: "hasher_busy", retryAfter: 2)

    /// bcrypt at `cost` on `pool`, threads of its own (not the event loops, not the store's),
    /// admitted through `gate`: a flood of sign-ins gets `busy` (503) once the pool's threads
    /// and queue are full, and never slows what the event loops and the store do.
    static func bounded(cost: Int, pool: NIOThreadPool, gate: WorkGate) throws -> PasswordHasher {
        let decoy = try Bcrypt.hash(Credentials.random(), cost: cost)
        return PasswordHasher(
            hash: { password in
                try await admitted(gate, pool) { try Bcrypt.hash(password, cost: cost) }
            },
            verify: { password, hash in
                try await admitted(gate, pool) { try Bcrypt.verify(password, created: hash) }
            },
            decoy: decoy)
    }

    /// Runs `work` on `pool` once `gate` admits it; throws `busy` when it doesn't.
    static func admitted<T: Sendable>(_ gate: WorkGate, _ pool: NIOThreadPool, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard gate.enter() else { throw busy }
        defer { gate.leave() }
        return try await pool.runIfActive(work)
    }
}

extension Application {
    private struct BcryptGateKey: StorageKey { typealias Value = WorkGate }

    /// Admission to the bcrypt threads (its count shows how many hashes run or wait).
    var bcryptGate: WorkGate {
        get { required(BcryptGateKey.self, "bcrypt gate") }
        set { storage[BcryptGateKey.self] = newValue }
    }
}
