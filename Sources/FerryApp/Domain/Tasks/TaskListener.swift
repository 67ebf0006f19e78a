import Foundation
import Logging
import NIOCore
import FluentPostgresDriver

/// Cross-node task events on PostgreSQL: each node `NOTIFY`s what it commits (a log batch, a
/// status change, progress) on one channel and `LISTEN`s on a dedicated connection for the others', so a
/// WebSocket follower on any node hears of a line or a status as soon as it is committed
/// elsewhere, and idle workers wake when another node queues a task.
///
/// Payload: `node|task|kind[|status]` with kind `logs`, `status` or `progress`. A node ignores
/// its own.
/// Side effects: one long-lived PostgreSQL connection (reconnected with back-off after a
/// failure); fire-and-forget `pg_notify` calls on the pool after commits.
/// Invariant: notifications only hint; followers still read lines from the store, in seq
/// order, so a lost notification costs latency (the fallback poll), never a line.
final class TaskListener: @unchecked Sendable {
    static let channel = "ferry_tasks"

    enum Kind: String { case logs, status, progress }

    struct Note: Equatable {
        var node: String
        var task: UUID
        var kind: Kind
        var status: TaskStatus?
    }

    private let configuration: PostgresConnection.Configuration
    private let node: String
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let receive: @Sendable (Note) -> Void
    private let lock = NSLock()
    private var loop: Task<Void, Never>?
    private var connected = false

    init(configuration: PostgresConnection.Configuration, node: String, eventLoop: any EventLoop, logger: Logger,
         receive: @escaping @Sendable (Note) -> Void) {
        self.configuration = configuration
        self.node = node
        self.eventLoop = eventLoop
        self.logger = logger
        self.receive = receive
    }

    /// Whether the listening connection is up (followers then poll rarely).
    var isListening: Bool { lock.withLock { connected } }

    static func payload(node: String, task: UUID, kind: Kind, status: TaskStatus? = nil) -> String {
        [node, task.uuidString, kind.rawValue, status?.rawValue].compactMap { $0 }.joined(separator: "|")
    }

    static func parse(_ payload: String) -> Note? {
        let parts = payload.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, let task = UUID(uuidString: parts[1]), let kind = Kind(rawValue: parts[2]) else { return nil }
        return Note(node: parts[0], task: task, kind: kind, status: parts.count > 3 ? TaskStatus(rawValue: parts[3]) : nil)
    }

    func start() {
        lock.withLock {
            guard loop == nil else { return }
            loop = Task { [weak self] in await self?.run() }
        }
    }

    func stop() async {
        let task = lock.withLock { () -> Task<Void, Never>? in
            defer { loop = nil }
            return loop
        }
        task?.cancel()
        await task?.value
    }

    private func run() async {
        var delay: UInt64 = 500_000_000
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    on: eventLoop, configuration: configuration, id: 1, logger: logger).get()
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        lock.withLock { connected = true }
                        delay = 500_000_000
                        logger.debug("listening for other nodes' task events")
                        for try await n in notifications {
                            guard let note = Self.parse(n.payload), note.node != node else { continue }
                            receive(note)
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { break }
                logger.warning("task event listener lost its connection; retrying (followers poll meanwhile)",
                               metadata: ["error": .string(String(describing: error))])
            }
            lock.withLock { connected = false }
            try? await Task.sleep(nanoseconds: delay)
            delay = min(delay * 2, 10_000_000_000)
        }
        lock.withLock { connected = false }
    }
}
