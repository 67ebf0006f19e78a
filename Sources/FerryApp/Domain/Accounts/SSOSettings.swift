import Foundation
import SupersetKit

/// How Ferry signs people in through an OpenID Connect provider (ADFS). Stored as JSON in
/// `settings` under `sso`; the client secret only ever sealed.
public struct SSOSettings: Codable, Sendable, Equatable {
    public var enabled = false
    /// The button's text: "Sign in with {label}".
    public var label = "ADFS"
    /// The issuer, e.g. https://adfs.example.com/adfs; its discovery document is read from
    /// `<issuer>/.well-known/openid-configuration`.
    public var issuer = ""
    public var clientID = ""
    /// Sealed with Ferry's secret box; nil when the client is public (PKCE only).
    public var clientSecretSealed: String?
    public var scopes = "openid profile email"
    /// Claims tried in order for the username (ADFS sends upn or unique_name).
    public var usernameClaims = ["upn", "unique_name", "preferred_username", "email"]
    public var emailClaim = "email"
    public var nameClaim = "name"
    /// Claims holding the user's groups (ADFS: group, groups or role); a string or a list.
    public var groupsClaims = ["group", "groups", "role"]
    /// AD group -> Ferry roles. A user in none of these groups is refused.
    public var groupRoles: [String: [String]] = [:]
    /// Seconds of clock difference tolerated on exp, iat and nbf (at most 300).
    public var clockSkew = 60

    public init() {}
}

/// The SSO settings as the API and pages show them: never the secret, only whether one is set.
public struct SSOSettingsDTO: Codable, Sendable, Equatable {
    public var enabled: Bool
    public var label: String
    public var issuer: String
    public var clientID: String
    public var hasClientSecret: Bool
    public var scopes: String
    public var usernameClaims: [String]
    public var emailClaim: String
    public var nameClaim: String
    public var groupsClaims: [String]
    public var groupRoles: [String: [String]]
    public var clockSkew: Int
    /// The address to register at the provider as the redirect URI.
    public var redirectURI: String?

    init(_ s: SSOSettings, redirectURI: String?) {
        enabled = s.enabled
        label = s.label
        issuer = s.issuer
        clientID = s.clientID
        hasClientSecret = s.clientSecretSealed != nil
        scopes = s.scopes
        usernameClaims = s.usernameClaims
        emailClaim = s.emailClaim
        nameClaim = s.nameClaim
        groupsClaims = s.groupsClaims
        groupRoles = s.groupRoles
        clockSkew = s.clockSkew
        self.redirectURI = redirectURI
    }
}

/// A change to the SSO settings. Absent fields stay; `clientSecret` "" removes the secret.
public struct SSOSettingsInput: Codable, Sendable {
    public var enabled: Bool?
    public var label: String?
    public var issuer: String?
    public var clientID: String?
    public var clientSecret: String?
    public var scopes: String?
    public var usernameClaims: [String]?
    public var emailClaim: String?
    public var nameClaim: String?
    public var groupsClaims: [String]?
    public var groupRoles: [String: [String]]?
    public var clockSkew: Int?
    public init() {}
}

/// Who the provider says signed in, after every check of the ID token.
public struct SSOIdentity: Sendable, Equatable {
    public var subject: String
    public var username: String
    public var email: String?
    public var name: String?
    public var groups: [String]
    /// The Ferry roles the groups map to (empty: refused).
    public var roles: [String]
    public var claims: [String: BundleValue]
}
