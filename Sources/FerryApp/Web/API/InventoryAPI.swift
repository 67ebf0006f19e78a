import Foundation
import SupersetKit
import Vapor

/// `GET /api/dashboards|charts|datasets|databases?environment=&search=&owner=&page=&per_page=`.
enum InventoryAPI {
    static func register(_ routes: RoutesBuilder) {
        for (path, kind) in zip(SiteURL.inventoryKinds, [AssetKind.dashboard, .chart, .dataset, .database]) {
            routes.get(.api(.inventory(path))) { req in try await search(req, kind: kind) }
        }
    }

    struct Params: Content {
        var environment: String?
        var search: String?
        var owner: String?
        /// "true": only assets the caller owns in Superset (by the profile's Superset username).
        var mine: String?
        var page: Int?
        var per_page: Int?
    }

    static func query(_ req: Request, kind: AssetKind) throws -> InventoryQuery {
        let p: Params
        do {
            p = try req.query.decode(Params.self)
        } catch {
            throw AppError.validation([FieldError(field: "page", code: "invalid", key: "page_numbers")])
        }
        let paging = try Paging(page: p.page, perPage: p.per_page)
        let principal = try req.requirePrincipal()
        let scope = principal.canEverywhere(.inventoryRead) ? nil : principal.grants.filter { $0.permission == .inventoryRead }
        var username: String?
        if ["true", "1", "on"].contains(p.mine?.lowercased() ?? "") {
            guard let name = principal.supersetUsername, !name.isEmpty else {
                throw AppError.validation([FieldError(field: "mine", code: "no_superset_username",
                                                      message: "set your Superset username on your profile page first")])
            }
            username = name
        }
        return InventoryQuery(kind: kind, environment: p.environment, search: p.search, owner: p.owner, page: paging.page, perPage: paging.perPage,
                              ownerUsername: username, scope: scope)
    }

    @Sendable static func search(_ req: Request, kind: AssetKind) async throws -> Response {
        let body = try await InventorySearch.runJSON(
            try query(req, kind: kind), index: req.application.inventoryIndex, on: req.db, now: req.application.ferry.now())
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: .ok, headers: headers, body: .init(buffer: ByteBuffer(bytes: body)))
    }
}
