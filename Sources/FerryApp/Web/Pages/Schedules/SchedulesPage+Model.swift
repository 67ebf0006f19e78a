import Foundation

/// Schedules: each with its cron, zone and next run; a form to add one; enable, disable, delete.
enum SchedulesPage {
    struct Model: Equatable {
        var schedules: [ScheduleDTO]
        var plugins: [String]
        /// What was typed when a save failed, and why.
        var form: Form
        var errors: [String: String]
        var formError: String?
        var flash: String?
        /// Whether the viewer may add, switch and delete schedules (`schedules:write`).
        var canWrite = false

        struct Form: Equatable {
            var name = ""
            var plugin = ""
            var params = "{}"
            var cron = ""
            var timeZone = "UTC"
        }
    }
}
