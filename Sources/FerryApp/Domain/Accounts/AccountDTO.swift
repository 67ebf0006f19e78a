import Foundation

/// A user as the API shows it: never a password hash.
public struct UserDTO: Codable, Sendable, Equatable {
    public var id: UUID
    public var username: String
    public var displayName: String
    public var email: String?
    public var sso: Bool
    public var roles: [String]
    public var disabled: Bool
    public var locked: Bool
    public var language: String?
    public var supersetUsername: String?
    public var lastLoginAt: Date?
    public var createdAt: Date
}

/// A role and its grants in text form (`promote:apply@stage:stage`).
public struct RoleDTO: Codable, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var description: String
    public var builtin: Bool
    public var grants: [String]
}

/// An API token as listed: never the token itself, only its first characters.
public struct TokenDTO: Codable, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var prefix: String
    public var scopes: [String]
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?
    public var createdAt: Date
    public var username: String?
}

/// Input to create or change a user. Absent fields are left as they are on update.
public struct UserInput: Codable, Sendable {
    public var username: String?
    public var displayName: String?
    public var email: String?
    public var password: String?
    public var roles: [String]?
    public var disabled: Bool?
    public var language: String?
    public var supersetUsername: String?
    public init(username: String? = nil, displayName: String? = nil, email: String? = nil, password: String? = nil, roles: [String]? = nil,
                disabled: Bool? = nil, language: String? = nil, supersetUsername: String? = nil) {
        self.username = username
        self.displayName = displayName
        self.email = email
        self.password = password
        self.roles = roles
        self.disabled = disabled
        self.language = language
        self.supersetUsername = supersetUsername
    }
}

/// Input to create or change a role.
public struct RoleInput: Codable, Sendable {
    public var name: String?
    public var description: String?
    public var grants: [String]?
    public init(name: String? = nil, description: String? = nil, grants: [String]? = nil) {
        self.name = name
        self.description = description
        self.grants = grants
    }
}

/// Input to make an API token. `expiresInDays` nil means it never expires.
public struct TokenInput: Codable, Sendable {
    public var name: String?
    public var scopes: [String]?
    public var expiresInDays: Int?
    public init(name: String? = nil, scopes: [String]? = nil, expiresInDays: Int? = nil) {
        self.name = name
        self.scopes = scopes
        self.expiresInDays = expiresInDays
    }
}

/// A token just made: the only time its secret is shown.
public struct CreatedTokenDTO: Codable, Sendable {
    public var token: String
    public var info: TokenDTO
}
