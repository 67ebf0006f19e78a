import Foundation

/// The activity drawer's content: the viewer's unfinished tasks with their progress, those
/// waiting for the viewer's answer flagged. Fetched by ferry.js when the drawer opens and when a
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
        }

        var awaitingInput: Int { tasks.filter { $0.status == .awaitingInput }.count }
    }
}
