import Fluent
import Foundation
import SQLKit

/// A user's tasks that haven't ended (queued, running, or waiting for input): the navigation's
/// activity count and drawer.
///
/// Each read is one query on the `ix_tasks_status_created` index (active statuses only), bounded
/// by `limit`; callers keep only the tasks the user may still read.
enum TaskActivity {
    static let activeStatuses: [TaskStatus] = [.pending, .running, .awaitingInput]
    static let limit = 20

    /// What the navigation's count and the activity drawer show of an unfinished task.
    struct Summary: Decodable, Equatable {
        var id: UUID
        var pluginID: String
        var status: String
        var progress: Int
        var step: String
        var environments: String
        var isAwaitingInput: Bool { status == TaskStatus.awaitingInput.rawValue }
        var environmentIDs: [UUID] { TaskModel.environmentIDs(environments) }
        enum CodingKeys: String, CodingKey { case id, pluginID = "plugin_id", status, progress, step, environments = "environment_ids" }
    }

    /// The user's unfinished tasks, newest first, as the columns shown (a Fluent read of whole
    /// tasks, params and results included, was most of a small page's store time: every page
    /// counts them).
    static func active(user: String, limit: Int = limit, on db: any Database) async throws -> [Summary] {
        try await TaskStore.sql(db).select().column("id").column("plugin_id").column("status").column("progress").column("step")
            .column("environment_ids").from(TaskModel.schema)
            .where("status", .in, SQLBind.group(activeStatuses.map(\.rawValue)))
            .where("created_by", .equal, SQLBind(user))
            .orderBy("created_at", .descending)
            .limit(limit)
            .all(decoding: Summary.self)
    }
}
