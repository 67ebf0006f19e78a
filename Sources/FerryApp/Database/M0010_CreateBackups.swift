import Fluent
import SQLKit

/// Creates `backups` (one row per complete backup: its manifest is in the storage folder) and
/// `backup_policies` (retention per environment), and adds `promotion_plans.source_backup_id`
/// (a restore is a promotion whose source is a backup).
/// Shipped: never edit.
struct M0010_CreateBackups: AsyncMigration {
    var name: String { "M0010_CreateBackups" }

    func prepare(on database: Database) async throws {
        try await database.schema("backups")
            .id()
            .field("environment_id", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("superset_version", .string, .required)
            .field("full", .bool, .required)
            .field("origin", .string, .required)
            .field("dashboards", .int, .required)
            .field("charts", .int, .required)
            .field("datasets", .int, .required)
            .field("databases", .int, .required)
            .field("total_bytes", .int64, .required)
            .field("new_bytes", .int64, .required)
            .field("manifest_checksum", .string, .required)
            .field("pinned", .bool, .required)
            .field("verify_status", .string, .required)
            .field("verified_at", .datetime)
            .field("verify_problems", .string)
            .field("task_id", .uuid)
            .field("created_by", .string, .required)
            .create()
        try await database.schema("backup_policies")
            .id()
            .field("environment_id", .uuid, .required)
            .field("keep_last", .int, .required)
            .field("keep_daily", .int, .required)
            .field("keep_weekly", .int, .required)
            .field("keep_monthly", .int, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "environment_id", name: "uq_backup_policies_environment")
            .create()
        try await database.schema("promotion_plans").field("source_backup_id", .uuid).update()
        if let sql = database as? SQLDatabase {
            try await sql.create(index: "ix_backups_environment").on("backups").column("environment_id").column("created_at").run()
        }
    }

    func revert(on database: Database) async throws {
        try await database.schema("promotion_plans").deleteField("source_backup_id").update()
        try await database.schema("backup_policies").delete()
        try await database.schema("backups").delete()
    }
}
