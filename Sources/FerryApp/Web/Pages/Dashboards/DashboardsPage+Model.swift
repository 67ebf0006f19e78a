import Foundation

/// Search across every environment's dashboards, answered from the local inventory.
enum DashboardsPage {
    struct Model: Equatable {
        var search: String
        var owner: String
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
