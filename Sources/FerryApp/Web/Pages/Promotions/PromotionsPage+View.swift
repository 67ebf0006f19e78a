import Foundation

extension PromotionsPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("promotions.title") }
        var nav: NavItem? { .promotions }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: l.t("promotions.title")),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                H.el("p", [], [H.el("a", [("href", SiteURL.promotePage.path), ("class", "button primary"), ("data-testid", "new-promotion")],
                                    text: l.t("promotions.new"))]),
                model.promotions.isEmpty ? H.el("p", [("class", "empty")], text: l.t("promotions.none")) : table(l),
            ])
        }

        func table(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "promotions")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("promotions.col.when")), H.el("th", text: l.t("promotions.col.route")),
                    H.el("th", text: l.t("promotions.col.status")), H.el("th", text: l.t("promotions.col.dashboards")),
                    H.el("th", text: l.t("promotions.col.by")), H.el("th", text: l.t("environments.col.actions")),
                ])]),
                H.el("tbody", [], model.promotions.map { p in
                    H.el("tr", [("data-promotion", p.id.uuidString.lowercased())], [
                        H.el("td", [], [Components.time(p.createdAt, l)]),
                        H.el("td", text: "\(p.source) → \(p.target)"),
                        H.el("td", [], [H.el("span", [("class", "badge status-\(p.status.rawValue)"), ("data-field", "status")], text: l.t("promotions.status.\(p.status.rawValue)"))]),
                        H.el("td", [], [H.el("ul", [("class", "plain")], p.dashboards.map { d in
                            H.el("li", [], [H.el("span", [("class", d.pass ? "pass" : "fail")], text: d.pass ? "✓ " : "✗ "), H.text(d.title)])
                        })]),
                        H.el("td", text: p.startedBy),
                        H.el("td", [("class", "actions")], [
                            H.el("a", [("href", SiteURL.planPage(.value(p.planID)).path), ("class", "button")], text: l.t("promotions.plan")),
                            p.taskID.map { H.el("a", [("href", SiteURL.taskPage(.value($0)).path), ("class", "button")], text: l.t("promotions.log")) } ?? H.group([]),
                            p.canRollBack ? H.el("form", [("method", "post"), ("action", SiteURL.promotionRollbackPage(.value(p.id)).path), ("class", "inline"),
                                                          ("data-confirm", l.t("promotions.rollback_confirm", ["target": p.target]))], [
                                H.el("label", [("class", "inline-check")], [
                                    H.void("input", [("type", "checkbox"), ("name", "deleteCreated"), ("value", "true")]),
                                    H.text(" " + l.t("promotions.delete_created")),
                                ]),
                                H.el("button", [("type", "submit"), ("class", "button danger"), ("data-testid", "rollback")], text: l.t("promotions.rollback")),
                            ]) : H.group([]),
                        ]),
                    ])
                }),
            ])
        }
    }
}
