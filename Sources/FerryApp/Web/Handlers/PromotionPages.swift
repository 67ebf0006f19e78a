import Fluent
import Foundation
import SupersetKit
import Vapor

/// The promotion wizard (pick, plan, review, apply, follow the log) and the history page.
enum PromotionPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.promotePage, use: wizard)
        routes.post(.promotePage, use: plan)
        routes.get(.planPage(.key), use: showPlan)
        routes.post(.planApplyPage(.key), use: apply)
        routes.get(.promotionsPage, use: history)
        routes.post(.promotionRollbackPage(.key), use: rollback)
    }

    /// The environments the caller may plan from or to (`promote:plan`), by name.
    static func environments(_ req: Request) async throws -> [String] {
        try await EnvironmentModel.query(on: req.db).sort(\.$name).all().filter { req.permits(.promotePlan, environment: $0.ref) }.map(\.name)
    }

    @Sendable static func wizard(req: Request) async throws -> Response {
        struct Q: Decodable { var source: String?; var target: String?; var dashboards: String? }
        let q = try req.query.decode(Q.self)
        let form = PromotePage.Model.Form(source: q.source ?? "", target: q.target ?? "", dashboards: q.dashboards ?? "")
        let model = PromotePage.Model(environments: try await environments(req), form: form, errors: [:])
        return Layout.response(PromotePage.View(model: model, localizer: req.localizer), request: req)
    }

    @Sendable static func plan(req: Request) async throws -> Response {
        struct Form: Decodable { var source: String?; var target: String?; var dashboards: String?; var search: String?; var scope: String?; var schemas: String?; var acceptUnknownVersion: String? }
        let f = try req.content.decode(Form.self)
        let typed = PromotePage.Model.Form(source: f.source ?? "", target: f.target ?? "", dashboards: f.dashboards ?? "", search: f.search ?? "",
                                           scope: f.scope ?? "dashboards", schemas: f.schemas ?? "", acceptUnknownVersion: f.acceptUnknownVersion == "true")
        do {
            var schemas: [String: String] = [:]
            for pair in typed.schemas.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw AppError.validation([FieldError(field: "schemaMapping", code: "invalid", message: "write source=target pairs, comma-separated")])
                }
                schemas[parts[0]] = parts[1]
            }
            let input = PlanInput(
                source: typed.source, target: typed.target,
                dashboards: typed.dashboards.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                search: typed.search.isEmpty ? nil : typed.search, scope: typed.scope, schemaMapping: schemas,
                acceptUnknownVersion: typed.acceptUnknownVersion)
            let app = req.application
            let plan = try await PromotionService.plan(input, user: req.userName, engine: app.taskEngine, now: app.ferry.now(), newID: app.ferry.uuid(),
                                                       on: req.db, authorize: req.authorizePlan)
            return req.redirect(to: SiteURL.planPage(.value(plan.id!)).path, redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity {
            var errors: [String: String] = [:]
            for field in e.fields { errors[field.field] = [errors[field.field], field.message].compactMap { $0 }.joined(separator: "; ") }
            let model = PromotePage.Model(environments: try await environments(req), form: typed, errors: errors,
                                          formError: req.localizer.t("environment_form.fix_fields"))
            let response = Layout.response(PromotePage.View(model: model, localizer: req.localizer), request: req)
            response.status = e.status
            return response
        }
    }

    static func planModel(_ req: Request, id: UUID, applyError: String? = nil) async throws -> PlanPage.Model {
        let names = try await EnvironmentDirectory.load(on: req.db)
        let stored = try await req.readablePlan(id)
        let plan = PlanDTO(stored, names: names)
        // Its task is shown to those who may read it (tasks:read on its environments).
        var task: TaskDTO?
        if let id = plan.taskId, let model = try await TaskModel.find(id, on: req.db), await req.permits(.tasksRead, environmentIDs: model.environmentIDs) {
            task = TaskDTO(model, names: names)
        }
        return PlanPage.Model(plan: plan, task: task, applyError: applyError,
                              canApply: await req.permits(Request.writePermission(stored), environmentIDs: [plan.targetId]))
    }

    @Sendable static func showPlan(req: Request) async throws -> Response {
        Layout.response(PlanPage.View(model: try await planModel(req, id: try req.idParameter()), localizer: req.localizer), request: req)
    }

    @Sendable static func apply(req: Request) async throws -> Response {
        struct Form: Decodable { var acceptShared: String?; var acceptLosses: String? }
        let f = (try? req.content.decode(Form.self)) ?? Form()
        let id = try req.idParameter()
        let app = req.application
        try await req.authorizeApply(plan: id)
        do {
            let promotion = try await PromotionService.apply(
                planID: id, ApplyInput(acceptShared: f.acceptShared == "true", acceptLosses: f.acceptLosses == "true"), user: req.userName, engine: app.taskEngine,
                now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
            guard let task = promotion.taskID else { return req.redirect(to: SiteURL.promotionsPage.path, redirectType: .normal) }
            return req.redirect(to: SiteURL.taskPage(.value(task)).path, redirectType: .normal)
        } catch let e as AppError where e.status == .conflict {
            let response = Layout.response(PlanPage.View(model: try await planModel(req, id: id, applyError: e.detail), localizer: req.localizer), request: req)
            response.status = .conflict
            return response
        }
    }

    @Sendable static func history(req: Request) async throws -> Response {
        var rows: [PromotionsPage.Model.Row] = []
        let names = try await EnvironmentDirectory.load(on: req.db)
        let visible = try await req.visibleEnvironments(.tasksRead)
        for promotion in try await PromotionService.list(page: try Paging(page: 1, perPage: 100), visible: visible, on: req.db) {
            var row = PromotionsPage.Model.Row(PromotionDTO(promotion, names: names))
            if row.canRollBack {
                let plan = try await PromotionPlanModel.find(promotion.planID, on: req.db)
                row.canRollBack = await req.permits(Request.writePermission(plan), environmentIDs: [promotion.targetEnvID])
            }
            rows.append(row)
        }
        let done = try? req.query.get(String.self, at: "done")
        let model = PromotionsPage.Model(promotions: rows, flash: done == "rollback" ? req.localizer.t("promotions.flash.rollback") : nil)
        return Layout.response(PromotionsPage.View(model: model, localizer: req.localizer), request: req)
    }

    @Sendable static func rollback(req: Request) async throws -> Response {
        struct Form: Decodable { var deleteCreated: String? }
        let f = (try? req.content.decode(Form.self)) ?? Form()
        try await req.authorizeRollback(promotion: try req.idParameter())
        let task = try await PromotionService.rollback(try req.idParameter(), RollbackInput(deleteCreated: f.deleteCreated == "true"),
                                                       user: req.userName, engine: req.application.taskEngine, on: req.db)
        return req.redirect(to: SiteURL.taskPage(.value(task.id!)).path, redirectType: .normal)
    }
}

