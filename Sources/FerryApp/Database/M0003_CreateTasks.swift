import Fluent
import SQLKit

/// Creates `tasks`, `task_logs` and `schedules`. Shipped: never edit.
struct M0003_CreateTasks: AsyncMigration {
    var name: String { "M0003_CreateTasks" }

    func prepare(on database: Database) async throws {
        try await database.schema("tasks")
            .id()
            .field("plugin_id", .string, .required)
            .field("params", .string, .required)
            .field("created_by", .string, .required)
            .field("environments", .string, .required)
            .field("status", .string, .required)
            .field("progress", .int, .required)
            .field("step", .string, .required)
            .field("created_at", .datetime, .required)
            .field("started_at", .datetime)
            .field("finished_at", .datetime)
            .field("result", .string)
            .field("error", .string)
            .field("next_action", .string)
            .field("input_request", .string)
            .field("input_deadline", .datetime)
            .field("claimed_by", .string)
            .field("lease_until", .datetime)
            .field("cancel_requested", .bool, .required)
            .field("schedule_id", .uuid)
            .field("log_count", .int, .required)
            .create()
        if let sql = database as? SQLDatabase {
            try await sql.create(index: "ix_tasks_status_created").on("tasks").column("status").column("created_at").run()
        }
        try await database.schema("task_logs")
            .field("task_id", .uuid, .required, .references("tasks", "id", onDelete: .cascade))
            .field("seq", .int, .required)
            .field("at", .datetime, .required)
            .field("level", .string, .required)
            .field("source", .string, .required)
            .field("message", .string, .required)
            .field("metadata", .string, .required)
            .compositeIdentifier(over: "task_id", "seq")
            .create()
        try await database.schema("schedules")
            .id()
            .field("name", .string, .required)
            .field("plugin_id", .string, .required)
            .field("params", .string, .required)
            .field("cron", .string, .required)
            .field("time_zone", .string, .required)
            .field("enabled", .bool, .required)
            .field("catch_up", .bool, .required)
            .field("next_run_at", .datetime)
            .field("last_run_at", .datetime)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "name", name: "uq_schedules_name")
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema("schedules").delete()
        try await database.schema("task_logs").delete()
        if let sql = database as? SQLDatabase {
            try await sql.drop(index: "ix_tasks_status_created").ifExists().run()
        }
        try await database.schema("tasks").delete()
    }
}
