import Fluent
import Foundation
import SQLKit
import SupersetKit

/// Turns a finished task into its report: the kind from its plugin (a `promote.apply` of a
/// backup's plan is a restore), typed details from the task's result and from what the task
/// names in the store (the promotion and its plan, the dashboard checks it stored, the policy),
/// a language-neutral title, and a summary line.
///
/// Every key of a result is optional: a task that failed before its result, or a plugin of
/// another version, gives a report with fewer facts, never an error. Reads only; writes nothing.
enum ReportBuilder {
    /// The report of `task`; nil while it hasn't finished. `names` gives the environments'
    /// names for the title (as they are now).
    static func build(_ task: TaskModel, names: EnvironmentDirectory, on db: any Database) async throws -> ReportRecord? {
        guard let id = task.id, let taskStatus = TaskStatus(rawValue: task.status), let status = ReportStatus(taskStatus) else { return nil }
        let params = (try? BundleValue.parseJSON(task.params)) ?? .map([:])
        let result = task.result.flatMap { try? BundleValue.parseJSON($0) }
        let facts = Facts(task: task, status: status, params: params, result: result, names: names)
        var built: Built
        switch ReportKind.of(plugin: task.pluginID) {
        case .promotion, .restore: built = try await promotion(facts, on: db)
        case .plan: built = try await plan(facts, on: db)
        case .rollback: built = try await rollback(facts, on: db)
        case .backup: built = backup(facts)
        case .dashboardCheck: built = try await dashboardCheck(facts, taskID: id, on: db)
        case .sync: built = sync(facts)
        case .git: built = git(facts)
        case .other: built = generic(facts)
        }
        // However the details read, an unfinished task's line says how it ended.
        switch status {
        case .failed: built.summary = ReportLine(.failed, ["step": task.step])
        case .interrupted: built.summary = ReportLine(.interrupted, ["step": task.step])
        case .cancelled: built.summary = ReportLine(.cancelled, ["step": task.step])
        case .succeeded, .partial: break
        }
        let envNames = task.environmentIDs.map(names.name)
        if built.title.isEmpty { built.title = envNames.isEmpty ? task.pluginID : "\(task.pluginID) · \(envNames.joined(separator: ", "))" }
        return ReportRecord(
            id: id, taskID: id, pluginID: task.pluginID, kind: built.kind, status: status, outcome: built.outcome,
            environmentIDs: task.environmentIDs, title: cut(built.title, ReportRecord.maxTitle), summary: built.summary, details: built.details,
            cause: task.error.map { cut($0, ReportRecord.maxCause) }, nextAction: task.nextAction.map { cut($0, ReportRecord.maxCause) },
            createdBy: task.createdBy, startedAt: task.startedAt, finishedAt: task.finishedAt ?? task.startedAt ?? task.createdAt)
    }

    /// What every kind's builder reads.
    struct Facts {
        var task: TaskModel
        var status: ReportStatus
        var params: BundleValue
        var result: BundleValue?
        var names: EnvironmentDirectory

        func int(_ key: String) -> Int? { result?[key]?.intValue }
        func int64(_ key: String) -> Int64? { result?[key]?.intValue.map(Int64.init) }
        func string(_ key: String) -> String? { result?[key]?.stringValue }
        func bool(_ key: String) -> Bool? { result?[key]?.boolValue }
        func uuid(_ key: String) -> UUID? { result?[key]?.stringValue.flatMap(UUID.init(uuidString:)) }
        func param(_ key: String) -> UUID? { params[key]?.stringValue.flatMap(UUID.init(uuidString:)) }
        /// The task's first environment (the one of single-environment plugins).
        var environment: UUID? { task.environmentIDs.first }
        func name(_ id: UUID?) -> String { id.map(names.name) ?? "?" }
    }

    /// A kind's part of the report.
    struct Built {
        var kind: ReportKind
        var title = ""
        var summary = ReportLine(.unknown)
        var details = ReportDetails()
        var outcome: HealthStatus?
    }

    static func cut(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

    /// "Sales, Orders, Revenue, …": a few names for a title.
    static func few(_ names: [String], _ n: Int = 3) -> String {
        names.prefix(n).joined(separator: ", ") + (names.count > n ? ", …" : "")
    }

    // MARK: - Promotions, restores, plans, rollbacks

    /// The columns of a plan a report needs (not its bundle, which can be large).
    struct PlanRow: Decodable {
        var source_env_id: UUID
        var target_env_id: UUID
        var scope: String
        var items: String?
        var source_backup_id: UUID?
        var source_revision: String?

        var origin: PromotionOrigin { source_backup_id != nil ? .backup : source_revision != nil ? .revision : .environment }
        var planItems: [PlanItem] { items.flatMap { try? JSONDecoder().decode([PlanItem].self, from: Data($0.utf8)) } ?? [] }
    }

    struct PromotionRow: Decodable {
        var plan_id: UUID
        var source_env_id: UUID
        var target_env_id: UUID
    }

    static func planRow(_ id: UUID?, on db: any Database) async throws -> PlanRow? {
        guard let id else { return nil }
        return try await TaskStore.sql(db).select().columns("source_env_id", "target_env_id", "scope", "items", "source_backup_id", "source_revision")
            .from("promotion_plans").where("id", .equal, SQLBind(id)).first(decoding: PlanRow.self)
    }

    static func promotionRow(_ id: UUID?, on db: any Database) async throws -> PromotionRow? {
        guard let id else { return nil }
        return try await TaskStore.sql(db).select().columns("plan_id", "source_env_id", "target_env_id")
            .from("promotions").where("id", .equal, SQLBind(id)).first(decoding: PromotionRow.self)
    }

    static func backupTime(_ id: UUID?, on db: any Database) async throws -> Date? {
        guard let id else { return nil }
        struct Row: Decodable { var created_at: Date }
        return try await TaskStore.sql(db).select().column("created_at").from("backups").where("id", .equal, SQLBind(id)).first(decoding: Row.self)?.created_at
    }

    /// "dev → prod", "dev 2026-01-02 03:04 UTC → prod" (a backup), "dev@1a2b3c4d → prod" (a revision).
    static func route(_ f: Facts, source: UUID?, target: UUID?, origin: PromotionOrigin?, backupTime: Date?, revision: String?) -> String {
        var from = f.name(source)
        if origin == .backup, let backupTime { from += " " + timeText(backupTime) }
        if origin == .revision, let revision { from += "@" + String(revision.prefix(8)) }
        return "\(from) → \(f.name(target))"
    }

    static func timeText(_ date: Date) -> String {
        let fmt = DateFormatter()
        fmt.locale = Locale(identifier: "en_US_POSIX")
        fmt.timeZone = TimeZone(identifier: "UTC")
        fmt.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return fmt.string(from: date)
    }

    static func promotion(_ f: Facts, on db: any Database) async throws -> Built {
        let promotionID = f.uuid("promotion") ?? f.param("promotion")
        let stored = try await promotionRow(promotionID, on: db)
        let plan = try await planRow(stored?.plan_id, on: db)
        let origin = plan?.origin
        // The task touches [source, target]: what it names is read from there when the rows are gone.
        var r = PromotionReport(promotionId: promotionID, planId: stored?.plan_id, sourceId: stored?.source_env_id ?? plan?.source_env_id ?? f.task.environmentIDs.first,
                                targetId: stored?.target_env_id ?? plan?.target_env_id ?? f.task.environmentIDs.last, origin: origin, backupId: plan?.source_backup_id,
                                revision: plan?.source_revision, scope: plan?.scope)
        r.backupCreatedAt = try await backupTime(plan?.source_backup_id, on: db)
        let items = plan?.planItems ?? []
        if plan?.items != nil {
            r.created = items.filter { $0.action == .create }.count
            r.updated = items.filter { $0.action == .update }.count
            r.unchanged = items.filter { $0.action == .unchanged }.count
            r.conflicts = items.filter { $0.action == .conflict }.count
        }
        r.imported = f.int("imported")
        let verification = f.result?["report"]
        r.chartsChecked = verification?["chartsChecked"]?.intValue
        r.chartsFailed = verification?["chartsFailed"]?.intValue
        r.verified = verification?["passed"]?.boolValue
        let dashboards = verification?["dashboards"]?.listValue ?? []
        r.dashboards = dashboards.prefix(PromotionReport.maxDashboards).map { d in
            let charts = d["charts"]?.listValue
            return PromotionReport.VerifiedDashboard(
                uuid: d["uuid"]?.stringValue ?? "", title: d["title"]?.stringValue ?? d["uuid"]?.stringValue ?? "?", targetId: d["targetId"]?.intValue,
                passed: d["pass"]?.boolValue ?? false,
                reasons: (d["reasons"]?.listValue ?? []).prefix(10).compactMap(\.stringValue).map { cut($0, 500) },
                charts: charts?.count, chartsFailed: charts.map { $0.filter { $0["error"] != nil }.count })
        }
        if dashboards.count > PromotionReport.maxDashboards { r.dashboardsOmitted = dashboards.count - PromotionReport.maxDashboards }
        r.gitCommit = f.result?["git"]?["commit"]?.stringValue
        let kind: ReportKind = origin == .backup ? .restore : .promotion
        var b = Built(kind: kind)
        let titles = items.filter { $0.kind == .dashboard }.map(\.name)
        let titleNames = titles.isEmpty ? r.dashboards.map(\.title) : titles
        b.title = route(f, source: r.sourceId, target: r.targetId, origin: origin, backupTime: r.backupCreatedAt, revision: r.revision)
            + (titleNames.isEmpty ? "" : ": " + few(titleNames))
        b.summary = ReportLine(kind == .restore ? ReportSummaryKey.restore : .promotion, [
            "dashboards": String(r.imported ?? 0), "target": f.name(r.targetId),
            "charts": String(r.chartsChecked ?? 0), "failed": String(r.chartsFailed ?? 0),
        ])
        b.details.promotion = r
        return b
    }

    static func plan(_ f: Facts, on db: any Database) async throws -> Built {
        let planID = f.uuid("plan") ?? f.param("plan")
        let stored = try await planRow(planID, on: db)
        let items = stored?.planItems ?? []
        var r = PlanReport(planId: planID, sourceId: stored?.source_env_id ?? f.task.environmentIDs.first, targetId: stored?.target_env_id ?? f.task.environmentIDs.last,
                           origin: stored?.origin,
                           backupId: stored?.source_backup_id, revision: stored?.source_revision, scope: stored?.scope)
        let hasItems = stored?.items != nil
        r.create = f.int("create") ?? (hasItems ? items.filter { $0.action == .create }.count : nil)
        r.update = f.int("update") ?? (hasItems ? items.filter { $0.action == .update }.count : nil)
        r.unchanged = f.int("unchanged") ?? (hasItems ? items.filter { $0.action == .unchanged }.count : nil)
        r.conflict = f.int("conflict") ?? (hasItems ? items.filter { $0.action == .conflict }.count : nil)
        r.blocking = f.int("blocking") ?? (hasItems ? items.filter(\.blocking).count : nil)
        r.conflicts = items.filter { $0.action == .conflict }.prefix(PlanReport.maxConflicts).map {
            PlanReport.Conflict(kind: $0.kind.rawValue, name: $0.name, blocking: $0.blocking, reasons: $0.reasons.prefix(5).map { cut($0, 500) })
        }
        var b = Built(kind: .plan)
        let backupAt = try await backupTime(r.backupId, on: db)
        let titles = items.filter { $0.kind == .dashboard }.map(\.name)
        b.title = route(f, source: r.sourceId, target: r.targetId, origin: r.origin, backupTime: backupAt, revision: r.revision)
            + (titles.isEmpty ? "" : ": " + few(titles))
        b.summary = ReportLine(.plan, [
            "create": String(r.create ?? 0), "update": String(r.update ?? 0), "unchanged": String(r.unchanged ?? 0), "conflict": String(r.conflict ?? 0),
        ])
        b.details.plan = r
        return b
    }

    static func rollback(_ f: Facts, on db: any Database) async throws -> Built {
        let promotionID = f.param("promotion")
        let stored = try await promotionRow(promotionID, on: db)
        let plan = try await planRow(stored?.plan_id, on: db)
        let r = RollbackReport(promotionId: promotionID, targetId: stored?.target_env_id ?? f.environment, restored: f.int("restored"),
                               deleted: f.int("deleted"), deleteCreated: f.params["deleteCreated"]?.boolValue)
        var b = Built(kind: .rollback)
        let titles = (plan?.planItems ?? []).filter { $0.kind == .dashboard }.map(\.name)
        b.title = f.name(r.targetId) + (titles.isEmpty ? "" : ": " + few(titles))
        b.summary = ReportLine(.rollback, ["restored": String(r.restored ?? 0), "deleted": String(r.deleted ?? 0), "target": f.name(r.targetId)])
        b.details.rollback = r
        return b
    }

    // MARK: - Backups

    static func backup(_ f: Facts) -> Built {
        let operation = BackupOperation.of(plugin: f.task.pluginID) ?? .run
        var r = BackupReport(operation: operation, environmentId: f.uuid("environment") ?? f.param("environment") ?? f.environment)
        var b = Built(kind: .backup)
        switch operation {
        case .run:
            r.backupId = f.uuid("backup")
            r.full = f.bool("full") ?? f.params["full"]?.boolValue
            r.assets = f.int("assets")
            r.newAssets = f.int("newAssets")
            r.exported = f.int("exported")
            r.totalBytes = f.int64("totalBytes")
            r.newBytes = f.int64("newBytes")
            r.gitCommit = f.result?["git"]?["commit"]?.stringValue
            b.title = f.name(r.environmentId)
            b.summary = ReportLine(r.full == true ? .backupFull : .backupIncremental,
                                   ["assets": String(r.assets ?? 0), "new": String(r.newAssets ?? 0)], bytes: ["bytes": r.newBytes ?? 0])
        case .verify:
            r.environmentId = nil
            r.checked = f.int("checked")
            r.blobs = f.int("blobs")
            r.corrupt = f.int("corrupt")
            r.missing = f.int("missing")
            let backups = f.result?["backups"]?.listValue ?? []
            r.corruptBackups = backups.filter { $0["status"]?.stringValue == BackupVerifyStatus.corrupt.rawValue }.prefix(BackupReport.maxCorrupt)
                .compactMap { row -> BackupReport.CorruptBackup? in
                    guard let id = row["backup"]?.stringValue.flatMap(UUID.init(uuidString:)) else { return nil }
                    let problems = (row["problems"]?.listValue ?? []).prefix(5).map { p in
                        [p["kind"]?.stringValue, p["name"]?.stringValue.map { "'\($0)'" }, p["problem"]?.stringValue].compactMap { $0 }.joined(separator: " ")
                    }
                    return BackupReport.CorruptBackup(backupId: id, problems: problems)
                }
            let one = f.params["backup"]?.stringValue
            b.title = one.map { "backup.verify · \($0.prefix(8))" } ?? "backup.verify"
            b.summary = ReportLine(.backupVerify, ["checked": String(r.checked ?? 0), "corrupt": String(r.corrupt ?? 0)])
        case .retention:
            r.environmentId = nil
            r.deleted = f.int("deleted")
            r.blobsRemoved = f.int("blobsRemoved")
            r.bytesFreed = f.int64("bytesFreed")
            r.manifestsRemoved = f.int("manifestsRemoved")
            b.title = "backup.retention"
            b.summary = ReportLine(.backupRetention, ["deleted": String(r.deleted ?? 0), "blobs": String(r.blobsRemoved ?? 0)],
                                   bytes: ["bytes": r.bytesFreed ?? 0])
        }
        b.details.backup = r
        return b
    }

    // MARK: - Dashboard checks

    static func dashboardCheck(_ f: Facts, taskID: UUID, on db: any Database) async throws -> Built {
        let sql = TaskStore.sql(db)
        var r = DashboardCheckReport(environmentId: f.environment)
        if f.task.pluginID == HealthPolicyPlugin.pluginID {
            r.policyId = f.uuid("policy") ?? f.param("policy")
            if let id = r.policyId {
                struct PolicyRow: Decodable { var name: String }
                r.policyName = try await sql.select().column("name").from("health_policies").where("id", .equal, SQLBind(id)).first(decoding: PolicyRow.self)?.name
            }
            r.notified = f.int("notified")
            r.notificationsFailed = f.int("notificationsFailed")
        }
        r.rendered = f.bool("rendered")
        // The stored checks are the truth (a check cut short stored some); the result says the same when there is one.
        struct Count: Decodable { var status: String; var n: Int }
        let counts = try await sql.raw("SELECT status, COUNT(*) AS n FROM dashboard_checks WHERE task_id = \(bind: taskID) GROUP BY status")
            .all(decoding: Count.self)
        var byStatus: [HealthStatus: Int] = [:]
        for c in counts { if let s = HealthStatus(rawValue: c.status) { byStatus[s, default: 0] += c.n } }
        let stored = byStatus.values.reduce(0, +)
        if stored > 0 {
            r.dashboards = stored
            r.fail = byStatus[.fail] ?? 0
            r.warn = byStatus[.warn] ?? 0
            r.pass = byStatus[.pass] ?? 0
        } else {
            r.dashboards = f.int("dashboards") ?? f.int("checked")
            r.fail = f.int("fail")
            r.warn = f.int("warn")
            let (fail, warn) = (r.fail ?? 0, r.warn ?? 0)
            r.pass = f.int("pass") ?? r.dashboards.map { max(0, $0 - fail - warn) }
        }
        struct CheckRow: Decodable { var id: UUID; var dashboard_id: Int; var title: String; var status: String; var issues: String }
        var worst: [DashboardCheckReport.CheckedDashboard] = []
        for status in [HealthStatus.fail, .warn] where worst.count < DashboardCheckReport.maxWorst {
            let rows = try await sql.select().columns("id", "dashboard_id", "title", "status", "issues").from("dashboard_checks")
                .where("task_id", .equal, SQLBind(taskID)).where("status", .equal, SQLBind(status.rawValue))
                .orderBy("title").orderBy("id").limit(DashboardCheckReport.maxWorst - worst.count).all(decoding: CheckRow.self)
            for row in rows {
                let issues = (try? JSONDecoder().decode([HealthIssue].self, from: Data(row.issues.utf8))) ?? []
                let first = issues.first.map { i in (i.chart.map { "\($0): " } ?? "") + i.message }
                worst.append(.init(checkId: row.id, dashboardId: row.dashboard_id, title: row.title, status: status, issues: issues.count,
                                   firstIssue: first.map { cut($0, 300) }))
            }
        }
        r.worst = worst
        var b = Built(kind: .dashboardCheck)
        if (r.fail ?? 0) > 0 { b.outcome = .fail } else if (r.warn ?? 0) > 0 { b.outcome = .warn } else if (r.dashboards ?? 0) > 0 { b.outcome = .pass }
        b.title = f.name(r.environmentId) + (r.policyName.map { " · \($0)" } ?? "")
        b.summary = (r.dashboards ?? 0) == 0 ? ReportLine(.dashboardCheckNone) : ReportLine(.dashboardCheck, [
            "dashboards": String(r.dashboards ?? 0), "pass": String(r.pass ?? 0), "warn": String(r.warn ?? 0), "fail": String(r.fail ?? 0),
        ])
        b.details.dashboardCheck = r
        return b
    }

    // MARK: - Syncs, git, the rest

    static func sync(_ f: Facts) -> Built {
        let counts = f.result?["counts"]
        let r = SyncReport(environmentId: f.param("environment") ?? f.environment, dashboards: counts?[AssetKind.dashboard.rawValue]?.intValue,
                           charts: counts?[AssetKind.chart.rawValue]?.intValue, datasets: counts?[AssetKind.dataset.rawValue]?.intValue,
                           databases: counts?[AssetKind.database.rawValue]?.intValue)
        var b = Built(kind: .sync)
        b.title = f.name(r.environmentId)
        b.summary = ReportLine(.sync, [
            "dashboards": String(r.dashboards ?? 0), "charts": String(r.charts ?? 0), "datasets": String(r.datasets ?? 0), "databases": String(r.databases ?? 0),
        ])
        b.details.sync = r
        return b
    }

    static func git(_ f: Facts) -> Built {
        guard let operation = GitOperation.of(plugin: f.task.pluginID) else { return generic(f) }
        var r = GitReport(operation: operation, environmentId: f.uuid("environment") ?? f.param("environment") ?? f.environment)
        var b = Built(kind: .git)
        switch operation {
        case .snapshot:
            let git = f.result?["git"]
            r.backupId = f.uuid("backup")
            r.commit = git?["commit"]?.stringValue
            r.changed = git?["changed"]?.intValue
            r.added = git?["added"]?.intValue
            r.removed = git?["removed"]?.intValue
            r.pushed = git?["pushed"]?.boolValue
            r.pushError = git?["pushError"]?.stringValue.map { cut($0, 500) }
            b.title = "git.snapshot · " + f.name(r.environmentId)
            b.summary = r.commit == nil ? ReportLine(.gitUnchanged) : ReportLine(.gitCommit, [
                "commit": String((r.commit ?? "").prefix(12)), "changed": String(r.changed ?? 0), "added": String(r.added ?? 0), "removed": String(r.removed ?? 0),
            ])
        case .drift:
            r.inSync = f.int("inSync")
            r.drifted = f.int("changed")
            r.uncommitted = f.int("uncommitted")
            r.deletedDashboards = f.int("deleted")
            r.driftedDashboards = (f.result?["changedDashboards"]?.listValue ?? []).prefix(100).compactMap(\.stringValue)
            b.title = "git.drift · " + f.name(r.environmentId)
            b.summary = ReportLine(.gitDrift, ["in_sync": String(r.inSync ?? 0), "changed": String(r.drifted ?? 0), "uncommitted": String(r.uncommitted ?? 0)])
        case .push:
            r.environmentId = nil
            r.commit = f.string("commit")
            r.branch = f.string("branch")
            b.title = "git.push" + (r.branch.map { " · \($0)" } ?? "")
            b.summary = ReportLine(.gitPush, ["commit": String((r.commit ?? "").prefix(12)), "branch": r.branch ?? "?"])
        case .pull:
            r.environmentId = nil
            r.pullResult = f.string("result").flatMap(GitPullResult.init(rawValue:))
            r.commit = f.string("commit")
            r.resolved = f.int("resolved")
            b.title = "git.pull"
            let key: ReportSummaryKey = switch r.pullResult {
            case .remoteEmpty?: .gitPullRemoteEmpty
            case .upToDate?: .gitPullUpToDate
            case .fastForward?: .gitPullFastForward
            case .merged?: .gitPullMerged
            case .aborted?: .gitPullAborted
            case nil: .gitPull
            }
            b.summary = ReportLine(key, ["commit": String((r.commit ?? "").prefix(12)), "resolved": String(r.resolved ?? 0)])
        }
        b.details.git = r
        return b
    }

    static func generic(_ f: Facts) -> Built {
        var rows: [GenericReport.Row] = []
        func flatten(_ value: BundleValue, _ key: String) {
            switch value {
            case .map(let m):
                if m.isEmpty { rows.append(.init(key: key, value: "{}")) }
                for (k, v) in m.sorted(by: { $0.key < $1.key }) { flatten(v, key.isEmpty ? k : "\(key).\(k)") }
            case .list(let l):
                let scalars = l.compactMap { v -> String? in
                    switch v {
                    case .string(let s): return s
                    case .int(let i): return String(i)
                    case .double(let d): return String(d)
                    case .bool(let b): return String(b)
                    default: return nil
                    }
                }
                rows.append(.init(key: key, value: scalars.count == l.count ? cut(scalars.joined(separator: ", "), 500) : "[\(l.count)]"))
            case .string(let s): rows.append(.init(key: key, value: cut(s, 500)))
            case .int(let i): rows.append(.init(key: key, value: String(i)))
            case .double(let d): rows.append(.init(key: key, value: String(d)))
            case .bool(let b): rows.append(.init(key: key, value: String(b)))
            case .null: rows.append(.init(key: key, value: "null"))
            }
        }
        if let result = f.result { flatten(result, "") }
        // Environment ids in the result read as the environments' names.
        rows = rows.map { row -> GenericReport.Row in
            guard let id = UUID(uuidString: row.value), f.names.byID[id] != nil else { return row }
            return .init(key: row.key, value: f.names.name(id))
        }
        var r = GenericReport(rows: Array(rows.prefix(GenericReport.maxRows)))
        if rows.count > GenericReport.maxRows { r.omitted = rows.count - GenericReport.maxRows }
        var b = Built(kind: .other)
        b.summary = ReportLine(.generic, ["plugin": f.task.pluginID])
        b.details.generic = r
        return b
    }
}
