import Fluent
import Foundation
import SQLKit
import SupersetKit

/// Built-in: deletes finished tasks (and their logs) older than `days`, and promotion plans
/// that were never applied (with the bundles they hold). Applied plans, promotions, their
/// snapshots and dashboard history are kept. Dashboard checks and notification deliveries follow
/// their own retention (`HealthRetention`), and so do task reports, which outlive their tasks
/// (`reportsRetentionDays`). Ferry schedules it daily ("Prune old tasks"); the schedule can be
/// changed or disabled like any other.
struct PruneTasksPlugin: Plugin {
    let id = "maintenance.prune_tasks"
    let name = "Prune old tasks"
    let description = "Deletes finished tasks and their logs older than a number of days."
    let version = "1.0.0"
    let permission = "tasks:admin"
    let resumable = true
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "additionalProperties": false, "properties": {
          "days": {"type": "integer", "minimum": 1, "maximum": 3650, "default": 30, "description": "Keep tasks that finished within this many days"}}}
        """#)
    /// The clock of the engine (injected).
    let now: @Sendable () -> Date
    /// Dashboard checks and notification deliveries older than this are deleted too
    /// (`FERRY_HEALTH_RETENTION_DAYS`; each dashboard's newest check stays).
    var healthRetentionDays = 30
    /// Reports of tasks that finished before this many days are deleted
    /// (`FERRY_REPORTS_RETENTION_DAYS`); the `days` param doesn't touch them.
    var reportsRetentionDays = 365

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        let days = context.params["days"]?.intValue ?? 30
        let cutoff = now().addingTimeInterval(-Double(days) * 86_400)
        try await context.step(key: "finding_old_tasks", ["date": ISO8601DateFormatter().string(from: cutoff)], progress: 10)
        let finished = [TaskStatus.succeeded, .partial, .failed, .cancelled, .interrupted].map(\.rawValue)
        let old = try await TaskModel.query(on: context.db).filter(\.$status ~~ finished).filter(\.$finishedAt < cutoff).all()
        let ids = old.compactMap(\.id).filter { $0 != context.taskID }
        try await context.step(key: "deleting_tasks", ["count": String(ids.count)], progress: 50)
        for chunk in stride(from: 0, to: ids.count, by: 200) {
            let slice = Array(ids[chunk..<min(chunk + 200, ids.count)])
            try await context.db.writeTransaction { tx in
                let sql = TaskStore.sql(tx)
                try await sql.delete(from: "task_logs").where("task_id", .in, SQLBind.group(slice)).run()
                try await sql.delete(from: "tasks").where("id", .in, SQLBind.group(slice)).run()
            }
        }
        context.log(.info, "deleted \(ids.count) tasks older than \(days) days", source: "storage")
        try await context.step(key: "deleting_plans", progress: 80)
        var plans = try await PromotionPlanModel.query(on: context.db).filter(\.$storedStatus ~~ PlanStatus.unapplied.map(\.rawValue))
            .filter(\.$createdAt < cutoff).all()
        // A plan a promotion refers to (one whose apply found the target changed, or whose task
        // could not be queued) stays with that promotion's history.
        if !plans.isEmpty {
            struct Row: Decodable { var plan_id: UUID }
            var promoted = Set<UUID>()
            let ids = plans.compactMap(\.id)
            for start in stride(from: 0, to: ids.count, by: 500) {
                promoted.formUnion(try await TaskStore.sql(context.db).select().column("plan_id").from(PromotionModel.schema)
                    .where("plan_id", .in, SQLBind.group(Array(ids[start..<min(start + 500, ids.count)]))).all(decoding: Row.self).map(\.plan_id))
            }
            plans.removeAll { promoted.contains($0.id!) }
        }
        // One applied just now has a promotion the foreign key keeps it for: it stays.
        var deletedPlans = 0
        for plan in plans where (try? await plan.delete(on: context.db)) != nil { deletedPlans += 1 }
        context.log(.info, "deleted \(deletedPlans) promotion plans never applied, older than \(days) days", source: "storage")
        try await context.step(key: "deleting_checks", ["days": String(healthRetentionDays)], progress: 90)
        let health = try await HealthRetention.prune(before: now().addingTimeInterval(-Double(healthRetentionDays) * 86_400), on: context.db)
        context.log(.info, "deleted \(health.checks) dashboard checks (each dashboard's newest kept) and \(health.deliveries) notification deliveries older than \(healthRetentionDays) days", source: "storage")
        try await context.step(key: "deleting_reports", ["days": String(reportsRetentionDays)], progress: 95)
        let reports = try await ReportService.prune(before: now().addingTimeInterval(-Double(reportsRetentionDays) * 86_400), on: context.db)
        context.log(.info, "deleted \(reports) reports of tasks finished more than \(reportsRetentionDays) days ago", source: "storage")
        return .succeeded(.map(["deleted": .int(ids.count), "plansDeleted": .int(deletedPlans), "days": .int(days),
                                "checksDeleted": .int(health.checks), "deliveriesDeleted": .int(health.deliveries),
                                "reportsDeleted": .int(reports)]))
    }
}

enum BuiltInSchedules {
    /// Creates the daily retention schedule unless one by that name exists (an operator may have
    /// changed or disabled it; Ferry leaves it alone then).
    static func ensure(registry: PluginRegistry, now: Date, id: UUID, on db: any Database) async throws {
        guard try await ScheduleModel.query(on: db).filter(\.$name == "Prune old tasks").first() == nil else { return }
        do {
            _ = try await ScheduleService.save(
                ScheduleInput(name: "Prune old tasks", plugin: "maintenance.prune_tasks", params: .map(["days": .int(30)]), cron: "17 3 * * *",
                              timeZone: "UTC", enabled: true, catchUp: true),
                id: nil, registry: registry, now: now, newID: id, on: db, authorize: { _, params in params })  // Ferry's own, at start
        } catch let e as AppError where e.code == "name_taken" {
            // Another node created it first.
        }
    }
}
