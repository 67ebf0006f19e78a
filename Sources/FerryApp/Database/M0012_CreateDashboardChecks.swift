import Fluent
import Foundation
import SQLKit

/// Creates the health center's tables: `dashboard_checks` (results), `health_policies`,
/// `notification_channels` and `notification_deliveries`; gives the built-in admin and operator
/// roles `health:run`. Shipped: never edit.
struct M0012_CreateDashboardChecks: AsyncMigration {
    var name: String { "M0012_CreateDashboardChecks" }

    func prepare(on database: Database) async throws {
        try await database.schema("dashboard_checks")
            .id()
            .field("task_id", .uuid, .required)
            .field("environment_id", .uuid, .required)
            .field("dashboard_id", .int, .required)
            .field("dashboard_uuid", .string, .required)
            .field("title", .string, .required)
            .field("status", .string, .required)
            .field("issues", .string, .required)
            .field("charts", .int, .required)
            .field("charts_failed", .int, .required)
            .field("query_ms", .int, .required)
            .field("render_ms", .int)
            .field("visual_change", .double)
            .field("screenshots", .string, .required)
            .field("details", .string, .required)
            .field("checked_at", .datetime, .required)
            .create()
        try await database.schema("notification_channels")
            .id()
            .field("name", .string, .required)
            .field("kind", .string, .required)
            .field("active", .bool, .required)
            .field("language", .string, .required)
            .field("settings", .string, .required)
            .field("secret_sealed", .string)
            .field("updated_at", .datetime, .required)
            .unique(on: "name", name: "uq_notification_channels_name")
            .create()
        try await database.schema("health_policies")
            .id()
            .field("name", .string, .required)
            .field("environment_id", .uuid, .required)
            .field("dashboards", .string, .required)
            .field("search", .string)
            .field("weekdays", .string, .required)
            .field("window_start", .int, .required)
            .field("window_end", .int, .required)
            .field("time_zone", .string, .required)
            .field("every_minutes", .int, .required)
            .field("alert", .string, .required)
            .field("notify_owners", .bool, .required)
            .field("owner_channel_id", .uuid)
            .field("channels", .string, .required)
            .field("render", .bool, .required)
            .field("active", .bool, .required)
            .field("schedule_id", .uuid)
            .field("created_by", .string, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "name", name: "uq_health_policies_name")
            .create()
        try await database.schema("notification_deliveries")
            .id()
            .field("task_id", .uuid, .required)
            .field("channel_id", .uuid, .required)
            .field("recipient", .string, .required)
            .field("status", .string, .required)
            .field("error", .string)
            .field("at", .datetime, .required)
            .unique(on: "task_id", "channel_id", "recipient", name: "uq_notification_deliveries")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "ix_dashboard_checks_dashboard").on("dashboard_checks").column("environment_id").column("dashboard_uuid").column("checked_at").run()
        try await sql.create(index: "ix_dashboard_checks_checked_at").on("dashboard_checks").column("checked_at").run()
        try await sql.create(index: "ix_dashboard_checks_task").on("dashboard_checks").column("task_id").run()
        // Written as the tables are at this migration, not through today's models.
        let roles = try await sql.select().column("id").from("roles").where("builtin", .equal, SQLBind(true))
            .where("name", .in, SQLBind.group(["admin", "operator"])).all()
        for row in roles {
            let role = try row.decode(column: "id", as: UUID.self)
            // A new store's M0005 seeded the roles from today's `BuiltInRoles`, which has it.
            let has = try await sql.select().column("id").from("role_grants").where("role_id", .equal, SQLBind(role))
                .where("permission", .equal, SQLBind("health:run")).first()
            guard has == nil else { continue }
            try await sql.insert(into: "role_grants")
                .columns("id", "role_id", "permission", "environment_ids", "stages")
                .values(SQLBind(UUID()), SQLBind(role), SQLBind("health:run"), SQLBind("[]"), SQLBind("[]"))
                .run()
        }
    }

    func revert(on database: Database) async throws {
        try await (database as! any SQLDatabase).delete(from: "role_grants").where("permission", .equal, SQLBind("health:run")).run()
        for table in ["notification_deliveries", "health_policies", "notification_channels", "dashboard_checks"] {
            try await database.schema(table).delete()
        }
    }
}
