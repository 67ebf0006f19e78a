import Foundation

/// One environment's backups: the table (each row opens the backup; two columns pick a pair to
/// compare), "Back up now", the upload of a Superset export, and the retention and backup
/// schedule forms.
enum BackupsEnvironmentPage {
    struct Model: Equatable {
        var environmentID: UUID
        var environment: String
        /// false: the environment was deleted since; its backups are listed, nothing runs.
        var exists = true
        /// This page's backups, newest first.
        var backups: [BackupDTO] = []
        var page = 1
        var pageCount = 1
        var total = 0
        /// The retention in effect, or as typed when a save failed.
        var retention = RetentionForm()
        var retentionErrors: [String: String] = [:]
        var retentionError: String?
        /// The backup schedule, or as typed when a save failed.
        var schedule = ScheduleForm()
        var hasSchedule = false
        var nextRunAt: Date?
        var scheduleErrors: [String: String] = [:]
        var scheduleError: String?
        var runError: String?
        var uploadError: String?
        var flash: String?
        /// `backup:run` on the environment: back up, upload, set retention.
        var canRun = false
        /// `backup:run` and `schedules:write` on the environment: set the backup schedule.
        var canSchedule = false

        struct RetentionForm: Equatable {
            var keepLast = "7"
            var daily = "7"
            var weekly = "4"
            var monthly = "6"
        }

        struct ScheduleForm: Equatable {
            var cron = ""
            var timeZone = "UTC"
            var enabled = true
        }

        static let perPage = 50
    }
}

extension BackupsEnvironmentPage.Model.RetentionForm {
    init(_ p: RetentionPolicy) {
        self.init(keepLast: String(p.keepLast), daily: String(p.daily), weekly: String(p.weekly), monthly: String(p.monthly))
    }
}
