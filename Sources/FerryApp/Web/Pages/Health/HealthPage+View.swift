import Foundation

extension HealthPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("health.title") }
        var nav: NavItem? { .health }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("div", [("class", "page-head")], [
                    H.el("h1", text: l.t("health.title")),
                    H.a(SiteURL.healthPoliciesPage.path, l.t("health.policies"), [("class", "button"), ("data-testid", "health-policies-link")]),
                ]),
                H.el("p", [("class", "muted")], text: l.t("health.lead")),
                model.runError.map { Components.notice("error", title: l.t("health.not_started"), detail: $0, testID: "health-run-error") } ?? H.group([]),
                model.environments.isEmpty
                    ? H.el("p", [("class", "empty"), ("data-testid", "health-no-environments")], text: l.t("health.no_environments"))
                    : H.group([filterForm(l), matrix(l), runForm(l)]),
            ])
        }

        // MARK: The matrix

        /// Picks the environment and the status (each submits when changed; the button
        /// without JavaScript).
        func filterForm(_ l: Localizer) -> HTMLNode {
            let picked = model.status?.rawValue ?? ""
            let statuses = [(value: "", label: l.t("health.status.any"))]
                + HealthStatus.allCases.reversed().map { (value: $0.rawValue, label: "\(HealthComponents.label($0, l)) · \(model.count($0))") }
            return H.el("form", [("method", "get"), ("action", SiteURL.healthPage.path), ("class", "search"), ("role", "search"),
                                 ("data-testid", "health-filter-form")], [
                H.el("label", [("for", "health-env"), ("class", "visually-hidden")], text: l.t("health.col.environment")),
                H.el("select", [("id", "health-env"), ("name", "environment"), ("data-autosubmit", ""), ("data-testid", "health-environment")],
                     model.environments.map { e in
                         H.el("option", [("value", e.id.key), ("selected", H.flag(e.id == model.selected))], text: e.name)
                     }),
                H.el("label", [("for", "health-status"), ("class", "visually-hidden")], text: l.t("health.status_filter")),
                H.el("select", [("id", "health-status"), ("name", "status"), ("data-autosubmit", ""), ("data-testid", "health-status-filter")],
                     statuses.map { o in
                         H.el("option", [("value", o.value), ("selected", H.flag(o.value == picked))], text: o.label)
                     }),
                H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "health-filter-submit")], text: l.t("health.show")),
            ])
        }

        /// The selected environment's dashboards, or why there are none to show.
        func matrix(_ l: Localizer) -> HTMLNode {
            guard let env = model.selectedEnvironment else { return H.group([]) }
            let rows = model.shownRows
            let body: HTMLNode
            if model.rows.isEmpty {
                body = H.el("p", [("class", "empty"), ("data-testid", "health-no-checks")],
                            text: l.t(model.canRun ? "health.no_checks_run" : "health.no_checks_ask", ["environment": env.name]))
            } else if rows.isEmpty {
                body = H.el("p", [("class", "empty"), ("data-testid", "health-none-match")], text: l.t("health.none_match"))
            } else {
                body = table(rows, l)
            }
            return H.group([
                H.el("h2", text: l.t("health.dashboards_of", ["environment": env.name])),
                model.rows.isEmpty ? H.group([]) : H.el("p", [("class", "muted"), ("data-testid", "health-summary")], text: l.t("health.summary", [
                    "count": String(model.rows.count), "pass": String(model.count(.pass)), "warn": String(model.count(.warn)),
                    "fail": String(model.count(.fail)),
                ])),
                body,
            ])
        }

        func table(_ rows: [HealthMatrixRow], _ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "health-matrix")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("health.col.dashboard")), H.el("th", text: l.t("health.col.status")),
                    H.el("th", text: l.t("health.col.runs")), H.el("th", text: l.t("health.col.checked")),
                ])]),
                H.el("tbody", [], rows.map { row($0, l) }),
            ])
        }

        /// A dashboard: its title opening its latest check, that check's status, its recent
        /// runs and when it was last checked.
        func row(_ r: HealthMatrixRow, _ l: Localizer) -> HTMLNode {
            let latest = r.runs.first
            let title: HTMLNode = latest.map { H.a(HealthComponents.checkPath($0.id), r.title, [("data-testid", "health-check-link")]) } ?? H.text(r.title)
            return H.el("tr", [("data-testid", "health-row"), ("data-dashboard", String(r.dashboardID)), ("data-status", r.latest.rawValue)], [
                H.el("td", [], [
                    title, H.void("br", []),
                    H.el("small", [("class", "muted")], text: l.t("health.dashboard_id", ["id": String(r.dashboardID)])),
                ]),
                H.el("td", [], [HealthComponents.badge(r.latest, l)]),
                H.el("td", [], [HealthComponents.runs(r.runs, l)]),
                H.el("td", [], [Components.time(latest?.checkedAt, l)]),
            ])
        }

        // MARK: Check now

        /// For `health:run`: checks the selected environment's dashboards (those picked, or
        /// every one) and opens the task.
        func runForm(_ l: Localizer) -> HTMLNode {
            guard model.canRun, let env = model.selectedEnvironment else { return H.group([]) }
            let pickable = model.pickable
            return H.group([
                H.el("h2", [("id", "health-run")], text: l.t("health.run_title")),
                H.el("form", [("method", "post"), ("action", SiteURL.healthRunPage.path), ("class", "stacked"), ("data-testid", "health-run-form")], [
                    H.el("p", [("class", "muted")], text: l.t("health.run_hint", ["environment": env.name])),
                    H.void("input", [("type", "hidden"), ("name", "environment"), ("value", env.id.key)]),
                    Components.checkbox("render", label: l.t("health.render"), checked: model.run.render),
                    pickable.isEmpty ? H.group([]) : picker(pickable, l),
                    H.el("div", [("class", "form-actions")], [
                        H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "health-run-submit")], text: l.t("health.run")),
                    ]),
                ]),
            ])
        }

        /// A box per dashboard checked before (its Superset id as the value), folded away
        /// unless some are picked: none picked checks every dashboard, new ones too.
        func picker(_ pickable: [(id: Int, title: String)], _ l: Localizer) -> HTMLNode {
            H.el("details", [("class", "health-pick"), ("open", H.flag(!model.run.dashboards.isEmpty)), ("data-testid", "health-pick")], [
                H.el("summary", text: l.t("health.pick_summary")),
                H.el("fieldset", [("class", "field")], [
                    H.el("legend", text: l.t("health.pick_legend")),
                    H.el("small", text: l.t("health.pick_hint")),
                ] + pickable.map { d in
                    H.el("label", [("class", "checkbox")], [
                        H.void("input", [("type", "checkbox"), ("name", "dashboards"), ("value", String(d.id)),
                                         ("checked", H.flag(model.run.dashboards.contains(d.id))), ("data-testid", "health-pick-\(d.id)")]),
                        H.text(" " + d.title + " "),
                        H.el("small", [("class", "muted")], text: l.t("health.dashboard_id", ["id": String(d.id)])),
                    ])
                }),
            ])
        }
    }
}
