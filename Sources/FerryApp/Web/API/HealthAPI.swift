import Fluent
import Foundation
import SupersetKit
import Vapor

extension DashboardCheckDTO: Content {}

/// `/api/health/…`: dashboard checks (start one, list and read results, screenshots). Results
/// are read with `inventory:read` on the environment the stored check is of; starting a check
/// needs `health:run` on the environment it names.
enum HealthAPI {
    static func register(_ app: Application) {
        app.get(.api(.healthChecks), use: list)
        app.post(.api(.healthChecks), use: start)
        app.get(.api(.healthCheck(.key)), use: one)
        app.get(.api(.healthScreenshot(.key)), use: screenshot)
    }

    struct ChecksResponse: Content {
        var items: [DashboardCheckDTO]
        var total: Int
    }

    struct StartInput: Content {
        var environment: String?
        var dashboards: [Int]?
        var search: String?
        var render: Bool?
        /// An active LLM provider to review each dashboard (none when absent).
        var llmProvider: UUID?
    }

    @Sendable static func list(req: Request) async throws -> ChecksResponse {
        struct Q: Decodable { var environment: String?; var status: String?; var dashboard: String?; var task: String?; var page: Int?; var per_page: Int? }
        let q = try req.decodeQuery(Q.self)
        let paging = try Paging(page: q.page, perPage: q.per_page)
        let names = try await req.environmentDirectory()
        var filter = HealthService.Filter(environments: names.byID.values.filter { req.permits(.inventoryRead, environment: $0) }.map(\.id))
        if let e = q.environment, !e.isEmpty {
            let env = try await req.environmentNamed(e, field: "environment")
            try req.authorize(.inventoryRead, environment: env)
            filter.environment = env.id
        }
        if let s = q.status, !s.isEmpty {
            guard let status = HealthStatus(rawValue: s) else {
                throw AppError.validation([FieldError(field: "status", code: "invalid", key: "health_status")])
            }
            filter.status = status
        }
        if let d = q.dashboard, !d.isEmpty {
            guard d.count <= 100 else { throw AppError.validation([FieldError(field: "dashboard", code: "too_long", key: "dashboard_ref")]) }
            filter.dashboard = d
        }
        if let t = q.task, !t.isEmpty {
            guard let id = UUID(uuidString: t) else { throw AppError.validation([FieldError(field: "task", code: "invalid", key: "task_uuid")]) }
            filter.task = id
        }
        filter.offset = paging.offset
        filter.limit = paging.perPage
        let (rows, total) = try await HealthService.checks(filter, on: req.db)
        return ChecksResponse(items: rows.map { HealthService.dto($0, names: names, withDetails: false) }, total: total)
    }

    @Sendable static func one(req: Request) async throws -> DashboardCheckDTO {
        let row = try await req.readableCheck(try req.idParameter())
        return HealthService.dto(row, names: try await req.environmentDirectory(), withDetails: true)
    }

    /// A stored screenshot (`?n=` its index, 0 by default) as PNG.
    @Sendable static func screenshot(req: Request) async throws -> Response {
        let row = try await req.readableCheck(try req.idParameter())
        struct Q: Decodable { var n: Int? }
        let n = (try? req.query.decode(Q.self))?.n ?? 0
        let refs = (try? JSONDecoder().decode([HealthScreenshotRef].self, from: Data(row.screenshots.utf8))) ?? []
        guard refs.indices.contains(n), let data = req.application.healthScreenshots.load(refs[n].file) else {
            throw AppError(.notFound, code: "not_found", key: "no_screenshot", ["n": "\(n)"])
        }
        let response = Response(status: .ok, body: .init(data: data))
        response.headers.contentType = HTTPMediaType(type: "image", subType: "png")
        response.headers.replaceOrAdd(name: .cacheControl, value: "private, max-age=86400")
        return response
    }

    /// Queues a `dashboard.check` of the environment named (`health:run` on it).
    @Sendable static func start(req: Request) async throws -> Response {
        let input = try req.content.decode(StartInput.self)
        let env = try await req.environmentNamed(input.environment, field: "environment")
        try req.authorize(.healthRun, environment: env)
        var params: [String: BundleValue] = ["environment": .string(env.id.key)]
        if let d = input.dashboards {
            guard d.count <= DashboardCheckPlugin.maxDashboardIDs else {
                throw AppError.validation([FieldError(field: "dashboards", code: "too_many", key: "at_most_dashboard_ids", ["max": "\(DashboardCheckPlugin.maxDashboardIDs)"])])
            }
            params["dashboards"] = .list(d.map(BundleValue.int))
        }
        if let s = input.search { params["search"] = .string(s) }
        if let r = input.render { params["render"] = .bool(r) }
        if let id = input.llmProvider {
            guard req.principal?.can(.settingsAdmin) == true else { throw HealthPoliciesAPI.llmNeedsAdmin }
            guard let provider = try await LLMProviderModel.find(id, on: req.db), provider.active else {
                throw AppError.validation([FieldError(field: "llmProvider", code: "invalid", key: "no_active_llm", ["id": id.key])])
            }
            params["llmProvider"] = .string(id.key)
        }
        return try await req.queueTask(DashboardCheckPlugin.pluginID, params: params)
    }
}

extension Request {
    /// The stored check `id`, when the caller holds `inventory:read` on its environment.
    func readableCheck(_ id: UUID) async throws -> DashboardCheckModel {
        guard let row = try await DashboardCheckModel.find(id, on: db) else {
            throw AppError(.notFound, code: "not_found", key: "check_not_found", ["id": id.key])
        }
        try await authorize(.inventoryRead, environmentIDs: [row.environmentID])
        return row
    }
}

extension ChannelDTO: Content {}
extension HealthPolicyDTO: Content {}

/// `/api/health/policies` and `/api/notifications/channels`: health policies (read with
/// `inventory:read`, written and run with `health:run`, on the environment stored and the one
/// asked for) and notification channels (`settings:admin`; secrets write-only).
enum HealthPoliciesAPI {
    static func register(_ app: Application) {
        app.get(.api(.healthPolicies), use: list)
        app.post(.api(.healthPolicies), use: create)
        app.get(.api(.healthPolicy(.key)), use: one)
        app.put(.api(.healthPolicy(.key)), use: update)
        app.delete(.api(.healthPolicy(.key)), use: delete)
        app.post(.api(.healthPolicyRun(.key)), use: run)
        app.get(.api(.notificationChannels), use: channels)
        app.post(.api(.notificationChannels), use: createChannel)
        app.get(.api(.notificationChannel(.key)), use: channel)
        app.put(.api(.notificationChannel(.key)), use: updateChannel)
        app.delete(.api(.notificationChannel(.key)), use: deleteChannel)
    }

    struct PoliciesResponse: Content { var items: [HealthPolicyDTO] }
    struct ChannelsResponse: Content { var items: [ChannelDTO] }

    @Sendable static func list(req: Request) async throws -> PoliciesResponse {
        let names = try await req.environmentDirectory()
        let rows = try await HealthPolicyModel.query(on: req.db).sort(\.$name).all()
        return PoliciesResponse(items: rows.filter { m in names.byID[m.environmentID].map { req.permits(.inventoryRead, environment: $0) } ?? false }
            .map { HealthPolicyService.dto($0, names: names) })
    }

    @Sendable static func one(req: Request) async throws -> HealthPolicyDTO {
        let m = try await HealthPolicyService.find(try req.idParameter(), on: req.db)
        try await req.authorize(.inventoryRead, environmentIDs: [m.environmentID])
        return HealthPolicyService.dto(m, names: try await req.environmentDirectory())
    }

    @Sendable static func create(req: Request) async throws -> Response {
        try await save(req, id: nil).encodeResponse(status: .created, for: req)
    }

    @Sendable static func update(req: Request) async throws -> HealthPolicyDTO {
        try await save(req, id: try req.idParameter())
    }

    private static func save(_ req: Request, id: UUID?) async throws -> HealthPolicyDTO {
        let input = try req.content.decode(HealthPolicyInput.self)
        let m = try await savePolicy(req, input, id: id)
        return HealthPolicyService.dto(m, names: try await req.environmentDirectory())
    }

    /// Saves `input` as policy `id` (nil: a new one), as the API and the pages do: the checks
    /// of `authorizeSave`, the channels rule (`namesNewChannels`), then the store.
    static func savePolicy(_ req: Request, _ input: HealthPolicyInput, id: UUID?) async throws -> HealthPolicyModel {
        let (env, stored) = try await authorizeSave(req, input, id: id)
        if namesNewChannels(input, stored: stored) && req.principal?.can(.settingsAdmin) != true {
            throw channelsNeedAdmin
        }
        if let provider = input.llmProvider, provider != stored?.llmProviderID, req.principal?.can(.settingsAdmin) != true {
            throw llmNeedsAdmin
        }
        return try await storePolicy(req, input, environment: env, id: id)
    }

    /// `health:run` on the stored policy's environment (when `id` names one) and on the one
    /// `input` names; returns that environment and the stored policy.
    static func authorizeSave(_ req: Request, _ input: HealthPolicyInput, id: UUID?) async throws -> (EnvironmentRef, HealthPolicyModel?) {
        if let id {
            // The stored policy's environment too: moving a policy needs health:run on both.
            try await req.authorize(.healthRun, environmentIDs: [try await HealthPolicyService.find(id, on: req.db).environmentID])
        }
        let env = try await req.environmentNamed(input.environment, field: "environment")
        try req.authorize(.healthRun, environment: env)
        let stored = try await id.asyncMap { try await HealthPolicyService.find($0, on: req.db) }
        return (env, stored)
    }

    /// Whether `input` names channels (or an owners' channel) that `stored` doesn't send
    /// through. Where messages go is an administrator's choice: naming channels (or changing
    /// them) needs settings:admin, as the channels themselves do; dropping some doesn't.
    static func namesNewChannels(_ input: HealthPolicyInput, stored: HealthPolicyModel?) -> Bool {
        let before = Set(stored?.channelIDs ?? []).union(stored?.ownerChannelID.map { [$0] } ?? [])
        let after = Set(input.channels ?? []).union(input.notifyOwners == true ? input.ownerChannel.map { [$0] } ?? [] : [])
        return before != after && !after.isSubset(of: before)
    }

    /// Where screenshots go is an administrator's choice, as where messages go: naming an LLM
    /// provider in a check or a policy (or changing it) needs settings:admin; dropping it doesn't.
    static let llmNeedsAdmin = AppError(.forbidden, code: "forbidden",
                                        key: "llm_needs_admin")

    static let channelsNeedAdmin = AppError(.forbidden, code: "forbidden",
                                            key: "channels_need_admin")

    /// Stores an authorised policy (and its schedule) for `env`.
    static func storePolicy(_ req: Request, _ input: HealthPolicyInput, environment env: EnvironmentRef, id: UUID?) async throws -> HealthPolicyModel {
        let app = req.application
        return try await HealthPolicyService.save(input, environment: env, id: id, user: req.userName, registry: app.taskEngine.registry,
                                                  now: app.ferry.now(), newID: app.ferry.uuid, on: req.db)
    }

    @Sendable static func delete(req: Request) async throws -> HTTPStatus {
        let m = try await HealthPolicyService.find(try req.idParameter(), on: req.db)
        try await req.authorize(.healthRun, environmentIDs: [m.environmentID])
        try await HealthPolicyService.delete(m, on: req.db)
        return .noContent
    }

    /// Runs the policy now over all of its dashboards (notifying as a scheduled run would).
    @Sendable static func run(req: Request) async throws -> Response {
        let m = try await HealthPolicyService.find(try req.idParameter(), on: req.db)
        try await req.authorize(.healthRun, environmentIDs: [m.environmentID])
        return try await req.queueTask(HealthPolicyPlugin.pluginID, params: runParams(m))
    }

    /// The params of a run of `m` now, over all of its dashboards.
    static func runParams(_ m: HealthPolicyModel) -> [String: BundleValue] {
        ["policy": .string(m.id!.key), "now": .bool(true)]
    }

    @Sendable static func channels(req: Request) async throws -> ChannelsResponse {
        ChannelsResponse(items: try await ChannelService.list(on: req.db).map(ChannelService.dto))
    }

    @Sendable static func channel(req: Request) async throws -> ChannelDTO {
        ChannelService.dto(try await ChannelService.find(try req.idParameter(), on: req.db))
    }

    @Sendable static func createChannel(req: Request) async throws -> Response {
        try await saveChannel(req, id: nil).encodeResponse(status: .created, for: req)
    }

    @Sendable static func updateChannel(req: Request) async throws -> ChannelDTO {
        try await saveChannel(req, id: try req.idParameter())
    }

    private static func saveChannel(_ req: Request, id: UUID?) async throws -> ChannelDTO {
        let input = try req.content.decode(ChannelInput.self)
        return ChannelService.dto(try await storeChannel(req, input, id: id))
    }

    /// Saves channel `id` (nil: a new one), as the API and the settings page do.
    static func storeChannel(_ req: Request, _ input: ChannelInput, id: UUID?) async throws -> NotificationChannelModel {
        let app = req.application
        return try await ChannelService.save(input, id: id, box: app.secretBox, defaultLanguage: app.ferryConfiguration.defaultLanguage,
                                             now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
    }

    @Sendable static func deleteChannel(req: Request) async throws -> HTTPStatus {
        try await removeChannel(try await ChannelService.find(try req.idParameter(), on: req.db), on: req.db)
        return .noContent
    }

    /// The policies that send through channel `id` (as a channel or as the owners' one), by name.
    static func policies(sendingThrough id: UUID, on db: any Database) async throws -> [HealthPolicyModel] {
        try await HealthPolicyModel.query(on: db).sort(\.$name).all().filter { $0.channelIDs.contains(id) || $0.ownerChannelID == id }
    }

    /// Deletes a channel no policy sends through (409 naming one that does).
    static func removeChannel(_ m: NotificationChannelModel, on db: any Database) async throws {
        if let first = try await policies(sendingThrough: m.id!, on: db).first {
            throw AppError(.conflict, code: "in_use", key: "channel_in_use", ["name": first.name])
        }
        try await m.delete(on: db)
    }
}
