import Fluent
import Foundation

/// A user's tasks that haven't ended (queued, running, or waiting for input): the navigation's
/// activity count and drawer.
///
/// Each read is one query on the `ix_tasks_status_created` index (active statuses only), bounded
/// by `limit`; callers keep only the tasks the user may still read.
enum TaskActivity {
    static let activeStatuses: [TaskStatus] = [.pending, .running, .awaitingInput]
    static let limit = 20

    /// The user's unfinished tasks, newest first.
    static func active(user: String, limit: Int = limit, on db: any Database) async throws -> [TaskModel] {
        try await TaskModel.query(on: db)
            .filter(\.$status ~~ activeStatuses.map(\.rawValue))
            .filter(\.$createdBy == user)
            .sort(\.$createdAt, .descending)
            .limit(limit)
            .all()
    }
}
