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
        routes.post(.planRemapPage(.key), use: remap)
        routes.get(.promotionsPage, use: history)
        routes.post(.promotionRollbackPage(.key), use: rollback)
    }

    /// The wizard with its lists: the environments the caller may plan from or to
    /// (`promote:plan`), the picked dashboards and one page of the source's others matching the
    /// search, from the inventory as the caller may read it (`inventory:read`).
    static func wizardModel(_ req: Request, form: PromotePage.Model.Form, errors: [String: String] = [:], formError: String? = nil) async throws -> PromotePage.Model {
        let envs = req.environments(.promotePlan, in: try await req.environmentDirectory())
        var model = PromotePage.Model(environments: envs.map { .init(id: $0.id, name: $0.name, stage: $0.stage) }, form: form, errors: errors, formError: formError)
        guard let source = model.sourceEnvironment, let principal = req.principal else { return model }
        let scope = principal.canEverywhere(.inventoryRead) ? nil : principal.grants.filter { $0.permission == .inventoryRead }
        let app = req.application
        var unreadable = false
        func run(_ q: InventoryQuery) async throws -> InventoryPage? {
            do {
                return try await InventorySearch.run(q, index: app.inventoryIndex, on: req.db, now: app.ferry.now())
            } catch let e as AppError where e.status == .forbidden {
                unreadable = true
                return nil  // planning allowed, reading the inventory not: nothing to pick from here
            }
        }
        let environment = source.id.uuidString
        let picked = Set(form.dashboards)
        if !picked.isEmpty {
            var q = InventoryQuery(kind: .dashboard, environment: environment, page: 1, perPage: PromotePage.Model.maxPicked, scope: scope)
            q.ids = picked
            let found = Dictionary((try await run(q))?.items.map { ($0.id, $0) } ?? [], uniquingKeysWith: { a, _ in a })
            model.picked = form.dashboards.compactMap { found[$0].map(Self.pickable) }
            model.unknownPicks = form.dashboards.filter { found[$0] == nil }
        }
        let words = form.search.isEmpty ? nil : form.search
        let q = InventoryQuery(kind: .dashboard, environment: environment, search: words, page: 1,
                               perPage: PromotePage.Model.pageSize + picked.count, scope: scope)
        if let page = try await run(q) {
            model.results = Array(page.items.filter { !picked.contains($0.id) }.prefix(PromotePage.Model.pageSize)).map(Self.pickable)
            var pickedMatching = q
            pickedMatching.ids = picked
            pickedMatching.perPage = 1
            let alsoPicked = picked.isEmpty ? 0 : (try await run(pickedMatching))?.total ?? 0
            model.resultsTotal = max(0, page.total - alsoPicked)
        }
        model.inventoryUnreadable = unreadable
        if let target = model.targetEnvironment, target.id != source.id {
            let snapshot = try await app.inventoryIndex.current(on: req.db, now: app.ferry.now())
            model.sourceSchemas = InventorySearch.schemas(environment: source.id, scope: scope, limit: PromotePage.Model.maxSchemas, in: snapshot)
            model.targetSchemas = InventorySearch.schemas(environment: target.id, scope: scope, limit: PromotePage.Model.maxSchemas, in: snapshot)
        }
        return model
    }

    static func pickable(_ item: InventoryItemDTO) -> PromotePage.Model.Dashboard {
        .init(id: item.id, title: item.name, slug: item.detail, owners: item.owners, changedOn: item.changedOn)
    }

    /// The wizard's form as sent (by the page, or by a link from the dashboards hub).
    struct WizardForm: Decodable {
        var source: String?
        var target: String?
        /// Superset ids of the source's dashboards, ticked.
        var dashboards: [String]?
        var q: String?
        var scope: String?
        var schemas: String?
        /// Schema renames picked from the lists, pairwise: `schemaTo[i]` (empty: kept) for `schemaFrom[i]`.
        var schemaFrom: [String]?
        var schemaTo: [String]?
        var acceptUnknownVersion: String?
        /// `list` shows the source's dashboards again (search, another source); else plan.
        var action: String?

        /// The ids picked (whole, positive, unique, in order; at most `maxPicked`), those that
        /// aren't ids, and whether more than `maxPicked` came (the rest left out).
        func picked() -> (ids: [Int], invalid: [String], tooMany: Bool) {
            var ids: [Int] = [], seen = Set<Int>(), invalid: [String] = [], tooMany = (dashboards ?? []).count > PromotePage.Model.maxPicked * 2
            for text in (dashboards ?? []).prefix(PromotePage.Model.maxPicked * 2) {
                guard let id = Int(text.trimmingCharacters(in: .whitespaces)), id >= 1, id <= Int(Int32.max) else {
                    invalid.append(String(text.prefix(20)))
                    continue
                }
                guard seen.insert(id).inserted else { continue }
                if ids.count < PromotePage.Model.maxPicked { ids.append(id) } else { tooMany = true }
            }
            return (ids, invalid, tooMany)
        }

        var typed: PromotePage.Model.Form {
            let (ids, invalid, tooMany) = picked()
            var picks: [String: String] = [:]
            for (from, to) in zip(schemaFrom ?? [], schemaTo ?? []).prefix(PromotePage.Model.maxSchemas) where !from.isEmpty && !to.isEmpty {
                picks[String(from.prefix(200))] = String(to.prefix(200))
            }
            return .init(source: String((source ?? "").prefix(200)), target: String((target ?? "").prefix(200)), dashboards: ids, invalidPicks: invalid,
                         tooManyPicks: tooMany,
                         search: String((q ?? "").prefix(200)), scope: scope ?? "dashboards", schemaPicks: picks, schemas: String((schemas ?? "").prefix(10_000)),
                         acceptUnknownVersion: acceptUnknownVersion == "true")
        }
    }

    @Sendable static func wizard(req: Request) async throws -> Response {
        let q = (try? req.query.decode(WizardForm.self)) ?? WizardForm()
        let model = try await wizardModel(req, form: q.typed)
        return Layout.response(PromotePage.View(model: model, localizer: req.localizer), request: req)
    }

    @Sendable static func plan(req: Request) async throws -> Response {
        let f = try req.content.decode(WizardForm.self)
        let typed = f.typed
        let l = req.localizer
        if f.action == "list" {
            return Layout.response(PromotePage.View(model: try await wizardModel(req, form: typed), localizer: l), request: req)
        }
        do {
            var schemas = typed.schemaPicks
            guard (f.schemas ?? "").count <= 10_000 else {
                throw AppError.validation([FieldError(field: "schemaMapping", code: "too_long", message: l.t("promote.schemas_invalid"))])
            }
            for pair in typed.schemas.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw AppError.validation([FieldError(field: "schemaMapping", code: "invalid", message: l.t("promote.schemas_invalid"))])
                }
                schemas[parts[0]] = parts[1]
            }
            let input = PlanInput(
                source: typed.source, target: typed.target, dashboards: typed.dashboards.map(String.init),
                search: nil, scope: typed.scope, schemaMapping: schemas, acceptUnknownVersion: typed.acceptUnknownVersion)
            let app = req.application
            let plan = try await PromotionService.plan(input, user: req.userName, engine: app.taskEngine, now: app.ferry.now(), newID: app.ferry.uuid(),
                                                       on: req.db, authorize: req.authorizePlan)
            return req.redirect(to: SiteURL.planPage(.value(plan.id!)).path, redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity {
            var errors = l.fieldMessages(e)
            // On the page dashboards are ticked, not named.
            if typed.dashboards.isEmpty, errors["dashboards"] != nil || errors["search"] != nil {
                errors["dashboards"] = l.t("promote.pick_one")
                errors["search"] = nil
            }
            let model = try await wizardModel(req, form: typed, errors: errors, formError: l.t("environment_form.fix_fields"))
            let response = Layout.response(PromotePage.View(model: model, localizer: l), request: req)
            response.status = e.status
            return response
        }
    }

    static func planModel(_ req: Request, id: UUID, applyError: String? = nil, remapError: String? = nil) async throws -> PlanPage.Model {
        let names = try await req.environmentDirectory()
        let stored = try await req.readablePlan(id)
        let plan = PlanDTO(stored, names: names)
        // Its task is shown to those who may read it (tasks:read on its environments).
        var task: TaskDTO?
        if let id = plan.taskId, let model = try await TaskModel.find(id, on: req.db), await req.permits(.tasksRead, environmentIDs: model.environmentIDs) {
            task = TaskDTO(model, names: names)
        }
        var model = PlanPage.Model(plan: plan, task: task, applyError: applyError,
                                   canApply: await req.permits(Request.writePermission(stored), environmentIDs: [plan.targetId]))
        model.remapError = remapError
        // The target's connections, for a plan whose mapping may change (its target still there).
        let remappable = Self.remappable(stored) && !plan.mappings.isEmpty && names.byID[plan.targetId] != nil
        let targets = remappable ? ((try? await targetDatabases(req, environment: plan.targetId)) ?? []) : []
        model.mappings = plan.mappings.map { m in
            var options = DatabaseMatcher.suggestions(for: m.source, among: targets)
            if !options.contains(where: { $0.target.uuid == m.target.uuid }) {
                options.insert(contentsOf: DatabaseMatcher.suggestions(for: m.source, among: [m.target]), at: 0)
            }
            return .init(source: m.source, target: m.target, confidence: options.first { $0.target.uuid == m.target.uuid }?.confidence, options: options)
        }
        // `readablePlan` judged promote:plan on both ends for a plan that isn't a restore.
        model.canRemap = remappable
        return model
    }

    /// A promotion's plan (not a restore's or a deploy's, whose connections map to themselves or
    /// through their own pages), once made.
    static func remappable(_ plan: PromotionPlanModel) -> Bool {
        plan.sourceBackupID == nil && plan.sourceRevision == nil && plan.sourceEnvID != plan.targetEnvID && [PlanStatus.ready, .stale].contains(plan.status)
    }

    /// The target's connections as its inventory knows them (name and backend; no URI).
    static func targetDatabases(_ req: Request, environment: UUID) async throws -> [DatabaseRef] {
        let app = req.application
        // Every connection (not a page of them): a target's list is short, and each may be picked.
        let page = try await InventorySearch.run(InventoryQuery(kind: .database, environment: environment.uuidString.lowercased(), page: 1, perPage: 100_000),
                                                 index: app.inventoryIndex, on: req.db, now: app.ferry.now())
        return page.items.compactMap { item in item.uuid.map { DatabaseRef(id: item.id, uuid: $0, name: item.name, backend: item.detail, uri: "") } }
    }

    /// Saves the connections picked on a plan's page (every row, picked or left as suggested) as
    /// the mappings between its environments and makes the plan again with the same selection: a
    /// new plan (of the dashboards the old one found, when it was made by a search or by slugs),
    /// and the old one stale if it was ready: anyone who may plan between them may replace it.
    /// Nothing changed: back to the same plan. A pick the target doesn't have: the plan page
    /// again, saying which, nothing saved.
    @Sendable static func remap(req: Request) async throws -> Response {
        let id = try req.idParameter()
        let stored = try await req.readablePlan(id)
        let l = req.localizer
        guard Self.remappable(stored) else {
            throw AppError(.conflict, code: "not_remappable", detail: l.t("plan.mapping.not_promotion"))
        }
        let names = try await req.environmentDirectory()
        let plan = PlanDTO(stored, names: names)
        guard let source = names.byID[plan.sourceId], let target = names.byID[plan.targetId] else {
            throw AppError(.conflict, code: "environment_gone", detail: l.t("plan.mapping.environment_gone"))
        }
        try await req.authorizePlan(source: source, target: target)
        let fields = req.formFields()
        let targets = try await targetDatabases(req, environment: plan.targetId)
        var chosen: [(DatabaseRef, DatabaseRef)] = []
        var unknown: [String] = []
        var changed = false
        for m in plan.mappings {
            let uuid = fields[PlanPage.Model.remapField(m.source)]?.first ?? m.target.uuid
            guard let pick = uuid == m.target.uuid ? m.target : targets.first(where: { $0.uuid == uuid }) else {
                unknown.append(m.source.name)
                continue
            }
            changed = changed || pick.uuid != m.target.uuid
            chosen.append((m.source, pick))
        }
        guard unknown.isEmpty else {
            let message = unknown.prefix(5).map { l.t("plan.mapping.unknown_target", ["name": $0]) }.joined(separator: " ")
            let response = Layout.response(PlanPage.View(model: try await planModel(req, id: id, remapError: message), localizer: l), request: req)
            response.status = .unprocessableEntity
            return response
        }
        guard changed else { return req.redirect(to: SiteURL.planPage(.value(id)).path, redirectType: .normal) }
        // The same dashboards: those the plan found when it was made by a search or by slugs (the
        // search run again, or a slug moved since, could find others); Superset ids as they were.
        let found = plan.items.filter { $0.kind == .dashboard }.map(\.uuid)
        let byFound = !found.isEmpty && (plan.search != nil || plan.dashboards.contains { Int($0) == nil })
        let input = PlanInput(
            source: plan.sourceId.uuidString.lowercased(), target: plan.targetId.uuidString.lowercased(), dashboards: byFound ? found : plan.dashboards,
            search: byFound ? nil : plan.search, scope: plan.scope, schemaMapping: plan.schemaMapping, acceptUnknownVersion: plan.acceptUnknownVersion)
        guard (input.dashboards ?? []).count <= 1000 else {
            let response = Layout.response(PlanPage.View(model: try await planModel(req, id: id, remapError: l.t("plan.mapping.too_many")), localizer: l),
                                           request: req)
            response.status = .unprocessableEntity
            return response
        }
        let app = req.application
        for (from, to) in chosen {
            _ = try await MappingService.record(source: plan.sourceId, target: plan.targetId, sourceDB: from, targetDB: to,
                                                now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
        }
        req.audit.action = "promotion.remap"
        req.audit.environment = target
        // The old plan, with the connections just replaced, can't be applied any more (first: a
        // new plan that can't be made leaves no ready plan on the old connections). Read ready but
        // not made stale here: it was applied (or replaced) meanwhile, and its page says so.
        if !(try await PromotionService.supersede(planID: id, on: req.db)), stored.status == .ready {
            return req.redirect(to: SiteURL.planPage(.value(id)).path, redirectType: .normal)
        }
        let again = try await PromotionService.plan(input, user: req.userName, engine: app.taskEngine, now: app.ferry.now(), newID: app.ferry.uuid(),
                                                    on: req.db, authorize: req.authorizePlan)
        return req.redirect(to: SiteURL.planPage(.value(again.id!)).path, redirectType: .normal)
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
            let response = Layout.response(PlanPage.View(model: try await planModel(req, id: id, applyError: req.localizer.problemText(e)), localizer: req.localizer), request: req)
            response.status = .conflict
            return response
        }
    }

    @Sendable static func history(req: Request) async throws -> Response {
        var rows: [PromotionsPage.Model.Row] = []
        let names = try await req.environmentDirectory()
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

