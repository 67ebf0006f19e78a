import Foundation
import NIOPosix
import Vapor

/// Wires the protections of README's "Security" section: the bcrypt threads and their bounded
/// queue (and the password hasher on them), the sign-in rate limits, the per-user WebSocket
/// limit and the aggregation of anonymous refusals in the audit log.
///
/// Side effects: starts `bcryptThreads` threads, stopped when the application shuts down (after
/// writing the audit summaries still pending).
func configureHardening(_ app: Application, configuration: FerryConfiguration) throws {
    let h = configuration.hardening
    let pool = NIOThreadPool(numberOfThreads: h.bcryptThreads)
    pool.start()
    let gate = WorkGate(capacity: h.bcryptThreads + h.bcryptQueue)
    app.bcryptGate = gate
    do {
        app.passwordHasher = try PasswordHasher.bounded(cost: configuration.bcryptCost, pool: pool, gate: gate)
    } catch {
        try? pool.syncShutdownGracefully()
        throw error
    }
    app.signInLimiter = SignInLimiter(perAddress: h.signInPerAddress, global: h.signInGlobal)
    app.webSocketLimiter = ConnectionLimiter(perUser: h.webSocketsPerUser)
    app.auditAggregator = AuditAggregator()
    app.lifecycle.use(HardeningLifecycle(pool: pool))
}

/// At shutdown: writes the audit summaries still pending, then stops the bcrypt threads.
struct HardeningLifecycle: LifecycleHandler {
    let pool: NIOThreadPool

    func shutdownAsync(_ application: Application) async {
        for entry in application.auditAggregator.drain() {
            try? await AuditLog.append(entry, id: application.ferry.uuid(), on: application.db)
        }
        try? await pool.shutdownGracefully()
    }
}

extension Application {
    private struct SignInLimiterKey: StorageKey { typealias Value = SignInLimiter }
    private struct WebSocketLimiterKey: StorageKey { typealias Value = ConnectionLimiter }
    private struct AuditAggregatorKey: StorageKey { typealias Value = AuditAggregator }

    /// Sign-in attempts per client address and in all (README, "Security").
    var signInLimiter: SignInLimiter {
        get { required(SignInLimiterKey.self, "Sign-in limiter") }
        set { storage[SignInLimiterKey.self] = newValue }
    }

    /// Live WebSocket connections per user.
    var webSocketLimiter: ConnectionLimiter {
        get { required(WebSocketLimiterKey.self, "WebSocket limiter") }
        set { storage[WebSocketLimiterKey.self] = newValue }
    }

    /// Collapses repeated anonymous refusals in the audit log.
    var auditAggregator: AuditAggregator {
        get { required(AuditAggregatorKey.self, "Audit aggregator") }
        set { storage[AuditAggregatorKey.self] = newValue }
    }
}
