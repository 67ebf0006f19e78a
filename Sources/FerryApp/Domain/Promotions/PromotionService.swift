import Fluent
import Foundation
import SQLKit
import SupersetKit

/// Promotions as the API and pages see them: plan, apply, roll back, read.
///
/// Every long step runs as a task; these functions validate, record and queue, and return at once.
enum PromotionService {
    /// What is wrong with a plan's schema renames (a promotion's, a restore's or a deploy's):
    /// no empty name; at most 100 renames, each name at most 128 characters.
    static func schemaMappingErrors(_ mapping: [String: String]?) -> [FieldError] {
        let schemas = mapping ?? [:]
        var errors: [FieldError] = []
        if schemas.keys.contains(where: \.isEmpty) || schemas.values.contains(where: \.isEmpty) {
            errors.append(FieldError(field: "schemaMapping", code: "invalid", key: "schema_empty"))
        }
        if schemas.count > 100 || schemas.contains(where: { $0.key.count > 128 || $0.value.count > 128 }) {
            errors.append(FieldError(field: "schemaMapping", code: "too_many", key: "schema_bounds"))
        }
        return errors
    }

    /// Validates `input` (every invalid field named at once), lets `authorize` judge the resolved
    /// source and target, then records the plan and queues its task.
    static func plan(_ input: PlanInput, user: String, engine: TaskEngine, now: Date, newID: UUID, on db: Database,
                     authorize: (_ source: EnvironmentRef, _ target: EnvironmentRef) async throws -> Void) async throws -> PromotionPlanModel {
        var errors: [FieldError] = []
        var pair: (source: EnvironmentRef, target: EnvironmentRef)?
        do { pair = try await MappingService.pair(source: input.source, target: input.target, on: db) } catch let e as AppError { errors += e.fields }
        let dashboards = (input.dashboards ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let search = input.search?.trimmingCharacters(in: .whitespaces)
        if dashboards.isEmpty && (search ?? "").isEmpty {
            errors.append(FieldError(field: "dashboards", code: "required", key: "dashboards_required"))
        }
        if dashboards.contains(where: { $0.count > 255 }) {
            errors.append(FieldError(field: "dashboards", code: "too_long", key: "dashboard_ref_long"))
        }
        if (search ?? "").count > 255 { errors.append(FieldError(field: "search", code: "too_long", key: "at_most_chars", ["max": "255"])) }
        if let c = input.concurrency, !(1...16).contains(c) {
            errors.append(FieldError(field: "concurrency", code: "invalid", key: "between", ["min": "1", "max": "16"]))
        }
        if dashboards.count > 1000 { errors.append(FieldError(field: "dashboards", code: "too_many", key: "at_most_plan_dashboards", ["max": "1000"])) }
        let scope = input.scope ?? PromotionScope.dashboards.rawValue
        if PromotionScope(rawValue: scope) == nil {
            errors.append(FieldError(field: "scope", code: "invalid", key: "scope"))
        }
        errors += Self.schemaMappingErrors(input.schemaMapping)
        guard errors.isEmpty, let (source, target) = pair else { throw AppError.validation(errors) }
        try await authorize(source, target)

        let plan = PromotionPlanModel()
        plan.id = newID
        plan.sourceEnvID = source.id
        plan.targetEnvID = target.id
        plan.scope = scope
        plan.selection = String(decoding: try JSONEncoder().encode(PlanSelection(dashboards: dashboards, search: search?.isEmpty == true ? nil : search)), as: UTF8.self)
        plan.schemaMapping = String(decoding: try JSONEncoder().encode(input.schemaMapping ?? [:]), as: UTF8.self)
        plan.acceptUnknownVersion = input.acceptUnknownVersion ?? false
        plan.status = .planning
        plan.createdBy = user
        plan.createdAt = now
        var params: [String: BundleValue] = ["source": .string(source.id.key), "target": .string(target.id.key)]
        if let concurrency = input.concurrency { params["concurrency"] = .int(concurrency) }
        try await recordAndQueue(plan, params: params, engine: engine, user: user, on: db)
        return plan
    }

    /// Validates a restore, lets `authorize` judge the stored backup's environment and the
    /// target, then records a plan whose source is the backup (scope `cascade`: the backed-up
    /// versions of the selected dashboards' charts and datasets come back too) and queues its
    /// task. The plan is applied, verified and rolled back like any promotion. A backup marked
    /// corrupt is refused (409).
    static func restore(_ input: RestoreInput, user: String, engine: TaskEngine, now: Date, newID: UUID, on db: Database,
                        authorize: (_ backup: BackupModel, _ target: EnvironmentRef) async throws -> Void) async throws -> PromotionPlanModel {
        var errors: [FieldError] = []
        let names = try await EnvironmentDirectory.load(on: db)
        var backup: BackupModel?
        if let text = input.backup?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            if let id = UUID(uuidString: text) { backup = try await BackupModel.find(id, on: db) }
            if backup == nil { errors.append(FieldError(field: "backup", code: "unknown", key: "no_backup", ["id": text])) }
        } else {
            errors.append(FieldError(field: "backup", code: "required", key: "pick_backup"))
        }
        var target: EnvironmentRef?
        if let text = input.target?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            target = names.resolve(text)
            if target == nil { errors.append(FieldError(field: "target", code: "unknown", key: "no_environment", ["name": text])) }
        } else {
            errors.append(FieldError(field: "target", code: "required", key: "pick_restore_target"))
        }
        func clean(_ list: [String]?, _ field: String) -> [String] {
            let out = (list ?? []).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
            if out.count > 10_000 { errors.append(FieldError(field: field, code: "too_many", key: "at_most_per_restore", ["max": "10000"])) }
            if out.contains(where: { UUID(uuidString: $0) == nil }) { errors.append(FieldError(field: field, code: "invalid", key: "by_uuid")) }
            return out
        }
        let selection = PlanSelection(dashboards: clean(input.dashboards, "dashboards"), search: nil,
                                      charts: clean(input.charts, "charts"), datasets: clean(input.datasets, "datasets"))
        errors += Self.schemaMappingErrors(input.schemaMapping)
        guard errors.isEmpty, let backup, let target else { throw AppError.validation(errors) }
        try await authorize(backup, target)
        if backup.verifyStatus == BackupVerifyStatus.corrupt.rawValue {
            throw AppError(.conflict, code: "backup_corrupt",
                           key: "backup_marked_corrupt", ["id": backup.id!.key])
        }
        let plan = PromotionPlanModel()
        plan.id = newID
        plan.sourceEnvID = backup.environmentID
        plan.targetEnvID = target.id
        plan.sourceBackupID = backup.id
        plan.scope = PromotionScope.cascade.rawValue
        plan.selection = String(decoding: try JSONEncoder().encode(selection), as: UTF8.self)
        plan.schemaMapping = String(decoding: try JSONEncoder().encode(input.schemaMapping ?? [:]), as: UTF8.self)
        plan.acceptUnknownVersion = input.acceptUnknownVersion ?? false
        plan.status = .planning
        plan.createdBy = user
        plan.createdAt = now
        // No "source" param: the backup's environment may have been deleted since (restoring its
        // backups elsewhere is what they are for); the task reads the stored plan.
        try await recordAndQueue(plan, params: ["target": .string(target.id.key)], engine: engine, user: user, on: db)
        return plan
    }

    /// Inserts `plan` and queues its `promote.plan` task (`params` beside the plan's id); a
    /// plan whose task can't be queued is deleted again, so none is left waiting for nothing.
    static func recordAndQueue(_ plan: PromotionPlanModel, params: [String: BundleValue], engine: TaskEngine, user: String, on db: Database) async throws {
        try await plan.create(on: db)
        let task: TaskModel
        do {
            task = try await engine.submit(pluginID: "promote.plan", params: .map(params.merging(["plan": .string(plan.id!.key)]) { _, new in new }),
                                           user: user, on: db)
        } catch {
            try? await plan.delete(on: db)
            throw error
        }
        plan.taskID = task.id
        try await plan.save(on: db)
    }

    /// Queues the apply of a ready plan. A plan is applied at most once: the status moves from
    /// `ready` to `applied` by compare-and-set, so two concurrent applies can't both start.
    static func apply(planID: UUID, _ input: ApplyInput, user: String, engine: TaskEngine, now: Date, newID: UUID, on db: Database) async throws
        -> PromotionModel
    {
        if let c = input.concurrency, !(1...16).contains(c) {
            throw AppError.validation([FieldError(field: "concurrency", code: "invalid", key: "between", ["min": "1", "max": "16"])])
        }
        guard let plan = try await PromotionPlanModel.find(planID, on: db) else { throw AppError.notFound(.plan, "\(planID)") }
        guard plan.status == .ready else {
            throw AppError(.conflict, code: "plan_not_ready", key: plan.status == .planning ? "plan_planning" : "plan_not_ready",
                           ["id": "\(planID)", "status": plan.status.rawValue])
        }
        let items = plan.items.flatMap { try? JSONDecoder().decode([PlanItem].self, from: Data($0.utf8)) } ?? []
        if let refusal = PromotionPlanner.refusal(items, acceptShared: input.acceptShared ?? false, acceptLosses: input.acceptLosses ?? false) {
            switch refusal {
            case .blocking:
                throw AppError(.conflict, code: "plan_conflict", detail: refusal.message + " Resolve them, then plan again.")
            case .sharedNotAccepted:
                throw AppError(.conflict, code: "plan_shared",
                               detail: refusal.message + " Review them and apply with acceptShared: true, or narrow the selection.")
            case .lossesNotAccepted:
                throw AppError(.conflict, code: "plan_losses",
                               detail: refusal.message + " Review them in the plan and apply with acceptLosses: true, or upgrade the target.")
            }
        }
        let promotion = PromotionModel()
        promotion.id = newID
        promotion.planID = planID
        promotion.sourceEnvID = plan.sourceEnvID
        promotion.targetEnvID = plan.targetEnvID
        promotion.status = .applying
        promotion.startedBy = user
        promotion.createdAt = now
        try await db.transaction { tx in
            let sql = tx as! any SQLDatabase
            let claimed = try await sql.update("promotion_plans").set("status", to: PlanStatus.applied.rawValue)
                .where("id", .equal, planID).where("status", .equal, PlanStatus.ready.rawValue).returning("id").all()
            guard !claimed.isEmpty else {
                throw AppError(.conflict, code: "plan_not_ready", key: "plan_gone", ["id": planID.uuidString])
            }
            try await promotion.create(on: tx)
        }
        do {
            var params: [String: BundleValue] = [
                "promotion": .string(newID.key), "target": .string(plan.targetEnvID.key), "acceptShared": .bool(input.acceptShared ?? false),
                "acceptLosses": .bool(input.acceptLosses ?? false),
            ]
            // A restore's source environment may be deleted; the task reads the stored promotion.
            if plan.sourceBackupID == nil { params["source"] = .string(plan.sourceEnvID.key) }
            if let concurrency = input.concurrency { params["concurrency"] = .int(concurrency) }
            let task = try await engine.submit(pluginID: "promote.apply", params: .map(params), user: user, on: db)
            promotion.taskID = task.id
            try await promotion.save(on: db)
        } catch {
            promotion.status = .failed
            try? await promotion.save(on: db)
            // Nothing was written: the plan may be applied again (unless a remap made it stale meanwhile).
            try? await (db as! any SQLDatabase).update("promotion_plans").set("status", to: PlanStatus.ready.rawValue)
                .where("id", .equal, planID).where("status", .equal, PlanStatus.applied.rawValue).run()
            throw error
        }
        return promotion
    }

    /// Queues a rollback. The status moves to `rolling_back` by compare-and-set before the task
    /// is queued, so two rollbacks can't both start, and the task is the one the promotion waits for.
    static func rollback(_ id: UUID, _ input: RollbackInput, user: String, engine: TaskEngine, on db: Database) async throws -> TaskModel {
        let finished = PromotionStatus.rollbackable
        let promotion = try await find(id, on: db)
        guard finished.contains(promotion.status) else {
            throw AppError(.conflict, code: "promotion_busy", key: "promotion_busy", ["id": id.uuidString, "status": promotion.status.rawValue])
        }
        guard promotion.snapshot != nil else {
            throw AppError(.conflict, code: "nothing_to_roll_back", key: "nothing_to_roll_back", ["id": id.uuidString])
        }
        let before = promotion.status
        let claimed = try await (db as! any SQLDatabase).update("promotions").set("status", to: PromotionStatus.rollingBack.rawValue).set("rollback_task_id", to: SQLLiteral.null)
            .where("id", .equal, id).where(SQLIdentifier("status"), .in, SQLBind.group(finished.map(\.rawValue))).returning("id").all()
        guard !claimed.isEmpty else {
            throw AppError(.conflict, code: "promotion_busy", key: "rollback_elsewhere", ["id": id.uuidString])
        }
        do {
            let task = try await engine.submit(pluginID: "promote.rollback", params: .map([
                "promotion": .string(id.key), "target": .string(promotion.targetEnvID.key),
                "deleteCreated": .bool(input.deleteCreated ?? false),
            ]), user: user, on: db)
            try await (db as! any SQLDatabase).update("promotions").set("rollback_task_id", to: task.id!).where("id", .equal, id).run()
            return task
        } catch {
            try? await (db as! any SQLDatabase).update("promotions").set("status", to: before.rawValue).where("id", .equal, id).run()
            throw error
        }
    }

    static func findPlan(_ id: UUID, on db: Database) async throws -> PromotionPlanModel {
        guard let p = try await PromotionPlanModel.find(id, on: db) else { throw AppError.notFound(.plan, "\(id)") }
        try await reconcile(p, on: db)
        return p
    }

    static func find(_ id: UUID, on db: Database) async throws -> PromotionModel {
        guard let p = try await PromotionModel.find(id, on: db) else { throw AppError.notFound(.promotion, "\(id)") }
        try await reconcile(p, on: db)
        return p
    }

    /// A page of promotions, newest first; with `visible`, only those whose source and target
    /// are both in it (the environments the caller's limited grants cover).
    static func list(page: Paging, visible: Set<UUID>? = nil, on db: Database) async throws -> [PromotionModel] {
        var q = PromotionModel.query(on: db).sort(\.$createdAt, .descending)
        if let visible { q = q.filter(\.$sourceEnvID ~~ Array(visible)).filter(\.$targetEnvID ~~ Array(visible)) }
        let rows = try await q.range(page.range).all()
        for row in rows { try await reconcile(row, on: db) }
        return rows
    }

    /// A plan or promotion whose task ended without the plugin recording it (the process was
    /// killed: the engine marks such tasks `interrupted`; or it was cancelled before it ran)
    /// would otherwise stay `planning` / `applying` / `rolling_back` forever and block rollback.
    /// This records what the task's end means. Idempotent.
    static func reconcile(_ plan: PromotionPlanModel, on db: Database) async throws {
        guard plan.status == .planning, let taskID = plan.taskID, let task = try await TaskModel.find(taskID, on: db),
              let status = TaskStatus(rawValue: task.status), status.isFinished else { return }
        plan.status = .failed
        plan.error = plan.error ?? "The plan task ended \(status.rawValue) before the plan was made. Make a new plan."
        try await plan.save(on: db)
    }

    /// Marks a ready plan stale (a newer plan replaced it); a plan in any other state is left
    /// as it is. One compare-and-set: an apply that claimed it first wins. Returns whether this
    /// call made it stale.
    @discardableResult
    static func supersede(planID: UUID, on db: Database) async throws -> Bool {
        try await !(db as! any SQLDatabase).update(PromotionPlanModel.schema).set("status", to: PlanStatus.stale.rawValue)
            .where("id", .equal, planID).where("status", .equal, PlanStatus.ready.rawValue).returning("id").all().isEmpty
    }

    static func reconcile(_ promotion: PromotionModel, on db: Database) async throws {
        let watched: UUID?
        switch promotion.status {
        case .applying: watched = promotion.taskID
        case .rollingBack: watched = promotion.rollbackTaskID
        default: return
        }
        guard let taskID = watched, let task = try await TaskModel.find(taskID, on: db),
              let status = TaskStatus(rawValue: task.status), status.isFinished else { return }
        // The plugins record every normal end themselves; a finished task here ended abnormally.
        promotion.status = promotion.status == .applying ? .failed : .rollbackFailed
        promotion.finishedAt = promotion.finishedAt ?? task.finishedAt
        try await promotion.save(on: db)
    }

    /// `visible`, when given, keeps the promotions whose both ends are among those environments
    /// (read in SQL, so the newest 500 are the newest the caller may see).
    static func history(target: UUID?, dashboard: String?, visible: Set<UUID>? = nil, on db: Database) async throws -> [DashboardHistoryModel] {
        var q = DashboardHistoryModel.query(on: db)
        if let target { q = q.filter(\.$targetEnvID == target) }
        if let dashboard { q = q.filter(\.$dashboardUUID == dashboard) }
        if let visible {
            if visible.isEmpty { return [] }
            q = q.filter(\.$targetEnvID ~~ Array(visible)).filter(\.$sourceEnvID ~~ Array(visible))
        }
        return try await q.sort(\.$promotedAt, .descending).limit(500).all()
    }
}
