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
        /// The connections the plan mapped, each with the target's connections ranked for it
        /// (from the inventory): the mapping shown with its confidence.
        var mappings: [Mapping] = []
        /// Whether the mapping may be changed here (a promotion, not a restore or a deploy; its
        /// plan made; the viewer may plan between its environments): then each is a list.
        var canRemap = false
        /// Why the connections picked couldn't be used (nothing was saved).
        var remapError: String?

        struct Mapping: Equatable {
            var source: DatabaseRef
            var target: DatabaseRef
            /// How well the target matches the source, 0-100 (`DatabaseMatcher`).
            var confidence: Int?
            /// The target's connections, best match first.
            var options: [DatabaseSuggestion]
        }

        /// The mappings to show: `mappings`, or the plan's own without a ranking.
        var mappingRows: [Mapping] {
            mappings.isEmpty ? plan.mappings.map { Mapping(source: $0.source, target: $0.target, confidence: nil, options: []) } : mappings
        }

        /// The source connection's field in the remap form.
        static func remapField(_ source: DatabaseRef) -> String { "map-" + source.uuid }

        var blocking: Bool { plan.summary.blocking > 0 }
        var shared: Bool { plan.summary.conflict > plan.summary.blocking }
        /// Values the downgrade removes from the assets the plan writes.
        var lost: Bool { plan.summary.lost > 0 }
        var changes: Bool { plan.summary.create + plan.summary.update + plan.summary.conflict > 0 }
    }
}

