import Foundation

/// The tasks list: filters, a health-check launcher, live status updates.
enum TasksPage {
    struct Model: Equatable {
        var tasks: [TaskDTO]
        var total: Int
        var page: Int
        var perPage: Int
        var status: String
        var plugin: String
        var environment: String
        var user: String
        /// For the filters and the launcher.
        var plugins: [String]
        var environments: [String]
        var flash: String?
        /// The environments the viewer may run a health check on (the launcher's choices).
        var healthCheckEnvironments: [String] = []

        var pageCount: Int { max(1, (total + perPage - 1) / perPage) }
    }
}
