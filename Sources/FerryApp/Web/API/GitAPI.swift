import Fluent
import Foundation
import SupersetKit
import Vapor

extension GitRevisionDTO: Content {}
extension GitDashboardDTO: Content {}
extension GitHistoryDTO: Content {}
extension GitDiffDTO: Content {}
extension GitRemoteDTO: Content {}
extension GitRemoteInput: Content {}
extension DeployInput: Content {}

/// `/api/git/…`: the git history (dashboards and drift, history, diffs), its tasks (snapshot,
/// drift check, push, pull), deploys of a revision, and the remote. Thin handlers over
/// `GitService`, `GitHistory`, `GitRemoteStore` and `PromotionService.deploy`; every check is
/// made on the environments named and on what is stored.
enum GitAPI {
    static func register(_ app: Application) {
        app.get(.api(.gitDashboards), use: dashboards)
        app.get(.api(.gitHistory), use: history)
        app.get(.api(.gitDiff), use: diff)
        app.post(.api(.gitSnapshot), use: snapshot)
        app.post(.api(.gitDrift), use: drift)
        app.post(.api(.gitPush), use: push)
        app.post(.api(.gitPull), use: pull)
        app.post(.api(.gitDeploy), use: deploy)
        app.get(.api(.gitRemote), use: remote)
        app.put(.api(.gitRemote), use: saveRemote)
        app.delete(.api(.gitRemote), use: deleteRemote)
    }

    struct DashboardsResponse: Content {
        var items: [GitDashboardDTO]
        var total: Int
    }

    @Sendable static func dashboards(req: Request) async throws -> DashboardsResponse {
        struct Q: Decodable { var environment: String?; var drift: String?; var search: String?; var page: Int?; var per_page: Int? }
        let q = try req.decodeQuery(Q.self)
        let env = try await req.environmentNamed(q.environment, field: "environment")
        try req.authorize(.inventoryRead, environment: env)
        var drift: GitDriftStatus?
        if let d = q.drift, !d.isEmpty {
            guard let parsed = GitDriftStatus(rawValue: d) else {
                throw AppError.validation([FieldError(field: "drift", code: "invalid", key: "git_drift")])
            }
            drift = parsed
        }
        if (q.search ?? "").count > 255 { throw AppError.validation([FieldError(field: "search", code: "too_long", key: "at_most_chars", ["max": "255"])]) }
        let paging = try Paging(page: q.page, perPage: q.per_page)
        let inventory = try await req.application.inventoryIndex.current(on: req.db, now: req.application.ferry.now())
        let listed = try await GitService.dashboards(environment: env, drift: drift, search: q.search, inventory: inventory, range: paging.range, on: req.db)
        return DashboardsResponse(items: listed.items, total: listed.total)
    }

    @Sendable static func history(req: Request) async throws -> GitHistoryDTO {
        struct Q: Decodable { var environment: String?; var dashboard: String?; var page: Int?; var per_page: Int? }
        let q = try req.decodeQuery(Q.self)
        let env = try await req.environmentNamed(q.environment, field: "environment")
        try req.authorize(.inventoryRead, environment: env)
        let paging = try Paging(page: q.page, perPage: q.per_page)
        let row = try await GitService.committed(q.dashboard ?? "", in: env, on: req.db)
        do { return try await GitService.history(row, env: env, git: req.application.gitHistory, paging: paging) } catch let f as GitFailure {
            throw AppError(.internalServerError, code: "git_failed", detail: "\(f.message) \(f.next)")
        }
    }

    /// `?environment=dev&dashboard=sales-overview&from=<rev>&to=<rev|live>[&toEnvironment=prod]`:
    /// by default the last commit against Superset now (`from=HEAD&to=live`).
    @Sendable static func diff(req: Request) async throws -> GitDiffDTO {
        struct Q: Decodable { var environment: String?; var dashboard: String?; var from: String?; var to: String?; var toEnvironment: String? }
        let q = try req.decodeQuery(Q.self)
        let (env, other) = try await req.comparedEnvironments(q.environment, q.toEnvironment)
        let row = try await GitService.committed(q.dashboard ?? "", in: env, on: req.db)
        do { return try await req.gitDiff(row, env, other, from: q.from, to: q.to) } catch let f as GitFailure {
            throw AppError(.internalServerError, code: "git_failed", detail: "\(f.message) \(f.next)")
        }
    }

    struct EnvironmentInput: Content { var environment: String? }

    @Sendable static func snapshot(req: Request) async throws -> Response {
        try await queueForEnvironment(req, plugin: "git.snapshot")
    }

    @Sendable static func drift(req: Request) async throws -> Response {
        try await queueForEnvironment(req, plugin: "git.drift")
    }

    private static func queueForEnvironment(_ req: Request, plugin: String) async throws -> Response {
        let input = try req.content.decode(EnvironmentInput.self)
        let env = try await req.environmentNamed(input.environment, field: "environment")
        try req.authorize(.gitWrite, environment: env)
        return try await req.queueTask( plugin, params: ["environment": .string(env.id.key)])
    }

    @Sendable static func push(req: Request) async throws -> Response {
        try await req.authorizeEveryEnvironment(.gitWrite)
        return try await req.queueTask( "git.push", params: [:])
    }

    @Sendable static func pull(req: Request) async throws -> Response {
        try await req.authorizeEveryEnvironment(.gitWrite)
        return try await req.queueTask( "git.pull", params: [:])
    }

    @Sendable static func deploy(req: Request) async throws -> Response {
        let input = try req.content.decode(DeployInput.self)
        let app = req.application
        let plan = try await PromotionService.deploy(input, git: app.gitHistory, user: req.userName, engine: app.taskEngine, now: app.ferry.now(),
                                                     newID: app.ferry.uuid(), on: req.db, authorize: req.authorizePlan)
        let response = try await PromotionsAPI.Accepted(id: plan.id!, taskId: plan.taskID, status: plan.status).encodeResponse(status: .accepted, for: req)
        response.headers.replaceOrAdd(name: .location, value: SiteURL.api(.plan(.value(plan.id!))).path)
        return response
    }

    @Sendable static func remote(req: Request) async throws -> GitRemoteDTO {
        GitRemoteDTO(try await req.application.gitHistory.remote!.load(on: req.db))
    }

    @Sendable static func saveRemote(req: Request) async throws -> GitRemoteDTO {
        let input = try req.content.decode(GitRemoteInput.self)
        let app = req.application
        let saved = try await app.gitHistory.remote!.save(input, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
        return GitRemoteDTO(saved)
    }

    @Sendable static func deleteRemote(req: Request) async throws -> HTTPStatus {
        try await req.application.gitHistory.remote!.clear(on: req.db)
        return .noContent
    }
}

extension Request {
    /// Queues a task of `plugin` (the caller has authorised it) and answers 202 with its id
    /// and a Location to follow it.
    func queueTask(_ plugin: String, params: [String: BundleValue]) async throws -> Response {
        let task = try await application.taskEngine.submit(pluginID: plugin, params: .map(params), user: userName, on: db)
        let response = try await BackupsAPI.Queued(taskId: task.id!, status: task.status).encodeResponse(status: .accepted, for: self)
        response.headers.replaceOrAdd(name: .location, value: SiteURL.api(.task(.value(task.id!))).path)
        return response
    }

    /// Query parameters, or a 422 when a number isn't one.
    func decodeQuery<T: Decodable>(_ type: T.Type) throws -> T {
        do { return try query.decode(type) } catch {
            throw AppError.validation([FieldError(field: "query", code: "invalid", key: "git_query")])
        }
    }

    /// The two environments of a comparison (the second is the first unless `toEnvironment`
    /// names another), each needing `inventory:read`.
    func comparedEnvironments(_ environment: String?, _ toEnvironment: String?) async throws -> (EnvironmentRef, EnvironmentRef) {
        let env = try await environmentNamed(environment, field: "environment")
        try authorize(.inventoryRead, environment: env)
        var other = env
        if let t = toEnvironment, !t.isEmpty {
            other = try await environmentNamed(t, field: "toEnvironment")
            try authorize(.inventoryRead, environment: other)
        }
        return (env, other)
    }

    /// Compares a committed dashboard between `from` and `to` (revisions or `live`; by default
    /// its last commit against Superset now, or HEAD of both environments across two), reading
    /// a live side with the interactive timeout.
    func gitDiff(_ row: GitDashboardModel, _ env: EnvironmentRef, _ other: EnvironmentRef, from: String?, to: String?) async throws -> GitDiffDTO {
        let fromSide = try GitService.Side.parse(from, field: "from", default: .revision("HEAD"))
        let toSide = try GitService.Side.parse(to, field: "to", default: other.id == env.id ? .live : .revision("HEAD"))
        let app = application, logger = logger, db = db
        return try await GitService.diff(dashboard: row, from: (env, fromSide), to: (other, toSide), git: app.gitHistory, client: { id in
            try EnvironmentService.client(for: try await EnvironmentService.find(id, on: db), box: app.secretBox,
                                          timeout: app.ferryConfiguration.interactiveTimeout, dependencies: app.ferry, logger: logger)
        }, on: db)
    }

    /// `permission` on every environment (the git remote's tasks touch the whole history).
    func authorizeEveryEnvironment(_ permission: Permission) async throws {
        try await authorize(permission, environmentIDs: try await EnvironmentModel.query(on: db).all().compactMap(\.id))
    }
}
