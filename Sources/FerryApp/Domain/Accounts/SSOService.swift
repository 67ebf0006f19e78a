import Fluent
import Foundation
import JWTKit
import SupersetKit

/// Single sign-on over OpenID Connect (ADFS): authorization code flow with PKCE (S256), state and
/// nonce; the ID token's signature checked against the provider's JWKS, then its issuer,
/// audience, expiry, issue time and nonce, with bounded clock skew. Users are made on their first
/// sign-in and their roles re-derived from their groups at every sign-in.
enum SSOService {
    static let settingsKey = "sso"
    /// How long a sign-in may take at the provider before its state is no longer accepted.
    static let stateLifetime: TimeInterval = 600

    // MARK: Settings

    static func load(on db: any Database) async throws -> SSOSettings {
        try await SettingModel.read(SSOSettings.self, key: settingsKey, on: db) ?? SSOSettings()
    }

    /// Validates and stores a change. 422 names every bad field; nothing is saved then. The issuer
    /// must be https (`allowHTTP`, from `FERRY_SSO_ALLOW_HTTP`, admits http for development).
    static func save(
        _ input: SSOSettingsInput, box: SecretBox, now: Date, newID: UUID, allowHTTP: Bool = false, on db: any Database
    ) async throws -> SSOSettings {
        var s = try await load(on: db)
        if let v = input.enabled { s.enabled = v }
        if let v = input.label { s.label = v.trimmingCharacters(in: .whitespaces) }
        if let v = input.issuer { s.issuer = v.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "/")) }
        if let v = input.clientID { s.clientID = v.trimmingCharacters(in: .whitespaces) }
        if let v = input.clientSecret { s.clientSecretSealed = v.isEmpty ? nil : try box.seal(v) }
        if let v = input.scopes { s.scopes = v.trimmingCharacters(in: .whitespaces) }
        if let v = input.usernameClaims { s.usernameClaims = v.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        if let v = input.emailClaim { s.emailClaim = v }
        if let v = input.nameClaim { s.nameClaim = v }
        if let v = input.groupsClaims { s.groupsClaims = v.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        if let v = input.groupRoles { s.groupRoles = v }
        if let v = input.clockSkew { s.clockSkew = v }
        var errors: [FieldError] = []
        if s.label.isEmpty { errors.append(FieldError(field: "label", code: "required", key: "required")) }
        if !s.issuer.isEmpty || s.enabled {
            if let u = URL(string: s.issuer), u.scheme?.lowercased() == "http", u.host != nil, !allowHTTP {
                errors.append(FieldError(field: "issuer", code: "insecure", key: "issuer_insecure"))
            } else if !issuerAllowed(s.issuer, allowHTTP: allowHTTP) {
                errors.append(FieldError(field: "issuer", code: "invalid", key: "issuer"))
            }
        }
        if s.enabled && s.clientID.isEmpty { errors.append(FieldError(field: "clientID", code: "required", key: "client_id_required")) }
        if !s.scopes.split(separator: " ").contains("openid") {
            errors.append(FieldError(field: "scopes", code: "invalid", key: "openid"))
        }
        if s.usernameClaims.isEmpty { errors.append(FieldError(field: "usernameClaims", code: "required", key: "one_claim")) }
        if s.groupsClaims.isEmpty { errors.append(FieldError(field: "groupsClaims", code: "required", key: "one_claim")) }
        if !(0...300).contains(s.clockSkew) { errors.append(FieldError(field: "clockSkew", code: "invalid", key: "clock_skew")) }
        let known = Set(try await RoleModel.query(on: db).all().map(\.name))
        let unknown = Set(s.groupRoles.values.flatMap { $0 }).subtracting(known)
        if !unknown.isEmpty {
            errors.append(FieldError(field: "groupRoles", code: "unknown", key: "no_such_role", ["roles": unknown.sorted().joined(separator: ", ")]))
        }
        if s.enabled && s.groupRoles.isEmpty {
            errors.append(FieldError(field: "groupRoles", code: "required", key: "group_roles"))
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
        try await SettingModel.write(s, key: settingsKey, now: now, newID: newID, on: db)
        return s
    }

    /// Whether `issuer` is an address Ferry signs in through: https with a host, or http too
    /// when `allowHTTP`.
    static func issuerAllowed(_ issuer: String, allowHTTP: Bool) -> Bool {
        guard let u = URL(string: issuer), let scheme = u.scheme?.lowercased(), u.host != nil else { return false }
        return scheme == "https" || (scheme == "http" && allowHTTP)
    }

    // MARK: The flow

    struct Discovery: Decodable, Sendable {
        var issuer: String
        var authorization_endpoint: String
        var token_endpoint: String
        var jwks_uri: String
    }

    static func failure(key: String, _ values: [String: String] = [:], code: String = "sso_failed") -> AppError {
        AppError(.badRequest, code: code, key: "sso_" + key, values)
    }

    /// Reads the provider's discovery document; its issuer must be the configured one.
    static func discover(_ s: SSOSettings, web: WebClient, timeout: Double) async throws -> Discovery {
        let url = s.issuer + "/.well-known/openid-configuration"
        let r: WebClient.Response
        do { r = try await web.send("GET", url, [("Accept", "application/json")], nil, timeout) } catch {
            throw AppError(.badGateway, code: "sso_unreachable", key: "sso_unreachable", ["issuer": s.issuer, "error": "\(error)"])
        }
        guard r.status == 200, let d = try? JSONDecoder().decode(Discovery.self, from: r.body) else {
            throw AppError(.badGateway, code: "sso_discovery", key: "sso_discovery_status", ["url": url, "status": "\(r.status)"])
        }
        guard d.issuer.trimmingCharacters(in: CharacterSet(charactersIn: "/")) == s.issuer else {
            throw AppError(.badGateway, code: "sso_discovery", key: "sso_issuer_mismatch", ["actual": d.issuer, "issuer": s.issuer])
        }
        return d
    }

    /// Starts a sign-in: stores a fresh state, nonce and PKCE verifier, bound to the browser by
    /// `browserHash` (the hash of the random value the browser gets in a cookie), and returns the
    /// provider's authorization address to send the browser to.
    static func begin(
        _ s: SSOSettings, redirectURI: String, next: String, test: Bool, browserHash: String, web: WebClient, timeout: Double, now: Date,
        newID: UUID, on db: any Database
    ) async throws -> String {
        let d = try await discover(s, web: web, timeout: timeout)
        let state = Credentials.random()
        let row = SSOStateModel()
        row.id = newID
        row.stateHash = Credentials.hash(state)
        row.nonce = Credentials.random()
        row.verifier = Credentials.random(bytes: 48)
        row.returnTo = next
        row.test = test
        row.createdAt = now
        row.browserHash = browserHash
        try await SSOStateModel.query(on: db).filter(\.$createdAt < now.addingTimeInterval(-stateLifetime)).delete()
        try await row.create(on: db)
        var comps = URLComponents(string: d.authorization_endpoint)
        let existing = comps?.queryItems ?? []
        comps?.queryItems = existing + [
            URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: s.clientID),
            URLQueryItem(name: "redirect_uri", value: redirectURI), URLQueryItem(name: "scope", value: s.scopes),
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "nonce", value: row.nonce),
            URLQueryItem(name: "code_challenge", value: Credentials.pkceChallenge(row.verifier)),
            URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        guard let url = comps?.string else { throw failure(key: "authorize_not_url") }
        return url
    }

    /// The pending sign-in for `state`, removed so it can't be used again. nil when it is
    /// unknown, already used, or older than `stateLifetime`.
    static func consumeState(_ state: String, now: Date, on db: any Database) async throws -> SSOStateModel? {
        let hash = Credentials.hash(state)
        return try await db.writeTransaction { tx in
            guard let row = try await SSOStateModel.query(on: tx).filter(\.$stateHash == hash).first() else { return nil }
            try await row.delete(on: tx)
            return row.createdAt > now.addingTimeInterval(-stateLifetime) ? row : nil
        }
    }

    /// Exchanges the code for tokens and returns the verified identity.
    static func complete(
        code: String, pending: SSOStateModel, settings s: SSOSettings, redirectURI: String, box: SecretBox, web: WebClient, timeout: Double, now: Date
    ) async throws -> SSOIdentity {
        let d = try await discover(s, web: web, timeout: timeout)
        let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", pending.verifier),
                    ("client_id", s.clientID)]
        var headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")]
        if let sealed = s.clientSecretSealed {
            let secret = try box.open(sealed)
            let basic = Data("\(formEncode(s.clientID)):\(formEncode(secret))".utf8).base64EncodedString()
            headers.append(("Authorization", "Basic \(basic)"))
        }
        let body = form.map { "\($0.0)=\(formEncode($0.1))" }.joined(separator: "&")
        let r: WebClient.Response
        do { r = try await web.send("POST", d.token_endpoint, headers, Data(body.utf8), timeout) } catch {
            throw AppError(.badGateway, code: "sso_unreachable", key: "sso_token_endpoint", ["error": "\(error)"])
        }
        struct TokenResponse: Decodable { var id_token: String? }
        guard r.status == 200, let idToken = (try? JSONDecoder().decode(TokenResponse.self, from: r.body))?.id_token else {
            throw failure(key: "code_refused", ["status": "\(r.status)"])
        }
        let keys = try await keys(d, web: web, timeout: timeout)
        let claims = try await verifyIDToken(idToken, keys: keys, issuer: s.issuer, audience: s.clientID, nonce: pending.nonce, now: now,
                                             skew: TimeInterval(s.clockSkew))
        return try identity(claims, settings: s)
    }

    static func keys(_ d: Discovery, web: WebClient, timeout: Double) async throws -> JWTKeyCollection {
        let r = try await web.send("GET", d.jwks_uri, [("Accept", "application/json")], nil, timeout)
        guard r.status == 200, let jwks = try? JSONDecoder().decode(JWKS.self, from: r.body) else {
            throw AppError(.badGateway, code: "sso_discovery", key: "sso_keys", ["url": d.jwks_uri, "status": "\(r.status)"])
        }
        let keys = JWTKeyCollection()
        try await keys.add(jwks: jwks)
        return keys
    }

    static func formEncode(_ s: String) -> String { PercentEncoding.encode(s) }

    /// An ID token's claims, decoded as they come.
    struct IDTokenPayload: JWTPayload {
        var claims: [String: BundleValue]
        init(from decoder: Decoder) throws { claims = try [String: BundleValue](from: decoder) }
        func encode(to encoder: Encoder) throws { try claims.encode(to: encoder) }
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// Checks an ID token and returns its claims. Refuses (400, saying which check failed) an
    /// unsigned token (`alg: none`), a bad signature or unknown key, another issuer or audience,
    /// an expired or not-yet-valid token, an issue time in the future, and a nonce other than
    /// the one this sign-in sent (a replayed token). Clock checks allow `skew` seconds.
    static func verifyIDToken(
        _ token: String, keys: JWTKeyCollection, issuer: String, audience: String, nonce: String, now: Date, skew: TimeInterval
    ) async throws -> [String: BundleValue] {
        if let header = token.split(separator: ".").first, let data = Data(base64urlEncoded: String(header)),
           let alg = (try? JSONDecoder().decode([String: BundleValue].self, from: data))?["alg"]?.stringValue, alg.lowercased() == "none" {
            throw failure(key: "token_unsigned", code: "sso_token_invalid")
        }
        let payload: IDTokenPayload
        do { payload = try await keys.verify(token, as: IDTokenPayload.self) } catch {
            throw failure(key: "token_signature", code: "sso_token_invalid")
        }
        let c = payload.claims
        func time(_ name: String) -> Date? { c[name]?.doubleValue.map { Date(timeIntervalSince1970: $0) } }
        guard c["iss"]?.stringValue?.trimmingCharacters(in: CharacterSet(charactersIn: "/")) == issuer else {
            throw failure(key: "token_issuer", ["actual": c["iss"]?.stringValue ?? "-", "issuer": issuer], code: "sso_token_invalid")
        }
        let aud = c["aud"]?.stringValue.map { [$0] } ?? c["aud"]?.listValue?.compactMap(\.stringValue) ?? []
        guard aud.contains(audience) else {
            throw failure(key: "token_audience", ["actual": aud.joined(separator: ", "), "audience": audience], code: "sso_token_invalid")
        }
        guard let exp = time("exp"), exp.addingTimeInterval(skew) > now else {
            throw failure(key: "token_expired", code: "sso_token_invalid")
        }
        if let iat = time("iat"), iat > now.addingTimeInterval(skew) {
            throw failure(key: "token_future", code: "sso_token_invalid")
        }
        if let nbf = time("nbf"), nbf > now.addingTimeInterval(skew) {
            throw failure(key: "token_not_yet", code: "sso_token_invalid")
        }
        guard let n = c["nonce"]?.stringValue, Credentials.equal(n, nonce) else {
            throw failure(key: "token_nonce", code: "sso_token_invalid")
        }
        return c
    }

    /// Maps verified claims to an identity through the configured claim names and group map.
    /// Refuses a token without a subject or username, and a user in no mapped group.
    static func identity(_ c: [String: BundleValue], settings s: SSOSettings) throws -> SSOIdentity {
        guard let sub = c["sub"]?.stringValue, !sub.isEmpty else { throw failure(key: "token_no_sub", code: "sso_token_invalid") }
        guard let username = s.usernameClaims.lazy.compactMap({ c[$0]?.stringValue }).first(where: { !$0.isEmpty }) else {
            throw failure(key: "token_no_username", ["claims": s.usernameClaims.joined(separator: ", ")], code: "sso_no_username")
        }
        var groups: [String] = []
        for name in s.groupsClaims {
            if let one = c[name]?.stringValue { groups.append(one) }
            groups += c[name]?.listValue?.compactMap(\.stringValue) ?? []
        }
        let roles = Array(Set(groups.flatMap { s.groupRoles[$0] ?? [] })).sorted()
        return SSOIdentity(subject: sub, username: username, email: c[s.emailClaim]?.stringValue, name: c[s.nameClaim]?.stringValue,
                           groups: groups, roles: roles, claims: c)
    }

    /// Finds or makes the Ferry user for `identity` and sets their roles from it, recording that
    /// its groups were confirmed `now` (see `SessionService.principal`'s SSO re-check). A local
    /// account with the same username is never taken over.
    static func provision(
        _ identity: SSOIdentity, hasher: PasswordHasher, now: Date, newID: @escaping @Sendable () -> UUID, on db: any Database
    ) async throws -> UserModel {
        guard !identity.roles.isEmpty else {
            throw AppError(.forbidden, code: "sso_no_role",
                           key: identity.groups.isEmpty ? "sso_no_role_no_groups" : "sso_no_role", ["username": identity.username, "groups": identity.groups.joined(separator: ", ")])
        }
        let user: UserModel
        if let existing = try await UserModel.query(on: db).filter(\.$ssoSubject == identity.subject).first() {
            guard !existing.disabled else {
                throw AppError(.forbidden, code: "sso_disabled", key: "sso_disabled")
            }
            user = existing
            user.displayName = identity.name ?? identity.username
            user.email = identity.email
        } else {
            guard try await UserModel.query(on: db).filter(\.$username == identity.username).first() == nil else {
                throw AppError(.conflict, code: "sso_username_taken",
                               key: "sso_username_taken", ["username": identity.username])
            }
            let made = try await AccountService.createUser(
                UserInput(username: identity.username, displayName: identity.name, email: identity.email, roles: identity.roles),
                ssoSubject: identity.subject, hasher: hasher, now: now, newID: newID, on: db)
            user = try await AccountService.findUser(made.id, on: db)
        }
        user.lastLoginAt = now
        user.groupsConfirmedAt = now
        let roles = identity.roles
        try await db.writeTransaction { tx in
            try await user.save(on: tx)
            try await AccountService.setRoles(roles, userID: user.id!, newID: newID, on: tx)
        }
        return user
    }
}

extension Data {
    /// Decodes base64url without padding (JWT segments).
    init?(base64urlEncoded s: String) {
        var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        self.init(base64Encoded: b)
    }
}
