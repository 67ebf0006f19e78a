import Foundation

/// The life of a task.
///
/// ```
/// pending ──► running ──► succeeded | partial | failed | cancelled
///    │           │  ▲
///    │           ▼  │
///    │      awaiting_input ──► failed (input timeout) | cancelled
///    ▼
/// cancelled          running | awaiting_input ──► interrupted (the node died)
///                    interrupted ──► pending (a resumable plugin is resumed)
/// ```
public enum TaskStatus: String, Codable, CaseIterable, Sendable {
    case pending, running, awaitingInput = "awaiting_input", succeeded, partial, failed, cancelled, interrupted

    /// The transitions the engine may make. Anything else is a bug and is refused.
    static let allowed: [TaskStatus: Set<TaskStatus>] = [
        .pending: [.running, .cancelled],
        .running: [.awaitingInput, .succeeded, .partial, .failed, .cancelled, .interrupted],
        .awaitingInput: [.running, .failed, .cancelled, .interrupted],
        .interrupted: [.pending],
        .succeeded: [], .partial: [], .failed: [], .cancelled: [],
    ]

    public var isFinished: Bool { [.succeeded, .partial, .failed, .cancelled, .interrupted].contains(self) }
    /// Finished for good: no status follows (an interrupted task may be queued again).
    var hasEnded: Bool { isFinished && self != .interrupted }

    func canMove(to next: TaskStatus) -> Bool { Self.allowed[self]?.contains(next) ?? false }
}
