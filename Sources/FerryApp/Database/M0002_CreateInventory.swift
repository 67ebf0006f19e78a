import Fluent
import SQLKit

/// Creates `inventory_items` and `inventory_syncs`. Shipped: never edit.
struct M0002_CreateInventory: AsyncMigration {
    var name: String { "M0002_CreateInventory" }

    func prepare(on database: Database) async throws {
        try await database.schema("inventory_items")
            .id()
            .field("environment_id", .uuid, .required, .references("environments", "id", onDelete: .cascade))
            .field("kind", .string, .required)
            .field("superset_id", .int, .required)
            .field("uuid", .string)
            .field("name", .string, .required)
            .field("detail", .string)
            .field("parent", .string)
            .field("owners", .string, .required)
            .field("changed_on", .datetime)
            .field("search_text", .string, .required)
            .field("synced_at", .datetime, .required)
            .unique(on: "environment_id", "kind", "superset_id", name: "uq_inventory_env_kind_id")
            .create()
        if let sql = database as? SQLDatabase {
            try await sql.create(index: "ix_inventory_kind_name").on("inventory_items").column("kind").column("name").run()
        }
        try await database.schema("inventory_syncs")
            .field("environment_id", .uuid, .identifier(auto: false), .references("environments", "id", onDelete: .cascade))
            .field("status", .string, .required)
            .field("started_at", .datetime)
            .field("finished_at", .datetime)
            .field("succeeded_at", .datetime)
            .field("error", .string)
            .field("counts", .string, .required)
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema("inventory_syncs").delete()
        if let sql = database as? SQLDatabase {
            try await sql.drop(index: "ix_inventory_kind_name").ifExists().run()
        }
        try await database.schema("inventory_items").delete()
    }
}
