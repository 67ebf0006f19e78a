import Fluent

/// Creates `environments`. Shipped: never edit; add a new migration instead.
struct M0001_CreateEnvironments: AsyncMigration {
    var name: String { "M0001_CreateEnvironments" }

    func prepare(on database: Database) async throws {
        try await database.schema("environments")
            .id()
            .field("name", .string, .required)
            .field("url", .string, .required)
            .field("auth_provider", .string, .required)
            .field("username", .string, .required)
            .field("password_sealed", .string, .required)
            .field("verify_tls", .bool, .required)
            .field("stage", .string, .required)
            .field("is_default", .bool, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "name", name: "uq_environments_name")
            .create()
    }

    func revert(on database: Database) async throws {
        try await database.schema("environments").delete()
    }
}
