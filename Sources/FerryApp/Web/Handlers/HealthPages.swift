import Fluent
import Foundation
import SupersetKit
import Vapor

/// The health center's pages: one environment's dashboards by the status of their latest check
/// (with "check now" for `health:run`), and one check with its issues, charts, screenshots and
/// the dashboard's history. Every check is made on the environment named or the stored check's
/// environment, as in `HealthAPI`; the form posts and opens the task, and a refused form is
/// shown again with why.
enum HealthPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.healthPage, use: overview)
        routes.post(.healthRunPage, use: run)
        routes.get(.healthCheckPage(.key), use: check)
    }

    // MARK: - One environment's dashboards

    /// The matrix page's model: the environments the viewer may read, the dashboards of
    /// `environment` (id or name; by default the first readable one) with their recent runs,
    /// the status filter (`status`: pass, warn or fail; anything else is any), and whether the
    /// viewer may check that environment now.
    static func overviewModel(_ req: Request, environment: String?, status: String?) async throws -> HealthPage.Model {
        let (readable, selected) = try await req.readableEnvironments(selecting: environment)
        var model = HealthPage.Model(environments: readable.map { HealthPage.Model.EnvironmentRow(id: $0.id, name: $0.name) }, selected: selected?.id,
                                     status: status.flatMap { HealthStatus(rawValue: $0) })
        if let selected {
            model.rows = try await HealthService.matrix(environment: selected.id, runs: HealthPage.Model.runs, on: req.db)
            model.canRun = req.permits(.healthRun, environment: selected)
        }
        return model
    }

    @Sendable static func overview(req: Request) async throws -> Response {
        struct Q: Decodable { var environment: String?; var status: String? }
        let q = try req.decodeQuery(Q.self)
        let model = try await overviewModel(req, environment: q.environment, status: q.status)
        return req.page(HealthPage.View(model: model, localizer: req.localizer))
    }

    /// Queues `dashboard.check` of the form's environment (`health:run` on it): the dashboards
    /// ticked (none: every one), rendered in chromium unless the box is cleared; opens its task.
    @Sendable static func run(req: Request) async throws -> Response {
        /// `selection=required` (the dashboards hub's bulk bar): no dashboard ticked is an error, not "all of them".
        struct Form: Decodable { var environment: String?; var render: [String]?; var dashboards: [String]?; var selection: String? }
        let f = (try? req.content.decode(Form.self)) ?? Form()
        let l = req.localizer
        // `Components.checkbox` sends "false" always and "true" when ticked; no field at all is the default (render).
        var typed = HealthPage.Model.RunForm(render: f.render.map { $0.contains("true") } ?? true)
        var invalid: [String] = []
        for text in f.dashboards ?? [] {
            if let id = Int(text.trimmingCharacters(in: .whitespaces)), id >= 1, id <= Int(Int32.max) {
                typed.dashboards.insert(id)
            } else {
                invalid.append(String(text.prefix(20)))
            }
        }
        let env: EnvironmentRef
        do {
            env = try await req.environmentNamed(f.environment, field: "environment")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await refused(req, environment: nil, form: typed, message: req.localizer.problemText(e), status: e.status)
        }
        try req.authorize(.healthRun, environment: env)
        req.audit.action = DashboardCheckPlugin.pluginID
        if !invalid.isEmpty {
            return try await refused(req, environment: env, form: typed, message: l.t("health.dashboards_invalid", ["ids": invalid.prefix(5).joined(separator: ", ")]),
                                     status: .unprocessableEntity)
        }
        if f.selection == "required", typed.dashboards.isEmpty {
            return try await refused(req, environment: env, form: typed, message: l.t("health.pick_one"), status: .unprocessableEntity)
        }
        if typed.dashboards.count > DashboardCheckPlugin.maxDashboardIDs {
            return try await refused(req, environment: env, form: typed, message: l.t("health.too_many", ["max": String(DashboardCheckPlugin.maxDashboardIDs)]),
                                     status: .unprocessableEntity)
        }
        var params: [String: BundleValue] = ["environment": .string(env.id.key), "render": .bool(typed.render)]
        if !typed.dashboards.isEmpty { params["dashboards"] = .list(typed.dashboards.sorted().map(BundleValue.int)) }
        do {
            let task = try await req.application.taskEngine.submit(pluginID: DashboardCheckPlugin.pluginID, params: .map(params), user: req.userName, on: req.db)
            return req.redirect(to: SiteURL.taskPage(.value(task.id!)).path, redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict || e.status == .tooManyRequests
            || e.status == .serviceUnavailable {
            return try await refused(req, environment: env, form: typed, message: req.localizer.problemText(e), status: e.status)
        }
    }

    /// The matrix page again, of `environment` when the viewer may read it (else the default
    /// one), with the form as it was sent and why the check wasn't started.
    static func refused(_ req: Request, environment: EnvironmentRef?, form: HealthPage.Model.RunForm, message: String,
                        status: HTTPResponseStatus) async throws -> Response {
        let shown = environment.flatMap { req.permits(.inventoryRead, environment: $0) ? $0.id.key : nil }
        var model = try await overviewModel(req, environment: shown, status: nil)
        model.run = form
        model.runError = message
        return req.page(HealthPage.View(model: model, localizer: req.localizer), status: status)
    }

    // MARK: - One check

    /// A stored check (`inventory:read` on its environment) with its details, and the
    /// dashboard's latest checks in the same environment.
    @Sendable static func check(req: Request) async throws -> Response {
        let row = try await req.readableCheck(try req.idParameter())
        let names = try await req.environmentDirectory()
        // The uuid names the dashboard across re-imports; a check that has none is matched by id.
        let dashboard = row.dashboardUUID.isEmpty ? String(row.dashboardID) : row.dashboardUUID
        let (recent, _) = try await HealthService.checks(
            HealthService.Filter(environments: [row.environmentID], dashboard: dashboard, limit: HealthCheckPage.Model.historyLimit), on: req.db)
        let history = recent.map { HealthMatrixRow.Run(id: $0.id!, status: HealthStatus(rawValue: $0.status) ?? .fail, checkedAt: $0.checkedAt) }
        let model = HealthCheckPage.Model(check: HealthService.dto(row, names: names, withDetails: true), history: history)
        return req.page(HealthCheckPage.View(model: model, localizer: req.localizer))
    }
}
