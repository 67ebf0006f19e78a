import Fluent
import Foundation
import SupersetKit
import Vapor

/// `/api/promotions` and `/api/mappings`: thin handlers over `PromotionService` and `MappingService`.
enum PromotionsAPI {
    static func register(_ routes: RoutesBuilder) {
        routes.post(.api(.promotionPlan), use: plan)
        routes.get(.api(.plan(.key)), use: showPlan)
        routes.post(.api(.planApply(.key)), use: apply)
        routes.get(.api(.promotions), use: list)
        routes.get(.api(.promotionHistory), use: history)
        routes.get(.api(.promotion(.key)), use: show)
        routes.post(.api(.promotionRollback(.key)), use: rollback)
        routes.get(.api(.mappings), use: mappings)
        routes.put(.api(.mappings), use: saveMapping)
        routes.delete(.api(.mapping(.key)), use: deleteMapping)
        routes.get(.api(.mappingSuggestions), use: suggestions)
    }

    struct Accepted: Content {
        var id: UUID
        var taskId: UUID?
        var status: String
    }

    @Sendable static func plan(req: Request) async throws -> Response {
        let input = try req.content.decode(PlanInput.self)
        let app = req.application
        try await req.authorizePromotion(.promotePlan, target: input.target)
        let plan = try await PromotionService.plan(input, user: req.userName, engine: app.taskEngine, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
        let response = try await Accepted(id: plan.id!, taskId: plan.taskID, status: plan.status).encodeResponse(status: .accepted, for: req)
        response.headers.replaceOrAdd(name: .location, value: SiteURL.api(.plan(.value(plan.id!))).path)
        return response
    }

    @Sendable static func showPlan(req: Request) async throws -> PlanDTO {
        PlanDTO(try await PromotionService.findPlan(try req.idParameter(), on: req.db))
    }

    @Sendable static func apply(req: Request) async throws -> Response {
        let input = (try? req.content.decode(ApplyInput.self)) ?? ApplyInput()
        let app = req.application
        try await req.authorizePromotion(.promoteApply, target: try await PromotionService.findPlan(try req.idParameter(), on: req.db).targetEnv)
        let promotion = try await PromotionService.apply(
            planID: try req.idParameter(), input, user: req.userName, engine: app.taskEngine, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
        let response = try await Accepted(id: promotion.id!, taskId: promotion.taskID, status: promotion.status).encodeResponse(status: .accepted, for: req)
        response.headers.replaceOrAdd(name: .location, value: SiteURL.api(.promotion(.value(promotion.id!))).path)
        return response
    }

    struct ListResponse: Content { var items: [PromotionDTO] }

    @Sendable static func list(req: Request) async throws -> ListResponse {
        struct Q: Decodable { var page: Int?; var per_page: Int? }
        let q = try req.query.decode(Q.self)
        return ListResponse(items: try await PromotionService.list(page: try Paging(page: q.page, perPage: q.per_page), on: req.db).map(PromotionDTO.init))
    }

    @Sendable static func show(req: Request) async throws -> PromotionDTO {
        PromotionDTO(try await PromotionService.find(try req.idParameter(), on: req.db))
    }

    @Sendable static func rollback(req: Request) async throws -> Response {
        let input = (try? req.content.decode(RollbackInput.self)) ?? RollbackInput()
        let id = try req.idParameter()
        try await req.authorizePromotion(.promoteApply, target: try await PromotionService.find(id, on: req.db).targetEnv)
        let task = try await PromotionService.rollback(id, input, user: req.userName, engine: req.application.taskEngine, on: req.db)
        return try await Accepted(id: id, taskId: task.id, status: "rolling_back").encodeResponse(status: .accepted, for: req)
    }

    struct HistoryEntry: Content {
        var target: String
        var dashboardUuid: String
        var dashboardTitle: String
        var source: String
        var promotionId: UUID
        var planId: UUID
        var promotedBy: String
        var promotedAt: Date
        var bundleChecksum: String
    }

    @Sendable static func history(req: Request) async throws -> [String: [HistoryEntry]] {
        struct Q: Decodable { var target: String?; var dashboard: String? }
        let q = try req.query.decode(Q.self)
        let rows = try await PromotionService.history(target: q.target, dashboard: q.dashboard, on: req.db)
        return ["items": rows.map {
            HistoryEntry(target: $0.targetEnv, dashboardUuid: $0.dashboardUUID, dashboardTitle: $0.dashboardTitle, source: $0.sourceEnv,
                         promotionId: $0.promotionID, planId: $0.planID, promotedBy: $0.promotedBy, promotedAt: $0.promotedAt,
                         bundleChecksum: $0.bundleChecksum)
        }]
    }

    struct Pair: Decodable { var source: String?; var target: String? }

    @Sendable static func mappings(req: Request) async throws -> [String: [MappingDTO]] {
        let q = try req.query.decode(Pair.self)
        return ["items": try await MappingService.list(source: q.source, target: q.target, on: req.db).map(MappingDTO.init)]
    }

    @Sendable static func saveMapping(req: Request) async throws -> MappingDTO {
        let input = try req.content.decode(MappingInput.self)
        let app = req.application
        return MappingDTO(try await MappingService.save(input, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db))
    }

    @Sendable static func deleteMapping(req: Request) async throws -> HTTPStatus {
        try await MappingService.delete(try req.idParameter(), on: req.db)
        return .noContent
    }

    @Sendable static func suggestions(req: Request) async throws -> [String: [MappingSuggestionDTO]] {
        let q = try req.query.decode(Pair.self)
        guard let source = q.source, let target = q.target else {
            throw AppError.validation([FieldError(field: "source", code: "required", message: "give ?source=<env>&target=<env>")])
        }
        let app = req.application
        func client(_ name: String) async throws -> SupersetClient {
            try EnvironmentService.client(for: try await EnvironmentService.find(idOrName: name, on: req.db), box: app.secretBox,
                                          timeout: app.ferryConfiguration.interactiveTimeout, dependencies: app.ferry, logger: req.logger)
        }
        do {
            return ["items": try await MappingService.suggestions(
                source: source, target: target, sourceClient: try await client(source), targetClient: try await client(target), on: req.db)]
        } catch let error as SupersetError {
            throw AppError.superset(error, environment: "\(source) / \(target)")
        }
    }
}
