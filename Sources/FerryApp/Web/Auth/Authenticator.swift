import Fluent
import Foundation
import Vapor

/// Turns the credential a request carries (session cookie or `Authorization: Bearer` token) into
/// a `Principal`, reusing a resolution for `ttl` seconds so that checking adds little to a request.
///
/// Invariant: any change to accounts made in this process calls `invalidate()`, so sign-out,
/// revocation and role changes take effect at once here; other processes see them within `ttl`.
final class Authenticator: @unchecked Sendable {
    static let sessionCookie = "ferry_session"

    private let lock = NSLock()
    private var cache: [String: (principal: Principal?, until: Date)] = [:]
    let ttl: TimeInterval

    init(ttl: TimeInterval) { self.ttl = ttl }

    func invalidate() { lock.withLock { cache.removeAll() } }

    /// The principal for this request, or nil for an anonymous one (no or unknown credential).
    func principal(for req: Request) async throws -> Principal? {
        let now = req.application.ferry.now()
        // SSO users' groups must have been confirmed this recently (README, "Security").
        let recheck = TimeInterval(req.application.ferryConfiguration.hardening.ssoRecheckHours) * 3600
        if let bearer = req.headers.bearerAuthorization?.token {
            return try await cached("t:" + Credentials.hash(bearer), now: now) {
                try await SessionService.principal(token: bearer, now: now, ssoRecheck: recheck,
                                                   legacyMaxDays: req.application.ferryConfiguration.hardening.tokens.maxDays, on: req.db)
            }
        }
        if let cookie = req.cookies[Self.sessionCookie]?.string, !cookie.isEmpty {
            return try await cached("s:" + Credentials.hash(cookie), now: now) {
                try await SessionService.principal(cookie: cookie, now: now, ssoRecheck: recheck, on: req.db)
            }
        }
        return nil
    }

    private func cached(_ key: String, now: Date, resolve: () async throws -> Principal?) async throws -> Principal? {
        if ttl > 0, let hit = lock.withLock({ cache[key] }), hit.until > now { return hit.principal }
        let p = try await resolve()
        if ttl > 0 {
            lock.withLock {
                if cache.count > 10_000 { cache.removeAll() }
                cache[key] = (p, now.addingTimeInterval(ttl))
            }
        }
        return p
    }
}

extension Application {
    private struct AuthenticatorKey: StorageKey { typealias Value = Authenticator }
    private struct HasherKey: StorageKey { typealias Value = PasswordHasher }

    var authenticator: Authenticator {
        get { required(AuthenticatorKey.self, "Authenticator") }
        set { storage[AuthenticatorKey.self] = newValue }
    }

    var passwordHasher: PasswordHasher {
        get { required(HasherKey.self, "Password hasher") }
        set { storage[HasherKey.self] = newValue }
    }
}

extension PasswordHasher {
    /// bcrypt at `cost`, run on `pool` so the event loop never waits for it. Ferry itself uses
    /// `bounded(cost:pool:gate:)`: threads of bcrypt's own and a bounded queue.
    static func bcrypt(cost: Int, pool: NIOThreadPool, eventLoop: any EventLoopGroup) throws -> PasswordHasher {
        let decoy = try Bcrypt.hash(Credentials.random(), cost: cost)
        return PasswordHasher(
            hash: { password in
                try await pool.runIfActive(eventLoop: eventLoop.any()) { try Bcrypt.hash(password, cost: cost) }.get()
            },
            verify: { password, hash in
                try await pool.runIfActive(eventLoop: eventLoop.any()) { try Bcrypt.verify(password, created: hash) }.get()
            },
            decoy: decoy)
    }
}
