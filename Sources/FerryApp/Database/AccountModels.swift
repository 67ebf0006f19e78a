import Fluent
import Foundation

/// A person who signs in to Ferry: local (bcrypt password) or SSO (no password, `ssoSubject`).
/// Row of `users`. Never sent over the wire; `UserDTO` is.
final class UserModel: Model, @unchecked Sendable {
    static let schema = "users"
    @ID(key: .id) var id: UUID?
    @Field(key: "username") var username: String
    @Field(key: "display_name") var displayName: String
    @OptionalField(key: "email") var email: String?
    /// bcrypt; nil for SSO users, who have no local password.
    @OptionalField(key: "password_hash") var passwordHash: String?
    @OptionalField(key: "sso_subject") var ssoSubject: String?
    @OptionalField(key: "language") var language: String?
    @OptionalField(key: "superset_username") var supersetUsername: String?
    @Field(key: "disabled") var disabled: Bool
    /// Failed sign-ins since the last success; drives the lockout's back-off.
    @Field(key: "failed_logins") var failedLogins: Int
    @OptionalField(key: "locked_until") var lockedUntil: Date?
    @OptionalField(key: "last_login_at") var lastLoginAt: Date?
    @Field(key: "created_at") var createdAt: Date
    /// SSO users: when an SSO sign-in last read their groups (and so their roles). Sessions and
    /// tokens stop working once this is older than `FERRY_SSO_RECHECK_HOURS` (M0009).
    @OptionalField(key: "groups_confirmed_at") var groupsConfirmedAt: Date?
    init() {}
}

/// A named set of grants. Row of `roles`; its grants are rows of `role_grants`.
final class RoleModel: Model, @unchecked Sendable {
    static let schema = "roles"
    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "description") var description: String
    @Field(key: "builtin") var builtin: Bool
    init() {}
}

/// One grant of a role: a permission and its environment limits (JSON lists). Row of `role_grants`.
final class RoleGrantModel: Model, @unchecked Sendable {
    static let schema = "role_grants"
    @ID(key: .id) var id: UUID?
    @Field(key: "role_id") var roleID: UUID
    @Field(key: "permission") var permission: String
    @Field(key: "environment_ids") var environments: String
    @Field(key: "stages") var stages: String
    init() {}
}

/// Row of `user_roles`.
final class UserRoleModel: Model, @unchecked Sendable {
    static let schema = "user_roles"
    @ID(key: .id) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Field(key: "role_id") var roleID: UUID
    init() {}
}

/// A browser session. Row of `sessions`: only the SHA-256 of the cookie's value is stored.
final class SessionModel: Model, @unchecked Sendable {
    static let schema = "sessions"
    @ID(key: .id) var id: UUID?
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "user_id") var userID: UUID
    @Field(key: "csrf") var csrf: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "address") var address: String?
    init() {}
}

/// An API token for the CLI and CI. Row of `api_tokens`: only its SHA-256 is stored; the token
/// itself is shown once, when it is made.
final class APITokenModel: Model, @unchecked Sendable {
    static let schema = "api_tokens"
    @ID(key: .id) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Field(key: "name") var name: String
    @Field(key: "token_hash") var tokenHash: String
    /// The first characters of the token, to recognise it in a list.
    @Field(key: "prefix") var prefix: String
    /// JSON list of permissions.
    @Field(key: "scopes") var scopes: String
    @OptionalField(key: "expires_at") var expiresAt: Date?
    @OptionalField(key: "revoked_at") var revokedAt: Date?
    @OptionalField(key: "last_used_at") var lastUsedAt: Date?
    @Field(key: "created_at") var createdAt: Date
    init() {}
}

/// One appended audit event. Row of `audit_events`; Ferry never updates or deletes these.
final class AuditEventModel: Model, @unchecked Sendable {
    static let schema = "audit_events"
    @ID(key: .id) var id: UUID?
    @Field(key: "at") var at: Date
    @OptionalField(key: "actor_id") var actorID: UUID?
    @Field(key: "actor") var actor: String
    @OptionalField(key: "address") var address: String?
    @Field(key: "action") var action: String
    @OptionalField(key: "target") var target: String?
    /// The environment's name when the event happened (a label; renames don't change it).
    @OptionalField(key: "environment") var environment: String?
    /// The environment's id: what filters and access use.
    @OptionalField(key: "environment_id") var environmentID: String?
    /// success, failure or denied
    @Field(key: "outcome") var outcome: String
    @OptionalField(key: "detail") var detail: String?
    init() {}
}

/// A named JSON setting (the SSO configuration, the git remote). Row of `settings`.
final class SettingModel: Model, @unchecked Sendable {
    static let schema = "settings"
    @ID(key: .id) var id: UUID?
    @Field(key: "key") var key: String
    @Field(key: "value") var value: String
    @Field(key: "updated_at") var updatedAt: Date
    init() {}

    /// The setting `key` decoded, or nil when it is absent or no longer decodes.
    static func read<T: Decodable>(_ type: T.Type, key: String, on db: any Database) async throws -> T? {
        guard let row = try await query(on: db).filter(\.$key == key).first() else { return nil }
        return try? JSONDecoder().decode(type, from: Data(row.value.utf8))
    }

    /// Stores `value` as the setting `key`, creating the row the first time.
    static func write<T: Encodable>(_ value: T, key: String, now: Date, newID: UUID, on db: any Database) async throws {
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        let row = try await query(on: db).filter(\.$key == key).first() ?? SettingModel()
        if row.id == nil {
            row.id = newID
            row.key = key
        }
        row.value = json
        row.updatedAt = now
        try await row.save(on: db)
    }
}

/// A sign-in started at the identity provider and not yet back: state, nonce and PKCE verifier.
/// Row of `sso_states`; deleted when the provider's answer comes back, so each is used once.
final class SSOStateModel: Model, @unchecked Sendable {
    static let schema = "sso_states"
    @ID(key: .id) var id: UUID?
    @Field(key: "state_hash") var stateHash: String
    @Field(key: "nonce") var nonce: String
    @Field(key: "verifier") var verifier: String
    @Field(key: "return_to") var returnTo: String
    /// A "test sign-in" from the SSO settings page: show the claims, sign no one in.
    @Field(key: "test") var test: Bool
    @Field(key: "created_at") var createdAt: Date
    /// SHA-256 of the random value in the browser's `ferry_sso` cookie: the callback is accepted
    /// only from the browser that started the sign-in (M0009; nil: refused).
    @OptionalField(key: "browser_hash") var browserHash: String?
    init() {}
}
