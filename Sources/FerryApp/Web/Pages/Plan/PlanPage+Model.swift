import Foundation
import SupersetKit

/// A plan under review: while it is being made, its task's progress (the page reloads when it
/// ends); then every asset's verdict, the mappings used, and the apply button (only when no
/// blocking conflict remains).
enum PlanPage {
    struct Model: Equatable {
        var plan: PlanDTO
        var task: TaskDTO?
        var applyError: String?
        /// Whether the viewer may apply it (`promote:apply` on the target).
        var canApply = false

        var blocking: Bool { plan.summary.blocking > 0 }
        var shared: Bool { plan.summary.conflict > plan.summary.blocking }
        /// Values the downgrade removes from the assets the plan writes.
        var lost: Bool { plan.summary.lost > 0 }
        var changes: Bool { plan.summary.create + plan.summary.update + plan.summary.conflict > 0 }
    }
}

