import Fluent
import Foundation
import SQLKit

/// The reports store: writes a finished task's report, lists reports with filters (newest
/// first, an index per filter), reads one, and applies their retention.
///
/// Access is the caller's to decide (`ReportFilter.visible`, and the stored environments of the
/// one report read), as for tasks: a report is visible when every environment its task touched
/// is. Environments are also kept one per row in `report_environments`, so both the access rule
/// and the environment filter are index lookups in SQL, never a scan in memory.
///
/// Preconditions: a SQL database (SQLite or PostgreSQL). Side effects: database reads and writes.
enum ReportService {
    /// The columns a list reads (not `details`, which only a single report needs).
    static let listColumns = ["id", "task_id", "plugin_id", "kind", "status", "outcome", "environment_ids", "title", "summary", "cause", "next_action",
                              "created_by", "started_at", "finished_at"]

    // MARK: Writing

    /// Builds the report of finished task `taskID` and stores it (replacing one already stored
    /// for that task: idempotent). Does nothing for a task that is missing or not finished.
    /// Returns the stored report.
    @discardableResult
    static func record(taskID: UUID, on db: any Database) async throws -> ReportRecord? {
        guard let task = try await TaskModel.find(taskID, on: db) else { return nil }
        let names = try await EnvironmentDirectory.load(on: db)
        guard let report = try await ReportBuilder.build(task, names: names, on: db) else { return nil }
        try await save(report, on: db)
        return report
    }

    /// Stores `report` and its environment rows in one transaction, replacing the report of the
    /// same task (a report's id is its task's id).
    static func save(_ report: ReportRecord, on db: any Database) async throws {
        try await db.writeTransaction { tx in
            let sql = TaskStore.sql(tx)
            // Replace, not upsert: the same on both stores whichever unique index a row meets first.
            try await sql.delete(from: "report_environments").where("report_id", .equal, SQLBind(report.id)).run()
            try await sql.delete(from: "reports").where("id", .equal, SQLBind(report.id)).run()
            try await sql.insert(into: "reports")
                .columns("id", "task_id", "plugin_id", "kind", "status", "outcome", "environment_ids", "title", "summary", "details", "cause",
                         "next_action", "created_by", "started_at", "finished_at")
                .values(SQLBind(report.id), SQLBind(report.taskID), SQLBind(report.pluginID), SQLBind(report.kind.rawValue), SQLBind(report.status.rawValue),
                        SQLBind(report.outcome?.rawValue), SQLBind(report.environmentIDs.map(\.key).joined(separator: ",")), SQLBind(report.title),
                        SQLBind(report.summary.stored), SQLBind((report.details ?? ReportDetails()).stored), SQLBind(report.cause), SQLBind(report.nextAction),
                        SQLBind(report.createdBy), SQLBind(report.startedAt), SQLBind(report.finishedAt))
                .run()
            if !report.environmentIDs.isEmpty {
                var insert = sql.insert(into: "report_environments").columns("report_id", "environment_id")
                for env in Set(report.environmentIDs) { insert = insert.values(SQLBind(report.id), SQLBind(env)) }
                try await insert.run()
            }
        }
    }

    // MARK: Reading

    /// What a list asks for. Every field is validated at the edge (`ReportsAPI`).
    struct Filter: Sendable, Equatable {
        var kind: ReportKind?
        var status: ReportStatus?
        /// Dashboard checks whose worst verdict is this.
        var outcome: HealthStatus?
        /// Reports whose task touched this environment.
        var environment: UUID?
        /// Finished at or after.
        var from: Date?
        /// Finished before.
        var to: Date?
        /// Title contains (case-insensitive, taken literally).
        var text: String?
        var limit = 50
        var offset = 0
        /// Only reports that name an environment and whose every environment is in it (the
        /// caller's readable ones); nil: all.
        var visible: Set<UUID>?

        static let maxLimit = 200
        static let maxOffset = 1_000_000
    }

    /// Reports matching `f`, newest first (`finished_at`, then id), and whether more follow.
    /// One indexed query: `ORDER BY finished_at DESC, id DESC LIMIT limit + 1`; no count.
    static func list(_ f: Filter, on db: any Database) async throws -> (items: [ReportRecord], hasMore: Bool) {
        let sql = TaskStore.sql(db)
        var q = sql.select().columns(listColumns.map { SQLColumn($0, table: "reports") as any SQLExpression }).from("reports")
        if let kind = f.kind { q = q.where(SQLColumn("kind", table: "reports"), .equal, SQLBind(kind.rawValue)) }
        if let status = f.status { q = q.where(SQLColumn("status", table: "reports"), .equal, SQLBind(status.rawValue)) }
        if let outcome = f.outcome { q = q.where(SQLColumn("outcome", table: "reports"), .equal, SQLBind(outcome.rawValue)) }
        if let from = f.from { q = q.where(SQLColumn("finished_at", table: "reports"), .greaterThanOrEqual, SQLBind(from)) }
        if let to = f.to { q = q.where(SQLColumn("finished_at", table: "reports"), .lessThan, SQLBind(to)) }
        if let text = f.text, !text.isEmpty { q = q.where(SQLContains(column: "title", text: text)) }
        if let env = f.environment {
            let touches: SQLQueryString = "EXISTS (SELECT 1 FROM report_environments e WHERE e.report_id = reports.id AND e.environment_id = \(bind: env))"
            q = q.where(touches)
        }
        if let visible = f.visible {
            // Every environment of the report is visible (none of its rows names another), and it
            // has one: a report of a task that touched no environment (a verification of backups,
            // a push) is only for those who may read every environment (`visible` nil).
            guard !visible.isEmpty else { return ([], false) }
            let ids: [any Encodable & Sendable] = visible.sorted { $0.uuidString < $1.uuidString }
            q = q.where("EXISTS (SELECT 1 FROM report_environments o WHERE o.report_id = reports.id)" as SQLQueryString)
            q = q.where("NOT EXISTS (SELECT 1 FROM report_environments v WHERE v.report_id = reports.id AND v.environment_id NOT IN (\(binds: ids)))" as SQLQueryString)
        }
        let limit = min(max(f.limit, 1), Filter.maxLimit)
        let rows = try await q.orderBy(SQLColumn("finished_at", table: "reports"), SQLDirection.descending)
            .orderBy(SQLColumn("id", table: "reports"), SQLDirection.descending)
            .limit(limit + 1).offset(min(max(f.offset, 0), Filter.maxOffset)).all(decoding: Row.self)
        let items = rows.prefix(limit).map { $0.record(withDetails: nil) }
        return (Array(items), rows.count > limit)
    }

    /// The report `id` (a task's id), with its details; nil when there is none.
    static func find(_ id: UUID, on db: any Database) async throws -> ReportRecord? {
        struct Full: Decodable {
            var row: Row
            var details: String?
            init(from decoder: any Decoder) throws {
                row = try Row(from: decoder)
                let c = try decoder.container(keyedBy: Key.self)
                details = try c.decodeIfPresent(String.self, forKey: .details)
            }
            enum Key: String, CodingKey { case details }
        }
        let full = try await TaskStore.sql(db).select().columns(listColumns + ["details"]).from("reports").where("id", .equal, SQLBind(id))
            .first(decoding: Full.self)
        return full.map { $0.row.record(withDetails: ReportDetails.parse($0.details)) }
    }

    /// Whether task `id` has a report (the task page links to it).
    static func exists(taskID id: UUID, on db: any Database) async throws -> Bool {
        try await TaskStore.sql(db).select().column("id").from("reports").where("task_id", .equal, SQLBind(id)).first() != nil
    }

    /// A stored row as the list reads it.
    struct Row: Decodable {
        var id: UUID
        var task_id: UUID
        var plugin_id: String
        var kind: String
        var status: String
        var outcome: String?
        var environment_ids: String
        var title: String
        var summary: String
        var cause: String?
        var next_action: String?
        var created_by: String
        var started_at: Date?
        var finished_at: Date

        func record(withDetails details: ReportDetails?) -> ReportRecord {
            ReportRecord(
                id: id, taskID: task_id, pluginID: plugin_id, kind: ReportKind(rawValue: kind) ?? .other, status: ReportStatus(rawValue: status) ?? .failed,
                outcome: outcome.flatMap(HealthStatus.init(rawValue:)),
                environmentIDs: environment_ids.split(separator: ",").compactMap { UUID(uuidString: String($0)) }, title: title,
                summary: ReportLine.parse(summary), details: details, cause: cause, nextAction: next_action, createdBy: created_by,
                startedAt: started_at, finishedAt: finished_at)
        }
    }

    // MARK: Retention

    /// Deletes the reports of tasks that finished before `cutoff`, and their environment rows,
    /// in batches. Returns how many were deleted.
    static func prune(before cutoff: Date, on db: any Database) async throws -> Int {
        var deleted = 0
        while true {
            struct IDRow: Decodable { var id: UUID }
            let ids = try await TaskStore.sql(db).select().column("id").from("reports").where("finished_at", .lessThan, SQLBind(cutoff))
                .orderBy("finished_at").limit(500).all(decoding: IDRow.self).map(\.id)
            guard !ids.isEmpty else { return deleted }
            try await db.writeTransaction { tx in
                let sql = TaskStore.sql(tx)
                try await sql.delete(from: "report_environments").where("report_id", .in, SQLBind.group(ids)).run()
                try await sql.delete(from: "reports").where("id", .in, SQLBind.group(ids)).run()
            }
            deleted += ids.count
            if ids.count < 500 { return deleted }
        }
    }
}
