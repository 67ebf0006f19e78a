import Foundation

/// What a report is about: the kind of work its task did. Every finished task leaves exactly one
/// report (`ReportService.record`), so every plugin maps to a kind; one Ferry doesn't know yet is
/// `other` and still gets a generic report.
public enum ReportKind: String, Codable, Sendable, CaseIterable {
    /// `promote.apply` of a plan read from a source environment or a git revision (a deploy).
    case promotion
    /// `promote.apply` of a plan read from a backup.
    case restore
    /// `promote.plan`: the dry run of a promotion, restore or deploy.
    case plan
    /// `promote.rollback`.
    case rollback
    /// `backup.run`, `backup.verify`, `backup.retention`.
    case backup
    /// `dashboard.check` and `health.policy`.
    case dashboardCheck = "dashboard_check"
    /// `inventory.sync`.
    case sync
    /// `git.snapshot`, `git.drift`, `git.push`, `git.pull`.
    case git
    /// Anything else (maintenance, diagnostics, environment health checks, plugins added later).
    case other

    /// The kind a plugin's tasks have, before what the task read is known: a `promote.apply`
    /// is a promotion here and becomes a restore when its plan reads a backup
    /// (`ReportBuilder`).
    static func of(plugin id: String) -> ReportKind {
        switch id {
        case "promote.apply": return .promotion
        case "promote.plan": return .plan
        case "promote.rollback": return .rollback
        case "backup.run", "backup.verify", "backup.retention": return .backup
        case DashboardCheckPlugin.pluginID, HealthPolicyPlugin.pluginID: return .dashboardCheck
        case InventorySyncPlugin.pluginID: return .sync
        default: return id.hasPrefix("git.") ? .git : .other
        }
    }
}

/// How the report's task ended: the task's own final status (only the finished ones).
public enum ReportStatus: String, Codable, Sendable, CaseIterable {
    case succeeded, partial, failed, cancelled, interrupted

    /// The report status of a finished task; nil while it hasn't finished.
    init?(_ status: TaskStatus) {
        guard status.isFinished, let s = ReportStatus(rawValue: status.rawValue) else { return nil }
        self = s
    }

    /// Whether the task ended without doing all of its work (the report shows the cause).
    var isFailure: Bool { self == .failed || self == .interrupted }
}

/// Where a promotion, restore or plan read its dashboards from.
public enum PromotionOrigin: String, Codable, Sendable, CaseIterable {
    /// Another environment's Superset (a promotion).
    case environment
    /// A stored backup (a restore).
    case backup
    /// A revision of Ferry's git history (a deploy).
    case revision
}

/// Which backup work a backup report is about.
public enum BackupOperation: String, Codable, Sendable, CaseIterable {
    case run, verify, retention

    static func of(plugin id: String) -> BackupOperation? {
        switch id {
        case "backup.run": return .run
        case "backup.verify": return .verify
        case "backup.retention": return .retention
        default: return nil
        }
    }
}

/// Which git work a git report is about.
public enum GitOperation: String, Codable, Sendable, CaseIterable {
    case snapshot, drift, push, pull

    static func of(plugin id: String) -> GitOperation? {
        id.hasPrefix("git.") ? GitOperation(rawValue: String(id.dropFirst(4))) : nil
    }
}

/// How a git pull ended (`git.pull`'s `result`).
public enum GitPullResult: String, Codable, Sendable, CaseIterable {
    case remoteEmpty = "remote_empty"
    case upToDate = "up_to_date"
    case fastForward = "fast_forward"
    case merged, aborted
}
