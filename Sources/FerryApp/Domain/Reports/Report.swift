import Foundation
import SupersetKit

/// A report: what one finished task did, typed by its kind. Row of `reports` (plus its rows of
/// `report_environments`); written once by `ReportService.record` when the task ends, kept after
/// the task itself is pruned (`FERRY_REPORTS_RETENTION_DAYS`).
///
/// Invariants: `id` is the task's id (one report per task); `environmentIDs` are the task's, so
/// whoever may read the task may read its report; `details` holds exactly the member of its
/// kind (`ReportDetails`), every field optional (a task that failed early, or a plugin of another
/// version, leaves some out).
struct ReportRecord: Sendable, Equatable {
    var id: UUID
    var taskID: UUID
    var pluginID: String
    var kind: ReportKind
    var status: ReportStatus
    /// Dashboard checks only: the worst verdict of the dashboards checked.
    var outcome: HealthStatus?
    var environmentIDs: [UUID]
    /// Language-neutral: environment names, dashboard titles, plugin ids (searched by `q`).
    var title: String
    var summary: ReportLine
    /// Nil in lists (only a single report reads them).
    var details: ReportDetails?
    /// The task's error (failed, interrupted) and what to do about it, as the task recorded them.
    var cause: String?
    var nextAction: String?
    var createdBy: String
    var startedAt: Date?
    var finishedAt: Date

    /// Longest stored title and cause (longer ones are cut with "…").
    static let maxTitle = 300
    static let maxCause = 2000
}

/// One line of text stored as its catalogue key and arguments, so each reader sees it in their
/// own language. Arguments in `bytes` are byte counts, shown as sizes.
struct ReportLine: Codable, Sendable, Equatable {
    var key: ReportSummaryKey
    var args: [String: String] = [:]
    var bytes: [String: Int64] = [:]

    init(_ key: ReportSummaryKey, _ args: [String: String] = [:], bytes: [String: Int64] = [:]) {
        self.key = key
        self.args = args
        self.bytes = bytes
    }

    /// The line in `l`'s language.
    func text(_ l: Localizer) -> String {
        var all = args
        for (name, n) in bytes { all[name] = Self.size(n, l) }
        // A task's step is kept in English; the reader's language shows it in theirs.
        if let step = all["step"] { all["step"] = l.step(step) }
        return l.t("report.summary.\(key.rawValue)", all)
    }

    /// A byte count for people (`Localizer.byteSize`).
    static func size(_ bytes: Int64, _ l: Localizer) -> String { l.byteSize(bytes) }

    /// The stored JSON text.
    var stored: String { String(decoding: (try? JSONEncoder.sorted.encode(self)) ?? Data(), as: UTF8.self) }

    /// A stored line; one that can't be read (another version's key) says only how the task ended.
    static func parse(_ text: String) -> ReportLine {
        (try? JSONDecoder().decode(ReportLine.self, from: Data(text.utf8))) ?? ReportLine(.unknown)
    }
}

/// The summary lines a report can have (`report.summary.<raw value>` in the catalogue).
enum ReportSummaryKey: String, Codable, Sendable, CaseIterable {
    case failed, cancelled, interrupted, unknown
    case promotion, restore, plan, rollback
    case backupFull = "backup_full", backupIncremental = "backup_incremental", backupVerify = "backup_verify", backupRetention = "backup_retention"
    case dashboardCheck = "dashboard_check", dashboardCheckNone = "dashboard_check_none"
    case sync
    case gitCommit = "git_commit", gitUnchanged = "git_unchanged", gitDrift = "git_drift", gitPush = "git_push"
    case gitPullRemoteEmpty = "git_pull_remote_empty", gitPullUpToDate = "git_pull_up_to_date", gitPullFastForward = "git_pull_fast_forward"
    case gitPullMerged = "git_pull_merged", gitPullAborted = "git_pull_aborted", gitPull = "git_pull"
    case generic
}

/// The typed part of a report: exactly the member of the report's kind is set.
struct ReportDetails: Codable, Sendable, Equatable {
    var promotion: PromotionReport?
    var plan: PlanReport?
    var rollback: RollbackReport?
    var backup: BackupReport?
    var dashboardCheck: DashboardCheckReport?
    var sync: SyncReport?
    var git: GitReport?
    var generic: GenericReport?

    /// The stored JSON text.
    var stored: String { String(decoding: (try? JSONEncoder.sorted.encode(self)) ?? Data("{}".utf8), as: UTF8.self) }

    /// Stored details; unreadable ones (another version's shape) read as none.
    static func parse(_ text: String?) -> ReportDetails? {
        guard let text else { return nil }
        return try? JSONDecoder.reportStore.decode(ReportDetails.self, from: Data(text.utf8))
    }
}

/// A promotion or a restore (`promote.apply`): where from and to, what the plan said it would do,
/// what was imported, and the verification of every dashboard on the target.
struct PromotionReport: Codable, Sendable, Equatable {
    var promotionId: UUID?
    var planId: UUID?
    var sourceId: UUID?
    var targetId: UUID?
    var origin: PromotionOrigin?
    /// A restore's backup, and when it was taken.
    var backupId: UUID?
    var backupCreatedAt: Date?
    /// A deploy's revision of the git history.
    var revision: String?
    /// `dashboards` or `cascade`.
    var scope: String?
    /// The plan's verdicts: assets created, updated, left unchanged, in conflict.
    var created: Int?
    var updated: Int?
    var unchanged: Int?
    var conflicts: Int?
    /// Dashboards imported into the target.
    var imported: Int?
    var chartsChecked: Int?
    var chartsFailed: Int?
    /// Whether every dashboard and chart passed verification.
    var verified: Bool?
    var dashboards: [VerifiedDashboard] = []
    /// Dashboards left out of `dashboards` (at most `maxDashboards` are kept).
    var dashboardsOmitted: Int?
    /// The commit recording the target's new state in the git history.
    var gitCommit: String?

    static let maxDashboards = 500

    struct VerifiedDashboard: Codable, Sendable, Equatable {
        var uuid: String
        var title: String
        /// The dashboard's id on the target.
        var targetId: Int?
        var passed: Bool
        /// Why it failed (at most 10).
        var reasons: [String] = []
        var charts: Int?
        var chartsFailed: Int?
    }
}

/// A plan (`promote.plan`): what applying it would do.
struct PlanReport: Codable, Sendable, Equatable {
    var planId: UUID?
    var sourceId: UUID?
    var targetId: UUID?
    var origin: PromotionOrigin?
    var backupId: UUID?
    var revision: String?
    var scope: String?
    var create: Int?
    var update: Int?
    var unchanged: Int?
    var conflict: Int?
    var blocking: Int?
    /// The plan's conflicts (at most `maxConflicts`).
    var conflicts: [Conflict] = []

    static let maxConflicts = 100

    struct Conflict: Codable, Sendable, Equatable {
        /// `AssetKind` raw value.
        var kind: String
        var name: String
        var blocking: Bool
        var reasons: [String] = []
    }
}

/// A rollback (`promote.rollback`).
struct RollbackReport: Codable, Sendable, Equatable {
    var promotionId: UUID?
    var targetId: UUID?
    /// Assets restored from the promotion's snapshot.
    var restored: Int?
    /// Assets the promotion had created, deleted on request.
    var deleted: Int?
    var deleteCreated: Bool?
}

/// A backup, a verification of backups, or retention.
struct BackupReport: Codable, Sendable, Equatable {
    var operation: BackupOperation
    var environmentId: UUID?
    // run
    var backupId: UUID?
    var full: Bool?
    var assets: Int?
    var newAssets: Int?
    var exported: Int?
    var totalBytes: Int64?
    var newBytes: Int64?
    var gitCommit: String?
    // verify
    var checked: Int?
    var blobs: Int?
    var corrupt: Int?
    var missing: Int?
    /// The corrupt backups and their first problems (at most `maxCorrupt`).
    var corruptBackups: [CorruptBackup] = []
    // retention
    var deleted: Int?
    var blobsRemoved: Int?
    var bytesFreed: Int64?
    var manifestsRemoved: Int?

    static let maxCorrupt = 50

    struct CorruptBackup: Codable, Sendable, Equatable {
        var backupId: UUID
        /// "kind 'name' is missing" and the like (at most 5).
        var problems: [String] = []
    }
}

/// A dashboard check or a policy's run: how many dashboards and their verdicts, and the worst
/// of them, each linking to its check.
struct DashboardCheckReport: Codable, Sendable, Equatable {
    var environmentId: UUID?
    /// A policy's run: the policy (its name as it was then).
    var policyId: UUID?
    var policyName: String?
    var dashboards: Int?
    var pass: Int?
    var warn: Int?
    var fail: Int?
    var rendered: Bool?
    var notified: Int?
    var notificationsFailed: Int?
    /// FAIL first, then WARN (at most `maxWorst`).
    var worst: [CheckedDashboard] = []

    static let maxWorst = 20

    struct CheckedDashboard: Codable, Sendable, Equatable {
        /// The `dashboard_checks` row: `/health/checks/<checkId>`.
        var checkId: UUID
        var dashboardId: Int
        var title: String
        var status: HealthStatus
        var issues: Int
        /// The first issue's words.
        var firstIssue: String?
    }
}

/// An inventory sync: the assets read per kind.
struct SyncReport: Codable, Sendable, Equatable {
    var environmentId: UUID?
    var dashboards: Int?
    var charts: Int?
    var datasets: Int?
    var databases: Int?
}

/// A git snapshot, drift check, push or pull.
struct GitReport: Codable, Sendable, Equatable {
    var operation: GitOperation
    var environmentId: UUID?
    var backupId: UUID?
    var commit: String?
    var branch: String?
    /// Files of dashboards changed, added and removed by the commit.
    var changed: Int?
    var added: Int?
    var removed: Int?
    var pushed: Bool?
    var pushError: String?
    var pullResult: GitPullResult?
    var resolved: Int?
    // drift
    var inSync: Int?
    var drifted: Int?
    var uncommitted: Int?
    var deletedDashboards: Int?
    /// Titles of the dashboards changed in Superset since their last commit (at most 100).
    var driftedDashboards: [String] = []
}

/// Any other task: its result as key/value rows (nested keys joined with dots).
struct GenericReport: Codable, Sendable, Equatable {
    var rows: [Row] = []
    /// Rows left out (at most `maxRows` are kept).
    var omitted: Int?

    static let maxRows = 100

    struct Row: Codable, Sendable, Equatable {
        var key: String
        var value: String
    }
}

/// A report as the API returns it. `summary` is in the request's language; `details` only in
/// `GET /api/reports/{id}`.
struct ReportDTO: Codable, Sendable, Equatable {
    var id: UUID
    var taskId: UUID
    var plugin: String
    var kind: ReportKind
    var status: ReportStatus
    var outcome: HealthStatus?
    var environmentIds: [UUID]
    /// Their current names, in the same order.
    var environments: [String]
    var title: String
    var summary: String
    var cause: String?
    var nextAction: String?
    var createdBy: String
    var startedAt: Date?
    var finishedAt: Date
    var details: ReportDetails?
}

extension ReportDTO {
    /// The record for a reader of language `l`. A partial report, or a dashboard check that
    /// found FAIL or WARN, has no task error: its cause and next action are the catalogue's
    /// advice for that case.
    init(_ r: ReportRecord, names: EnvironmentDirectory, localizer l: Localizer, withDetails: Bool) {
        var cause = r.cause, next = r.nextAction
        if cause == nil, let advice = ReportAdvice.of(kind: r.kind, status: r.status, outcome: r.outcome) {
            cause = l.t("report.advice.\(advice.rawValue).cause")
            next = l.t("report.advice.\(advice.rawValue).next")
        }
        self.init(id: r.id, taskId: r.taskID, plugin: r.pluginID, kind: r.kind, status: r.status, outcome: r.outcome,
                  environmentIds: r.environmentIDs, environments: r.environmentIDs.map(names.name), title: r.title,
                  summary: r.summary.text(l), cause: cause, nextAction: next, createdBy: r.createdBy, startedAt: r.startedAt,
                  finishedAt: r.finishedAt, details: withDetails ? r.details : nil)
    }
}

/// The catalogue's cause and next action for a report whose task recorded none but that still
/// needs attention (`report.advice.<raw value>.cause|next`).
enum ReportAdvice: String, CaseIterable, Sendable {
    /// A promotion or restore whose verification failed.
    case unverified
    /// A verification that found corrupt backups.
    case corrupt
    /// A dashboard check with FAIL or WARN dashboards.
    case checkFail = "check_fail"
    case checkWarn = "check_warn"
    /// Any other partial end.
    case partial

    static func of(kind: ReportKind, status: ReportStatus, outcome: HealthStatus?) -> ReportAdvice? {
        if kind == .dashboardCheck, status == .succeeded || status == .partial {
            switch outcome {
            case .fail?: return .checkFail
            case .warn?: return .checkWarn
            default: break
            }
        }
        guard status == .partial else { return nil }
        switch kind {
        case .promotion, .restore: return .unverified
        case .backup: return .corrupt
        default: return .partial
        }
    }
}

extension JSONEncoder {
    /// Sorted keys and ISO 8601 dates: stored JSON that is the same for the same value.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }
}

extension JSONDecoder {
    /// Reads what `JSONEncoder.sorted` wrote.
    static var reportStore: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
