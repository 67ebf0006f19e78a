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
        struct IDRow: Decodable { var id: UUID }
        let pass = HealthStatus.pass.rawValue
        let sql = TaskStore.sql(db)
        let checks = try await sql.raw("""
            SELECT c.id AS id FROM dashboard_checks c WHERE c.checked_at < \(bind: cutoff) AND EXISTS (
              SELECT 1 FROM dashboard_checks n WHERE n.environment_id = c.environment_id AND n.dashboard_id = c.dashboard_id
                AND n.dashboard_uuid = c.dashboard_uuid AND n.checked_at > c.checked_at)
              AND (c.status <> \(bind: pass) OR EXISTS (
              SELECT 1 FROM dashboard_checks p WHERE p.environment_id = c.environment_id AND p.dashboard_id = c.dashboard_id
                AND p.dashboard_uuid = c.dashboard_uuid AND p.status = \(bind: pass) AND p.checked_at > c.checked_at))
            """).all(decoding: IDRow.self).map(\.id)
        let deliveries = try await sql.select().column("id").from("notification_deliveries").where("at", .lessThan, SQLBind(cutoff))
            .all(decoding: IDRow.self).map(\.id)
        for (table, ids) in [("dashboard_checks", checks), ("notification_deliveries", deliveries)] {
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(start + 500, ids.count)])
                try await db.writeTransaction { tx in
                    try await TaskStore.sql(tx).delete(from: table).where("id", .in, SQLBind.group(chunk)).run()
                }
            }
        }
        return (checks.count, deliveries.count)
    }
}
