import Fluent
import Foundation
import Vapor

/// Sign-in (local and SSO) and sign-out.
enum AuthPages {
    static let loginCSRFCookie = "ferry_login_csrf"
    /// Binds an SSO sign-in to the browser that started it (set by `/sso/start`, checked and
    /// cleared by `/sso/callback`).
    static let ssoBrowserCookie = "ferry_sso"

    static func register(_ routes: RoutesBuilder) {
        routes.get(.login, use: form)
        routes.post(.login, use: login)
        routes.post(.logout, use: logout)
        routes.get(.ssoStart, use: ssoStart)
        routes.grouped(SSOCookieClearing()).get(.ssoCallback, use: ssoCallback)
    }

    /// A local path to return to after signing in; anything else (another site) becomes "/".
    static func safeNext(_ next: String?) -> String {
        ReturnPath.sanitize(next)
    }

    /// Whether cookies must be Secure: Ferry is reached over HTTPS.
    static func secure(_ req: Request) -> Bool {
        req.cameOverHTTPS
    }

    static func page(_ req: Request, model: LoginPage.Model, status: HTTPResponseStatus = .ok) async throws -> Response {
        // The sign-in form's own CSRF token (double submit): a cookie and the same value in the form.
        let token = Credentials.random(bytes: 24)
        req.storage[FormTokenKey.self] = token
        let response = Layout.response(LoginPage.View(model: model, localizer: req.localizer), request: req)
        response.status = status
        response.noStore()
        response.cookies[loginCSRFCookie] = HTTPCookies.Value(string: token, maxAge: 3600, path: SiteURL.login.path, isSecure: secure(req),
                                                              isHTTPOnly: true, sameSite: .strict)
        return response
    }

    static func model(_ req: Request, next: String, username: String = "", error: String? = nil) async throws -> LoginPage.Model {
        let sso = try await SSOService.load(on: req.db)
        return LoginPage.Model(next: next, username: username, error: error, sso: sso.enabled ? sso.label : nil,
                               noAccounts: try await AccountService.count(on: req.db) == 0)
    }

    @Sendable static func form(req: Request) async throws -> Response {
        let next = safeNext(try? req.query.get(String.self, at: "next"))
        if req.principal != nil { return req.redirect(to: next, redirectType: .normal) }
        let error = (try? req.query.get(String.self, at: "error")).map { _ in req.localizer.t("auth.sso_failed") }
        return try await page(req, model: try await model(req, next: next, error: error))
    }

    @Sendable static func login(req: Request) async throws -> Response {
        struct Form: Decodable { var username: String?; var password: String?; var next: String?; var _csrf: String? }
        let f = try req.content.decode(Form.self)
        let next = safeNext(f.next)
        // Counted before anything else, whether the user exists or not (README, "Security").
        if let refused = req.application.signInLimiter.take(address: req.limitAddress, now: req.application.ferry.now()) {
            return try await rateLimited(req, refused, next: next, username: f.username ?? "")
        }
        guard let cookie = req.cookies[loginCSRFCookie]?.string, let sent = f._csrf, Credentials.equal(cookie, sent) else {
            await req.recordAudit(action: "auth.sign_in", outcome: .denied, actor: f.username ?? "anonymous", actorID: nil, detail: "missing or wrong CSRF token")
            return try await page(req, model: try await model(req, next: next, username: f.username ?? "", error: req.localizer.problemText(AuthErrors.csrf)), status: .forbidden)
        }
        let app = req.application
        let username = (f.username ?? "").trimmingCharacters(in: .whitespaces)
        let user: UserModel
        do {
            user = try await AccountService.signIn(username: username, password: f.password ?? "", hasher: app.passwordHasher, now: app.ferry.now(), on: req.db)
        } catch let e as AppError where e.status == .unauthorized {
            app.authenticator.invalidate()
            // A failure against an existing account is recorded on its own (the lockout's
            // trail); guesses at names that don't exist are aggregated like other anonymous noise.
            let known = try await AccountService.userID(named: username, on: req.db)
            await req.recordAudit(action: "auth.sign_in", outcome: .failure, actor: username.isEmpty ? "anonymous" : String(username.prefix(120)), actorID: known,
                                  detail: "local", aggregate: known == nil)
            return try await page(req, model: try await model(req, next: next, username: username, error: req.localizer.t("auth.failed_detail")),
                                  status: .unauthorized)
        } catch let e as AppError where e.code == PasswordHasher.busy.code {
            await req.recordAudit(action: "auth.sign_in", outcome: .denied, actor: "anonymous", actorID: nil, detail: "bcrypt threads busy")
            let response = try await page(req, model: try await model(req, next: next, username: username, error: req.localizer.t("auth.busy")),
                                          status: e.status)
            response.headers.replaceOrAdd(name: .retryAfter, value: String(e.retryAfter ?? 1))
            return response
        }
        return try await startSession(req, user: user, next: next, method: "local")
    }

    /// The sign-in page answering 429, with `Retry-After` and the wait in its message. It reads
    /// nothing from the store (a flood of these must stay cheap), so it offers no SSO button.
    static func rateLimited(_ req: Request, _ refused: SignInLimiter.Refusal, next: String, username: String) async throws -> Response {
        await req.recordAudit(action: "auth.sign_in", outcome: .denied, actor: "anonymous", actorID: nil, detail: "rate limited (\(refused.scope.rawValue))")
        let message = req.localizer.t("auth.rate_limited", ["seconds": String(refused.retryAfter)])
        let response = try await page(req, model: LoginPage.Model(next: next, username: username, error: message), status: .tooManyRequests)
        response.headers.replaceOrAdd(name: .retryAfter, value: String(refused.retryAfter))
        return response
    }

    /// Ends any session the browser brought, starts a new one, and sends the browser on.
    static func startSession(_ req: Request, user: UserModel, next: String, method: String) async throws -> Response {
        let app = req.application
        if let old = req.cookies[Authenticator.sessionCookie]?.string { try await SessionService.end(cookie: old, on: req.db) }
        let lifetime = app.ferryConfiguration.sessionHours * 3600
        let session = try await SessionService.start(userID: user.id!, address: req.remoteAddressText, lifetime: lifetime, now: app.ferry.now(),
                                                     newID: app.ferry.uuid(), on: req.db)
        app.authenticator.invalidate()
        await req.recordAudit(action: "auth.sign_in", outcome: .success, actor: user.username, actorID: user.id, detail: method)
        let response = req.redirect(to: next, redirectType: .normal)
        response.cookies[Authenticator.sessionCookie] = HTTPCookies.Value(
            string: session.cookie, expires: app.ferry.now().addingTimeInterval(lifetime), path: "/", isSecure: secure(req), isHTTPOnly: true,
            sameSite: .lax)
        response.cookies[loginCSRFCookie] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: SiteURL.login.path)
        return response
    }

    /// Signs out: ends every session of the user, on every device.
    @Sendable static func logout(req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        try await SessionService.endAll(userID: p.userID, on: req.db)
        req.application.authenticator.invalidate()
        await req.recordAudit(action: "auth.sign_out", outcome: .success, actor: p.username, actorID: p.userID)
        let response = req.redirect(to: SiteURL.login.path, redirectType: .normal)
        response.cookies[Authenticator.sessionCookie] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: "/", isHTTPOnly: true)
        return response
    }

    // MARK: SSO

    static func redirectURI(_ req: Request) -> String {
        if let base = req.application.ferryConfiguration.publicURL { return base + SiteURL.ssoCallback.path }
        let scheme = req.headers.first(name: "X-Forwarded-Proto") ?? "http"
        return "\(scheme)://\(req.headers.first(name: .host) ?? "localhost")" + SiteURL.ssoCallback.path
    }

    @Sendable static func ssoStart(req: Request) async throws -> Response {
        let settings = try await SSOService.load(on: req.db)
        guard settings.enabled else {
            throw AppError(.notFound, code: "sso_off", key: "sso_not_set_up")
        }
        return try await redirectToProvider(req, settings: settings, next: safeNext(try? req.query.get(String.self, at: "next")), test: false)
    }

    /// Sends the browser to the provider, with a short-lived cookie (HttpOnly, SameSite=Lax, path
    /// /sso, Secure over https) whose random value's hash is stored with the state: the callback
    /// accepts the state only from this browser.
    static func redirectToProvider(_ req: Request, settings: SSOSettings, next: String, test: Bool) async throws -> Response {
        let app = req.application
        guard SSOService.issuerAllowed(settings.issuer, allowHTTP: app.ferryConfiguration.hardening.ssoAllowHTTP) else {
            throw AppError(.conflict, code: "sso_insecure",
                           key: "sso_insecure", ["issuer": settings.issuer])
        }
        let browser = Credentials.random()
        let url = try await SSOService.begin(settings, redirectURI: redirectURI(req), next: next, test: test, browserHash: Credentials.hash(browser),
                                             web: app.ferry.web, timeout: app.ferryConfiguration.interactiveTimeout, now: app.ferry.now(),
                                             newID: app.ferry.uuid(), on: req.db)
        let response = req.redirect(to: url, redirectType: .normal)
        response.cookies[ssoBrowserCookie] = HTTPCookies.Value(
            string: browser, maxAge: Int(SSOService.stateLifetime), path: "/sso", isSecure: secure(req), isHTTPOnly: true, sameSite: .lax)
        return response
    }

    /// The provider sends the browser back here with a code (or an error) and the state.
    @Sendable static func ssoCallback(req: Request) async throws -> Response {
        struct Q: Decodable { var code: String?; var state: String?; var error: String?; var error_description: String? }
        let q = (try? req.query.decode(Q.self)) ?? Q()
        let app = req.application
        guard let state = q.state, let pending = try await SSOService.consumeState(state, now: app.ferry.now(), on: req.db) else {
            await req.recordAudit(action: "auth.sign_in", outcome: .denied, actor: "anonymous", actorID: nil, detail: "sso: unknown, used or expired state")
            throw SSOService.failure(key: "state", code: "sso_state")
        }
        guard let browser = req.cookies[ssoBrowserCookie]?.string, !browser.isEmpty, let bound = pending.browserHash,
              Credentials.equal(Credentials.hash(browser), bound) else {
            await req.recordAudit(action: "auth.sign_in", outcome: .denied, actor: "anonymous", actorID: nil, detail: "sso: state from another browser")
            throw SSOService.failure(key: "browser", code: "sso_browser")
        }
        if let error = q.error {
            await req.recordAudit(action: "auth.sign_in", outcome: .failure, actor: "anonymous", actorID: nil, detail: "sso: provider said \(error)")
            throw SSOService.failure(key: "denied", ["why": q.error_description ?? error], code: "sso_denied")
        }
        guard let code = q.code else { throw SSOService.failure(key: "no_code") }
        let settings = try await SSOService.load(on: req.db)
        let identity: SSOIdentity
        do {
            identity = try await SSOService.complete(code: code, pending: pending, settings: settings, redirectURI: redirectURI(req), box: app.secretBox,
                                                     web: app.ferry.web, timeout: app.ferryConfiguration.interactiveTimeout, now: app.ferry.now())
        } catch let e as AppError {
            await req.recordAudit(action: "auth.sign_in", outcome: .failure, actor: "anonymous", actorID: nil, detail: "sso: \(e.code)")
            throw e
        }
        if pending.test {
            // A test from the settings page: show what Ferry would do, sign no one in.
            guard let p = req.principal, p.can(.settingsAdmin) else { throw AuthErrors.forbidden(.settingsAdmin, environment: nil) }
            return Layout.response(SSOSettingsPage.View(model: try await AdminPages.ssoModel(req, test: identity), localizer: req.localizer), request: req)
        }
        let user: UserModel
        do {
            user = try await SSOService.provision(identity, hasher: app.passwordHasher, now: app.ferry.now(), newID: app.ferry.uuid, on: req.db)
        } catch let e as AppError {
            // The provider vouched for this identity: recorded on its own, never aggregated.
            await req.recordAudit(action: "auth.sign_in", outcome: .denied, actor: identity.username, actorID: nil, detail: "sso: \(e.code)",
                                  aggregate: false)
            throw e
        }
        return try await startSession(req, user: user, next: safeNext(pending.returnTo), method: "sso")
    }
}

/// Clears the SSO browser cookie on every answer of the callback (success or error page): it
/// served its one sign-in. Errors are rendered here, as `ProblemMiddleware` would, so the
/// error page carries the clearing cookie too.
struct SSOCookieClearing: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: AsyncResponder) async throws -> Response {
        let response: Response
        do {
            response = try await next.respond(to: req)
        } catch {
            response = try ProblemMiddleware.render(error, request: req)
            if let seconds = (error as? AppError)?.retryAfter { response.headers.replaceOrAdd(name: .retryAfter, value: String(seconds)) }
        }
        // Added as a header of its own: re-writing `response.cookies` would re-parse (and could
        // drop) the cookies the handler set.
        let cleared = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/sso", isSecure: AuthPages.secure(req),
                                        isHTTPOnly: true, sameSite: .lax)
        response.headers.add(name: .setCookie, value: cleared.serialize(name: AuthPages.ssoBrowserCookie))
        response.noStore()
        return response
    }
}
