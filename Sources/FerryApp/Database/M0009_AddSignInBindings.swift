import Fluent
import SQLKit

/// Adds what binds a sign-in to its browser and an SSO user's roles to a recent check:
/// - `sso_states.browser_hash`: SHA-256 of the `ferry_sso` cookie set by `/sso/start`; the
///   callback refuses a state whose cookie doesn't match (states pending during the upgrade have
///   none and are refused: start again);
/// - `users.groups_confirmed_at`: when an SSO sign-in last read the user's groups. Existing SSO
///   users get their last sign-in, when their roles were last set from their groups.
/// Shipped: never edit.
struct M0009_AddSignInBindings: AsyncMigration {
    var name: String { "M0009_AddSignInBindings" }

    func prepare(on database: Database) async throws {
        try await database.schema("sso_states").field("browser_hash", .string).update()
        try await database.schema("users").field("groups_confirmed_at", .datetime).update()
        if let sql = database as? any SQLDatabase {
            try await sql.update("users")
                .set(SQLIdentifier("groups_confirmed_at"), to: SQLIdentifier("last_login_at"))
                .where(SQLIdentifier("sso_subject"), .isNot, SQLLiteral.null)
                .run()
        }
    }

    func revert(on database: Database) async throws {
        try await database.schema("users").deleteField("groups_confirmed_at").update()
        try await database.schema("sso_states").deleteField("browser_hash").update()
    }
}
