import Foundation

/// Where a promotion plan stands. `planning` -> `ready` | `failed`; `ready` -> `applied` (once,
/// by compare-and-set) | `stale` (a newer plan replaced it); `applied` -> `stale` (the apply found
/// the target changed since) | `ready` (its task could not be queued). Only `ready` is applied.
public enum PlanStatus: String, Codable, Sendable, CaseIterable {
    case planning, ready, failed, applied, stale

    /// Never applied, or no longer: plans the pruning of old tasks deletes with their bundles
    /// (those a promotion refers to are kept with it).
    static let unapplied: [PlanStatus] = [.ready, .failed, .stale]
}

/// Where one apply of a plan stands. `applying` -> `succeeded` | `partial` (some charts don't
/// query) | `failed`; a finished one -> `rolling_back` -> `rolled_back` | `rollback_failed`.
///
/// A stored value this version doesn't know reads as `failed` (see the models).
public enum PromotionStatus: String, Codable, Sendable, CaseIterable {
    case applying, succeeded, partial, failed
    case rollingBack = "rolling_back", rolledBack = "rolled_back", rollbackFailed = "rollback_failed"

    /// Finished, so a rollback may start (when a snapshot was taken).
    static let rollbackable: [PromotionStatus] = [.succeeded, .partial, .failed, .rollbackFailed]
}
