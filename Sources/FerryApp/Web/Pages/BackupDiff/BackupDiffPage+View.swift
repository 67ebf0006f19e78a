import Foundation

extension BackupDiffPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("backup_diff.title") }
        var nav: NavItem? { .backups }

        func content(_ l: Localizer) -> HTMLNode {
            let d = model.diff
            return H.group([
                H.el("p", [], [H.a(SiteURL.backupsEnvironmentPage(.value(model.to.environmentId)).path,
                                   "← " + l.t("backups.environment_title", ["environment": model.to.environment]), [("data-testid", "environment-backups")])]),
                H.el("h1", text: l.t("backup_diff.heading", ["environment": model.to.environment])),
                H.el("dl", [("class", "facts"), ("data-testid", "diff-backups")], [
                    H.el("dt", text: l.t("backup_diff.from")), H.el("dd", [], side(model.from, l)),
                    H.el("dt", text: l.t("backup_diff.to")), H.el("dd", [], side(model.to, l)),
                ]),
                H.el("p", [("data-testid", "diff-summary")], text: l.t("backup_diff.summary", [
                    "added": String(d.added.count), "removed": String(d.removed.count), "changed": String(d.changed.count),
                ])),
                model.identical ? Components.notice("info", title: l.t("backup_diff.identical"), testID: "diff-identical") : H.group([]),
                d.added.isEmpty ? H.group([]) : H.group([
                    H.el("h2", text: l.t("backup_diff.added", ["count": String(d.added.count)])), items(d.added, testID: "diff-added", l),
                ]),
                d.removed.isEmpty ? H.group([]) : H.group([
                    H.el("h2", text: l.t("backup_diff.removed", ["count": String(d.removed.count)])), items(d.removed, testID: "diff-removed", l),
                ]),
                d.changed.isEmpty ? H.group([]) : H.group([
                    H.el("h2", text: l.t("backup_diff.changed", ["count": String(d.changed.count)])), changed(l),
                ]),
            ])
        }

        func side(_ b: BackupDTO, _ l: Localizer) -> [HTMLNode] {
            [BackupComponents.link(b.id, createdAt: b.createdAt, l), BackupComponents.origin(b.origin, l), BackupComponents.backupType(full: b.full, l),
             H.el("small", [("class", "muted")], text: " " + BackupComponents.counts(b.counts, l))]
        }

        func items(_ list: [BackupDiff.Item], testID: String, _ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", testID)], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("plan.col.kind")), H.el("th", text: l.t("plan.col.name")), H.el("th", text: l.t("backup.col.uuid")),
                ])]),
                H.el("tbody", [], list.map { i in
                    H.el("tr", [("data-kind", i.kind.rawValue), ("data-uuid", i.uuid)], [
                        H.el("td", text: l.t("plan.kind.\(i.kind.rawValue)")), H.el("td", text: i.name), H.el("td", [], [H.el("code", text: i.uuid)]),
                    ])
                }),
            ])
        }

        func changed(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "diff-changed")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("plan.col.kind")), H.el("th", text: l.t("plan.col.name")), H.el("th", text: l.t("backup_diff.fields")),
                ])]),
                H.el("tbody", [], model.diff.changed.map { c in
                    H.el("tr", [("data-kind", c.kind.rawValue), ("data-uuid", c.uuid)], [
                        H.el("td", text: l.t("plan.kind.\(c.kind.rawValue)")),
                        H.el("td", [], [
                            H.text(c.name),
                            c.previousName.map { H.el("small", [("class", "muted")], text: " " + l.t("backup_diff.renamed", ["name": $0])) } ?? H.group([]),
                            H.void("br", []), H.el("small", [], [H.el("code", text: c.uuid)]),
                        ]),
                        fields(c, l),
                    ])
                }),
            ])
        }

        /// The changed field paths as badges (at most `fieldLimit`; the rest counted).
        func fields(_ c: BackupDiff.Change, _ l: Localizer) -> HTMLNode {
            let shown = Array(c.fields.prefix(Model.fieldLimit))
            var cells: [HTMLNode] = shown.map { path in H.el("span", [("class", "badge"), ("data-path", path)], [H.el("code", text: path)]) }
            if c.fields.count > shown.count {
                cells.append(H.el("small", [("class", "muted")], text: " " + l.t("backup_diff.more_fields", ["count": String(c.fields.count - shown.count)])))
            }
            return H.el("td", [("data-field", "fields")], cells)
        }
    }
}
