import Foundation

/// Who is making a request, and what they may do: a signed-in user (session) or an API token.
///
/// Invariant: `grants` are the user's grants from all their roles; for a token they are cut down
/// to the token's scopes, so a token never exceeds its user nor its scopes.
public struct Principal: Sendable, Equatable {
    public enum Credential: Sendable, Equatable {
        /// A browser session: `csrf` must accompany every unsafe request.
        case session(id: UUID, csrf: String)
        case token(id: UUID)
    }

    public var userID: UUID
    public var username: String
    public var displayName: String
    public var roles: [String]
    public var grants: [Grant]
    public var credential: Credential
    public var language: String?
    public var supersetUsername: String?
    public var isSSO: Bool

    /// Whether any grant gives `permission`, for at least one environment.
    public func can(_ permission: Permission) -> Bool {
        grants.contains { $0.permission == permission }
    }

    /// Whether a grant gives `permission` on the environment `env`.
    public func can(_ permission: Permission, environment env: EnvironmentRef) -> Bool {
        grants.contains { $0.permission == permission && $0.covers(env) }
    }

    /// Whether a grant gives `permission` on an environment known only by its id (one deleted
    /// since: no stage), or of stage `stage` not stored yet (`id` nil: a new environment).
    public func can(_ permission: Permission, environmentID id: UUID?, stage: String?) -> Bool {
        grants.contains { g in
            g.permission == permission && (g.isUnlimited || id.map(g.environments.contains) == true || (stage.map(g.stages.contains) ?? false))
        }
    }

    /// Whether `permission` is given without an environment limit.
    public func canEverywhere(_ permission: Permission) -> Bool {
        grants.contains { $0.permission == permission && $0.isUnlimited }
    }

    /// The grants cut down to `scopes` (a token's): only grants whose permission is in scope.
    public static func restrict(_ grants: [Grant], to scopes: [Permission]) -> [Grant] {
        grants.filter { scopes.contains($0.permission) }
    }
}
