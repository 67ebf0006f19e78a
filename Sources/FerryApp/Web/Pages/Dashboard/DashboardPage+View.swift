import Foundation

extension DashboardPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { model.title }
        var nav: NavItem? { .dashboards }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("p", [], [H.a(SiteURL.dashboards.path, "← " + l.t("dashboards.title"), [("data-testid", "back-to-hub")])]),
                H.el("h1", [("data-testid", "dashboard-title")], text: model.title),
                H.el("p", [("class", "muted")], [H.text(l.t("dashboard.uuid") + " "), H.el("code", text: model.uuid)]),
                H.el("h2", text: l.t("dashboard.where")),
                presences(l),
                section("dashboard.promotions", testID: "dashboard-promotions", empty: model.promotions.isEmpty, l, promotions(l)),
                section("dashboard.checks", testID: "dashboard-checks", empty: model.checks.isEmpty, l, checks(l)),
                section("dashboard.backups", testID: "dashboard-backups", empty: model.backups.isEmpty, l, backups(l)),
                H.el("h2", text: l.t("dashboard.revisions")),
                model.revisionsError.map { Components.notice("error", title: l.t("dashboard.revisions_unreadable"), detail: $0, testID: "revisions-error") }
                    ?? H.group([]),
                model.revisions.isEmpty ? H.el("p", [("class", "empty")], text: l.t("dashboard.none")) : revisions(l),
            ])
        }

        func section(_ key: String, testID: String, empty: Bool, _ l: Localizer, _ body: HTMLNode) -> HTMLNode {
            H.group([
                H.el("h2", text: l.t(key)),
                empty ? H.el("p", [("class", "empty"), ("data-testid", testID + "-none")], text: l.t("dashboard.none")) : body,
            ])
        }

        func presences(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "dashboard-presences")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("dashboards.col.environment")), H.el("th", text: l.t("dashboards.col.title")),
                    H.el("th", text: l.t("dashboards.col.owners")), H.el("th", text: l.t("dashboards.col.changed")),
                    H.el("th", text: l.t("dashboards.col.git")), H.el("th", text: l.t("dashboards.col.health")),
                    H.el("th", text: l.t("hub.actions")),
                ])]),
                H.el("tbody", [], model.presences.map { p in
                    H.el("tr", [("data-environment", p.environment)], [
                        H.el("td", [], [H.el("span", [("class", "stage stage-\(p.stage)")], text: p.environment)]),
                        H.el("td", text: p.title),
                        H.el("td", text: p.owners.joined(separator: ", ")),
                        H.el("td", [], [Components.time(p.changedOn, l)]),
                        H.el("td", [], [GitComponents.drift(p.drift.rawValue, link: p.drift == .uncommitted ? nil
                            : GitComponents.historyPath(environment: p.environmentID, dashboard: model.uuid), l)]),
                        H.el("td", [], [p.latestCheck.map { run in
                            H.el("a", [("href", HealthComponents.checkPath(run.id)), ("class", "badge-link")], [HealthComponents.badge(run.status, l)])
                        } ?? H.el("span", [("class", "muted")], text: l.t("dashboards.health_unchecked"))]),
                        H.el("td", [("class", "row-actions"), ("data-testid", "presence-actions")], actions(p, l)),
                    ])
                }),
            ])
        }

        /// The actions on the dashboard in one environment that the viewer may take there.
        func actions(_ p: Model.Presence, _ l: Localizer) -> [HTMLNode] {
            let env = p.environmentID.uuidString.lowercased()
            var nodes: [HTMLNode] = []
            if p.canPromote {
                nodes.append(H.a(SiteURL.promotePage.path(query: ["source": env, "dashboards": String(p.dashboardID)]), l.t("dashboard.promote"),
                                 [("class", "button small"), ("data-testid", "action-promote")]))
            }
            if p.canBackUp {
                nodes.append(H.el("form", [("method", "post"), ("action", SiteURL.backupRunPage(.value(p.environmentID)).path), ("class", "inline")], [
                    H.el("button", [("type", "submit"), ("class", "button small"), ("data-testid", "action-backup"),
                                    ("title", l.t("dashboard.backup_hint", ["environment": p.environment]))], text: l.t("dashboard.backup")),
                ]))
            }
            if p.canRestore {
                nodes.append(H.a(SiteURL.backupsEnvironmentPage(.value(p.environmentID)).path, l.t("dashboard.restore"),
                                 [("class", "button small"), ("data-testid", "action-restore")]))
            }
            if p.canDeploy {
                nodes.append(H.a(GitComponents.historyPath(environment: p.environmentID, dashboard: model.uuid), l.t("dashboard.deploy"),
                                 [("class", "button small"), ("data-testid", "action-deploy")]))
            }
            if p.canCheck {
                nodes.append(H.el("form", [("method", "post"), ("action", SiteURL.healthRunPage.path), ("class", "inline")], [
                    H.void("input", [("type", "hidden"), ("name", "environment"), ("value", env)]),
                    H.void("input", [("type", "hidden"), ("name", "dashboards"), ("value", String(p.dashboardID))]),
                    H.void("input", [("type", "hidden"), ("name", "selection"), ("value", "required")]),
                    H.el("button", [("type", "submit"), ("class", "button small"), ("data-testid", "action-check")], text: l.t("dashboard.check")),
                ]))
            }
            nodes.append(H.a(p.supersetURL, l.t("dashboard.open_in_superset"), [("class", "button small"), ("rel", "noopener"), ("data-testid", "action-open")]))
            return nodes
        }

        func promotions(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "dashboard-promotions")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("dashboard.col.when")), H.el("th", text: l.t("dashboard.col.route")),
                    H.el("th", text: l.t("tasks.col.status")), H.el("th", text: l.t("tasks.col.user")),
                ])]),
                H.el("tbody", [], model.promotions.map { p in
                    H.el("tr", [], [
                        H.el("td", [], [p.taskID.map { H.el("a", [("href", SiteURL.taskPage(.value($0)).path)], [Components.time(p.at, l)]) } ?? Components.time(p.at, l)]),
                        H.el("td", text: "\(p.source) → \(p.target)"),
                        H.el("td", [], [H.el("span", [("class", "badge status-\(p.status.rawValue)")], text: l.t("promotions.status.\(p.status.rawValue)"))]),
                        H.el("td", text: p.by),
                    ])
                }),
            ])
        }

        func checks(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "dashboard-checks")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("dashboard.col.when")), H.el("th", text: l.t("dashboards.col.environment")), H.el("th", text: l.t("dashboards.col.health")),
                ])]),
                H.el("tbody", [], model.checks.map { c in
                    H.el("tr", [], [
                        H.el("td", [], [H.el("a", [("href", HealthComponents.checkPath(c.id))], [Components.time(c.checkedAt, l)])]),
                        H.el("td", text: c.environment),
                        H.el("td", [], [HealthComponents.badge(c.status, l)]),
                    ])
                }),
            ])
        }

        func backups(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "dashboard-backups")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("dashboard.col.when")), H.el("th", text: l.t("dashboards.col.environment")),
                    H.el("th", text: l.t("dashboard.col.kind")), H.el("th", text: l.t("value.dashboards")),
                ])]),
                H.el("tbody", [], model.backups.map { b in
                    H.el("tr", [], [
                        H.el("td", [], [H.el("a", [("href", SiteURL.backupPage(.value(b.id)).path)], [Components.time(b.createdAt, l)])]),
                        H.el("td", text: b.environment),
                        H.el("td", [], [H.el("span", [("class", "badge")], text: l.t(b.full ? "dashboard.backup_full" : "dashboard.backup_incremental"))]),
                        H.el("td", [("class", "num")], text: String(b.dashboards)),
                    ])
                }),
            ])
        }

        func revisions(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "dashboard-revisions")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("dashboard.col.when")), H.el("th", text: l.t("dashboards.col.environment")),
                    H.el("th", text: l.t("dashboard.col.revision")), H.el("th", text: l.t("dashboard.col.summary")),
                ])]),
                H.el("tbody", [], model.revisions.map { r in
                    H.el("tr", [], [
                        H.el("td", [], [r.taskID.map { H.el("a", [("href", SiteURL.taskPage(.value($0)).path)], [Components.time(r.date, l)]) } ?? Components.time(r.date, l)]),
                        H.el("td", text: r.environment),
                        H.el("td", [], [H.a(GitComponents.historyPath(environment: r.environmentID, dashboard: model.uuid, extra: ["revision": r.sha]),
                                            r.shortSha, [("class", "mono")])]),
                        H.el("td", text: r.summary),
                    ])
                }),
            ])
        }
    }
}
