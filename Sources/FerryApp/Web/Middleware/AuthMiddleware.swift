import Foundation
import Vapor

/// Authenticates every request and enforces the route's entry of the access policy before its
/// handler runs; refuses session-authenticated unsafe requests without the session's CSRF token,
/// and WebSocket upgrades from another origin.
///
/// Fails closed: a matched route without a policy entry is refused (and logged as a defect).
/// Requests that match no route (static files, 404s) pass through.
struct AuthMiddleware: AsyncMiddleware {
    static let csrfHeader = "X-CSRF-Token"
    static let csrfField = "_csrf"

    func respond(to req: Request, chainingTo next: AsyncResponder) async throws -> Response {
        let principal = try await req.application.authenticator.principal(for: req)
        req.principal = principal
        if let lang = principal?.language, req.query[String.self, at: "lang"] == nil, req.cookies[LanguageMiddleware.cookie] == nil {
            req.storage[LanguageKey.self] = lang
        }
        guard let route = req.route else { return try await next.respond(to: req) }
        guard let access = route.userInfo[Access.userInfoKey] as? Access else {
            req.logger.critical("route has no access policy entry", metadata: ["path": .string(route.path.string)])
            throw AppError(.forbidden, code: "forbidden", key: "route_no_rule")
        }
        switch access {
        case .open:
            break
        case .signedIn:
            guard principal != nil else { return try unauthenticated(req) }
        case .permission(let p):
            guard let principal else { return try unauthenticated(req) }
            guard principal.can(p) else { throw AuthErrors.forbidden(p, environment: nil) }
        }
        // Open routes (sign-in) check their own form token: a session cookie planted in the
        // browser must not decide whether someone can sign in.
        if access != .open, case .session(_, let csrf) = principal?.credential {
            if ![.GET, .HEAD, .OPTIONS].contains(req.method) {
                var sent = req.headers.first(name: Self.csrfHeader)
                if sent == nil {
                    // A form larger than one read (an upload, a long restore selection) arrives
                    // streamed: collect it first, within the route's own limit, to read its token.
                    if req.body.data == nil {
                        let limit = req.route?.userInfo[Route.bodyLimitKey] as? Int ?? req.application.routes.defaultMaxBodySize.value
                        _ = try await req.body.collect(max: limit).get()
                    }
                    sent = try? req.content.get(String.self, at: Self.csrfField)
                }
                guard let sent, Credentials.equal(sent, csrf) else { throw AuthErrors.csrf }
            }
            if req.headers.first(name: .upgrade)?.lowercased() == "websocket", !Self.sameOrigin(req) {
                throw AppError(.forbidden, code: "forbidden", key: "websocket_cross_site")
            }
        }
        return try await next.respond(to: req)
    }

    /// Pages send a person to the sign-in page (and back afterwards); the API answers 401.
    private func unauthenticated(_ req: Request) throws -> Response {
        if req.method == .GET, !req.url.path.hasPrefix("/api"), ProblemMiddleware.acceptsHTML(req) {
            let back = req.url.string
            return req.redirect(to: SiteURL.login.path(query: ["next": back]), redirectType: .normal)
        }
        if req.headers.bearerAuthorization != nil { throw AuthErrors.tokenRefused }
        throw AuthErrors.unauthenticated
    }

    /// Whether the request's Origin (when sent) is this server's own.
    static func sameOrigin(_ req: Request) -> Bool {
        guard let origin = req.headers.first(name: .origin), let host = req.headers.first(name: .host) else { return true }
        guard let url = URL(string: origin), let originHost = url.host else { return false }
        let port = url.port.map { ":\($0)" } ?? ""
        return (originHost + port).lowercased() == host.lowercased()
    }
}

/// Appends an audit event for every request that changes something (anything but GET and HEAD),
/// and for denied requests of any method, after its response is known: who, from where, which
/// route, on which object, how it ended. Handlers add the environment, a better action name or
/// details through `Request.audit`, or record sign-ins themselves and set `audit.recorded`.
struct AuditMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: req)
        let status = response.status.code
        let denied = status == 401 || status == 403
        guard !req.audit.recorded, req.route != nil, denied || ![.GET, .HEAD].contains(req.method) else { return response }
        let note = req.audit
        let action = note.action ?? "\(req.method.rawValue) \(req.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? req.url.path)"
        await req.appendAudit(AuditEntry(
            at: req.application.ferry.now(), actorID: req.principal?.userID, actor: req.principal?.username ?? "anonymous",
            address: req.remoteAddressText, action: action, target: note.target ?? req.parameters.get("id"), environment: note.environment?.name,
            environmentID: note.environment?.id, outcome: denied ? .denied : (status < 400 ? .success : .failure), detail: note.detail ?? (status >= 400 ? "HTTP \(status)" : nil)))
        return response
    }
}

/// What a handler adds to its request's audit event.
struct AuditNote: Sendable {
    var action: String?
    var target: String?
    /// The environment the request acts on (set where access to it is checked).
    var environment: EnvironmentRef?
    var detail: String?
    /// The handler appended its own events (sign-in): the middleware adds none.
    var recorded = false
}

extension Request {
    private struct AuditKey: StorageKey { typealias Value = AuditNote }

    var audit: AuditNote {
        get { storage[AuditKey.self] ?? AuditNote() }
        set { storage[AuditKey.self] = newValue }
    }

    /// The client's address: the peer, and what X-Forwarded-For claims when a proxy sent it
    /// (recorded beside the peer, never instead of it, since a client can write that header).
    var remoteAddressText: String? {
        let peer = remoteAddress?.ipAddress
        if let fwd = headers.first(name: .xForwardedFor)?.trimmingCharacters(in: .whitespaces), !fwd.isEmpty {
            return "\(fwd.prefix(100)) (via \(peer ?? "?"))"
        }
        return peer
    }

    /// Appends an audit event now (sign-ins, sign-outs) and marks the request as recorded.
    /// `aggregate` as for `appendAudit`.
    func recordAudit(
        action: String, outcome: AuditEntry.Outcome, actor: String, actorID: UUID?, target: String? = nil, detail: String? = nil, aggregate: Bool? = nil
    ) async {
        var note = audit
        note.recorded = true
        audit = note
        await appendAudit(AuditEntry(at: application.ferry.now(), actorID: actorID, actor: actor, address: remoteAddressText, action: action,
                                     target: target, environment: nil, outcome: outcome, detail: detail), aggregate: aggregate)
    }

    /// Appends `entry`. A failure to write is logged, never turned into the request's answer:
    /// the change it describes has already happened.
    ///
    /// Anonymous refusals and failures (no signed-in user, no account named: unauthenticated
    /// 401/403s, sign-ins for unknown users, limited sign-ins) go through the audit aggregator,
    /// so a stranger's flood writes a bounded number of rows; `aggregate` overrides that choice
    /// (false for an identity the SSO provider vouched for).
    func appendAudit(_ entry: AuditEntry, aggregate: Bool? = nil) async {
        let anonymous = aggregate ?? (entry.actorID == nil && principal == nil && entry.outcome != .success)
        let aggregator = application.auditAggregator
        let entries = anonymous ? aggregator.admit(entry) : aggregator.due(now: entry.at) + [entry]
        for e in entries {
            do { try await AuditLog.append(e, id: application.ferry.uuid(), on: db) } catch {
                logger.error("audit event not written", metadata: ["error": .string("\(error)"), "action": .string(e.action)])
            }
        }
    }
}
