import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SupersetKit
import Testing
import Vapor
import VaporTesting

@testable import FerryApp

/// The OIDC provider of `scripts/test` (oidc-provider-mock, standing in for ADFS).
enum LiveOIDC {
    static let url = ProcessInfo.processInfo.environment["FERRY_TEST_OIDC_URL"]
    static let enabled = url != nil || LiveSuperset.environment["FERRY_REQUIRE_INTEGRATION"] == "1"
    /// A client that doesn't follow redirects, so the test sees where the provider sends the browser.
    static let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    /// Tells the provider what claims `sub` gets at its next sign-in.
    static func setUser(_ sub: String, _ claims: [String: BundleValue]) async throws {
        var req = HTTPClientRequest(url: try #require(url) + "/users/" + sub)
        req.method = .PUT
        req.headers.add(name: "Content-Type", value: "application/json")
        req.headers.add(name: "Connection", value: "close")  // no pooled connection the provider may have closed meanwhile
        req.body = .bytes(ByteBuffer(string: BundleValue.map(claims).jsonText()))
        let res = try await browser.execute(req, timeout: .seconds(10))
        #expect(res.status == .noContent)
    }

    /// Plays the person at the provider's form: signs in as `sub` and returns where the provider
    /// sends the browser back to (Ferry's callback with code and state).
    static func authorize(_ authorizeURL: String, as sub: String) async throws -> String {
        var req = HTTPClientRequest(url: authorizeURL)
        req.method = .POST
        req.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        req.headers.add(name: "Connection", value: "close")
        req.body = .bytes(ByteBuffer(string: "sub=\(sub)"))
        let res = try await browser.execute(req, timeout: .seconds(10))
        #expect(res.status == .found || res.status == .seeOther, "provider answered \(res.status)")
        return try #require(res.headers.first(name: "Location"))
    }
}

@Suite(.enabled(if: LiveOIDC.enabled, "needs the OIDC provider of scripts/test"))
struct SSOLiveTests {
    @Test func signInCreatesTheUserAndGroupsDecideTheRoleAtEverySignIn() async throws {
        let issuer = try #require(LiveOIDC.url, "run scripts/test: no OIDC provider")
        // The mock provider speaks http, which Ferry refuses unless told it is development.
        // The provider's token endpoint under the whole suite's load can take longer than the
        // tests' default 5 s interactive timeout (seen once: 502 sso_unreachable).
        try await withFerry(.sqlite, configure: { $0.publicURL = "http://ferry.test"; $0.hardening.ssoAllowHTTP = true; $0.interactiveTimeout = 30 }) { t in
            // The provider's tokens carry real times; Ferry's clock must agree within the skew.
            t.clock.advance(Date().timeIntervalSince(t.clock.now()))
            var input = SSOSettingsInput()
            input.enabled = true
            input.label = "ADFS"
            input.issuer = issuer
            input.clientID = "ferry"
            input.clientSecret = "client-secret-1"
            input.usernameClaims = ["upn", "unique_name"]
            input.groupsClaims = ["group", "groups"]
            input.groupRoles = ["ferry-ops": ["operator"], "ferry-admins": ["admin"]]
            let saved = try await t.request(.PUT, "/api/settings/sso", json: input)
            #expect(saved.status == .ok, "\(saved.body.string)")
            #expect(!saved.body.string.contains("client-secret-1") && saved.body.string.contains("\"hasClientSecret\":true"))

            /// One whole sign-in as `sub`; returns the callback's response and its URL.
            var browser: HTTPHeaders = [:]
            func signIn(_ sub: String) async throws -> (TestingHTTPResponse, String) {
                // The provider's tokens carry real times: bring Ferry's clock up to now before
                // each sign-in (under load the test takes longer than the clock skew allows).
                t.clock.advance(max(0, Date().timeIntervalSince(t.clock.now())))
                let start = try await t.request(.GET, "/sso/start?next=/promote", anonymous: true)
                #expect(start.status == .seeOther)
                // The state is bound to this browser by a short-lived cookie.
                let bound = try #require(start.headers.setCookie?[AuthPages.ssoBrowserCookie])
                #expect(bound.isHTTPOnly && bound.sameSite == .lax && bound.path == "/sso" && bound.maxAge == Int(SSOService.stateLifetime))
                browser = ["Cookie": "\(AuthPages.ssoBrowserCookie)=\(bound.string)"]
                let location = try #require(start.headers.first(name: .location))
                let query = URLComponents(string: location)?.queryItems ?? []
                for name in ["state", "nonce", "code_challenge"] { #expect(query.contains { $0.name == name && ($0.value?.count ?? 0) >= 32 }, "\(name)") }
                #expect(query.contains { $0.name == "code_challenge_method" && $0.value == "S256" })
                let back = try await LiveOIDC.authorize(location, as: sub)
                #expect(back.hasPrefix("http://ferry.test/sso/callback?"))
                let path = String(back.dropFirst("http://ferry.test".count))
                return (try await t.request(.GET, path, headers: browser, anonymous: true), path)
            }

            try await LiveOIDC.setUser("alice", ["upn": .string("alice@corp.example"), "name": .string("Alice"), "groups": .list([.string("ferry-ops")])])
            let (first, usedPath) = try await signIn("alice")
            #expect(first.status == .seeOther && first.headers.first(name: .location) == "/promote", "\(first.body.string)")
            let cookie = try #require(first.headers.setCookie?[Authenticator.sessionCookie])
            #expect(cookie.isHTTPOnly && cookie.sameSite == .lax)
            let me = try await t.request(.GET, "/api/me", headers: ["Cookie": "\(Authenticator.sessionCookie)=\(cookie.string)"], anonymous: true)
                .content.decode(AccountsAPI.Me.self, using: JSONDecoder.ferry)
            #expect(me.user.username == "alice@corp.example" && me.user.sso && me.user.roles == ["operator"] && me.user.displayName == "Alice")

            // The same answer from the provider can't be used twice.
            let replay = try await t.request(.GET, usedPath, headers: browser, anonymous: true)
            #expect(replay.status == .badRequest && replay.body.string.contains("sso_state"))

            // An answer carried to another browser (one without the cookie /sso/start set) is
            // refused, and the state is spent.
            let start = try await t.request(.GET, "/sso/start?next=/promote", anonymous: true)
            let elsewhere = try await LiveOIDC.authorize(try #require(start.headers.first(name: .location)), as: "alice")
            let stolen = try await t.request(.GET, String(elsewhere.dropFirst("http://ferry.test".count)), headers: browser, anonymous: true)
            #expect(stolen.status == .badRequest && stolen.body.string.contains("sso_browser"), "\(stolen.body.string)")
            #expect(stolen.headers.setCookie?[Authenticator.sessionCookie] == nil)

            // Moved to another group: the next sign-in gives the new role, and only that.
            try await LiveOIDC.setUser("alice", ["upn": .string("alice@corp.example"), "groups": .list([.string("ferry-admins")])])
            let (second, _) = try await signIn("alice")
            let cookie2 = try #require(second.headers.setCookie?[Authenticator.sessionCookie], "the second sign-in answered \(second.status): \(second.body.string.prefix(400))")
            let me2 = try await t.request(.GET, "/api/me", headers: ["Cookie": "\(Authenticator.sessionCookie)=\(cookie2.string)"], anonymous: true)
                .content.decode(AccountsAPI.Me.self, using: JSONDecoder.ferry)
            #expect(me2.user.roles == ["admin"] && me2.user.id == me.user.id)

            // In no mapped group: refused, with a page that says why, and no user is made.
            try await LiveOIDC.setUser("bob", ["upn": .string("bob@corp.example"), "groups": .list([.string("marketing")])])
            let (refused, _) = try await signIn("bob")
            #expect(refused.status == .forbidden && refused.body.string.contains("sso_no_role") && refused.body.string.contains("marketing"),
                    "\(refused.status) \(refused.body.string.prefix(2000))")
            let users = try await t.request(.GET, "/api/users").content.decode(AccountsAPI.Items<UserDTO>.self, using: JSONDecoder.ferry)
            #expect(!users.items.contains { $0.username == "bob@corp.example" })

            let audit = try await t.request(.GET, "/api/audit?action=auth.sign_in").content.decode(AccountsAPI.AuditPage.self, using: JSONDecoder.ferry)
            #expect(audit.items.filter { $0.detail == "sso" && $0.outcome == "success" }.count == 2)
            #expect(audit.items.contains { $0.outcome == "denied" && $0.actor == "bob@corp.example" })
        }
    }
}
