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

    /// The user's unfinished tasks, newest first.
    static func active(user: String, limit: Int = limit, on db: any Database) async throws -> [TaskModel] {
        try await TaskModel.query(on: db)
            .filter(\.$status ~~ activeStatuses.map(\.rawValue))
            .filter(\.$createdBy == user)
            .sort(\.$createdAt, .descending)
            .limit(limit)
            .all()
    }

    /// What the navigation's count needs of an unfinished task: its status and environments.
    struct Summary: Decodable, Equatable {
        var status: String
        var environments: String
        var isAwaitingInput: Bool { status == TaskStatus.awaitingInput.rawValue }
        var environmentIDs: [UUID] { TaskModel.environmentIDs(environments) }
        enum CodingKeys: String, CodingKey { case status, environments = "environment_ids" }
    }

    /// `active`'s tasks (the same filters, order and limit) as two columns, for the count every page shows (a Fluent read of the
    /// whole task, its params and result included, was most of a small page's store time).
    static func activeSummaries(user: String, limit: Int = limit, on db: any Database) async throws -> [Summary] {
        try await TaskStore.sql(db).select().column("status").column("environment_ids").from(TaskModel.schema)
            .where("status", .in, SQLBind.group(activeStatuses.map(\.rawValue)))
            .where("created_by", .equal, SQLBind(user))
            .orderBy("created_at", .descending)
            .limit(limit)
            .all(decoding: Summary.self)
    }
}
