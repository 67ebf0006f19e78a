import Foundation
import SupersetKit
import Vapor

/// The dashboards search page.
enum DashboardsPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.dashboards, use: search)
    }

    @Sendable static func search(req: Request) async throws -> Response {
        var query = try InventoryAPI.query(req, kind: .dashboard)
        // `git=in_sync|changed|uncommitted` keeps the dashboards of that drift, `health=pass|warn|
        // fail|unchecked` those whose latest check says so (anything else: all).
        let git = (try? req.query.get(String.self, at: "git")).flatMap(GitDriftStatus.init(rawValue:))
        let health = (try? req.query.get(String.self, at: "health")).flatMap { $0 == "unchecked" || HealthStatus(rawValue: $0) != nil ? $0 : nil }
        let app = req.application
        var result: InventoryPage
        let drift: [String: GitDriftStatus]
        let latest: [String: HealthMatrixRow.Run]
        if git != nil || health != nil {
            // Filtered before paging: every match is read, then one page of those that pass kept.
            let (page, perPage) = (query.page, query.perPage)
            query.page = 1
            query.perPage = Paging.maxPage
            result = try await InventorySearch.run(query, index: app.inventoryIndex, on: req.db, now: app.ferry.now())
            let environments = Array(Set(result.items.map(\.environmentId)))
            drift = try await GitService.driftByDashboard(environments: environments, on: req.db)
            latest = try await HealthService.latestByDashboard(environments: environments, on: req.db)
            let kept = result.items.filter {
                (git == nil || DashboardsPage.Model.gitStatus($0, in: drift) == git) && DashboardsPage.Model.healthMatches($0, filter: health ?? "", in: latest)
            }
            result.items = Array(kept.dropFirst((page - 1) * perPage).prefix(perPage))
            result.page = page
            result.perPage = perPage
            result.total = kept.count
        } else {
            result = try await InventorySearch.run(query, index: app.inventoryIndex, on: req.db, now: app.ferry.now())
            let environments = Array(Set(result.items.map(\.environmentId)))
            drift = try await GitService.driftByDashboard(environments: environments, on: req.db)
            latest = try await HealthService.latestByDashboard(environments: environments, on: req.db)
        }
        let directory = try await EnvironmentDirectory.load(on: req.db)
        let refs = result.environments.compactMap { directory.byID[$0.id] }
        var model = DashboardsPage.Model(
            search: query.search ?? "", owner: query.owner ?? "", mine: query.ownerUsername != nil, supersetUsername: req.principal?.supersetUsername,
            canAddEnvironment: req.principal?.can(.environmentsWrite) ?? false, environment: query.environment ?? "", environments: result.environments,
            items: result.items, page: result.page, perPage: result.perPage, total: result.total, git: git?.rawValue ?? "", gitDrift: drift)
        model.health = health ?? ""
        model.latestCheck = latest
        model.promotable = Set(refs.filter { req.permits(.promotePlan, environment: $0) }.map(\.id))
        model.checkable = Set(refs.filter { req.permits(.healthRun, environment: $0) }.map(\.id))
        return Layout.response(DashboardsPage.View(model: model, localizer: req.localizer), request: req)
    }
}
