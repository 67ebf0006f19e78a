import Foundation

extension AssetsPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t(model.kind == .dataset ? "datasets.title" : "charts.title") }
        var nav: NavItem? { .dashboards }

        /// Catalogue keys of this hub: `charts.…` or `datasets.…`.
        private var prefix: String { model.kind == .dataset ? "datasets" : "charts" }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: title),
                HubTabs.view(current: model.site, l),
                searchForm(l),
                model.environments.isEmpty
                    ? H.el("p", [("class", "empty")], text: l.t("dashboards.no_environments"))
                    : results(l),
            ])
        }

        func searchForm(_ l: Localizer) -> HTMLNode {
            let options = [(value: "", label: l.t("dashboards.all_environments"))] + model.environments.map { (value: $0.id.uuidString.lowercased(), label: $0.name) }
            let selected = model.environments.first { $0.name == model.environment || $0.id.uuidString.lowercased() == model.environment.lowercased() }
            return H.el("form", [("method", "get"), ("action", model.site.path), ("class", "search"), ("role", "search"), ("data-testid", "search-form")], [
                H.el("label", [("for", "q"), ("class", "visually-hidden")], text: l.t("dashboards.search")),
                H.void("input", [("id", "q"), ("type", "search"), ("name", "search"), ("value", model.search),
                                 ("placeholder", l.t("\(prefix).search_placeholder")), ("data-testid", "search")]),
                H.el("label", [("for", "owner"), ("class", "visually-hidden")], text: l.t("dashboards.owner")),
                H.void("input", [("id", "owner"), ("type", "search"), ("name", "owner"), ("value", model.owner), ("placeholder", l.t("dashboards.owner"))]),
                H.el("label", [("for", "env"), ("class", "visually-hidden")], text: l.t("dashboards.environment")),
                H.el("select", [("id", "env"), ("name", "environment"), ("data-autosubmit", ""), ("data-testid", "environment-switcher")], options.map { o in
                    H.el("option", [("value", o.value), ("selected", H.flag(o.value == (selected?.id.uuidString.lowercased() ?? "")))], text: o.label)
                }),
                H.el("button", [("type", "submit"), ("class", "button primary")], text: l.t("dashboards.search")),
            ])
        }

        func results(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("p", [("class", "muted"), ("data-testid", "result-count")], text: l.t("\(prefix).count", ["count": String(model.total)])),
                model.items.isEmpty ? H.el("p", [("class", "empty")], text: l.t("\(prefix).none")) : table(l),
                pager(l),
            ])
        }

        func table(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", prefix)], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("assets.col.name")), H.el("th", text: l.t("dashboards.col.environment")),
                    H.el("th", text: l.t("\(prefix).col.detail")), H.el("th", text: l.t("\(prefix).col.parent")),
                    H.el("th", text: l.t("dashboards.col.owners")), H.el("th", text: l.t("dashboards.col.changed")),
                    H.el("th", [], [H.el("span", [("class", "visually-hidden")], text: l.t("hub.actions"))]),
                ])]),
                H.el("tbody", [], model.items.map { item in
                    H.el("tr", [("data-uuid", item.uuid)], [
                        H.el("td", text: item.name),
                        H.el("td", text: item.environment),
                        H.el("td", [], [H.el("code", text: item.detail ?? "")]),
                        H.el("td", text: item.parent ?? ""),
                        H.el("td", text: item.owners.joined(separator: ", ")),
                        H.el("td", [], [Components.time(item.changedOn, l)]),
                        H.el("td", [("class", "row-actions")], [
                            H.a(item.url, l.t("dashboard.open_in_superset"), [("class", "button small"), ("rel", "noopener"), ("data-testid", "row-open"),
                                                                              ("aria-label", l.t("assets.open_row", ["title": item.name]))]),
                        ]),
                    ])
                }),
            ])
        }

        func pager(_ l: Localizer) -> HTMLNode {
            Components.pager(page: model.page, pageCount: model.pageCount, l, link: model.path(page:))
        }
    }
}
