import Foundation

/// One report: how its task ended, the summary, the cause and what to do for a failure, and the
/// section of its type (the promotion's verification, the backup's sizes, the dashboards a check
/// found failing...), with links to the task and to each dashboard check.
enum ReportPage {
    struct Model: Equatable {
        /// The report with its details.
        var report: ReportDTO
        /// Every environment's current name by id, for the environments the details name
        /// (a promotion's source and target); one missing is shown as deleted.
        var names: [UUID: String] = [:]
        /// Whether the task is still stored (the daily prune deletes tasks before their reports).
        var taskExists = true
        /// Whether the viewer may open the dashboard checks (`inventory:read` on the checked
        /// environment): their rows link to them then.
        var canOpenChecks = false
    }
}
