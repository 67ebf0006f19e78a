import Foundation

extension GitPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("git.title") }
        var nav: NavItem? { .git }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: l.t("git.title")),
                H.el("p", [("class", "muted")], text: l.t("git.lead")),
                model.actionError.map { Components.notice("error", title: l.t("git.not_started"), detail: $0, testID: "git-action-error") } ?? H.group([]),
                model.environments.isEmpty
                    ? H.el("p", [("class", "empty"), ("data-testid", "git-no-environments")], text: l.t("git.no_environments"))
                    : H.group([environments(l), dashboards(l)]),
                remote(l),
            ])
        }

        // MARK: Environments

        func environments(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "git-environments")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("git.col.environment")), H.el("th", text: l.t("git.drift.in_sync")),
                    H.el("th", text: l.t("git.drift.changed")), H.el("th", text: l.t("git.drift.uncommitted")),
                    H.el("th", text: l.t("environments.col.actions")),
                ])]),
                H.el("tbody", [], model.environments.map { environmentRow($0, l) }),
            ])
        }

        /// An environment: its counts by drift (each filtering the list) and, with `git:write`, its actions.
        func environmentRow(_ env: Model.EnvironmentRow, _ l: Localizer) -> HTMLNode {
            let actions: [HTMLNode] = env.canWrite ? [
                actionForm("snapshot", environment: env.id, label: l.t("git.snapshot"), hint: l.t("git.snapshot_hint")),
                actionForm("drift", environment: env.id, label: l.t("git.check_drift"), hint: l.t("git.check_drift_hint")),
            ] : []
            return H.el("tr", [("data-testid", "git-environment-row"), ("data-environment", env.name), ("class", env.id == model.selected ? "selected" : nil)], [
                H.el("td", [], [
                    H.a(SiteURL.gitPage.path(query: ["environment": env.id.key]), env.name, [("data-testid", "git-environment-link")]),
                    H.text(" "),
                    H.el("span", [("class", "stage stage-\(known(env.stage))")], text: l.t("stage.\(known(env.stage))")),
                ]),
                count(env, GitDriftStatus.inSync.rawValue, env.inSync),
                count(env, GitDriftStatus.changed.rawValue, env.changed),
                count(env, GitDriftStatus.uncommitted.rawValue, env.uncommitted),
                H.el("td", [], actions),
            ])
        }

        func known(_ stage: String) -> String { Stage(rawValue: stage)?.rawValue ?? Stage.other.rawValue }

        /// A count of one drift status, linking to the list filtered by it.
        func count(_ env: Model.EnvironmentRow, _ drift: String, _ n: Int) -> HTMLNode {
            H.el("td", [], [
                H.a(SiteURL.gitPage.path(query: ["environment": env.id.key, "drift": drift]), String(n), [("data-testid", "git-count-\(drift)")]),
            ])
        }

        /// A button that posts `action` (snapshot, drift, push, pull) to `/git/action`.
        func actionForm(_ action: String, environment: UUID?, label: String, hint: String) -> HTMLNode {
            H.el("form", [("method", "post"), ("action", SiteURL.gitActionPage.path), ("class", "inline")], [
                H.void("input", [("type", "hidden"), ("name", "action"), ("value", action)]),
                environment.map { H.void("input", [("type", "hidden"), ("name", "environment"), ("value", $0.key)]) } ?? H.group([]),
                H.el("button", [("type", "submit"), ("class", "button"), ("title", hint), ("data-testid", "git-action-\(action)")], text: label),
            ])
        }

        // MARK: One environment's dashboards

        func dashboards(_ l: Localizer) -> HTMLNode {
            guard let env = model.selectedEnvironment else { return H.group([]) }
            return H.group([
                H.el("h2", text: l.t("git.dashboards_of", ["environment": env.name])),
                searchForm(l),
                H.el("p", [("class", "muted"), ("data-testid", "git-dashboard-count")], text: l.t("git.dashboard_count", ["count": String(model.total)])),
                model.dashboards.isEmpty
                    ? H.el("p", [("class", "empty"), ("data-testid", "git-no-dashboards")], text: l.t("git.no_dashboards"))
                    : H.group([table(env, l), pager(l)]),
            ])
        }

        func searchForm(_ l: Localizer) -> HTMLNode {
            let drifts = [(value: "", label: l.t("git.drift.any"))] + GitDriftStatus.allCases.map { (value: $0.rawValue, label: GitComponents.driftLabel($0.rawValue, l)) }
            return H.el("form", [("method", "get"), ("action", SiteURL.gitPage.path), ("class", "search"), ("role", "search"), ("data-testid", "git-search-form")], [
                H.el("label", [("for", "git-env"), ("class", "visually-hidden")], text: l.t("git.col.environment")),
                H.el("select", [("id", "git-env"), ("name", "environment"), ("data-autosubmit", ""), ("data-testid", "git-environment")], model.environments.map { e in
                    H.el("option", [("value", e.id.key), ("selected", H.flag(e.id == model.selected))], text: e.name)
                }),
                H.el("label", [("for", "git-q"), ("class", "visually-hidden")], text: l.t("git.search")),
                H.void("input", [("id", "git-q"), ("type", "search"), ("name", "search"), ("value", model.search), ("placeholder", l.t("git.search_placeholder")),
                                 ("data-testid", "git-search")]),
                H.el("label", [("for", "git-drift"), ("class", "visually-hidden")], text: l.t("git.drift_filter")),
                H.el("select", [("id", "git-drift"), ("name", "drift"), ("data-autosubmit", ""), ("data-testid", "git-drift-filter")], drifts.map { o in
                    H.el("option", [("value", o.value), ("selected", H.flag(o.value == model.drift))], text: o.label)
                }),
                H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "git-search-submit")], text: l.t("git.search")),
            ])
        }

        func table(_ env: Model.EnvironmentRow, _ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "git-dashboards")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("dashboards.col.title")), H.el("th", text: l.t("git.col.drift")), H.el("th", text: l.t("git.col.folder")),
                    H.el("th", text: l.t("git.col.last_commit")), H.el("th", text: l.t("git.col.committed")),
                ])]),
                H.el("tbody", [], model.dashboards.map { d -> HTMLNode in
                    // Only a dashboard some backup or snapshot committed has a history (and a folder).
                    let history: String? = d.path == nil ? nil : GitComponents.historyPath(environment: env.id, dashboard: d.uuid)
                    return H.el("tr", [("data-testid", "git-dashboard-row"), ("data-uuid", d.uuid), ("data-drift", d.drift)], [
                        H.el("td", [], [
                            history.map { H.a($0, d.title, [("data-testid", "git-history-link")]) } ?? H.text(d.title),
                            H.void("br", []), H.el("small", [("class", "muted")], [H.el("code", text: d.uuid)]),
                        ]),
                        H.el("td", [], [GitComponents.drift(d.drift, link: history, l)]),
                        H.el("td", [], [d.path.map { H.el("code", text: $0) } ?? H.el("span", [("class", "muted")], text: "—")]),
                        H.el("td", [], [d.lastCommit.map { GitComponents.sha($0) } ?? H.el("span", [("class", "muted")], text: "—")]),
                        H.el("td", [], [Components.time(d.committedAt, l)]),
                    ])
                }),
            ])
        }

        func pager(_ l: Localizer) -> HTMLNode {
            Components.pager(page: model.page, pageCount: model.pageCount, l) { page in
                SiteURL.gitPage.path(query: ["environment": model.selected?.key, "drift": model.drift, "search": model.search, "page": String(page)])
            }
        }

        // MARK: Remote

        func remote(_ l: Localizer) -> HTMLNode {
            H.el("section", [("data-testid", "git-remote")], [
                H.el("h2", text: l.t("git.remote_title")),
                model.remote.map { r in
                    H.group([
                        H.el("dl", [("class", "facts"), ("data-testid", "git-remote-facts")], [
                            H.el("dt", text: l.t("git_remote.url")), H.el("dd", [], [H.el("code", [("data-testid", "git-remote-url")], text: r.url)]),
                            H.el("dt", text: l.t("git_remote.branch")), H.el("dd", [], [H.el("code", text: r.branch)]),
                            H.el("dt", text: l.t("git_remote.push_after_commit")),
                            H.el("dd", [("data-testid", "git-remote-push-after")], text: l.t(r.pushAfterCommit ? "git.yes" : "git.no")),
                        ]),
                        model.canPushPull ? H.el("div", [("class", "actions"), ("data-testid", "git-remote-actions")], [
                            actionForm("push", environment: nil, label: l.t("git.push"), hint: l.t("git.push_hint")),
                            actionForm("pull", environment: nil, label: l.t("git.pull"), hint: l.t("git.pull_hint")),
                        ]) : H.group([]),
                    ])
                } ?? H.el("p", [("class", "muted"), ("data-testid", "git-remote-none")], text: l.t("git.remote_none")),
                model.canAdminRemote
                    ? H.el("p", [], [H.a(SiteURL.gitRemotePage.path, l.t("git.remote_settings"), [("class", "button"), ("data-testid", "git-remote-settings")])])
                    : H.group([]),
            ])
        }
    }
}
