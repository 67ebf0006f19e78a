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

        var pageCount: Int { max(1, (total + perPage - 1) / perPage) }
    }
}
