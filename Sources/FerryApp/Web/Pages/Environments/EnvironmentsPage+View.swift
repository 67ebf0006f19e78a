import Foundation

extension EnvironmentsPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("environments.title") }
        var nav: NavItem? { .environments }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("div", [("class", "page-head")], [
                    H.el("h1", text: l.t("environments.title")),
                    model.canAdd ? H.a(SiteURL.environmentNew.path, l.t("environments.add"), [("class", "button primary"), ("data-testid", "add-environment")]) : H.group([]),
                ]),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                model.test.map(testNotice) ?? H.group([]),
                model.rows.isEmpty
                    ? H.el("p", [("class", "empty"), ("data-testid", "no-environments")], text: l.t("environments.empty"))
                    : table(l),
            ])
        }

        func testNotice(_ outcome: Model.TestOutcome) -> HTMLNode {
            let l = localizer
            let r = outcome.result
            if r.ok {
                return Components.notice(
                    "success", title: l.t("environments.test.ok", ["name": outcome.environment, "version": r.version ?? "?"]),
                    detail: l.t("environments.test.ok_detail"), testID: "test-result")
            }
            let reason = r.reason ?? "unexpected"
            return Components.notice(
                "error", title: l.t("environments.test.failed", ["name": outcome.environment]),
                detail: l.t("reason.\(reason)") + " " + r.message, testID: "test-result")
        }

        func table(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "environments")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("environments.col.name")), H.el("th", text: l.t("environments.col.stage")),
                    H.el("th", text: l.t("environments.col.url")), H.el("th", text: l.t("environments.col.user")),
                    H.el("th", text: l.t("environments.col.inventory")), H.el("th", text: l.t("environments.col.actions")),
                ])]),
                H.el("tbody", [], model.rows.map { row(l, $0) }),
            ])
        }

        func row(_ l: Localizer, _ r: Model.Row) -> HTMLNode {
            let inventory: HTMLNode = H.el("div", [("class", "inventory")], [
                Components.time(r.lastSyncAt, l),
                r.syncStatus == "running" ? H.el("span", [("class", "badge")], text: l.t("sync.running")) : H.group([]),
                r.syncStatus == "failed" ? H.el("span", [("class", "badge error"), ("title", r.syncError.map(l.failureText))], text: l.t("sync.failed")) : H.group([]),
                r.counts.isEmpty ? H.group([]) : H.el("small", text: l.t("environments.counts", [
                    "dashboards": String(r.counts["dashboard"] ?? 0), "charts": String(r.counts["chart"] ?? 0),
                    "datasets": String(r.counts["dataset"] ?? 0), "databases": String(r.counts["database"] ?? 0),
                ])),
            ])
            return H.el("tr", [("data-environment", r.name)], [
                H.el("td", [], [
                    H.el("strong", text: r.name),
                    r.isDefault ? H.el("span", [("class", "badge")], text: l.t("environments.default")) : H.group([]),
                ]),
                H.el("td", [], [H.el("span", [("class", "stage stage-\(r.stage)")], text: l.t("stage.\(r.stage)"))]),
                H.el("td", [], [H.a(r.url, r.url, [("rel", "noopener")])]),
                H.el("td", text: "\(r.username) (\(r.authProvider))"),
                H.el("td", [], [inventory]),
                H.el("td", [("class", "actions")], [
                    form(SiteURL.environmentTest(.value(r.id)).path, l.t("environments.test"), testID: "test-\(r.name)"),
                    r.canSync ? form(SiteURL.environmentSync(.value(r.id)).path, l.t("environments.sync"), testID: "sync-\(r.name)") : H.group([]),
                    H.a(SiteURL.backupsEnvironmentPage(.value(r.id)).path, l.t("environments.backups"), [("class", "button"), ("data-testid", "backups-\(r.name)")]),
                    r.canWrite ? H.a(SiteURL.environmentEdit(.value(r.id)).path, l.t("environments.edit"), [("class", "button")]) : H.group([]),
                    r.canWrite ? form(SiteURL.environmentDelete(.value(r.id)).path, l.t("environments.delete"), testID: "delete-\(r.name)",
                                      confirm: l.t("environments.delete_confirm", ["name": r.name]), danger: true) : H.group([]),
                ]),
            ])
        }

        func form(_ action: String, _ label: String, testID: String, confirm: String? = nil, danger: Bool = false) -> HTMLNode {
            H.el("form", [("method", "post"), ("action", action), ("class", "inline"), ("data-confirm", confirm)], [
                H.el("button", [("type", "submit"), ("class", danger ? "button danger" : "button"), ("data-testid", testID)], text: label)
            ])
        }
    }
}
