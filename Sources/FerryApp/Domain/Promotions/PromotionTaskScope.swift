import Fluent
import Foundation
import SupersetKit

/// The scope of the promotion tasks, read from the plan or promotion their params name.
///
/// Access is decided on what is stored: a `promote.rollback` started through `POST /api/tasks`
/// with `"target": "dev"` for a prod promotion is judged on prod, and refused (422) for the
/// disagreement before anyone's permission is even asked.
enum PromotionTaskScope {
    /// The stored plan named by `params.plan`, with `params.source`/`target` checked against it.
    static func plan(_ params: BundleValue, on db: any Database) async throws -> PromotionPlanModel {
        guard let id = params["plan"]?.stringValue.flatMap(UUID.init(uuidString:)), let plan = try await PromotionPlanModel.find(id, on: db) else {
            throw AppError.validation([FieldError(field: "params.plan", code: "unknown", key: "no_plan")])
        }
        try agree(params, source: plan.sourceEnvID, target: plan.targetEnvID, what: "plan")
        return plan
    }

    /// The stored promotion named by `params.promotion`, with `params.source`/`target` checked.
    static func promotion(_ params: BundleValue, on db: any Database) async throws -> PromotionModel {
        guard let id = params["promotion"]?.stringValue.flatMap(UUID.init(uuidString:)), let p = try await PromotionModel.find(id, on: db) else {
            throw AppError.validation([FieldError(field: "params.promotion", code: "unknown", key: "no_promotion")])
        }
        try agree(params, source: p.sourceEnvID, target: p.targetEnvID, what: "promotion")
        return p
    }

    /// `restore:run` when the promotion is a restore (its plan reads a backup), else nil (the plugin's own).
    static func restorePermission(_ promotion: PromotionModel, on db: any Database) async throws -> String? {
        try await PromotionPlanModel.find(promotion.planID, on: db)?.sourceBackupID == nil ? nil : Permission.restoreRun.rawValue
    }

    /// The refusal of a promotion task that its plan or promotion isn't waiting for.
    static func notWaiting(_ what: String) -> AppError {
        AppError(.conflict, code: "not_waiting",
                 detail: "This \(what) already has its task or is past that step. Promotions are planned, applied and rolled back through /api/promotions (or the Promotions pages), which start these tasks themselves.")
    }

    /// 422 naming each of `params.source` and `params.target` (already resolved to ids) that is
    /// given and differs from the stored resource's.
    static func agree(_ params: BundleValue, source: UUID, target: UUID, what: String) throws {
        var errors: [FieldError] = []
        for (key, stored) in [("source", source), ("target", target)] {
            if let given = params[key]?.stringValue, UUID(uuidString: given) != stored {
                errors.append(FieldError(field: "params.\(key)", code: "mismatch",
                                         message: "is not the stored \(what)'s \(key) environment; leave it out or give the \(what)'s own"))
            }
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
    }
}
