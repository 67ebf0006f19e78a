import Foundation
import SupersetKit

/// The activity drawer's content: the viewer's unfinished tasks with their progress, those
/// waiting for the viewer's answer flagged, with the question to answer in place. Fetched by ferry.js when the drawer opens and when a
/// task changes (`GET /activity`), and kept live over `/ws/tasks`.
enum ActivityPanel {
    struct Model: Equatable {
        var tasks: [Row]

        struct Row: Equatable {
            var id: UUID
            var plugin: String
            var status: TaskStatus
            var progress: Int
            var step: String
            var environments: [String]
            /// The pending input request, when the task waits for input the viewer may give.
            var input: BundleValue? = nil
            /// Whether the viewer may answer the task's question (its plugin's permission).
            var canAnswer = true
        }

        var awaitingInput: Int { tasks.filter { $0.status == .awaitingInput }.count }
    }
}
