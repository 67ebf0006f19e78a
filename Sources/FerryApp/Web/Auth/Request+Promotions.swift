import Foundation
import Vapor

/// Access to plans, promotions, history and mappings, decided on the stored rows: each is
/// judged on every environment it touches (source and target), never on what a request names.
///
/// - plans and mappings: `promote:plan` on source and target;
/// - promotions and history: `tasks:read` on source and target;
/// - applying a plan and rolling back a promotion: `promote:apply` on its stored target.
extension Request {
    /// The stored plan `id`, when the caller holds `promote:plan` on its source and target.
    func readablePlan(_ id: UUID) async throws -> PromotionPlanModel {
        let plan = try await PromotionService.findPlan(id, on: db)
        try await authorize(.promotePlan, environmentIDs: [plan.sourceEnvID, plan.targetEnvID])
        return plan
    }

    /// The stored promotion `id`, when the caller holds `tasks:read` on its source and target.
    func readablePromotion(_ id: UUID) async throws -> PromotionModel {
        let promotion = try await PromotionService.find(id, on: db)
        try await authorize(.tasksRead, environmentIDs: [promotion.sourceEnvID, promotion.targetEnvID])
        return promotion
    }

    /// Checks `promote:apply` on the stored plan's target (and that the caller may read it).
    func authorizeApply(plan id: UUID) async throws {
        let plan = try await readablePlan(id)
        try await authorize(.promoteApply, environmentIDs: [plan.targetEnvID])
    }

    /// Checks `promote:apply` on the stored promotion's target (and that the caller may read it).
    func authorizeRollback(promotion id: UUID) async throws {
        let promotion = try await readablePromotion(id)
        try await authorize(.promoteApply, environmentIDs: [promotion.targetEnvID])
    }

    /// The check `PromotionService.plan` runs once the input's environments are resolved.
    @Sendable func authorizePlan(source: EnvironmentRef, target: EnvironmentRef) async throws {
        try authorize(.promotePlan, environment: source)
        try authorize(.promotePlan, environment: target)
    }
}
