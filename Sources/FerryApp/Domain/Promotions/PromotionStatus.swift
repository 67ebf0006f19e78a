import Foundation

/// Where a promotion plan stands. `planning` -> `ready` | `failed`; `ready` -> `applied` (once)
/// | `stale` (the target changed since, or a newer plan replaced it). Only `ready` is applied.
public enum PlanStatus: String, Codable, Sendable, CaseIterable {
    case planning, ready, failed, applied, stale

    /// Finished with: a plan the pruning of old tasks may delete with its bundle.
    static let settled: [PlanStatus] = [.ready, .failed, .stale]
}

/// Where one apply of a plan stands. `applying` -> `succeeded` | `partial` (some charts don't
/// query) | `failed`; a finished one -> `rolling_back` -> `rolled_back` | `rollback_failed`.
public enum PromotionStatus: String, Codable, Sendable, CaseIterable {
    case applying, succeeded, partial, failed
    case rollingBack = "rolling_back", rolledBack = "rolled_back", rollbackFailed = "rollback_failed"

    /// Finished, so a rollback may start (when a snapshot was taken).
    static let rollbackable: [PromotionStatus] = [.succeeded, .partial, .failed, .rollbackFailed]
}
