import Foundation

extension BackupsEnvironmentPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("backups.environment_title", ["environment": model.environment]) }
        var nav: NavItem? { .backups }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("p", [], [H.a(SiteURL.backupsPage.path, "← " + l.t("backups.title"), [("data-testid", "all-backups")])]),
                H.el("div", [("class", "page-head")], [
                    H.el("h1", text: l.t("backups.environment_title", ["environment": model.environment])),
                    model.exists && model.canRun ? runForm(l) : H.group([]),
                ]),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                model.runError.map { Components.notice("error", title: l.t("backups.not_started"), detail: $0, testID: "run-error") } ?? H.group([]),
                model.exists ? H.group([]) : Components.notice("info", title: l.t("backups.environment_gone"), detail: l.t("backups.environment_gone_detail"),
                                                              testID: "environment-gone"),
                model.backups.isEmpty
                    ? H.el("p", [("class", "empty"), ("data-testid", "no-backups")], text: l.t("backups.empty"))
                    : H.group([table(l), pager(l)]),
                model.exists && model.canRun ? H.group([H.el("h2", text: l.t("backups.upload_title")), uploadForm(l)]) : H.group([]),
                model.exists ? H.group([H.el("h2", text: l.t("backups.retention_title")), retention(l)]) : H.group([]),
                model.exists ? H.group([H.el("h2", text: l.t("backups.schedule_title")), schedule(l)]) : H.group([]),
            ])
        }

        func runForm(_ l: Localizer) -> HTMLNode {
            H.el("form", [("method", "post"), ("action", SiteURL.backupRunPage(.value(model.environmentID)).path), ("class", "inline"),
                          ("data-testid", "run-form")], [
                H.el("label", [("class", "inline-check"), ("title", l.t("backups.full_hint"))], [
                    H.void("input", [("type", "checkbox"), ("name", "full"), ("value", "true"), ("data-testid", "full")]),
                    H.text(" " + l.t("backups.full")),
                ]),
                H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "run-backup")], text: l.t("backups.run")),
            ])
        }

        /// The backups; with two or more, the table is a form that opens the comparison of the
        /// pair picked in its From and To columns (the newest two by default).
        func table(_ l: Localizer) -> HTMLNode {
            let compare = model.backups.count >= 2
            let defaultFrom = compare ? model.backups[1].id : nil, defaultTo = model.backups.first?.id
            let table = H.el("table", [("class", "grid"), ("data-testid", "backups")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("backups.col.time")), H.el("th", text: l.t("backups.col.origin")),
                    H.el("th", text: l.t("backups.col.type")), H.el("th", text: l.t("backups.col.assets")),
                    H.el("th", text: l.t("backups.col.size")), H.el("th", text: l.t("backups.col.new_bytes")),
                    H.el("th", text: l.t("backups.col.status")),
                    compare ? H.el("th", text: l.t("backups.col.from")) : H.group([]),
                    compare ? H.el("th", text: l.t("backups.col.to")) : H.group([]),
                ])]),
                H.el("tbody", [], model.backups.map { b in
                    H.el("tr", [("data-backup", b.id.key), ("data-origin", b.origin)], [
                        H.el("td", [], [BackupComponents.link(b.id, createdAt: b.createdAt, l), H.void("br", []), H.el("small", [("class", "muted")], text: b.createdBy)]),
                        H.el("td", [], [BackupComponents.origin(b.origin, l)]),
                        H.el("td", [], [BackupComponents.backupType(full: b.full, l)]),
                        H.el("td", [("title", BackupComponents.counts(b.counts, l))], text: String(b.counts.total)),
                        H.el("td", text: BackupComponents.size(b.totalBytes, l)),
                        H.el("td", text: BackupComponents.size(b.newBytes, l)),
                        H.el("td", [], [BackupComponents.verify(b.verifyStatus, l), BackupComponents.pinned(b.pinned, l)]),
                        compare ? H.el("td", [], [radio("from", b, checked: b.id == defaultFrom, l)]) : H.group([]),
                        compare ? H.el("td", [], [radio("to", b, checked: b.id == defaultTo, l)]) : H.group([]),
                    ])
                }),
            ])
            guard compare else { return table }
            return H.el("form", [("method", "get"), ("action", SiteURL.backupDiffPage.path), ("data-testid", "compare-form")], [
                table,
                H.el("div", [("class", "form-actions")], [
                    H.el("button", [("type", "submit"), ("class", "button"), ("data-testid", "compare")], text: l.t("backups.compare")),
                ]),
            ])
        }

        func radio(_ name: String, _ b: BackupDTO, checked: Bool, _ l: Localizer) -> HTMLNode {
            H.void("input", [("type", "radio"), ("name", name), ("value", b.id.key), ("checked", H.flag(checked)),
                             ("aria-label", l.t("backups.col.\(name)")), ("data-testid", "\(name)-\(b.id.key)")])
        }

        func pager(_ l: Localizer) -> HTMLNode {
            Components.pager(page: model.page, pageCount: model.pageCount, l) { page in
                SiteURL.backupsEnvironmentPage(.value(model.environmentID)).path(query: ["page": String(page)])
            }
        }

        func uploadForm(_ l: Localizer) -> HTMLNode {
            H.el("form", [("method", "post"), ("action", SiteURL.backupUploadPage(.value(model.environmentID)).path), ("enctype", "multipart/form-data"),
                          ("class", "stacked"), ("data-testid", "upload-form")], [
                model.uploadError.map { Components.notice("error", title: l.t("backups.not_uploaded"), detail: $0, testID: "upload-error") } ?? H.group([]),
                H.el("div", [("class", model.uploadError == nil ? "field" : "field invalid")], [
                    H.el("label", [("for", "f-file")], text: l.t("backups.upload_file")),
                    H.void("input", [("id", "f-file"), ("type", "file"), ("name", "file"), ("accept", ".zip,application/zip"), ("required", ""),
                                     ("data-testid", "upload-file")]),
                    H.el("small", text: l.t("backups.upload_hint")),
                ]),
                H.el("div", [("class", "form-actions")], [
                    H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "upload")], text: l.t("backups.upload")),
                ]),
            ])
        }

        func retention(_ l: Localizer) -> HTMLNode {
            let r = model.retention
            let summary = l.t("backups.retention_summary", ["last": r.keepLast, "daily": r.daily, "weekly": r.weekly, "monthly": r.monthly])
            guard model.canRun else { return H.el("p", [("data-testid", "retention")], text: summary) }
            return H.el("form", [("method", "post"), ("action", SiteURL.backupPolicyPage(.value(model.environmentID)).path), ("class", "stacked"),
                                 ("data-testid", "retention-form")], [
                H.void("input", [("type", "hidden"), ("name", "part"), ("value", "retention")]),
                model.retentionError.map { Components.notice("error", title: l.t("backups.not_saved"), detail: $0, testID: "retention-error") } ?? H.group([]),
                H.el("p", [("class", "muted")], text: l.t("backups.retention_hint")),
                Components.field("keepLast", label: l.t("backups.keep_last"), value: r.keepLast, type: "number", required: true, error: model.retentionErrors["keepLast"]),
                Components.field("daily", label: l.t("backups.keep_daily"), value: r.daily, type: "number", required: true, error: model.retentionErrors["daily"]),
                Components.field("weekly", label: l.t("backups.keep_weekly"), value: r.weekly, type: "number", required: true, error: model.retentionErrors["weekly"]),
                Components.field("monthly", label: l.t("backups.keep_monthly"), value: r.monthly, type: "number", required: true, error: model.retentionErrors["monthly"]),
                H.el("div", [("class", "form-actions")], [
                    H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "save-retention")], text: l.t("environment_form.save")),
                ]),
            ])
        }

        func schedule(_ l: Localizer) -> HTMLNode {
            let s = model.schedule
            let next: HTMLNode = model.hasSchedule
                ? H.el("p", [("data-testid", "schedule-next")], [
                    H.text(l.t("backups.schedule_next") + " "), Components.time(s.enabled ? model.nextRunAt : nil, l),
                    s.enabled ? H.group([]) : H.el("span", [("class", "badge")], text: l.t("schedules.disabled")),
                ])
                : H.el("p", [("class", "muted"), ("data-testid", "no-schedule")], text: l.t("backups.schedule_none"))
            guard model.canSchedule else {
                return H.group([
                    model.hasSchedule ? H.el("p", [("data-testid", "schedule")], [H.el("code", text: s.cron), H.text(" (\(s.timeZone))")]) : H.group([]),
                    next,
                ])
            }
            return H.el("form", [("method", "post"), ("action", SiteURL.backupPolicyPage(.value(model.environmentID)).path), ("class", "stacked"),
                                 ("data-testid", "schedule-form")], [
                H.void("input", [("type", "hidden"), ("name", "part"), ("value", "schedule")]),
                model.scheduleError.map { Components.notice("error", title: l.t("backups.not_saved"), detail: $0, testID: "schedule-error") } ?? H.group([]),
                next,
                Components.field("cron", label: l.t("schedules.col.cron"), value: s.cron, required: true, hint: l.t("schedules.cron_hint"),
                                 error: model.scheduleErrors["cron"], placeholder: "0 2 * * *"),
                Components.field("timeZone", label: l.t("schedules.zone"), value: s.timeZone, error: model.scheduleErrors["timeZone"]),
                Components.checkbox("enabled", label: l.t("backups.schedule_enabled"), checked: s.enabled),
                H.el("div", [("class", "form-actions")], [
                    H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "save-schedule")], text: l.t("environment_form.save")),
                ]),
            ])
        }
    }
}
