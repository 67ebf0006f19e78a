import Foundation
import SupersetKit

/// The charts and datasets hubs: every environment's charts (or datasets), from the local
/// inventory, searched, filtered by environment and owner, fifty to a page, all kept in the URL.
///
/// Promotion, checks and backups act on dashboards (a chart or dataset travels with the
/// dashboards that use it), so these hubs offer no bulk bar: their row action opens the asset in
/// its Superset.
enum AssetsPage {
    struct Model: Equatable {
        /// `.chart` or `.dataset`.
        var kind: AssetKind
        var search: String
        var owner: String
        /// Selected environment (as the request named it: its id or name), or "" for all.
        var environment: String
        var environments: [InventoryEnvironmentDTO]
        var items: [InventoryItemDTO]
        var page: Int
        var perPage: Int
        var total: Int

        var pageCount: Int { max(1, (total + perPage - 1) / perPage) }

        /// The hub's own address.
        var site: SiteURL { kind == .dataset ? .datasets : .charts }

        /// The address of another page of this view, every filter kept.
        func path(page: Int) -> String {
            site.path(query: ["search": search, "owner": owner, "environment": environment, "page": page > 1 ? String(page) : ""])
        }
    }
}
