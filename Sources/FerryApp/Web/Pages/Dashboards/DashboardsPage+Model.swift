import Foundation

/// Search across every environment's dashboards, answered from the local inventory.
enum DashboardsPage {
    struct Model: Equatable {
        var search: String
        var owner: String
        /// "Only my dashboards" is ticked.
        var mine = false
        /// The viewer's Superset username (profile); without it "only mine" can't be offered.
        var supersetUsername: String?
        /// Whether the viewer may add an environment (the empty state's link).
        var canAddEnvironment = false
        /// Selected environment name, or "" for all.
        var environment: String
        var environments: [InventoryEnvironmentDTO]
        var items: [InventoryItemDTO]
        var page: Int
        var perPage: Int
        var total: Int
        /// The git filter: a `GitDriftStatus` raw value, or "" for any.
        var git = ""
        /// Drift of the committed dashboards, by "<environment id> <uuid>" (`GitService.driftByDashboard`);
        /// a dashboard absent from it was never committed.
        var gitDrift: [String: GitDriftStatus] = [:]

        /// The health filter: a `HealthStatus` raw value, `unchecked`, or "" for any.
        var health = ""
        /// The latest check of the dashboards shown, by "<environment id> <dashboard id>"
        /// (`HealthService.latestByDashboard`); a dashboard absent from it was never checked.
        var latestCheck: [String: HealthMatrixRow.Run] = [:]
        /// The environments whose dashboards the viewer may promote (`promote:plan`), check
        /// (`health:run`): row actions and the bulk bar offer only those.
        var promotable: Set<UUID> = []
        var checkable: Set<UUID> = []
        /// The environments the viewer may back up (`backup:run`): a backup is the whole
        /// environment's (incremental), so the bulk bar offers it for the environment shown.
        var backupable: Set<UUID> = []

        var pageCount: Int { max(1, (total + perPage - 1) / perPage) }

        /// The one environment the hub is narrowed to: the bulk bar acts on its dashboards.
        var selectedEnvironment: InventoryEnvironmentDTO? {
            environment.isEmpty ? nil : environments.first { $0.name == environment || $0.id.uuidString.lowercased() == environment.lowercased() }
        }

        /// The dashboard's own page (`/dashboards/<uuid>`), when it has a uuid.
        static func pagePath(_ item: InventoryItemDTO) -> String? {
            item.uuid.flatMap(UUID.init(uuidString:)).map { SiteURL.dashboardPage(.value($0)).path }
        }

        static func checkKey(_ item: InventoryItemDTO) -> String { "\(item.environmentId.uuidString.lowercased()) \(item.id)" }

        /// Whether a dashboard's latest check (or none: `unchecked`) passes the health filter.
        static func healthMatches(_ item: InventoryItemDTO, filter: String, in latest: [String: HealthMatrixRow.Run]) -> Bool {
            guard !filter.isEmpty else { return true }
            let status = latest[checkKey(item)]?.status.rawValue ?? "unchecked"
            return status == filter
        }

        /// A dashboard's place in the git history: its drift, or `uncommitted`.
        static func gitStatus(_ item: InventoryItemDTO, in drift: [String: GitDriftStatus]) -> GitDriftStatus {
            guard let uuid = item.uuid else { return .uncommitted }
            return drift[GitService.driftKey(environment: item.environmentId, dashboard: uuid)] ?? .uncommitted
        }
    }
}
