import Foundation

/// The reports center: every finished task's report the viewer may read, newest first, filtered
/// by type, status, environment, time and title, a page of `limit` at a time.
enum ReportsPage {
    struct Model: Equatable {
        /// The filter as the form shows it (the query's own text, so a refused value stays in
        /// the form with its message).
        struct Filter: Equatable {
            var kind = ""
            var status = ""
            var environment = ""
            var from = ""
            var to = ""
            var q = ""
        }

        struct EnvironmentOption: Equatable {
            var id: UUID
            var name: String
        }

        var filter = Filter()
        /// The environments whose reports the viewer may read, by name (the filter's choices).
        var environments: [EnvironmentOption] = []
        var reports: [ReportDTO] = []
        var limit = 50
        var offset = 0
        var hasMore = false
        /// Why the filter was refused (the list is empty then).
        var error: String?

        /// Whether any filter is set (the empty list then says that nothing matched).
        var filtered: Bool { filter != Filter() }
    }
}
