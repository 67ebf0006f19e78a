// What authentication and authorisation add to a request: issue 5's "under 1 ms at p95".
//
//   swift run FerryBench [requests]        (bench/auth.sh runs it and keeps the output)
//
// One Ferry, in process, on a temporary SQLite store with three environments. The same route,
// GET /api/environments, is answered by two responders built from the production middleware
// stack, called alternately so both see the same machine:
//   - "with the check": the stack as it runs in `ferry serve` (AuthMiddleware looks the
//     credential up, applies the route's policy entry, checks CSRF where it applies);
//   - "without": the same stack with AuthMiddleware swapped for one that only sets the
//     already-known principal (the handler needs one), so no lookup and no policy check.
// The difference of the two p95s is the overhead. Run for an API token and a browser session,
// with the principal cache on (the default, 5 s) and off (every request reads the database).
// In process, so no socket or HTTP parsing noise; a debug build unless built with -c release.
@testable import FerryApp
import Fluent
import Foundation
import Vapor

struct SetPrincipal: AsyncMiddleware {
    let principal: Principal
    func respond(to req: Request, chainingTo next: AsyncResponder) async throws -> Response {
        req.principal = principal
        return try await next.respond(to: req)
    }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

func scenario(name: String, cacheSeconds: Double, useSession: Bool, requests: Int) async throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-bench-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var config = FerryConfiguration()
    config.dataDirectory = dir
    config.secretKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    config.syncInterval = 0
    config.logLevel = "error"
    config.bcryptCost = 4
    config.authCacheSeconds = cacheSeconds
    let app = try await Application.make(.production)
    do {
        try await configure(app, configuration: config)
        let now = app.ferry.now()
        let admin = try await AccountService.createUser(
            UserInput(username: "bench", password: "bench password 1", roles: [BuiltInRoles.operator_]), hasher: app.passwordHasher,
            now: now, newID: { UUID() }, on: app.db)
        for (name, stage) in [("dev", "dev"), ("stage", "stage"), ("prod", "prod")] {
            _ = try await EnvironmentService.create(
                EnvironmentInput(name: name, url: "http://127.0.0.1:9", authProvider: "db", username: "admin", password: "x", stage: stage),
                on: app.db, box: app.secretBox, now: now, id: UUID())
        }
        var headers = HTTPHeaders()
        let principal: Principal
        if useSession {
            let session = try await SessionService.start(userID: admin.id, address: nil, lifetime: 3600, now: now, newID: UUID(), on: app.db)
            headers.replaceOrAdd(name: .cookie, value: "\(Authenticator.sessionCookie)=\(session.cookie)")
            principal = try await SessionService.principal(cookie: session.cookie, now: now, on: app.db)!
        } else {
            let p = try await SessionService.principal(userID: admin.id, credential: .token(id: UUID()), on: app.db)!
            let token = try await SessionService.createToken(TokenInput(name: "bench"), owner: p, now: now, newID: UUID(), on: app.db).token
            headers.bearerAuthorization = BearerAuthorization(token: token)
            principal = try await SessionService.principal(token: token, now: now, on: app.db)!
        }
        guard let route = app.routes.all.first(where: { $0.method == .GET && $0.path.string == "api/environments" }) else {
            fatalError("no GET /api/environments")
        }
        let stack = app.middleware.resolve()
        let with = stack.makeResponder(chainingTo: route.responder)
        let without = stack.map { $0 is AuthMiddleware ? SetPrincipal(principal: principal) : $0 }.makeResponder(chainingTo: route.responder)

        func once(_ responder: Responder) async throws -> Double {
            let req = Request(application: app, method: .GET, url: URI(path: "/api/environments"), headers: headers, on: app.eventLoopGroup.any())
            req.route = route
            let start = ContinuousClock.now
            let res = try await responder.respond(to: req).get()
            let elapsed = ContinuousClock.now - start
            guard res.status == .ok else { fatalError("\(name): \(res.status) \(res.body.string ?? "")") }
            return Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        }
        for _ in 0..<500 { _ = try await once(with); _ = try await once(without) }  // warm up
        var a: [Double] = [], b: [Double] = []
        a.reserveCapacity(requests); b.reserveCapacity(requests)
        for i in 0..<requests {
            if i % 2 == 0 {
                a.append(try await once(with)); b.append(try await once(without))
            } else {
                b.append(try await once(without)); a.append(try await once(with))
            }
        }
        a.sort(); b.sort()
        let f = { (x: Double) in String(format: "%.3f", x) }
        let row = "| \(name) | \(f(percentile(b, 0.5))) | \(f(percentile(a, 0.5))) | \(f(percentile(b, 0.95))) | \(f(percentile(a, 0.95))) | "
            + "**\(f(percentile(a, 0.95) - percentile(b, 0.95)))** | \(String(format: "%.2f", percentile(a, 0.95) / percentile(b, 0.95))) |"
        try await app.asyncShutdown()
        return row
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
}

if CommandLine.arguments.dropFirst().first == "reports-seed" {
    let args = Array(CommandLine.arguments.dropFirst(2))
    guard let dir = args.first else { fatalError("usage: FerryBench reports-seed DATA_DIR [reports]") }
    try await reportsSeed(dataDirectory: dir, count: args.dropFirst().first.flatMap(Int.init) ?? 10_000)
    exit(0)
}
if CommandLine.arguments.dropFirst().first == "git" {
    let args = CommandLine.arguments.dropFirst(2).compactMap(Int.init)
    try await gitBench(dashboards: args.first ?? 1000, commits: args.dropFirst().first ?? 1000)
    exit(0)
}
let requests = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 20_000
print("GET /api/environments, \(requests) requests per variant, in process (ms)\n")
print("| credential | p50 without | p50 with | p95 without | p95 with | p95 overhead | p95 ratio |")
print("|---|---|---|---|---|---|---|")
for (name, cache, session) in [("API token, principal cached (default)", 5.0, false), ("session cookie, principal cached (default)", 5.0, true),
                               ("API token, cache off (database every request)", 0.0, false)] {
    print(try await scenario(name: name, cacheSeconds: cache, useSession: session, requests: requests))
}
