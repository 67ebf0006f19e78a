import Fluent
import SQLKit

/// Creates `reports` (one per finished task, written by the task engine: its kind, status,
/// title, summary line, typed details, cause and next action; kept after the task is pruned)
/// and `report_environments` (a report's environments one per row, for access and the
/// environment filter in SQL). Tasks finished before this migration get no report.
/// Shipped: never edit.
struct M0014_CreateReports: AsyncMigration {
    var name: String { "M0014_CreateReports" }

    func prepare(on database: Database) async throws {
        try await database.schema("reports")
            .id()
            .field("task_id", .uuid, .required)
            .field("plugin_id", .string, .required)
            .field("kind", .string, .required)
            .field("status", .string, .required)
            .field("outcome", .string)
            .field("environment_ids", .string, .required)
            .field("title", .string, .required)
            .field("summary", .string, .required)
            .field("details", .string, .required)
            .field("cause", .string)
            .field("next_action", .string)
            .field("created_by", .string, .required)
            .field("started_at", .datetime)
            .field("finished_at", .datetime, .required)
            .unique(on: "task_id", name: "uq_reports_task")
            .create()
        try await database.schema("report_environments")
            .field("report_id", .uuid, .required)
            .field("environment_id", .uuid, .required)
            .unique(on: "report_id", "environment_id", name: "uq_report_environments")
            .create()
        let sql = database as! any SQLDatabase
        // Every list is ORDER BY finished_at DESC, id DESC LIMIT n, alone or after one equality filter.
        try await sql.create(index: "ix_reports_finished").on("reports").column("finished_at").column("id").run()
        try await sql.create(index: "ix_reports_kind").on("reports").column("kind").column("finished_at").column("id").run()
        try await sql.create(index: "ix_reports_status").on("reports").column("status").column("finished_at").column("id").run()
        try await sql.create(index: "ix_report_environments_environment").on("report_environments").column("environment_id").column("report_id").run()
    }

    func revert(on database: Database) async throws {
        try await database.schema("report_environments").delete()
        try await database.schema("reports").delete()
    }
}
