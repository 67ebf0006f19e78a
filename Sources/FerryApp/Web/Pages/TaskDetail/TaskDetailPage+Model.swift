import Foundation

/// One task: its state, progress, result or error, an input form when it asks, and its log
/// (the first page server-rendered; live lines appended by ferry.js over /ws/tasks/{id}).
enum TaskDetailPage {
    struct Model: Equatable {
        var task: TaskDTO
        var lines: [TaskLogLine]
        var level: String
        var source: String
        var sources: [String]
        var flash: String?
        var inputError: String?
        /// Whether the viewer may cancel it (`tasks:cancel` on its environments).
        var canCancel = false
        /// Whether the viewer may answer its input request (the plugin's permission).
        var canAnswer = false
        /// The finished task's report (`/reports/<id>`), once it is written.
        var reportID: UUID? = nil
    }
}
