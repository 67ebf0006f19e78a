import Fluent
import SQLKit

/// Adds `inventory_items.owner_usernames`: the owners' Superset usernames, so "only my
/// dashboards" can match the profile's Superset username exactly. Shipped: never edit.
struct M0006_AddInventoryOwnerUsernames: AsyncMigration {
    var name: String { "M0006_AddInventoryOwnerUsernames" }

    func prepare(on database: Database) async throws {
        try await database.schema("inventory_items")
            .field("owner_usernames", .string, .required, .sql(.default("")))
            .update()
    }

    func revert(on database: Database) async throws {
        try await database.schema("inventory_items").deleteField("owner_usernames").update()
    }
}
