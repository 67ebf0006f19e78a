import Foundation

/// The health center's start: one environment's dashboards (picked from those the viewer may
/// read) with the status of their latest check and their recent runs, filtered by status, and,
/// for `health:run` on the environment, a form that checks its dashboards now.
enum HealthPage {
    struct Model: Equatable {
        /// The environments the viewer may read (`inventory:read`), by name.
        var environments: [EnvironmentRow] = []
        /// The environment whose dashboards are shown (nil: there is none to read).
        var selected: UUID?
        /// Only dashboards whose latest check has this status (nil: any).
        var status: HealthStatus?
        /// Every dashboard checked in the selected environment, worst latest status first
        /// (`HealthService.matrix`), before the status filter.
        var rows: [HealthMatrixRow] = []
        /// `health:run` on the selected environment: the "check now" form is offered.
        var canRun = false
        /// What the form holds (as sent, when a check was refused).
        var run = RunForm()
        /// Why the check wasn't started.
        var runError: String?

        struct EnvironmentRow: Equatable {
            var id: UUID
            var name: String
        }

        struct RunForm: Equatable {
            /// Render each dashboard in chromium (screenshots, error boxes).
            var render = true
            /// The Superset ids of the dashboards picked (none: every dashboard).
            var dashboards: Set<Int> = []
        }

        /// The runs each row shows.
        static let runs = 8

        var selectedEnvironment: EnvironmentRow? { environments.first { $0.id == selected } }

        /// The rows the status filter lets through, in the matrix's order.
        var shownRows: [HealthMatrixRow] {
            guard let status else { return rows }
            return rows.filter { $0.latest == status }
        }

        /// How many dashboards have `status` at their latest check.
        func count(_ status: HealthStatus) -> Int { rows.filter { $0.latest == status }.count }

        /// The dashboards the form offers, each Superset id once, by title.
        var pickable: [(id: Int, title: String)] {
            var seen = Set<Int>()
            return rows.filter { seen.insert($0.dashboardID).inserted }
                .sorted { $0.title.localizedStandardCompare($1.title) == .orderedAscending }
                .map { (id: $0.dashboardID, title: $0.title) }
        }
    }
}
