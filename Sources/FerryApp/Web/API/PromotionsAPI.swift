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

    /// A plan or promotion queued: its id, task and status (`PlanStatus` or `PromotionStatus`).
    struct Accepted<Status: Codable & Sendable>: Content {
        var id: UUID
        var taskId: UUID?
        var status: Status
    }

    @Sendable static func plan(req: Request) async throws -> Response {
        let input = try req.content.decode(PlanInput.self)
        let app = req.application
        let plan = try await PromotionService.plan(input, user: req.userName, engine: app.taskEngine, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db,
                                                   authorize: req.authorizePlan)
        let response = try await Accepted(id: plan.id!, taskId: plan.taskID, status: plan.status).encodeResponse(status: .accepted, for: req)
        response.headers.replaceOrAdd(name: .location, value: SiteURL.api(.plan(.value(plan.id!))).path)
        return response
    }

    @Sendable static func showPlan(req: Request) async throws -> PlanDTO {
        PlanDTO(try await req.readablePlan(try req.idParameter()), names: try await req.environmentDirectory())
    }

    @Sendable static func apply(req: Request) async throws -> Response {
        let input = try req.decodeOptionalBody(ApplyInput.self) ?? ApplyInput()
        let app = req.application
        try await req.authorizeApply(plan: try req.idParameter())
        let promotion = try await PromotionService.apply(
            planID: try req.idParameter(), input, user: req.userName, engine: app.taskEngine, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
        let response = try await Accepted(id: promotion.id!, taskId: promotion.taskID, status: promotion.status).encodeResponse(status: .accepted, for: req)
        response.headers.replaceOrAdd(name: .location, value: SiteURL.api(.promotion(.value(promotion.id!))).path)
        return response
    }

    struct ListResponse: Content { var items: [PromotionDTO] }

    @Sendable static func list(req: Request) async throws -> ListResponse {
        struct Q: Decodable { var page: Int?; var per_page: Int? }
        let q: Q
        do { q = try req.query.decode(Q.self) } catch {
            throw AppError.validation([FieldError(field: "page", code: "invalid", key: "page_numbers")])
        }
        let rows = try await PromotionService.list(page: try Paging(page: q.page, perPage: q.per_page), visible: try await req.visibleEnvironments(.tasksRead), on: req.db)
        let names = try await req.environmentDirectory()
        return ListResponse(items: rows.map { PromotionDTO($0, names: names) })
    }

    @Sendable static func show(req: Request) async throws -> PromotionDTO {
        PromotionDTO(try await req.readablePromotion(try req.idParameter()), names: try await req.environmentDirectory())
    }

    @Sendable static func rollback(req: Request) async throws -> Response {
        let input = try req.decodeOptionalBody(RollbackInput.self) ?? RollbackInput()
        let id = try req.idParameter()
        try await req.authorizeRollback(promotion: id)
        let task = try await PromotionService.rollback(id, input, user: req.userName, engine: req.application.taskEngine, on: req.db)
        return try await Accepted(id: id, taskId: task.id, status: PromotionStatus.rollingBack).encodeResponse(status: .accepted, for: req)
    }

    struct HistoryEntry: Content {
        var targetId: UUID
        var sourceId: UUID
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
        let names = try await req.environmentDirectory()
        var target: UUID?
        if let t = q.target, !t.isEmpty {
            guard let ref = names.resolve(t) else {
                throw AppError.validation([FieldError(field: "target", code: "unknown", key: "no_environment", ["name": t])])
            }
            try req.authorize(.tasksRead, environment: ref)
            target = ref.id
        }
        let visible = try await req.visibleEnvironments(.tasksRead)
        let rows = try await PromotionService.history(target: target, dashboard: q.dashboard, visible: visible, on: req.db)
        return ["items": rows.map {
            HistoryEntry(targetId: $0.targetEnvID, sourceId: $0.sourceEnvID, target: names.name($0.targetEnvID), dashboardUuid: $0.dashboardUUID,
                         dashboardTitle: $0.dashboardTitle, source: names.name($0.sourceEnvID),
                         promotionId: $0.promotionID, planId: $0.planID, promotedBy: $0.promotedBy, promotedAt: $0.promotedAt,
                         bundleChecksum: $0.bundleChecksum)
        }]
    }

    struct Pair: Decodable { var source: String?; var target: String? }

    @Sendable static func mappings(req: Request) async throws -> [String: [MappingDTO]] {
        let q = try req.query.decode(Pair.self)
        let names = try await req.environmentDirectory()
        func resolve(_ value: String?, _ field: String) throws -> UUID? {
            guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            guard let ref = names.resolve(v) else {
                throw AppError.validation([FieldError(field: field, code: "unknown", key: "no_environment", ["name": v])])
            }
            return ref.id
        }
        let visible = try await req.visibleEnvironments(.promotePlan)
        let rows = try await MappingService.list(source: try resolve(q.source, "source"), target: try resolve(q.target, "target"), on: req.db)
            .filter { visible == nil || (visible!.contains($0.sourceEnvID) && visible!.contains($0.targetEnvID)) }
        return ["items": rows.map { MappingDTO($0, names: names) }]
    }

    @Sendable static func saveMapping(req: Request) async throws -> MappingDTO {
        let input = try req.content.decode(MappingInput.self)
        let app = req.application
        let saved = try await MappingService.save(input, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db, authorize: req.authorizePlan)
        return MappingDTO(saved, names: try await req.environmentDirectory())
    }

    @Sendable static func deleteMapping(req: Request) async throws -> HTTPStatus {
        let mapping = try await MappingService.find(try req.idParameter(), on: req.db)
        try await req.authorize(.promotePlan, environmentIDs: [mapping.sourceEnvID, mapping.targetEnvID])
        try await mapping.delete(on: req.db)
        return .noContent
    }

    @Sendable static func suggestions(req: Request) async throws -> [String: [MappingSuggestionDTO]] {
        let q = try req.query.decode(Pair.self)
        let (source, target) = try await MappingService.pair(source: q.source, target: q.target, on: req.db)
        try await req.authorizePlan(source: source, target: target)
        let app = req.application
        func client(_ id: UUID) async throws -> SupersetClient {
            try EnvironmentService.client(for: try await EnvironmentService.find(id, on: req.db), box: app.secretBox,
                                          timeout: app.ferryConfiguration.interactiveTimeout, dependencies: app.ferry, logger: req.logger)
        }
        do {
            return ["items": try await MappingService.suggestions(
                source: source.id, target: target.id, sourceClient: try await client(source.id), targetClient: try await client(target.id), on: req.db)]
        } catch let error as SupersetError {
            throw AppError.superset(error, environment: "\(source.name) / \(target.name)")
        }
    }
}
