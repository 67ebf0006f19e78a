import Foundation

extension GitHistoryPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("git_history.title", ["dashboard": model.dashboard.title]) }
        var nav: NavItem? { .git }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("p", [], [H.a(SiteURL.gitPage.path(query: ["environment": model.environmentID.key]), "← " + l.t("git.title"), [("data-testid", "git-back")])]),
                H.el("h1", [], [H.text(model.dashboard.title + " "), GitComponents.drift(model.dashboard.drift, l)]),
                facts(l),
                compareActions(l),
                H.el("h2", text: l.t("git_history.revisions")),
                model.historyError.map { Components.notice("error", title: l.t("git_history.unreadable"), detail: $0, testID: "git-history-error") } ?? H.group([]),
                model.revisions.isEmpty
                    ? H.el("p", [("class", "empty"), ("data-testid", "git-no-revisions")], text: l.t("git_history.no_revisions"))
                    : H.group([revisions(l), pager(l)]),
                deployForm(l),
            ])
        }

        func facts(_ l: Localizer) -> HTMLNode {
            let d = model.dashboard
            return H.el("dl", [("class", "facts"), ("data-testid", "git-dashboard-facts")], [
                H.el("dt", text: l.t("git.col.environment")), H.el("dd", text: model.environment),
                H.el("dt", text: l.t("git.col.drift")),
                H.el("dd", [], [GitComponents.drift(d.drift, l), d.checkedAt.map { H.group([H.text(" " + l.t("git_history.checked") + " "), Components.time($0, l)]) } ?? H.group([])]),
                H.el("dt", text: l.t("git.col.folder")), H.el("dd", [], [H.el("code", [("data-testid", "git-folder")], text: d.path ?? "—")]),
                H.el("dt", text: l.t("backup.col.uuid")), H.el("dd", [], [H.el("code", text: d.uuid)]),
                H.el("dt", text: l.t("git.col.last_commit")),
                H.el("dd", [], [d.lastCommit.map { GitComponents.sha($0) } ?? H.el("span", [("class", "muted")], text: "—"), H.text(" "), Components.time(d.committedAt, l)]),
            ])
        }

        /// "Compare with live" (the last commit against Superset now) and, with other readable
        /// environments, "Compare with <environment>" (both folders' newest commit).
        func compareActions(_ l: Localizer) -> HTMLNode {
            H.el("div", [("class", "actions"), ("data-testid", "git-compare-actions")], [
                H.a(GitComponents.diffPath(environment: model.environmentID, dashboard: model.dashboard.uuid, from: model.lastCommit, to: "live"),
                    l.t("git_history.compare_live"), [("class", "button"), ("data-testid", "git-compare-live"), ("title", l.t("git_history.compare_live_hint"))]),
                model.others.isEmpty ? H.group([]) : H.el("form", [("method", "get"), ("action", SiteURL.gitDiffPage.path), ("class", "inline"),
                                                                    ("data-testid", "git-compare-environment-form")], [
                    H.void("input", [("type", "hidden"), ("name", "environment"), ("value", model.environmentID.key)]),
                    H.void("input", [("type", "hidden"), ("name", "dashboard"), ("value", model.dashboard.uuid)]),
                    H.void("input", [("type", "hidden"), ("name", "from"), ("value", "HEAD")]),
                    H.void("input", [("type", "hidden"), ("name", "to"), ("value", "HEAD")]),
                    H.el("label", [("for", "git-other"), ("class", "visually-hidden")], text: l.t("git_history.other_environment")),
                    H.el("select", [("id", "git-other"), ("name", "toEnvironment"), ("data-testid", "git-other-environment")], model.others.map { o in
                        H.el("option", [("value", o.id.key)], text: o.name)
                    }),
                    H.el("button", [("type", "submit"), ("class", "button"), ("data-testid", "git-compare-environment"),
                                    ("title", l.t("git_history.compare_environment_hint"))], text: l.t("git_history.compare_environment")),
                ]),
            ])
        }

        /// The revisions in a form that opens the comparison of the pair picked in its From and
        /// To columns (the newest two by default; To may be Superset now).
        func revisions(_ l: Localizer) -> HTMLNode {
            let list = model.revisions
            let defaultTo = list.count >= 2 ? list[0].sha : "live"
            let defaultFrom = list.count >= 2 ? list[1].sha : list.first?.sha
            let deploys = model.canDeploy && !model.deployTargets.isEmpty
            let rows: [HTMLNode] = list.map { r in row(r, from: r.sha == defaultFrom, to: r.sha == defaultTo, deploys: deploys, l) }
            return H.el("form", [("method", "get"), ("action", SiteURL.gitDiffPage.path), ("data-testid", "git-compare-form")], [
                H.void("input", [("type", "hidden"), ("name", "environment"), ("value", model.environmentID.key)]),
                H.void("input", [("type", "hidden"), ("name", "dashboard"), ("value", model.dashboard.uuid)]),
                H.el("table", [("class", "grid"), ("data-testid", "git-revisions")], [
                    H.el("thead", [], [H.el("tr", [], [
                        H.el("th", text: l.t("git_history.col.revision")), H.el("th", text: l.t("git_history.col.author")),
                        H.el("th", text: l.t("git_history.col.time")), H.el("th", text: l.t("git_history.col.summary")),
                        H.el("th", text: l.t("git_history.col.task")),
                        H.el("th", text: l.t("git_history.col.from")), H.el("th", text: l.t("git_history.col.to")),
                        deploys ? H.el("th", [], [H.el("span", [("class", "visually-hidden")], text: l.t("git_history.deploy_title"))]) : H.group([]),
                    ])]),
                    H.el("tbody", [], [liveRow(checked: defaultTo == "live", deploys: deploys, l)] + rows),
                ]),
                H.el("div", [("class", "form-actions")], [
                    H.el("button", [("type", "submit"), ("class", "button"), ("data-testid", "git-compare")], text: l.t("git_history.compare")),
                ]),
            ])
        }

        /// One revision: who, when, what, its task, the comparison's picks and the deploy link.
        func row(_ r: GitRevisionDTO, from: Bool, to: Bool, deploys: Bool, _ l: Localizer) -> HTMLNode {
            let task: HTMLNode = r.taskId.map { H.a(SiteURL.taskPage(.value($0)).path, l.t("git_history.task"), [("data-testid", "git-revision-task")]) }
                ?? H.el("span", [("class", "muted")], text: "—")
            let deployLink = GitComponents.historyPath(environment: model.environmentID, dashboard: model.dashboard.uuid,
                                                       extra: ["revision": r.sha, "page": model.page > 1 ? String(model.page) : nil]) + "#git-deploy"
            return H.el("tr", [("data-testid", "git-revision-row"), ("data-sha", r.sha)], [
                H.el("td", [], [GitComponents.sha(r.sha)]),
                H.el("td", text: r.author),
                H.el("td", [], [Components.time(r.date, l)]),
                H.el("td", text: r.summary),
                H.el("td", [], [task]),
                H.el("td", [], [radio("from", value: r.sha, short: r.shortSha, checked: from, l)]),
                H.el("td", [], [radio("to", value: r.sha, short: r.shortSha, checked: to, l)]),
                deploys ? H.el("td", [], [H.a(deployLink, l.t("git_history.deploy_pick"), [("data-testid", "git-deploy-pick")])]) : H.group([]),
            ])
        }

        /// Superset now, as a To of the comparison.
        func liveRow(checked: Bool, deploys: Bool, _ l: Localizer) -> HTMLNode {
            H.el("tr", [("data-testid", "git-live-row")], [
                H.el("td", [("colspan", "5")], [H.el("em", text: l.t("git_history.live"))]),
                H.el("td", [], []),
                H.el("td", [], [radio("to", value: "live", short: "live", checked: checked, l)]),
                deploys ? H.el("td", [], []) : H.group([]),
            ])
        }

        func radio(_ name: String, value: String, short: String, checked: Bool, _ l: Localizer) -> HTMLNode {
            H.void("input", [("type", "radio"), ("name", name), ("value", value), ("checked", H.flag(checked)),
                             ("aria-label", l.t(name == "from" ? "git_history.col.from" : "git_history.col.to") + " " + short), ("data-testid", "git-\(name)-\(short)")])
        }

        func pager(_ l: Localizer) -> HTMLNode {
            guard model.page > 1 || model.hasMore else { return H.group([]) }
            func link(_ page: Int) -> String {
                GitComponents.historyPath(environment: model.environmentID, dashboard: model.dashboard.uuid, extra: ["page": String(page)])
            }
            return H.el("nav", [("class", "pager"), ("aria-label", l.t("pager.label"))], [
                model.page > 1 ? H.a(link(model.page - 1), l.t("pager.previous"), [("rel", "prev")]) : H.group([]),
                H.el("span", text: l.t("git_history.page", ["page": String(model.page)])),
                model.hasMore ? H.a(link(model.page + 1), l.t("pager.next"), [("rel", "next")]) : H.group([]),
            ])
        }

        /// Deploys a revision of this dashboard into an environment: plans a promotion whose
        /// source is the commit, and opens the plan to review and apply.
        func deployForm(_ l: Localizer) -> HTMLNode {
            guard model.canDeploy, !model.deployTargets.isEmpty, !model.revisions.isEmpty else { return H.group([]) }
            var options = model.revisions.map { r in
                (value: r.sha, label: "\(r.shortSha) · \(GitComponents.timeText(r.date)) · \(r.summary.prefix(80))")
            }
            let picked = model.deploy.revision
            if !picked.isEmpty, !model.revisions.contains(where: { $0.sha == picked || $0.sha.hasPrefix(picked.lowercased()) }) {
                options.insert((value: picked, label: picked), at: 0)
            }
            let selected = model.revisions.first(where: { !picked.isEmpty && $0.sha.hasPrefix(picked.lowercased()) })?.sha ?? (picked.isEmpty ? model.revisions.first?.sha : picked)
            let targets = [(value: "", label: l.t("promote.pick"))] + model.deployTargets.map { (value: $0.id.key, label: $0.name) }
            return H.group([
                H.el("h2", [("id", "git-deploy")], text: l.t("git_history.deploy_title")),
                H.el("form", [("method", "post"), ("action", SiteURL.gitDeployPage.path), ("class", "stacked"), ("data-testid", "git-deploy-form")], [
                    model.deployError.map { Components.notice("error", title: l.t("git_history.not_deployed"), detail: $0, testID: "git-deploy-error") } ?? H.group([]),
                    H.el("p", [("class", "muted")], text: l.t("git_history.deploy_hint")),
                    H.void("input", [("type", "hidden"), ("name", "source"), ("value", model.environmentID.key)]),
                    H.void("input", [("type", "hidden"), ("name", "dashboards"), ("value", model.dashboard.uuid)]),
                    Components.select("revision", label: l.t("git_history.deploy_revision"), options: options, selected: selected, error: model.deployErrors["revision"]),
                    Components.select("target", label: l.t("git_history.deploy_target"), options: targets, selected: model.deploy.target, error: model.deployErrors["target"]),
                    Components.checkbox("acceptUnknownVersion", label: l.t("promote.accept_unknown_version"), checked: false),
                    H.el("div", [("class", "form-actions")], [
                        H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "git-deploy-submit")], text: l.t("git_history.deploy")),
                    ]),
                ]),
            ])
        }
    }
}
