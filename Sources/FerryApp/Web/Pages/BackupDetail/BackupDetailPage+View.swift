import Foundation
import SupersetKit

extension BackupDetailPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("backup.title", ["environment": model.backup.environment]) }
        var nav: NavItem? { .backups }

        func content(_ l: Localizer) -> HTMLNode {
            let b = model.backup
            return H.group([
                H.el("p", [], [H.a(SiteURL.backupsEnvironmentPage(.value(b.environmentId)).path, "← " + l.t("backups.environment_title", ["environment": b.environment]),
                                   [("data-testid", "environment-backups")])]),
                H.el("h1", [], [H.text(l.t("backup.heading", ["environment": b.environment]) + " "), Components.time(b.createdAt, l)]),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                model.corrupt ? corruptNotice(l) : H.group([]),
                summary(l),
                actions(l),
                H.el("h2", text: l.t("backup.contents")),
                contents(l),
            ])
        }

        func corruptNotice(_ l: Localizer) -> HTMLNode {
            H.el("div", [("class", "notice error"), ("role", "alert"), ("data-testid", "corrupt")], [
                H.el("strong", text: l.t("backup.corrupt")),
                H.el("p", text: l.t("backup.corrupt_detail")),
                H.el("ul", [("data-testid", "problems")], model.backup.problems.map { p in
                    H.el("li", [], [
                        p.kind.map { H.el("span", [("class", "badge")], text: l.t("plan.kind.\($0)")) } ?? H.group([]),
                        H.text(" " + p.name + ": " + p.problem),
                        p.uuid.map { H.el("small", [("class", "muted")], text: " (\($0))") } ?? H.group([]),
                    ])
                }),
            ])
        }

        func summary(_ l: Localizer) -> HTMLNode {
            let b = model.backup
            return H.el("dl", [("class", "facts"), ("data-testid", "backup-summary")], [
                H.el("dt", text: l.t("backups.col.environment")),
                H.el("dd", [], [H.a(SiteURL.backupsEnvironmentPage(.value(b.environmentId)).path, b.environment)]),
                H.el("dt", text: l.t("backup.created")),
                H.el("dd", [], [
                    Components.time(b.createdAt, l), H.text(" " + l.t("backup.by", ["user": b.createdBy]) + " "),
                    b.taskId.map { H.a(SiteURL.taskPage(.value($0)).path, l.t("backup.task"), [("data-testid", "backup-task")]) } ?? H.group([]),
                ]),
                H.el("dt", text: l.t("backup.kind")),
                H.el("dd", [], [BackupComponents.origin(b.origin, l), BackupComponents.backupType(full: b.full, l), BackupComponents.pinned(b.pinned, l)]),
                H.el("dt", text: l.t("backup.superset_version")), H.el("dd", text: b.supersetVersion),
                H.el("dt", text: l.t("backup.holds")), H.el("dd", [("data-testid", "backup-counts")], text: BackupComponents.counts(b.counts, l)),
                H.el("dt", text: l.t("backups.col.size")),
                H.el("dd", text: l.t("backup.sizes", ["total": BackupComponents.size(b.totalBytes, l), "new": BackupComponents.size(b.newBytes, l)])),
                H.el("dt", text: l.t("backup.checksum")), H.el("dd", [], [H.el("code", [("title", b.checksum)], text: String(b.checksum.prefix(16)) + "…")]),
                H.el("dt", text: l.t("backup.verification")),
                H.el("dd", [("data-testid", "backup-verify")], [
                    BackupComponents.verify(b.verifyStatus, l),
                    b.verifiedAt.map { H.group([H.text(" "), Components.time($0, l)]) } ?? H.group([]),
                ]),
            ])
        }

        /// Download, and for `backup:run`: pin or unpin, verify, delete (with its confirmation box).
        func actions(_ l: Localizer) -> HTMLNode {
            let id = model.backup.id
            return H.group([
                H.el("div", [("class", "actions"), ("data-testid", "backup-actions")], [
                    H.a(SiteURL.backupDownloadPage(.value(id)).path, l.t("backup.download_all"), [("class", "button"), ("data-testid", "download-all")]),
                    model.canRun ? H.el("form", [("method", "post"), ("action", SiteURL.backupPinPage(.value(id)).path), ("class", "inline")], [
                        H.void("input", [("type", "hidden"), ("name", "pinned"), ("value", model.backup.pinned ? "false" : "true")]),
                        H.el("button", [("type", "submit"), ("class", "button"), ("data-testid", model.backup.pinned ? "unpin" : "pin"),
                                        ("title", l.t("backup.pin_hint"))], text: l.t(model.backup.pinned ? "backup.unpin" : "backup.pin")),
                    ]) : H.group([]),
                    model.canRun ? H.el("form", [("method", "post"), ("action", SiteURL.backupVerifyPage(.value(id)).path), ("class", "inline")], [
                        H.el("button", [("type", "submit"), ("class", "button"), ("data-testid", "verify"), ("title", l.t("backup.verify_hint"))],
                             text: l.t("backup.verify")),
                    ]) : H.group([]),
                ]),
                model.deleteError.map { Components.notice("error", title: l.t("backup.not_deleted"), detail: $0, testID: "delete-error") } ?? H.group([]),
                model.canRun ? H.el("form", [("method", "post"), ("action", SiteURL.backupDeletePage(.value(id)).path), ("class", "inline"),
                                             ("data-testid", "delete-form")], [
                    H.el("label", [("class", "inline-check")], [
                        H.void("input", [("type", "checkbox"), ("name", "confirm"), ("value", "yes"), ("data-testid", "confirm-delete")]),
                        H.text(" " + l.t(model.backup.pinned ? "backup.delete_confirm_pinned" : "backup.delete_confirm")),
                    ]),
                    H.el("button", [("type", "submit"), ("class", "button danger"), ("data-testid", "delete")], text: l.t("backup.delete")),
                ]) : H.group([]),
            ])
        }

        func contents(_ l: Localizer) -> HTMLNode {
            if let error = model.contentsError {
                return Components.notice("error", title: l.t("backup.unreadable"), detail: error, testID: "contents-error")
            }
            return H.group([
                searchForm(l),
                H.el("p", [("class", "muted"), ("data-testid", "asset-count")], text: model.matching > model.assets.count
                    ? l.t("backup.showing", ["shown": String(model.assets.count), "count": String(model.matching)])
                    : l.t("backup.matching", ["count": String(model.matching)])),
                model.canRestore ? restoreForm(l) : H.group([
                    model.assets.isEmpty ? H.group([]) : table(l, pick: false),
                    model.corrupt ? Components.notice("error", title: l.t("backup.no_restore_corrupt"), testID: "no-restore") : H.group([]),
                ]),
            ])
        }

        func searchForm(_ l: Localizer) -> HTMLNode {
            let kinds = [(value: "", label: l.t("backup.all_kinds"))] + AssetKind.allCases.reversed().map { (value: $0.rawValue, label: l.t("plan.kind.\($0.rawValue)")) }
            return H.el("form", [("method", "get"), ("action", SiteURL.backupPage(.value(model.backup.id)).path), ("class", "search"), ("role", "search"),
                                 ("data-testid", "contents-search")], [
                H.el("label", [("for", "q"), ("class", "visually-hidden")], text: l.t("backup.search")),
                H.void("input", [("id", "q"), ("type", "search"), ("name", "search"), ("value", model.search), ("placeholder", l.t("backup.search_placeholder")),
                                 ("data-testid", "search")]),
                H.el("label", [("for", "kind"), ("class", "visually-hidden")], text: l.t("backup.kind_filter")),
                H.el("select", [("id", "kind"), ("name", "kind"), ("data-testid", "kind")], kinds.map { o in
                    H.el("option", [("value", o.value), ("selected", H.flag(o.value == model.kind))], text: o.label)
                }),
                H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "search-contents")], text: l.t("backup.search")),
            ])
        }

        /// The listed assets; with `pick`, a tick box per dashboard, chart and dataset (named
        /// after its kind, valued by its uuid) for the restore form around it.
        func table(_ l: Localizer, pick: Bool) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "assets")], [
                H.el("thead", [], [H.el("tr", [], [
                    pick ? H.el("th", [], [H.el("span", [("class", "visually-hidden")], text: l.t("backup.col.restore"))]) : H.group([]),
                    H.el("th", text: l.t("plan.col.kind")), H.el("th", text: l.t("plan.col.name")),
                    H.el("th", text: l.t("backup.col.uuid")), H.el("th", text: l.t("backups.col.size")),
                    H.el("th", text: l.t("backup.col.changed")), H.el("th", text: l.t("environments.col.actions")),
                ])]),
                H.el("tbody", [], model.assets.map { a in
                    H.el("tr", [("data-kind", a.kind.rawValue), ("data-uuid", a.uuid)], [
                        pick ? H.el("td", [], [pickBox(a, l)]) : H.group([]),
                        H.el("td", text: l.t("plan.kind.\(a.kind.rawValue)")),
                        H.el("td", text: a.name),
                        H.el("td", [], [H.el("code", text: a.uuid)]),
                        H.el("td", text: BackupComponents.size(Int64(a.size), l)),
                        H.el("td", [], [a.changedOn.map { Components.time($0, l) } ?? H.el("span", [("class", "muted")], text: "—")]),
                        H.el("td", [], [
                            a.kind == .dashboard
                                ? H.a(SiteURL.backupDownloadPage(.value(model.backup.id)).path(query: ["dashboard": a.uuid]), l.t("backup.download_zip"),
                                      [("class", "button"), ("data-testid", "download-dashboard")])
                                : H.group([]),
                        ]),
                    ])
                }),
            ])
        }

        func pickBox(_ a: BackupAssetDTO, _ l: Localizer) -> HTMLNode {
            let field: String
            switch a.kind {
            case .dashboard: field = "dashboards"
            case .chart: field = "charts"
            case .dataset: field = "datasets"
            case .database: return H.group([])  // connections come along with what uses them
            }
            return H.void("input", [("type", "checkbox"), ("name", field), ("value", a.uuid), ("checked", H.flag(model.restore.picked.contains(a.uuid))),
                                    ("aria-label", l.t("backup.pick", ["name": a.name])), ("data-testid", "pick-\(a.uuid)")])
        }

        func restoreForm(_ l: Localizer) -> HTMLNode {
            let targets = [(value: "", label: l.t("promote.pick"))] + model.targets.map { (value: $0.id.key, label: $0.name) }
            return H.el("form", [("method", "post"), ("action", SiteURL.backupRestorePage(.value(model.backup.id)).path), ("data-testid", "restore-form")], [
                H.void("input", [("type", "hidden"), ("name", "search"), ("value", model.search)]),
                H.void("input", [("type", "hidden"), ("name", "kind"), ("value", model.kind)]),
                model.assets.isEmpty ? H.group([]) : table(l, pick: true),
                H.el("h2", text: l.t("backup.restore_title")),
                H.el("div", [("class", "stacked")], [
                    model.restoreError.map { Components.notice("error", title: l.t("backup.not_restored"), detail: $0, testID: "restore-error") } ?? H.group([]),
                    H.el("p", [("data-testid", "restore-hint")], text: l.t("backup.restore_hint")),
                    Components.select("target", label: l.t("backup.restore_target"), options: targets, selected: model.restore.target),
                    Components.checkbox("acceptUnknownVersion", label: l.t("promote.accept_unknown_version"), checked: false),
                    H.el("div", [("class", "form-actions")], [
                        H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "restore")], text: l.t("backup.restore")),
                    ]),
                ]),
            ])
        }
    }
}
