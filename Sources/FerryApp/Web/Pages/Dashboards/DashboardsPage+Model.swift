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

        var pageCount: Int { max(1, (total + perPage - 1) / perPage) }

        /// A dashboard's place in the git history: its drift, or `uncommitted`.
        static func gitStatus(_ item: InventoryItemDTO, in drift: [String: GitDriftStatus]) -> GitDriftStatus {
            guard let uuid = item.uuid else { return .uncommitted }
            return drift["\(item.environmentId.key) \(uuid.lowercased())"] ?? .uncommitted
        }
    }
}
