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
        // `git=in_sync|changed|uncommitted` keeps the dashboards of that drift (anything else: all).
        let git = (try? req.query.get(String.self, at: "git")).flatMap(GitDriftStatus.init(rawValue:))
        let app = req.application
        var result: InventoryPage
        let drift: [String: GitDriftStatus]
        if let git {
            // Filtered before paging: every match is read, then one page of those of that drift kept.
            let (page, perPage) = (query.page, query.perPage)
            query.page = 1
            query.perPage = Paging.maxPage
            result = try await InventorySearch.run(query, index: app.inventoryIndex, on: req.db, now: app.ferry.now())
            drift = try await GitService.driftByDashboard(environments: Array(Set(result.items.map(\.environmentId))), on: req.db)
            let kept = result.items.filter { DashboardsPage.Model.gitStatus($0, in: drift) == git }
            result.items = Array(kept.dropFirst((page - 1) * perPage).prefix(perPage))
            result.page = page
            result.perPage = perPage
            result.total = kept.count
        } else {
            result = try await InventorySearch.run(query, index: app.inventoryIndex, on: req.db, now: app.ferry.now())
            drift = try await GitService.driftByDashboard(environments: Array(Set(result.items.map(\.environmentId))), on: req.db)
        }
        let model = DashboardsPage.Model(
            search: query.search ?? "", owner: query.owner ?? "", mine: query.ownerUsername != nil, supersetUsername: req.principal?.supersetUsername,
            canAddEnvironment: req.principal?.can(.environmentsWrite) ?? false, environment: query.environment ?? "", environments: result.environments,
            items: result.items, page: result.page, perPage: result.perPage, total: result.total, git: git?.rawValue ?? "", gitDrift: drift)
        return Layout.response(DashboardsPage.View(model: model, localizer: req.localizer), request: req)
    }
}
