import Foundation
import SupersetKit
import Vapor

/// The dashboards search page.
enum DashboardsPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.dashboards, use: search)
    }

    @Sendable static func search(req: Request) async throws -> Response {
        let query = try InventoryAPI.query(req, kind: .dashboard)
        let result = try await InventorySearch.run(query, index: req.application.inventoryIndex, on: req.db, now: req.application.ferry.now())
        let model = DashboardsPage.Model(
            search: query.search ?? "", owner: query.owner ?? "", mine: query.ownerUsername != nil, supersetUsername: req.principal?.supersetUsername,
            canAddEnvironment: req.principal?.can(.environmentsWrite) ?? false, environment: query.environment ?? "", environments: result.environments,
            items: result.items, page: result.page, perPage: result.perPage, total: result.total)
        return Layout.response(DashboardsPage.View(model: model, localizer: req.localizer), request: req)
    }
}
