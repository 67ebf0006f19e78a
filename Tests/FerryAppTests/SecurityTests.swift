import Fluent
import Foundation
import NIOCore
import SupersetKit
import Testing
import Vapor
import VaporTesting

@testable import FerryApp

extension TestHarness {
    /// Posts the sign-in form as a browser does (with the form's CSRF cookie and token) and
    /// returns the whole answer.
    func postSignIn(_ username: String, _ password: String, next: String = "/") async throws -> TestingHTTPResponse {
        let form = try await request(.GET, "/login", anonymous: true)
        let loginCSRF = try #require(form.headers.setCookie?[AuthPages.loginCSRFCookie]?.string)
        var headers = HTTPHeaders()
        headers.contentType = .urlEncodedForm
        headers.replaceOrAdd(name: .cookie, value: "\(AuthPages.loginCSRFCookie)=\(loginCSRF)")
        func enc(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }
        let body = "username=\(enc(username))&password=\(enc(password))&_csrf=\(loginCSRF)&next=\(enc(next))"
        return try await request(.POST, "/login", headers: headers, body: body, anonymous: true)
    }

    /// The number of rows in the audit log.
    func auditRows() async throws -> Int {
        try await AuditEventModel.query(on: db).count()
    }
}

/// Item 5 of issue 12: sign-in floods are limited, lockouts don't grow under attack, and bcrypt
/// runs on bounded threads of its own.
@Suite struct SignInAbuseTests {
    @Test(arguments: Store.available)
    func signInIsLimitedPerAddressCountingUnknownUsers(store: Store) async throws {
        try await withFerry(store, configure: { $0.hardening.signInPerAddress = 3 }) { t in
            _ = try await t.user("alice", roles: ["viewer"])
            for n in 0..<3 {
                #expect(try await t.postSignIn("nobody-\(n)", "wrong password!!").status == .unauthorized)
            }
            // The fourth attempt from the address is refused before any password is checked,
            // even with the right password for a real account.
            let limited = try await t.postSignIn("alice", TestAdmin.password)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers.first(name: .retryAfter) == "20", "3 a minute: one more every 20 s")
            #expect(limited.headers.setCookie?[Authenticator.sessionCookie] == nil)
            #expect(limited.body.string.contains(Localizer(language: "en").t("auth.rate_limited", ["seconds": "20"])))
            #expect(limited.headers.first(name: .cacheControl) == "no-store")
            t.clock.advance(20)
            let later = try await t.postSignIn("alice", TestAdmin.password)
            #expect(later.status == .seeOther && later.headers.setCookie?[Authenticator.sessionCookie] != nil)
        }
    }

    @Test func theLimiterCountsEachAddressAndAllTogether() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let perAddress = SignInLimiter(perAddress: 10, global: 1000)
        for _ in 0..<10 { #expect(perAddress.take(address: "10.0.0.1", now: start) == nil) }
        #expect(perAddress.take(address: "10.0.0.1", now: start) == SignInLimiter.Refusal(scope: .address, retryAfter: 6))
        #expect(perAddress.take(address: "10.0.0.2", now: start) == nil, "another address has its own bucket")
        #expect(perAddress.take(address: "10.0.0.1", now: start.addingTimeInterval(6)) == nil, "one attempt back every 6 s")

        let global = SignInLimiter(perAddress: 100, global: 3)
        for n in 0..<3 { #expect(global.take(address: "10.0.1.\(n)", now: start) == nil) }
        #expect(global.take(address: "10.0.1.9", now: start)?.scope == .global, "a fourth address is refused by the global limit")
    }

    @Test(arguments: Store.available)
    func failuresDuringALockoutDoNotExtendIt(store: Store) async throws {
        try await withFerry(store, configure: { $0.hardening.signInPerAddress = 1000 }) { t in
            _ = try await t.user("alice", roles: ["viewer"])
            for _ in 0..<AccountService.lockThreshold {
                #expect(try await t.postSignIn("alice", "wrong password!!").status == .unauthorized)
            }
            func alice() async throws -> UserModel { try #require(try await UserModel.query(on: t.db).filter(\.$username == "alice").first()) }
            let lockedUntil = try await alice().lockedUntil
            #expect(lockedUntil == t.clock.now().addingTimeInterval(AccountService.baseLock))
            // An attacker keeps trying while the account is locked: nothing changes.
            for _ in 0..<10 {
                #expect(try await t.postSignIn("alice", "wrong password!!").status == .unauthorized)
            }
            #expect(try await alice().lockedUntil == lockedUntil)
            #expect(try await alice().failedLogins == AccountService.lockThreshold)
            t.clock.advance(AccountService.baseLock + 1)
            let after = try await t.postSignIn("alice", TestAdmin.password)
            #expect(after.status == .seeOther && after.headers.setCookie?[Authenticator.sessionCookie] != nil, "the first lock is over")
        }
    }

    @Test func bcryptRefusesBeyondItsQueueInsteadOfQueueing() async throws {
        try await withFerry(.sqlite, configure: { $0.hardening.bcryptThreads = 1; $0.hardening.bcryptQueue = 2 }) { t in
            _ = try await t.user("alice", roles: ["viewer"])
            let gate = t.app.bcryptGate
            #expect(gate.capacity == 3)
            // Every place taken (one hash running, two waiting): the next is refused at once.
            for _ in 0..<gate.capacity { #expect(gate.enter()) }
            #expect(!gate.enter())
            await #expect(throws: AppError.self) { _ = try await t.app.passwordHasher.verify("x", t.app.passwordHasher.decoy) }
            for name in ["alice", "nobody-here"] {
                // Known and unknown users get the same answer: it tells nothing about accounts.
                let busy = try await t.postSignIn(name, TestAdmin.password)
                #expect(busy.status == .serviceUnavailable, "\(name)")
                #expect(busy.headers.first(name: .retryAfter) != nil)
                #expect(busy.body.string.contains(Localizer(language: "en").t("auth.busy")))
            }
            for _ in 0..<gate.capacity { gate.leave() }
            #expect(gate.count == 0)
            #expect(try await t.postSignIn("alice", TestAdmin.password).status == .seeOther)
            #expect(gate.count == 0, "every place is given back")
        }
    }
}

/// Item 6: return paths, the SSO state's browser binding and https issuer, token expiry, the SSO
/// re-check, and the CSRF token put into forms structurally.
@Suite struct SessionAndSSOTests {
    @Test func returnPathsStayOnThisSite() {
        let hostile = [
            "/\\evil.com", "//evil.com", "/\t/evil.com", "/%09/evil.com", "\t//evil", "https://x", "javascript:alert(1)",
            "", "evil.com", "/%2F%2Fevil.com", "/%5Cevil.com", "/ok\r\nSet-Cookie: a=b", "/a//b", "/\u{7F}x", "/x\u{2028}y",
            "/\u{202E}moc.live", "/%zz", "\\\\evil.com", " /x",
        ]
        for next in hostile { #expect(ReturnPath.sanitize(next) == "/", "\(next.debugDescription)") }
        #expect(ReturnPath.sanitize(nil) == "/")
        for good in ["/", "/dashboards", "/dashboards?search=sales&owner=ada", "/tasks/1#log", "/dashboards?search=%D0%BF%D1%80"] {
            #expect(ReturnPath.sanitize(good) == good)
        }
    }

    @Test func theSignInFormKeepsOnlyAPlainNext() async throws {
        try await withFerry(.sqlite) { t in
            let evil = try await t.request(.GET, "/login?next=%2F%09%2Fevil.com", headers: ["Accept": "text/html"], anonymous: true)
            #expect(evil.body.string.contains(#"name="next" value="/""#))
            let fine = try await t.request(.GET, "/login?next=%2Fdashboards", headers: ["Accept": "text/html"], anonymous: true)
            #expect(fine.body.string.contains(#"name="next" value="/dashboards""#))
            let signedIn = try await t.postSignIn(TestAdmin.username, TestAdmin.password, next: "//evil.com")
            #expect(signedIn.status == .seeOther && signedIn.headers.first(name: .location) == "/")
        }
    }

    /// Whether the answer clears the SSO browser cookie.
    static func clearsBrowserCookie(_ res: TestingHTTPResponse) -> Bool {
        res.headers[.setCookie].contains { $0.hasPrefix("\(AuthPages.ssoBrowserCookie)=;") && $0.contains("Max-Age=0") }
    }

    /// A provider that answers discovery and refuses everything else.
    static func fakeProvider(issuer: String) -> WebClient {
        WebClient { _, url, _, _, _ in
            guard url == issuer + "/.well-known/openid-configuration" else { return .init(status: 404, body: Data()) }
            let doc = #"{"issuer":"\#(issuer)","authorization_endpoint":"\#(issuer)/authorize","token_endpoint":"\#(issuer)/token","jwks_uri":"\#(issuer)/keys"}"#
            return .init(status: 200, body: Data(doc.utf8))
        }
    }

    @Test(arguments: Store.available)
    func theSSOStateIsBoundToTheBrowserThatStartedIt(store: Store) async throws {
        try await withFerry(store) { t in
            let issuer = "https://idp.example.test/adfs"
            t.app.ferry.web = Self.fakeProvider(issuer: issuer)
            var input = SSOSettingsInput()
            input.enabled = true
            input.issuer = issuer
            input.clientID = "ferry"
            input.groupRoles = ["Ferry Viewers": ["viewer"]]
            let saved = try await t.request(.PUT, "/api/settings/sso", json: input)
            #expect(saved.status == .ok, "\(saved.body.string)")

            func start() async throws -> (state: String, cookie: HTTPCookies.Value) {
                let res = try await t.request(.GET, "/sso/start?next=/promote", anonymous: true)
                #expect(res.status == .seeOther)
                let location = try #require(res.headers.first(name: .location))
                #expect(location.hasPrefix(issuer + "/authorize?"))
                let state = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "state" }?.value)
                let cookie = try #require(res.headers.setCookie?[AuthPages.ssoBrowserCookie])
                #expect(cookie.isHTTPOnly && cookie.sameSite == .lax && cookie.path == "/sso" && cookie.maxAge == Int(SSOService.stateLifetime))
                #expect(!cookie.isSecure, "plain http here; Secure under https")
                return (state, cookie)
            }

            let first = try await start()
            let row = try #require(try await SSOStateModel.query(on: t.db).first())
            #expect(row.browserHash == Credentials.hash(first.cookie.string) && row.returnTo == "/promote")
            // The provider's answer arrives in a browser without the cookie (a login-CSRF attempt).
            let elsewhere = try await t.request(.GET, "/sso/callback?code=c&state=\(first.state)", anonymous: true)
            #expect(elsewhere.status == .badRequest && elsewhere.body.string.contains("sso_browser"), "\(elsewhere.body.string)")
            #expect(Self.clearsBrowserCookie(elsewhere), "the cookie is cleared")
            #expect(try await SSOStateModel.query(on: t.db).count() == 0, "and the state is spent")

            // With another browser's cookie: refused too.
            let second = try await start()
            let wrong = try await t.request(.GET, "/sso/callback?code=c&state=\(second.state)",
                                            headers: ["Cookie": "\(AuthPages.ssoBrowserCookie)=\(first.cookie.string)"], anonymous: true)
            #expect(wrong.body.string.contains("sso_browser"))

            // From the browser that started it, the binding passes; this fake provider then
            // refuses the code, which is the next check.
            let third = try await start()
            let home = try await t.request(.GET, "/sso/callback?code=c&state=\(third.state)",
                                           headers: ["Cookie": "\(AuthPages.ssoBrowserCookie)=\(third.cookie.string)"], anonymous: true)
            #expect(!home.body.string.contains("sso_browser") && home.body.string.contains("sso_failed"), "\(home.body.string)")
            #expect(Self.clearsBrowserCookie(home))
        }
    }

    @Test func anHTTPIssuerNeedsTheDevelopmentSetting() async throws {
        var input = SSOSettingsInput()
        input.issuer = "http://idp.example.test/adfs"
        try await withFerry(.sqlite) { t in
            let refused = try await t.request(.PUT, "/api/settings/sso", json: input)
            #expect(refused.status == .unprocessableEntity)
            let errors = try refused.json()["errors"]?.listValue ?? []
            #expect(errors.contains { $0["field"]?.stringValue == "issuer" && $0["code"]?.stringValue == "insecure" }, "\(refused.body.string)")
            var https = input
            https.issuer = "https://idp.example.test/adfs"
            #expect(try await t.request(.PUT, "/api/settings/sso", json: https).status == .ok)
        }
        try await withFerry(.sqlite, configure: { $0.hardening.ssoAllowHTTP = true }) { t in
            let allowed = try await t.request(.PUT, "/api/settings/sso", json: input)
            #expect(allowed.status == .ok)
        }
        #expect(try FerryConfiguration.from(environment: ["FERRY_SSO_ALLOW_HTTP": "1"]).hardening.ssoAllowHTTP)
        #expect(try !FerryConfiguration.from(environment: [:]).hardening.ssoAllowHTTP)
    }

    @Test func tokensExpireByDefaultAndNoLaterThanTheMaximum() async throws {
        try await withFerry(.sqlite) { t in
            let made = try await t.request(.POST, "/api/tokens", json: TokenInput(name: "ci"))
            #expect(made.status == .created)
            let token = try made.content.decode(CreatedTokenDTO.self, using: JSONDecoder.ferry)
            #expect(token.info.expiresAt == t.clock.now().addingTimeInterval(90 * 86400))
            let tooLong = try await t.request(.POST, "/api/tokens", json: TokenInput(name: "forever", expiresInDays: 366))
            #expect(tooLong.status == .unprocessableEntity && tooLong.body.string.contains("expiresInDays"))
            #expect(try await t.request(.GET, "/api/me", headers: bearer(token.token)).status == .ok)
            t.clock.advance(90 * 86400 + 1)
            #expect(try await t.request(.GET, "/api/me", headers: bearer(token.token)).status == .unauthorized)
        }
        try await withFerry(.sqlite, configure: { $0.hardening.tokens = TokenPolicy(defaultDays: 7, maxDays: 30) }) { t in
            let made = try await t.request(.POST, "/api/tokens", json: TokenInput(name: "ci"))
            let token = try made.content.decode(CreatedTokenDTO.self, using: JSONDecoder.ferry)
            #expect(token.info.expiresAt == t.clock.now().addingTimeInterval(7 * 86400))
            #expect(try await t.request(.POST, "/api/tokens", json: TokenInput(name: "x", expiresInDays: 31)).status == .unprocessableEntity)
            #expect(try await t.request(.POST, "/api/tokens", json: TokenInput(name: "x", expiresInDays: 30)).status == .created)
        }
        #expect(throws: ConfigurationError.self) { try FerryConfiguration.from(environment: ["FERRY_TOKEN_DAYS": "400"]) }
        #expect(try FerryConfiguration.from(environment: ["FERRY_TOKEN_DAYS": "30", "FERRY_TOKEN_MAX_DAYS": "60"]).hardening.tokens == TokenPolicy(defaultDays: 30, maxDays: 60))
    }

    @Test(arguments: Store.available)
    func anSSOUsersSessionsAndTokensEndWhenTheirGroupsAreStale(store: Store) async throws {
        try await withFerry(store, configure: { $0.sessionHours = 72 }) { t in
            let identity = SSOIdentity(subject: "S-1-5-21-7", username: "sam@corp.example", email: nil, name: "Sam", groups: ["Ferry Viewers"],
                                       roles: ["viewer"], claims: [:])
            let sam = try await SSOService.provision(identity, hasher: t.app.passwordHasher, now: t.clock.now(), newID: { UUID() }, on: t.db)
            #expect(sam.groupsConfirmedAt == t.clock.now())
            let session = try await SessionService.start(userID: sam.id!, address: nil, lifetime: 72 * 3600, now: t.clock.now(), newID: UUID(), on: t.db)
            let owner = try #require(try await SessionService.principal(userID: sam.id!, credential: .token(id: UUID()), on: t.db))
            let token = try await SessionService.createToken(TokenInput(name: "ci"), owner: owner, now: t.clock.now(), newID: UUID(), on: t.db).token
            let cookie: HTTPHeaders = ["Cookie": "\(Authenticator.sessionCookie)=\(session.cookie)"]
            func status(_ headers: HTTPHeaders) async throws -> HTTPStatus {
                try await t.request(.GET, "/api/me", headers: headers, anonymous: true).status
            }
            t.clock.advance(23 * 3600)
            #expect(try await status(cookie) == .ok)
            #expect(try await status(bearer(token)) == .ok)
            // A day and more since the groups were read: both stop, the session for good.
            t.clock.advance(2 * 3600)
            #expect(try await status(cookie) == .unauthorized)
            #expect(try await status(bearer(token)) == .unauthorized)
            #expect(try await SessionModel.query(on: t.db).filter(\.$userID == sam.id!).count() == 0)
            // Signing in through SSO again reads the groups: the token works again.
            _ = try await SSOService.provision(identity, hasher: t.app.passwordHasher, now: t.clock.now(), newID: { UUID() }, on: t.db)
            t.app.authenticator.invalidate()
            #expect(try await status(bearer(token)) == .ok)
            #expect(try await status(cookie) == .unauthorized)
            // Local users are not affected.
            let (_, local) = try await t.user("lou", roles: ["viewer"])
            t.clock.advance(48 * 3600)
            #expect(try await status(bearer(local)) == .ok)
        }
    }

    @Test func aMarkerInUserDataIsLeftAloneAndFormsCarryTheToken() throws {
        let marker = "__FERRY_CSRF__"
        let context = PageContext(localizer: Localizer(language: "en"), path: "/", query: [:],
                                  user: PageUser(name: marker, permissions: Set(Permission.allCases)), csrf: "tok-1234")
        let pages: [any PageView] = [
            ErrorPage.View(model: .init(status: 404, title: "Not found", detail: "No dashboard named \(marker)")),
            LoginPage.View(model: .init(next: "/", username: marker, error: nil), localizer: Localizer(language: "en")),
        ]
        for page in pages {
            let html = Layout.render(page, context: context)
            #expect(html.components(separatedBy: marker).count - 1 >= 2, "the user's text is shown as it is")
            let forms = html.components(separatedBy: #"<form method="post""#).count - 1
            #expect(forms >= 1)
            #expect(html.components(separatedBy: #"<input type="hidden" name="_csrf" value="tok-1234"/>"#).count - 1 == forms, "one token per form")
            #expect(html.components(separatedBy: "tok-1234").count - 1 == forms, "and nowhere else")
        }
    }

    @Test func pagesCarryTheSessionTokenInFormsOnly() async throws {
        try await withFerry(.sqlite) { t in
            let (id, _) = try await t.user("mark", roles: ["viewer"])
            #expect(try await t.request(.PUT, "/api/users/\(id)", json: UserInput(displayName: "__FERRY_CSRF__")).status == .ok)
            let signedIn = try await t.signIn("mark")
            let session = try #require(signedIn.session)
            let csrf = try #require(signedIn.csrf)
            let page = try await t.request(.GET, "/profile", headers: ["Cookie": "\(Authenticator.sessionCookie)=\(session)", "Accept": "text/html"],
                                           anonymous: true).body.string
            #expect(page.contains("__FERRY_CSRF__"), "the display name is shown as it is")
            let tokens = page.matches(of: /name="_csrf" value="([^"]*)"/).map { String($0.output.1) }
            #expect(!tokens.isEmpty && tokens.allSatisfy { $0 == csrf })
            #expect(tokens.count == page.components(separatedBy: #"<form method="post""#).count - 1)
            #expect(page.components(separatedBy: csrf).count - 1 == tokens.count)
        }
    }
}

/// Item 7: owner-only files, HSTS over https, no-store on the API and on secret pages.
@Suite struct FilesAndHeadersTests {
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? NSNumber).intValue & 0o777
    }

    @Test func theDataDirectoryStoreAndKeyFileAreOwnerOnly() async throws {
        try await withFerry(.sqlite, secretKey: nil) { t in
            let directoryMode = try Self.mode(t.dataDirectory)
            #expect(directoryMode == 0o700)
            let store = t.app.ferryConfiguration.sqlitePath
            #expect(try Self.mode(store) == 0o600)
            #expect(try Self.mode((t.dataDirectory as NSString).appendingPathComponent("secret.key")) == 0o600)
            for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: store + suffix) {
                #expect(try Self.mode(store + suffix) == 0o600, "\(suffix)")
            }
        }
    }

    @Test func anExistingKeyFileIsReadAndNeverOverwritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-key-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = (dir as NSString).appendingPathComponent("secret.key")
        let known = Data((0..<32).map { UInt8($0) })
        let contents = Data((known.base64EncodedString() + "\n").utf8)
        #expect(FileManager.default.createFile(atPath: path, contents: contents))
        var config = FerryConfiguration()
        config.dataDirectory = dir
        let sealed = try SecretBox(key: SymmetricKey(data: known)).seal("s3cret")
        for _ in 0..<2 {
            #expect(try SecretBox.load(configuration: config).open(sealed) == "s3cret")
            #expect(FileManager.default.contents(atPath: path) == contents)
        }
        #expect(try DataDirectory.createExclusively(path, contents: Data("other".utf8)) == false)
        #expect(FileManager.default.contents(atPath: path) == contents)
        let fresh = (dir as NSString).appendingPathComponent("fresh")
        #expect(try DataDirectory.createExclusively(fresh, contents: Data("x".utf8)))
        #expect(try Self.mode(fresh) == 0o600 && FileManager.default.contents(atPath: fresh) == Data("x".utf8))
    }

    @Test func strictTransportSecurityOnlyOverHTTPS() async throws {
        try await withFerry(.sqlite) { t in
            let plain = try await t.request(.GET, "/healthz", anonymous: true)
            #expect(plain.headers.first(name: .strictTransportSecurity) == nil)
            let proxied = try await t.request(.GET, "/healthz", headers: ["X-Forwarded-Proto": "https"], anonymous: true)
            #expect(proxied.headers.first(name: .strictTransportSecurity) == SecurityHeadersMiddleware.hsts)
        }
        try await withFerry(.sqlite, configure: { $0.publicURL = "https://ferry.example.com" }) { t in
            let res = try await t.request(.GET, "/healthz", anonymous: true)
            #expect(res.headers.first(name: .strictTransportSecurity) == SecurityHeadersMiddleware.hsts)
        }
    }

    @Test func theAPIAndPagesWithSecretsAreNotStored() async throws {
        try await withFerry(.sqlite) { t in
            for (path, anonymous) in [("/api/me", false), ("/api/me", true), ("/api/no-such-route", false), ("/api/openapi.json", false)] {
                let res = try await t.request(.GET, path, anonymous: anonymous)
                #expect(res.headers.first(name: .cacheControl) == "no-store", "\(path)")
            }
            #expect(try await t.request(.GET, "/login", anonymous: true).headers.first(name: .cacheControl) == "no-store")
            let signedIn = try await t.signIn(TestAdmin.username)
            let session = try #require(signedIn.session)
            let csrf = try #require(signedIn.csrf)
            var headers: HTTPHeaders = ["Cookie": "\(Authenticator.sessionCookie)=\(session)", "Accept": "text/html"]
            headers.contentType = .urlEncodedForm
            let created = try await t.request(.POST, "/profile/tokens", headers: headers, body: "_csrf=\(csrf)&name=ci", anonymous: true)
            #expect(created.status == .ok && created.body.string.contains("data-testid=\"new-token\""), "\(created.status)")
            #expect(created.headers.first(name: .cacheControl) == "no-store")
        }
    }
}

/// Item 4d: per-user WebSocket limits and a bounded send queue per connection.
@Suite struct LiveConnectionLimitTests {
    final class FakeTransport: @unchecked Sendable {
        let lock = NSLock()
        var sent: [String] = []
        var completions: [@Sendable () -> Void] = []
        var closes = 0
        func write(_ text: String, _ done: @escaping @Sendable () -> Void) { lock.withLock { sent.append(text); completions.append(done) } }
        func close() { lock.withLock { closes += 1 } }
        func completeAll() {
            let done = lock.withLock { () -> [@Sendable () -> Void] in defer { completions = [] }; return completions }
            for d in done { d() }
        }
    }

    @Test func aClientThatStopsReadingIsClosedNotBuffered() {
        let fake = FakeTransport()
        let outbox = FrameOutbox(maxFrames: 3, maxBytes: 1 << 20, write: { fake.write($0, $1) }, close: { fake.close() })
        for n in 0..<3 { #expect(outbox.send("frame \(n)")) }
        // A reading client: written frames leave the queue, and sending goes on.
        fake.completeAll()
        #expect(outbox.pending.frames == 0 && outbox.pending.bytes == 0)
        for n in 3..<6 { #expect(outbox.send("frame \(n)")) }
        // Now it stops reading: the fourth waiting frame closes the connection instead of queueing.
        #expect(!outbox.send("frame 6"))
        #expect(outbox.isClosed && fake.closes == 1)
        for n in 7..<100 { #expect(!outbox.send("frame \(n)")) }
        #expect(fake.sent.count == 6 && fake.closes == 1, "nothing more is written or buffered")

        let bytes = FakeTransport()
        let small = FrameOutbox(maxFrames: 100, maxBytes: 10, write: { bytes.write($0, $1) }, close: { bytes.close() })
        #expect(small.send(String(repeating: "x", count: 50)), "one large frame alone goes out")
        #expect(!small.send("y"), "but nothing may wait behind it beyond the byte bound")
        #expect(bytes.closes == 1)
    }

    @Test func aUserBeyondTheirConnectionLimitIsRefusedBeforeTheUpgrade() async throws {
        try await withFerry(.sqlite, configure: { $0.hardening.webSocketsPerUser = 2 }) { t in
            let me = try await t.request(.GET, "/api/me").content.decode(AccountsAPI.Me.self, using: JSONDecoder.ferry)
            let limiter = t.app.webSocketLimiter
            let upgrade: HTTPHeaders = ["Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                                        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="]
            #expect(try await t.request(.GET, "/ws/tasks", headers: upgrade).status == .switchingProtocols)
            #expect(limiter.acquire(me.user.id) && limiter.acquire(me.user.id))
            let refused = try await t.request(.GET, "/ws/tasks", headers: upgrade)
            #expect(refused.status == .tooManyRequests && refused.body.string.contains("too_many_connections"))
            #expect(refused.headers.first(name: .retryAfter) != nil)
            // Another user has their own allowance.
            let (_, other) = try await t.user("olga", roles: ["viewer"])
            #expect(try await t.request(.GET, "/ws/tasks", headers: bearer(other).merging(upgrade)).status == .switchingProtocols)
            limiter.release(me.user.id)
            #expect(try await t.request(.GET, "/ws/tasks", headers: upgrade).status == .switchingProtocols)
        }
    }

    func connect(port: Int, token: String, on group: EventLoopGroup) async throws -> WebSocket {
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: token)
        return try await withCheckedThrowingContinuation { (k: CheckedContinuation<WebSocket, Error>) in
            WebSocket.connect(to: "ws://127.0.0.1:\(port)/ws/tasks", headers: headers, on: group) { ws in
                k.resume(returning: ws)
            }.whenFailure { k.resume(throwing: $0) }
        }
    }

    @Test func connectionsCountUntilTheyClose() async throws {
        try await withFerry(.sqlite, configure: { $0.hardening.webSocketsPerUser = 2 }) { t in
            let me = try await t.request(.GET, "/api/me").content.decode(AccountsAPI.Me.self, using: JSONDecoder.ferry)
            let token = try #require(t.adminToken)
            t.app.http.server.configuration.port = 0
            try await t.app.server.start()
            let port = try #require(t.app.http.server.shared.localAddress?.port)
            let limiter = t.app.webSocketLimiter
            func settle(_ n: Int) async throws {
                for _ in 0..<500 where limiter.count(me.user.id) != n { try await Task.sleep(nanoseconds: 10_000_000) }
            }
            let a = try await connect(port: port, token: token, on: t.app.eventLoopGroup)
            let b = try await connect(port: port, token: token, on: t.app.eventLoopGroup)
            try await settle(2)
            #expect(limiter.count(me.user.id) == 2)
            await #expect(throws: (any Error).self, "a third connection of the same user is refused") {
                _ = try await connect(port: port, token: token, on: t.app.eventLoopGroup)
            }
            try await a.close()
            try await settle(1)
            #expect(limiter.count(me.user.id) == 1, "a closed connection gives its place back")
            let c = try await connect(port: port, token: token, on: t.app.eventLoopGroup)
            try await b.close()
            try await c.close()
            try await settle(0)
            #expect(limiter.count(me.user.id) == 0)
            await t.app.server.shutdown()
        }
    }
}

/// Item 4e: audit rows are bounded in size and anonymous noise in number.
@Suite struct AuditBoundsTests {
    @Test func longTextIsCutWithAMarker() {
        let long = String(repeating: "é", count: 5000)
        let zalgo = "a" + String(repeating: "\u{0301}", count: 5000)
        let e = AuditEntry(at: Date(), actorID: nil, actor: long, address: long, action: long, target: zalgo, environment: nil, outcome: .denied,
                           detail: long).capped
        #expect(e.actor.unicodeScalars.count == AuditEntry.shortTextLimit && e.actor.hasSuffix(AuditEntry.cutMarker))
        #expect(e.address?.unicodeScalars.count == AuditEntry.shortTextLimit)
        #expect(e.action.unicodeScalars.count == AuditEntry.shortTextLimit)
        #expect(e.target?.unicodeScalars.count == AuditEntry.shortTextLimit, "one character of 5001 scalars is cut too")
        #expect(e.detail?.unicodeScalars.count == AuditEntry.detailLimit && e.detail?.hasSuffix(AuditEntry.cutMarker) == true)
        let short = AuditEntry(at: Date(), actorID: nil, actor: "ada", address: nil, action: "x", target: nil, environment: nil, outcome: .success, detail: nil)
        #expect(short.capped == short)
    }

    @Test func aStrangersLongUsernameIsStoredCut() async throws {
        try await withFerry(.sqlite) { t in
            let name = String(repeating: "m", count: 5000)
            var headers = HTTPHeaders()
            headers.contentType = .urlEncodedForm
            // No CSRF token: refused and recorded with the name as typed, cut.
            _ = try await t.request(.POST, "/login", headers: headers, body: "username=\(name)&password=x", anonymous: true)
            let rows = try await AuditEventModel.query(on: t.db).filter(\.$action == "auth.sign_in").all()
            let row = try #require(rows.first)
            #expect(row.actor.count == AuditEntry.shortTextLimit && row.actor.hasSuffix(AuditEntry.cutMarker))
        }
    }

    @Test func theAggregatorWritesTheFirstAndCountsTheRest() {
        let aggregator = AuditAggregator(maxKeys: 3)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        func denial(_ address: String, at offset: Double = 0) -> AuditEntry {
            AuditEntry(at: start.addingTimeInterval(offset), actorID: nil, actor: "anonymous", address: address, action: "GET /api/dashboards",
                       target: nil, environment: nil, outcome: .denied, detail: "HTTP 401")
        }
        var written: [AuditEntry] = []
        for _ in 0..<1000 { written += aggregator.admit(denial("10.0.0.1")) }
        #expect(written.count == 1)
        for n in 0..<10 { written += aggregator.admit(denial("10.0.1.\(n)")) }
        #expect(written.count == 3, "two more keys fit this window; the other eight are counted together")
        #expect(aggregator.due(now: start.addingTimeInterval(30)).isEmpty, "the window is still open")
        let summaries = aggregator.due(now: start.addingTimeInterval(61))
        #expect(summaries.count == 2)
        #expect(summaries.contains { $0.address == "10.0.0.1" && $0.detail?.contains("999 more") == true })
        #expect(summaries.contains { $0.address == "*" && $0.detail?.contains("8 anonymous refusals") == true })
        #expect(aggregator.drain().isEmpty)
    }

    @Test(arguments: Store.available)
    func aThousandAnonymousDenialsWriteABoundedNumberOfRows(store: Store) async throws {
        try await withFerry(store) { t in
            let before = try await t.auditRows()
            for _ in 0..<1000 {
                #expect(try await t.request(.GET, "/api/dashboards", anonymous: true).status == .unauthorized)
            }
            #expect(try await t.auditRows() - before == 1, "the first denial is written; the rest are counted")
            t.clock.advance(61)
            _ = try await t.request(.GET, "/api/dashboards", anonymous: true)
            #expect(try await t.auditRows() - before == 3, "the count, then the first of the new minute")
            let summary = try await AuditEventModel.query(on: t.db).filter(\.$actor == "anonymous").all()
            #expect(summary.contains { $0.detail?.contains("aggregated: 999 more") == true })

            // Addresses a stranger makes up (X-Forwarded-For) don't get around the bound.
            t.clock.advance(61)
            let spread = try await t.auditRows()
            for n in 0..<1000 {
                _ = try await t.request(.GET, "/api/dashboards", headers: ["X-Forwarded-For": "10.9.\(n / 250).\(n % 250)"], anonymous: true)
            }
            let rows = try await t.auditRows() - spread
            #expect(rows <= AuditAggregator.maxKeys + 1, "\(rows) rows")
            // A signed-in user's refusals are never aggregated.
            let (_, viewer) = try await t.user("vic", roles: ["viewer"])
            let own = try await t.auditRows()
            for _ in 0..<3 { #expect(try await t.request(.POST, "/api/environments", json: sample("x", stage: "dev"), headers: bearer(viewer)).status == .forbidden) }
            #expect(try await t.auditRows() - own >= 3)
        }
    }
}
