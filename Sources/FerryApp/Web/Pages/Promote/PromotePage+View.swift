import Foundation

extension PromotePage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("promote.title") }
        var nav: NavItem? { .promotions }

        func content(_ l: Localizer) -> HTMLNode {
            let f = model.form
            let envs = [(value: "", label: l.t("promote.pick"))] + model.environments.map { (value: $0, label: $0) }
            return H.group([
                H.el("h1", text: l.t("promote.title")),
                H.el("p", [("class", "lead")], text: l.t("promote.lead")),
                model.environments.count < 2
                    ? Components.notice("info", title: l.t("promote.need_two"), testID: "need-two") : H.group([]),
                H.el("form", [("method", "post"), ("action", SiteURL.promotePage.path), ("class", "stacked"), ("data-testid", "promote-form")], [
                    model.formError.map { Components.notice("error", title: l.t("promote.not_planned"), detail: $0, testID: "form-error") } ?? H.group([]),
                    Components.select("source", label: l.t("promote.source"), options: envs, selected: f.source, error: model.errors["source"]),
                    Components.select("target", label: l.t("promote.target"), options: envs, selected: f.target, error: model.errors["target"]),
                    Components.field("dashboards", label: l.t("promote.dashboards"), value: f.dashboards, hint: l.t("promote.dashboards_hint"),
                                     error: model.errors["dashboards"], placeholder: "sales-overview, 42"),
                    Components.field("search", label: l.t("promote.search"), value: f.search, hint: l.t("promote.search_hint")),
                    Components.select("scope", label: l.t("promote.scope"), options: [
                        (value: "dashboards", label: l.t("promote.scope.dashboards")), (value: "cascade", label: l.t("promote.scope.cascade")),
                    ], selected: f.scope, error: model.errors["scope"]),
                    Components.field("schemas", label: l.t("promote.schemas"), value: f.schemas, hint: l.t("promote.schemas_hint"),
                                     error: model.errors["schemaMapping"], placeholder: "analytics_dev=analytics"),
                    Components.checkbox("acceptUnknownVersion", label: l.t("promote.accept_unknown_version"), checked: f.acceptUnknownVersion),
                    H.el("div", [("class", "form-actions")], [
                        H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "make-plan")], text: l.t("promote.make_plan")),
                        H.el("a", [("href", SiteURL.promotionsPage.path), ("class", "button")], text: l.t("promotions.title")),
                    ]),
                ]),
            ])
        }
    }
}
