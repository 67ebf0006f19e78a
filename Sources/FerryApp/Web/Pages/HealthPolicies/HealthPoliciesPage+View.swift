import Foundation

extension HealthPoliciesPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("health_policies.title") }
        var nav: NavItem? { .health }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("div", [("class", "page-head")], [
                    H.el("h1", text: l.t("health_policies.title")),
                    H.a(SiteURL.healthPage.path, l.t("health_policies.back"), [("class", "button"), ("data-testid", "policies-back")]),
                ]),
                H.el("p", [("class", "muted")], text: l.t("health_policies.lead")),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                model.error.map { Components.notice("error", title: l.t("health_policies.not_started"), detail: $0, testID: "policy-run-error") } ?? H.group([]),
                model.rows.isEmpty ? H.el("p", [("class", "empty"), ("data-testid", "policies-none")], text: l.t("health_policies.none")) : table(l),
                model.canAdd
                    ? H.group([
                        H.el("h2", [("id", "add-policy")], text: l.t("health_policies.add")),
                        HealthPolicyForm.view(model.editor, action: SiteURL.healthPoliciesPage.path, picker: SiteURL.healthPoliciesPage.path, canSave: true, l),
                    ])
                    : H.group([]),
            ])
        }

        func table(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "policies")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("health_policies.name")), H.el("th", text: l.t("health_policies.environment")),
                    H.el("th", text: l.t("health_policies.col.window")), H.el("th", text: l.t("health_policies.alert")),
                    H.el("th", text: l.t("health_policies.channels")), H.el("th", text: l.t("health_policies.col.state")),
                    H.el("th", text: l.t("environments.col.actions")),
                ])]),
                H.el("tbody", [], model.rows.map { row($0, l) }),
            ])
        }

        /// A policy: its name (opening its form) and what it checks, where, when, on what it
        /// alerts and whom, whether it runs; and its actions.
        func row(_ r: Model.Row, _ l: Localizer) -> HTMLNode {
            let p = r.policy
            let page = SiteURL.healthPolicyPage(.value(p.id)).path
            var channels = r.channels
            if let owner = r.ownerChannel { channels.append(l.t("health_policies.owners_via", ["channel": owner])) }
            return H.el("tr", [("data-testid", "policy-row"), ("data-policy", p.name)], [
                H.el("td", [], [
                    H.a(page, p.name, [("data-testid", "policy-link")]), H.void("br", []),
                    H.el("small", [("class", "muted")], text: HealthPolicyForm.scopeText(dashboards: p.dashboards.count, search: p.search, l)),
                ]),
                H.el("td", text: p.environment),
                H.el("td", [("data-testid", "policy-window")],
                     text: HealthPolicyForm.windowText(weekdays: p.weekdays, start: p.windowStart, end: p.windowEnd, zone: p.timeZone, every: p.everyMinutes, l)),
                H.el("td", text: HealthPolicyForm.alertText(p.alert, l)),
                channels.isEmpty
                    ? H.el("td", [("class", "muted"), ("data-testid", "policy-channels")], text: l.t("health_policies.no_channel"))
                    : H.el("td", [("data-testid", "policy-channels")], text: channels.joined(separator: ", ")),
                H.el("td", [], [
                    H.el("span", [("class", p.active ? "badge status-succeeded" : "badge"), ("data-testid", "policy-state"), ("data-active", p.active ? "true" : "false")],
                         text: l.t(p.active ? "health_policies.active" : "health_policies.paused")),
                ]),
                !r.canRun ? H.el("td", []) : H.el("td", [("class", "actions")], [
                    H.a(page, l.t("environments.edit"), [("class", "button"), ("data-testid", "policy-edit")]),
                    H.el("form", [("method", "post"), ("action", SiteURL.healthPolicyRunPage(.value(p.id)).path), ("class", "inline")], [
                        H.el("button", [("type", "submit"), ("class", "button"), ("data-testid", "policy-run")], text: l.t("health_policies.run")),
                    ]),
                    H.el("form", [("method", "post"), ("action", SiteURL.healthPolicyDeletePage(.value(p.id)).path), ("class", "inline"),
                                  ("data-confirm", l.t("health_policies.delete_confirm", ["name": p.name]))], [
                        H.el("button", [("type", "submit"), ("class", "button danger"), ("data-testid", "policy-delete")], text: l.t("environments.delete")),
                    ]),
                ]),
            ])
        }
    }
}
