import Fluent
import Foundation
import SQLKit

/// The dashboards whose latest check FAILed, counted per environment: the red count in the
/// navigation.
///
/// Every page asks, so the counts are cached. Each ask costs one indexed read of the newest `checked_at`; the
/// counts are recomputed when that changed (a check was recorded, by any Ferry process sharing
/// the store) or after `ttl` (rows removed by retention). Callers filter by what the user may
/// read: the counts themselves cover every environment.
actor HealthFailureCount {
    private let ttl: TimeInterval
    private let now: @Sendable () -> Date
    private var cached: (at: Date, newest: Date?, counts: [UUID: Int])?

    init(ttl: TimeInterval = 60, now: @escaping @Sendable () -> Date) {
        self.ttl = ttl
        self.now = now
    }

    /// Failing dashboards per environment id (environments with none are absent).
    func counts(on db: any Database) async throws -> [UUID: Int] {
        let sql = TaskStore.sql(db)
        let newest = try await sql.raw("SELECT checked_at FROM dashboard_checks ORDER BY checked_at DESC LIMIT 1").first()
            .flatMap { try? $0.decode(column: "checked_at", as: Date.self) }
        let at = now()
        if let c = cached, c.newest == newest, at >= c.at, at.timeIntervalSince(c.at) < ttl { return c.counts }
        let rows = try await sql.raw("""
            SELECT c.environment_id AS environment_id, COUNT(*) AS failing FROM dashboard_checks c
            WHERE c.status = \(bind: HealthStatus.fail.rawValue) AND NOT EXISTS (
              SELECT 1 FROM dashboard_checks n WHERE n.environment_id = c.environment_id AND n.dashboard_id = c.dashboard_id
                AND n.dashboard_uuid = c.dashboard_uuid AND n.checked_at > c.checked_at)
            GROUP BY c.environment_id
            """).all()
        var counts: [UUID: Int] = [:]
        for row in rows {
            guard let id = try? row.decode(column: "environment_id", as: UUID.self),
                  let n = try? row.decode(column: "failing", as: Int.self), n > 0 else { continue }
            counts[id] = n
        }
        cached = (at, newest, counts)
        return counts
    }
}
