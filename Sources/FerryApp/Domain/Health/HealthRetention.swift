import Fluent
import Foundation
import SQLKit

/// Retention of the health center's rows (its screenshots follow `HealthScreenshots`' own quota
/// and the same number of days).
///
/// Deletes checks recorded before `cutoff` that have a newer check of the same dashboard, except
/// the dashboard's newest PASS (the newest check of every dashboard stays, however old, so the
/// matrix and the navigation's count still show it; so does its newest PASS, whose screenshot
/// the next check compares with), and notification deliveries recorded before `cutoff` (their tasks, which the
/// deduplication is keyed on, are pruned after fewer days).
enum HealthRetention {
    static func prune(before cutoff: Date, on db: any Database) async throws -> (checks: Int, deliveries: Int) {
        let sql = TaskStore.sql(db)
        let pass = HealthStatus.pass.rawValue
        let checks = try await sql.raw("""
            SELECT COUNT(*) AS n FROM dashboard_checks c WHERE c.checked_at < \(bind: cutoff) AND EXISTS (
              SELECT 1 FROM dashboard_checks n WHERE n.environment_id = c.environment_id AND n.dashboard_id = c.dashboard_id
                AND n.dashboard_uuid = c.dashboard_uuid AND n.checked_at > c.checked_at)
              AND (c.status <> \(bind: pass) OR EXISTS (
              SELECT 1 FROM dashboard_checks p WHERE p.environment_id = c.environment_id AND p.dashboard_id = c.dashboard_id
                AND p.dashboard_uuid = c.dashboard_uuid AND p.status = \(bind: pass) AND p.checked_at > c.checked_at))
            """).first().flatMap { try? $0.decode(column: "n", as: Int.self) } ?? 0
        let deliveries = try await sql.raw("SELECT COUNT(*) AS n FROM notification_deliveries WHERE at < \(bind: cutoff)").first()
            .flatMap { try? $0.decode(column: "n", as: Int.self) } ?? 0
        try await db.writeTransaction { tx in
            let sql = TaskStore.sql(tx)
            try await sql.raw("""
                DELETE FROM dashboard_checks WHERE checked_at < \(bind: cutoff) AND EXISTS (
                  SELECT 1 FROM dashboard_checks n WHERE n.environment_id = dashboard_checks.environment_id AND n.dashboard_id = dashboard_checks.dashboard_id
                    AND n.dashboard_uuid = dashboard_checks.dashboard_uuid AND n.checked_at > dashboard_checks.checked_at)
                  AND (status <> \(bind: pass) OR EXISTS (
                  SELECT 1 FROM dashboard_checks p WHERE p.environment_id = dashboard_checks.environment_id AND p.dashboard_id = dashboard_checks.dashboard_id
                    AND p.dashboard_uuid = dashboard_checks.dashboard_uuid AND p.status = \(bind: pass) AND p.checked_at > dashboard_checks.checked_at))
                """).run()
            try await sql.raw("DELETE FROM notification_deliveries WHERE at < \(bind: cutoff)").run()
        }
        return (checks, deliveries)
    }
}
