import Fluent
import Foundation
import SQLKit

/// Creates users, roles and their grants, sessions, API tokens, the audit log, settings and
/// pending SSO sign-ins, and seeds the built-in roles. Shipped: never edit.
struct M0005_CreateAccounts: AsyncMigration {
    var name: String { "M0005_CreateAccounts" }

    func prepare(on database: Database) async throws {
        try await database.schema("users")
            .id()
            .field("username", .string, .required)
            .field("display_name", .string, .required)
            .field("email", .string)
            .field("password_hash", .string)
            .field("sso_subject", .string)
            .field("language", .string)
            .field("superset_username", .string)
            .field("disabled", .bool, .required)
            .field("failed_logins", .int, .required)
            .field("locked_until", .datetime)
            .field("last_login_at", .datetime)
            .field("created_at", .datetime, .required)
            .unique(on: "username", name: "uq_users_username")
            .unique(on: "sso_subject", name: "uq_users_sso_subject")
            .create()
        try await database.schema("roles")
            .id()
            .field("name", .string, .required)
            .field("description", .string, .required)
            .field("builtin", .bool, .required)
            .unique(on: "name", name: "uq_roles_name")
            .create()
        try await database.schema("role_grants")
            .id()
            .field("role_id", .uuid, .required, .references("roles", "id", onDelete: .cascade))
            .field("permission", .string, .required)
            .field("environments", .string, .required)
            .field("stages", .string, .required)
            .create()
        try await database.schema("user_roles")
            .id()
            .field("user_id", .uuid, .required, .references("users", "id", onDelete: .cascade))
            .field("role_id", .uuid, .required, .references("roles", "id", onDelete: .cascade))
            .unique(on: "user_id", "role_id", name: "uq_user_roles")
            .create()
        try await database.schema("sessions")
            .id()
            .field("token_hash", .string, .required)
            .field("user_id", .uuid, .required, .references("users", "id", onDelete: .cascade))
            .field("csrf", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("address", .string)
            .unique(on: "token_hash", name: "uq_sessions_token_hash")
            .create()
        try await database.schema("api_tokens")
            .id()
            .field("user_id", .uuid, .required, .references("users", "id", onDelete: .cascade))
            .field("name", .string, .required)
            .field("token_hash", .string, .required)
            .field("prefix", .string, .required)
            .field("scopes", .string, .required)
            .field("expires_at", .datetime)
            .field("revoked_at", .datetime)
            .field("last_used_at", .datetime)
            .field("created_at", .datetime, .required)
            .unique(on: "token_hash", name: "uq_api_tokens_token_hash")
            .create()
        try await database.schema("audit_events")
            .id()
            .field("at", .datetime, .required)
            .field("actor_id", .uuid)
            .field("actor", .string, .required)
            .field("address", .string)
            .field("action", .string, .required)
            .field("target", .string)
            .field("environment", .string)
            .field("outcome", .string, .required)
            .field("detail", .string)
            .create()
        try await database.schema("settings")
            .id()
            .field("key", .string, .required)
            .field("value", .string, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "key", name: "uq_settings_key")
            .create()
        try await database.schema("sso_states")
            .id()
            .field("state_hash", .string, .required)
            .field("nonce", .string, .required)
            .field("verifier", .string, .required)
            .field("return_to", .string, .required)
            .field("test", .bool, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "state_hash", name: "uq_sso_states_state_hash")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "ix_audit_events_at").on("audit_events").column("at").run()
            try await sql.create(index: "ix_sessions_user").on("sessions").column("user_id").run()
            try await sql.create(index: "ix_api_tokens_user").on("api_tokens").column("user_id").run()
        }
        for seed in BuiltInRoles.all {
            let role = RoleModel()
            role.id = UUID()
            role.name = seed.name
            role.description = seed.description
            role.builtin = true
            try await role.create(on: database)
            for grant in seed.grants {
                // Written as the table was at this migration (M0008 renamed `environments`), not
                // through today's model.
                try await (database as! any SQLDatabase).insert(into: "role_grants")
                    .columns("id", "role_id", "permission", "environments", "stages")
                    .values(SQLBind(UUID()), SQLBind(role.id!), SQLBind(grant.permission.rawValue), SQLBind("[]"), SQLBind("[]"))
                    .run()
            }
        }
    }

    func revert(on database: Database) async throws {
        for table in ["sso_states", "settings", "audit_events", "api_tokens", "sessions", "user_roles", "role_grants", "roles", "users"] {
            try await database.schema(table).delete()
        }
    }
}
