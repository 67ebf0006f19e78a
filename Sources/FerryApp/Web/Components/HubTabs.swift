import Foundation

/// The tabs above the inventory hubs: Dashboards, Charts, Datasets; the current one marked.
enum HubTabs {
    static let hubs: [(site: SiteURL, key: String)] = [(.dashboards, "hub.tab.dashboards"), (.charts, "hub.tab.charts"), (.datasets, "hub.tab.datasets")]

    static func view(current: SiteURL, _ l: Localizer) -> HTMLNode {
        H.el("nav", [("class", "hub-tabs"), ("aria-label", l.t("hub.tabs_label")), ("data-testid", "hub-tabs")], hubs.map { hub in
            let here = hub.site.path == current.path
            return H.a(hub.site.path, l.t(hub.key), [("class", here ? "active" : nil), ("aria-current", here ? "page" : nil)])
        })
    }
}
