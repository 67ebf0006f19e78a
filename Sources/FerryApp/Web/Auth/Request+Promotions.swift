import Foundation
import Vapor

/// Access to plans, promotions, history and mappings, decided on the stored rows: each is
/// judged on every environment it touches (source and target), never on what a request names.
///
/// - plans and mappings: `promote:plan` on source and target;
/// - promotions and history: `tasks:read` on source and target;
/// - applying a plan and rolling back a promotion: `promote:apply` on its stored target.
/// A restore (a plan whose source is a backup) is judged as a restore instead: reading the
/// backup needs `inventory:read` on its environment, planning, applying and rolling it back
/// `restore:run` on the target.
extension Request {
    /// The stored plan `id`, when the caller holds `promote:plan` on its source and target
    /// (for a restore: `inventory:read` on the backup's environment and `restore:run` on the target).
    func readablePlan(_ id: UUID) async throws -> PromotionPlanModel {
        let plan = try await PromotionService.findPlan(id, on: db)
        if plan.sourceBackupID != nil {
            try await authorize(.inventoryRead, environmentIDs: [plan.sourceEnvID])
            try await authorize(.restoreRun, environmentIDs: [plan.targetEnvID])
        } else {
            try await authorize(.promotePlan, environmentIDs: [plan.sourceEnvID, plan.targetEnvID])
        }
        return plan
    }

    /// The permission that writes a plan's target: `restore:run` for a restore, else `promote:apply`.
    static func writePermission(_ plan: PromotionPlanModel?) -> Permission { plan?.sourceBackupID != nil ? .restoreRun : .promoteApply }

    /// The stored promotion `id`, when the caller holds `tasks:read` on its source and target.
    func readablePromotion(_ id: UUID) async throws -> PromotionModel {
        let promotion = try await PromotionService.find(id, on: db)
        try await authorize(.tasksRead, environmentIDs: [promotion.sourceEnvID, promotion.targetEnvID])
        return promotion
    }

    /// Checks `promote:apply` on the stored plan's target (and that the caller may read it).
    func authorizeApply(plan id: UUID) async throws {
        let plan = try await readablePlan(id)
        try await authorize(Self.writePermission(plan), environmentIDs: [plan.targetEnvID])
    }

    /// Checks `promote:apply` on the stored promotion's target (and that the caller may read it).
    func authorizeRollback(promotion id: UUID) async throws {
        let promotion = try await readablePromotion(id)
        let plan = try await PromotionPlanModel.find(promotion.planID, on: db)
        try await authorize(Self.writePermission(plan), environmentIDs: [promotion.targetEnvID])
    }

    /// The check `PromotionService.restore` runs on the stored backup and the resolved target.
    @Sendable func authorizeRestore(backup: BackupModel, target: EnvironmentRef) async throws {
        try await authorize(.inventoryRead, environmentIDs: [backup.environmentID])
        try authorize(.restoreRun, environment: target)
    }

    /// The check `PromotionService.plan` runs once the input's environments are resolved.
    @Sendable func authorizePlan(source: EnvironmentRef, target: EnvironmentRef) async throws {
        try authorize(.promotePlan, environment: source)
        try authorize(.promotePlan, environment: target)
    }
}
