import Fluent
import Foundation

/// Browser sessions and API tokens: making them, ending them, and turning a presented credential
/// into a `Principal`. Only hashes of the secrets are stored.
enum SessionService {
    /// A session made at sign-in: the cookie value (secret) and its CSRF token.
    struct NewSession: Sendable {
        var cookie: String
        var csrf: String
        var id: UUID
    }

    /// Starts a session for `userID`. Always a new secret: a session id a client brought along
    /// before signing in is never promoted (no session fixation).
    static func start(userID: UUID, address: String?, lifetime: TimeInterval, now: Date, newID: UUID, on db: any Database) async throws -> NewSession {
        let secret = Credentials.random()
        let s = SessionModel()
        s.id = newID
        s.tokenHash = Credentials.hash(secret)
        s.userID = userID
        s.csrf = Credentials.random(bytes: 24)
        s.createdAt = now
        s.expiresAt = now.addingTimeInterval(lifetime)
        s.address = address
        try await s.create(on: db)
        return NewSession(cookie: secret, csrf: s.csrf, id: newID)
    }

    /// Ends the session whose cookie is `cookie`, if any.
    static func end(cookie: String, on db: any Database) async throws {
        try await SessionModel.query(on: db).filter(\.$tokenHash == Credentials.hash(cookie)).delete()
    }

    /// Ends every session of the user.
    static func endAll(userID: UUID, on db: any Database) async throws {
        try await SessionModel.query(on: db).filter(\.$userID == userID).delete()
    }

    /// The principal behind a session cookie, or nil when the session is unknown, expired, or its
    /// user is disabled (or an SSO user whose groups are older than `ssoRecheck` seconds).
    static func principal(cookie: String, now: Date, ssoRecheck: TimeInterval? = nil, on db: any Database) async throws -> Principal? {
        guard let s = try await SessionModel.query(on: db).filter(\.$tokenHash == Credentials.hash(cookie)).first(), s.expiresAt > now else {
            return nil
        }
        return try await principal(userID: s.userID, credential: .session(id: s.id!, csrf: s.csrf), now: now, ssoRecheck: ssoRecheck, on: db)
    }

    /// The principal of an enabled user with all their roles' grants, cut to `scopes` when given
    /// (a token's); nil when the user is gone or disabled.
    ///
    /// With `now` and `ssoRecheck`: an SSO user whose groups were last confirmed (at an SSO
    /// sign-in) more than `ssoRecheck` seconds ago gets nil too, and all their sessions end. Their
    /// roles come from those groups, so they must sign in through SSO again, which reads the
    /// groups anew; their API tokens work again after that sign-in.
    static func principal(
        userID: UUID, credential: Principal.Credential, scopes: [Permission]? = nil, now: Date? = nil, ssoRecheck: TimeInterval? = nil,
        on db: any Database
    ) async throws -> Principal? {
        guard let u = try await UserModel.find(userID, on: db), !u.disabled else { return nil }
        if let now, let ssoRecheck, u.ssoSubject != nil, (u.groupsConfirmedAt ?? .distantPast) < now.addingTimeInterval(-ssoRecheck) {
            try await SessionModel.query(on: db).filter(\.$userID == userID).delete()
            return nil
        }
        let access = try await AccountService.access(userID: userID, on: db)
        return Principal(userID: userID, username: u.username, displayName: u.displayName, roles: access.roles,
                         grants: scopes.map { Principal.restrict(access.grants, to: $0) } ?? access.grants, credential: credential,
                         language: u.language, supersetUsername: u.supersetUsername, isSSO: u.ssoSubject != nil)
    }

    // MARK: API tokens

    static let tokenPrefix = "fry_"

    static func tokenDTO(_ t: APITokenModel, username: String? = nil) -> TokenDTO {
        TokenDTO(id: t.id!, name: t.name, prefix: t.prefix, scopes: AccountService.decodeList(t.scopes), expiresAt: t.expiresAt,
                 revokedAt: t.revokedAt, lastUsedAt: t.lastUsedAt, createdAt: t.createdAt, username: username)
    }

    /// Makes a token for `owner`. Its scopes must be permissions the owner holds (a token can't
    /// exceed its user); no scopes means all of them. Every token expires: after
    /// `policy.defaultDays` when the input names no expiry; an expiry beyond `policy.maxDays`
    /// is refused (422).
    static func createToken(
        _ input: TokenInput, owner: Principal, now: Date, newID: UUID, policy: TokenPolicy = TokenPolicy(), on db: any Database
    ) async throws -> CreatedTokenDTO {
        var errors: [FieldError] = []
        let name = input.name?.trimmingCharacters(in: .whitespaces) ?? ""
        if name.isEmpty || name.count > 100 { errors.append(FieldError(field: "name", code: "required", key: "token_name", ["max": "100"])) }
        let held = Set(owner.grants.map(\.permission))
        var scopes: [Permission] = []
        for text in input.scopes ?? [] {
            guard let p = Permission(rawValue: text) else {
                errors.append(FieldError(field: "scopes", code: "unknown", key: "not_permission", ["text": text]))
                continue
            }
            if !held.contains(p) {
                errors.append(FieldError(field: "scopes", code: "not_held", key: "scope_not_held", ["text": text]))
            }
            scopes.append(p)
        }
        if scopes.isEmpty { scopes = Permission.allCases.filter(held.contains) }
        if let d = input.expiresInDays, !(1...max(1, policy.maxDays)).contains(d) {
            errors.append(FieldError(field: "expiresInDays", code: "invalid", key: "token_days", ["max": String(policy.maxDays), "default": String(policy.defaultDays)]))
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
        let secret = tokenPrefix + Credentials.random()
        let t = APITokenModel()
        t.id = newID
        t.userID = owner.userID
        t.name = name
        t.tokenHash = Credentials.hash(secret)
        t.prefix = String(secret.prefix(tokenPrefix.count + 6))
        t.scopes = AccountService.encodeList(scopes.map(\.rawValue))
        var expiresAt = now.addingTimeInterval(Double(input.expiresInDays ?? policy.defaultDays) * 86400)
        // A token made with a token can't outlive it, so a stolen token can't renew itself.
        if case .token(let parentID) = owner.credential, let parent = try await APITokenModel.find(parentID, on: db) {
            expiresAt = min(expiresAt, parent.expiresAt ?? parent.createdAt.addingTimeInterval(Double(policy.maxDays) * 86400))
        }
        t.expiresAt = expiresAt
        t.createdAt = now
        try await t.create(on: db)
        return CreatedTokenDTO(token: secret, info: tokenDTO(t))
    }

    /// The user's tokens, or everyone's when `userID` is nil (administrators), newest first, each
    /// with its owner's username. With `userID`, `username` (the owner's, when the caller knows
    /// it) saves reading the owner.
    static func tokens(userID: UUID?, username: String? = nil, on db: any Database) async throws -> [TokenDTO] {
        let q = APITokenModel.query(on: db).sort(\.$createdAt, .descending)
        if let userID { q.filter(\.$userID == userID) }
        let rows = try await q.all()
        if userID != nil, let username { return rows.map { tokenDTO($0, username: username) } }
        let users = rows.isEmpty ? [] : try await UserModel.query(on: db).filter(\.$id ~~ Set(rows.map(\.userID))).all()
        let names = Dictionary(uniqueKeysWithValues: users.map { ($0.id!, $0.username) })
        return rows.map { tokenDTO($0, username: names[$0.userID]) }
    }

    /// Revokes a token. Only its owner, or a holder of `users:admin`, may; to anyone else the
    /// token doesn't exist (404), so ids of other users' tokens can't be probed.
    static func revoke(_ id: UUID, by actor: Principal, now: Date, on db: any Database) async throws -> TokenDTO {
        guard let t = try await APITokenModel.find(id, on: db), t.userID == actor.userID || actor.can(.usersAdmin) else {
            throw AppError.notFound(.token, "\(id)")
        }
        if t.revokedAt == nil {
            t.revokedAt = now
            try await t.save(on: db)
        }
        return tokenDTO(t)
    }

    /// The principal behind an API token, or nil when it is unknown, revoked, expired, or its user
    /// is disabled (or an SSO user whose groups are older than `ssoRecheck` seconds). Its grants
    /// are cut to the token's scopes. Marks the token used (at most once a minute, so a busy CI
    /// doesn't write on every call).
    ///
    /// A token made before tokens expired by default (no `expiresAt`) lives `legacyMaxDays` from
    /// its creation, the longest a token may be made for now.
    static func principal(token: String, now: Date, ssoRecheck: TimeInterval? = nil, legacyMaxDays: Int = TokenPolicy().maxDays,
                          on db: any Database) async throws -> Principal? {
        guard token.hasPrefix(tokenPrefix),
              let t = try await APITokenModel.query(on: db).filter(\.$tokenHash == Credentials.hash(token)).first(),
              t.revokedAt == nil, (t.expiresAt ?? t.createdAt.addingTimeInterval(Double(legacyMaxDays) * 86400)) > now
        else { return nil }
        let scopes = AccountService.decodeList(t.scopes).compactMap(Permission.init(rawValue:))
        guard let p = try await principal(userID: t.userID, credential: .token(id: t.id!), scopes: scopes, now: now, ssoRecheck: ssoRecheck, on: db)
        else { return nil }
        if (t.lastUsedAt ?? .distantPast) < now.addingTimeInterval(-60) {
            t.lastUsedAt = now
            try await t.save(on: db)
        }
        return p
    }
}
