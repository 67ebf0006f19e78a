import Fluent
import Foundation
import SQLKit
import SupersetKit

/// The store operations of the task engine. Every status change is a compare-and-set on the
/// current status, so two nodes (or a node and a late request) can't both move a task.
///
/// Preconditions: a SQL database (SQLite or PostgreSQL). Side effects: database writes.
enum TaskStore {
    static func sql(_ db: Database) -> any SQLDatabase {
        guard let sql = db as? any SQLDatabase else { fatalError("Ferry's store is always SQL") }
        return sql
    }

    static func isPostgres(_ db: Database) -> Bool { sql(db).dialect.name == "postgresql" }

    /// Moves a task from one of `from` to `to`, setting `changes` too. Returns false when the
    /// task was not in `from` (someone else moved it first).
    @discardableResult
    static func transition(
        _ id: UUID, from: Set<TaskStatus>, to: TaskStatus, changes: [String: any Encodable & Sendable] = [:], on db: Database
    ) async throws -> Bool {
        // Only the sources from which `to` is legal take part; a call naming none is a bug.
        let from = from.filter { $0.canMove(to: to) }
        precondition(!from.isEmpty, "illegal task transition to \(to)")
        var update = sql(db).update("tasks").set("status", to: to.rawValue)
        for (column, value) in changes.sorted(by: { $0.key < $1.key }) { update = update.set(SQLIdentifier(column), to: SQLBind(value)) }
        let rows = try await update
            .where("id", .equal, SQLBind(id))
            .where("status", .in, SQLBind.group(from.map(\.rawValue).sorted()))
            .returning("id")
            .all()
        return !rows.isEmpty
    }

    private struct StatusRow: Decodable { var id: UUID; var status: String }

    /// The unfinished tasks' statuses (newest first) and those of tasks finished since `since`
    /// (latest first), at most `limit` of each: two reads on the status and finish-time indexes.
    /// `complete` when every unfinished task was read.
    static func statuses(finishedSince since: Date, limit: Int, on db: Database) async throws -> (rows: [(id: UUID, status: TaskStatus)], complete: Bool) {
        let sql = sql(db)
        let active = try await sql.select().column("id").column("status").from(TaskModel.schema)
            .where("status", .in, SQLBind.group(TaskActivity.activeStatuses.map(\.rawValue)))
            .orderBy("created_at", .descending).limit(limit)
            .all(decoding: StatusRow.self)
        let finished = try await sql.select().column("id").column("status").from(TaskModel.schema)
            .where("finished_at", .greaterThanOrEqual, SQLBind(since))
            .orderBy("finished_at", .descending).limit(limit)
            .all(decoding: StatusRow.self)
        // The finished read comes second: a task in both changed between them, and its later row wins.
        let rows = (active + finished).compactMap { row in TaskStatus(rawValue: row.status).map { (id: row.id, status: $0) } }
        return (rows, active.count < limit)
    }

    /// What a claim writes besides the status: who holds the task, until when, since when.
    static func claimChanges(node: String, lease: TimeInterval, now: Date) -> [String: any Encodable & Sendable] {
        ["claimed_by": node, "lease_until": now.addingTimeInterval(lease), "started_at": now, "step": TaskText.english("starting")]
    }

    /// Claims one pending task by id (compare-and-set, so no worker anywhere runs it too).
    /// Nil when it is no longer pending.
    static func claim(_ id: UUID, node: String, lease: TimeInterval, now: Date, on db: Database) async throws -> TaskModel? {
        try await db.writeTransaction { tx in
            let claimed = try await transition(id, from: [.pending], to: .running, changes: claimChanges(node: node, lease: lease, now: now), on: tx)
            return claimed ? try await TaskModel.find(id, on: tx) : nil
        }
    }

    /// Claims the oldest pending task whose environments have a free slot on this node.
    /// PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent nodes never claim the same row.
    static func claimNext(
        node: String, lease: TimeInterval, now: Date, slots: EnvironmentSlots, on db: Database
    ) async throws -> TaskModel? {
        try await db.writeTransaction { tx in
            try await claimNext(inTransaction: tx, node: node, lease: lease, now: now, slots: slots)
        }
    }

    /// `claimNext` inside the caller's write transaction (a worker finishing one task claims
    /// the next in the same commit).
    static func claimNext(
        inTransaction tx: Database, node: String, lease: TimeInterval, now: Date, slots: EnvironmentSlots
    ) async throws -> TaskModel? {
        let s = sql(tx)
        var select = s.select().column("id").column("environment_ids").from("tasks")
            .where("status", .equal, SQLBind(TaskStatus.pending.rawValue))
            .orderBy("created_at").orderBy("id").limit(32)
        if isPostgres(tx) { select = select.lockingClause(SQLRaw("FOR UPDATE SKIP LOCKED")) }
        struct Row: Decodable { var id: UUID; var environment_ids: String }
        for row in try await select.all(decoding: Row.self) {
            let envs = row.environment_ids.split(separator: ",").map(String.init)
            guard slots.tryAcquire(envs) else { continue }
            let claimed = try await transition(row.id, from: [.pending], to: .running, changes: claimChanges(node: node, lease: lease, now: now), on: tx)
            if claimed, let model = try await TaskModel.find(row.id, on: tx) { return model }
            slots.release(envs)
        }
        return nil
    }

    /// Appends a batch of log lines and advances the task's line count, in one transaction.
    static func append(_ lines: [TaskLogLine], task: UUID, on db: Database) async throws {
        guard !lines.isEmpty else { return }
        try await db.writeTransaction { tx in try await appendRows(lines, task: task, on: tx) }
    }

    /// The inserts of `append`, inside the caller's transaction.
    static func appendRows(_ lines: [TaskLogLine], task: UUID, on tx: Database) async throws {
        guard let last = lines.last else { return }
        let s = sql(tx)
        for chunk in stride(from: 0, to: lines.count, by: 400) {
            var insert = s.insert(into: "task_logs").columns("task_id", "seq", "at", "level", "source", "message", "metadata")
            for l in lines[chunk..<min(chunk + 400, lines.count)] {
                let meta = BundleValue.map(l.metadata.mapValues(BundleValue.string)).jsonText()
                insert = insert.values(SQLBind(task), SQLBind(l.seq), SQLBind(l.at), SQLBind(l.level.rawValue), SQLBind(l.source),
                                       SQLBind(l.message), SQLBind(meta))
            }
            try await insert.run()
        }
        try await s.update("tasks").set("log_count", to: SQLBind(last.seq + 1)).where("id", .equal, SQLBind(task)).run()
    }

    struct LogFilter: Sendable {
        var minLevel: LogLevel?
        var source: String?
        var text: String?
        /// Lines with seq >= this.
        var from: Int = 0
        var limit: Int = 500
    }

    static func logs(_ task: UUID, filter: LogFilter, on db: Database) async throws -> [TaskLogLine] {
        var q = sql(db).select().columns("seq", "at", "level", "source", "message", "metadata").from("task_logs")
            .where("task_id", .equal, SQLBind(task)).where("seq", .greaterThanOrEqual, SQLBind(filter.from))
        if let minLevel = filter.minLevel {
            q = q.where("level", .in, SQLBind.group(LogLevel.allCases.filter { $0 >= minLevel }.map(\.rawValue)))
        }
        if let source = filter.source, !source.isEmpty { q = q.where("source", .equal, SQLBind(source)) }
        if let text = filter.text, !text.isEmpty {
            q = q.where(SQLContains(column: "message", text: text))
        }
        struct Row: Decodable { var seq: Int; var at: Date; var level: String; var source: String; var message: String; var metadata: String }
        return try await q.orderBy("seq").limit(filter.limit).all(decoding: Row.self).map { r in
            let meta = (try? BundleValue.parseJSON(Data(r.metadata.utf8)))?.mapValue?.compactMapValues(\.stringValue) ?? [:]
            return TaskLogLine(seq: r.seq, at: r.at, level: LogLevel(rawValue: r.level) ?? .info, source: r.source, message: r.message, metadata: meta)
        }
    }
}

/// Per-environment concurrency on this node: at most `limit` running tasks touch one environment.
final class EnvironmentSlots: @unchecked Sendable {
    let limit: Int
    private let lock = NSLock()
    private var running: [String: Int] = [:]

    init(limit: Int) { self.limit = max(1, limit) }

    func tryAcquire(_ envs: [String]) -> Bool {
        lock.withLock {
            guard envs.allSatisfy({ running[$0, default: 0] < limit }) else { return false }
            for e in envs { running[e, default: 0] += 1 }
            return true
        }
    }

    func release(_ envs: [String]) {
        lock.withLock { for e in envs { running[e, default: 1] -= 1 } }
    }

    func count(_ env: String) -> Int { lock.withLock { running[env, default: 0] } }
}
