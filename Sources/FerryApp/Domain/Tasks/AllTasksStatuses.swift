import Fluent
import Foundation
import SQLKit

/// What one all-tasks stream (`WS /ws/tasks`) has passed on, and the store's fallback look for
/// status changes whose notification never came (another node's `NOTIFY` is only a hint).
///
/// Every event, heard or found, goes through `heard` in the order it is sent: a status already
/// sent for a task is not sent again. A store look (`changes`) offers only tasks of which no
/// event arrived while it read, so a look that read before a newer event never undoes it.
/// Side effects: `changes` reads the store (active tasks, and those finished since the last
/// look: one query on the status and finish-time columns).
actor AllTasksStatuses {
    private var sent: [UUID: TaskStatus] = [:]
    private var arrivals: [UUID: Int] = [:]
    private var lastLook: Date?
    private let started: Date
    private let clock: @Sendable () -> Date

    init(clock: @escaping @Sendable () -> Date) {
        self.clock = clock
        self.started = clock()
    }

    /// Counts an event from the hub before it is queued for sending.
    func arrived(_ event: TaskEvent) {
        arrivals[event.taskId, default: 0] += 1
    }

    /// Whether to send `event`: false for a status this stream already sent for that task.
    func heard(_ event: TaskEvent) -> Bool {
        guard event.kind == .status, let status = event.status else { return true }
        if sent[event.taskId] == status { return false }
        sent[event.taskId] = status
        return true
    }

    private struct Row: Decodable { var id: UUID; var status: String }

    /// Status events for tasks whose stored status differs from what was sent: the unfinished
    /// ones, and those finished since the previous look (or since the stream began). The first
    /// look only notes the unfinished tasks' statuses (the page that opened the stream read
    /// them already). A failed read finds nothing; the next look tries again.
    func changes(on db: any Database) async -> [TaskEvent] {
        let before = arrivals
        let now = clock()
        // Other nodes' clocks wrote `finished_at`: a margin covers a little skew.
        let window = (lastLook ?? started).addingTimeInterval(-30)
        let first = lastLook == nil
        lastLook = now
        let active = TaskActivity.activeStatuses.map(\.rawValue)
        let query = TaskStore.sql(db).select().column("id").column("status").from(TaskModel.schema)
            .where(group: { $0.where("status", .in, SQLBind.group(active)).orWhere("finished_at", .greaterThanOrEqual, SQLBind(window)) })
            .limit(1_000)
        guard let rows = try? await query.all(decoding: Row.self) else { return [] }
        var found: [TaskEvent] = []
        for row in rows {
            guard let status = TaskStatus(rawValue: row.status), arrivals[row.id] == before[row.id], sent[row.id] != status else { continue }
            if first, !status.isFinished {
                sent[row.id] = status
                continue
            }
            found.append(TaskEvent(kind: .status, taskId: row.id, status: status))
        }
        // Finished tasks outside the window won't change again: forget them.
        let seen = Set(rows.map(\.id))
        for (id, status) in sent where status.isFinished && status != .interrupted && !seen.contains(id) {
            sent[id] = nil
            arrivals[id] = nil
        }
        return found
    }
}
