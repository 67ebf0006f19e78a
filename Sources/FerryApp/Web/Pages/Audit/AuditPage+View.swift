import Foundation

extension AuditPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("audit.title") }
        var nav: NavItem? { .audit }

        func content(_ l: Localizer) -> HTMLNode {
            func q(_ format: String) -> String {
                var query: [String: String?] = model.exportQuery.mapValues { $0 }
                query["format"] = format
                return SiteURL.api(.audit).path(query: query)
            }
            return H.group([
                H.el("h1", text: l.t("audit.title")),
                H.el("form", [("method", "get"), ("action", SiteURL.auditPage.path), ("class", "search"), ("data-testid", "audit-filters")], [
                    Components.field("actor", label: l.t("audit.actor"), value: model.filter["actor"]),
                    Components.field("action", label: l.t("audit.action"), value: model.filter["action"]),
                    Components.field("environment", label: l.t("audit.environment"), value: model.filter["environment"]),
                    Components.select("outcome", label: l.t("audit.outcome"),
                                      options: [("", l.t("audit.any"))] + ["success", "failure", "denied"].map { ($0, l.t("audit.outcome.\($0)")) },
                                      selected: model.filter["outcome"] ?? ""),
                    Components.field("from", label: l.t("audit.from"), value: model.filter["from"], type: "date"),
                    Components.field("to", label: l.t("audit.to"), value: model.filter["to"], type: "date"),
                    H.el("button", [("type", "submit"), ("class", "button")], text: l.t("audit.filter")),
                ]),
                H.el("p", [], [
                    H.text(l.t("audit.count", ["n": "\(model.total)"]) + " "),
                    H.a(q("csv"), l.t("audit.export_csv"), [("data-testid", "export-csv")]), H.text(" · "),
                    H.a(q("json"), l.t("audit.export_json"), [("data-testid", "export-json")]),
                ]),
                model.events.isEmpty ? H.el("p", [("class", "empty")], text: l.t("audit.none")) :
                    H.el("table", [("class", "grid"), ("data-testid", "audit")], [
                        H.el("thead", [], [H.el("tr", [], [
                            H.el("th", text: l.t("audit.at")), H.el("th", text: l.t("audit.actor")), H.el("th", text: l.t("audit.address")),
                            H.el("th", text: l.t("audit.action")), H.el("th", text: l.t("audit.target")), H.el("th", text: l.t("audit.environment")),
                            H.el("th", text: l.t("audit.outcome")), H.el("th", text: l.t("audit.detail")),
                        ])]),
                        H.el("tbody", [], model.events.map { e in
                            H.el("tr", [("data-outcome", e.outcome)], [
                                H.el("td", [], [Components.time(e.at, l)]), H.el("td", text: e.actor), H.el("td", text: e.address ?? ""),
                                H.el("td", [], [H.el("code", text: e.action)]), H.el("td", text: e.target ?? ""), H.el("td", text: e.environment ?? ""),
                                H.el("td", [], [H.el("span", [("class", "badge outcome-\(e.outcome)")], text: l.t("audit.outcome.\(e.outcome)"))]),
                                H.el("td", [], [H.el("small", text: e.detail ?? "")]),
                            ])
                        }),
                    ]),
            ])
        }
    }
}
