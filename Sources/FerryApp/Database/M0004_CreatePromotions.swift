import Fluent
import SQLKit

/// Creates `database_mappings`, `promotion_plans`, `promotions` and `dashboard_history`.
/// Shipped: never edit.
struct M0004_CreatePromotions: AsyncMigration {
    var name: String { "M0004_CreatePromotions" }

    func prepare(on database: Database) async throws {
        try await database.schema("database_mappings")
            .id()
            .field("source_env", .string, .required)
            .field("target_env", .string, .required)
            .field("source_db_uuid", .string, .required)
            .field("source_db_name", .string, .required)
            .field("target_db_uuid", .string, .required)
            .field("target_db_name", .string, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "source_env", "target_env", "source_db_uuid", name: "uq_database_mappings_pair_db")
            .create()
        try await database.schema("promotion_plans")
            .id()
            .field("source_env", .string, .required)
            .field("target_env", .string, .required)
            .field("scope", .string, .required)
            .field("selection", .string, .required)
            .field("schema_mapping", .string, .required)
            .field("status", .string, .required)
            .field("items", .string)
            .field("mappings", .string)
            .field("bundle", .data)
            .field("bundle_checksum", .string)
            .field("target_fingerprint", .string)
            .field("error", .string)
            .field("task_id", .uuid)
            .field("created_by", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("promotions")
            .id()
            .field("plan_id", .uuid, .required, .references("promotion_plans", "id"))
            .field("task_id", .uuid)
            .field("source_env", .string, .required)
            .field("target_env", .string, .required)
            .field("status", .string, .required)
            .field("snapshot", .data)
            .field("created_assets", .string)
            .field("report", .string)
            .field("started_by", .string, .required)
            .field("created_at", .datetime, .required)
            .field("finished_at", .datetime)
            .field("rollback_task_id", .uuid)
            .create()
        try await database.schema("dashboard_history")
            .id()
            .field("target_env", .string, .required)
            .field("dashboard_uuid", .string, .required)
            .field("dashboard_title", .string, .required)
            .field("source_env", .string, .required)
            .field("promotion_id", .uuid, .required, .references("promotions", "id"))
            .field("plan_id", .uuid, .required)
            .field("promoted_by", .string, .required)
            .field("promoted_at", .datetime, .required)
            .field("bundle_checksum", .string, .required)
            .create()
        if let sql = database as? SQLDatabase {
            try await sql.create(index: "ix_dashboard_history_target").on("dashboard_history").column("target_env").column("dashboard_uuid").run()
        }
    }

    func revert(on database: Database) async throws {
        try await database.schema("dashboard_history").delete()
        try await database.schema("promotions").delete()
        try await database.schema("promotion_plans").delete()
        try await database.schema("database_mappings").delete()
    }
}
