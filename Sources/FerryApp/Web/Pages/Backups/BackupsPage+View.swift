import Foundation

extension BackupsPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("backups.title") }
        var nav: NavItem? { .backups }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: l.t("backups.title")),
                H.el("p", [("class", "lead")], text: l.t("backups.lead")),
                model.rows.isEmpty
                    ? H.el("p", [("class", "empty"), ("data-testid", "no-backup-environments")], text: l.t("backups.no_environments"))
                    : table(l),
            ])
        }

        func table(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "backup-environments")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("backups.col.environment")), H.el("th", text: l.t("backups.col.count")),
                    H.el("th", text: l.t("backups.col.total")), H.el("th", text: l.t("backups.col.stored")),
                    H.el("th", text: l.t("backups.col.latest")), H.el("th", text: l.t("backups.col.health")),
                ])]),
                H.el("tbody", [], model.rows.map { r in
                    H.el("tr", [("data-environment", r.environment)], [
                        H.el("td", [], [
                            H.a(SiteURL.backupsEnvironmentPage(.value(r.environmentID)).path, r.environment, [("data-testid", "environment-backups")]),
                            r.stage.map { H.el("span", [("class", "stage stage-\($0)")], text: l.t("stage.\($0)")) }
                                ?? H.el("span", [("class", "badge")], text: l.t("backups.environment_deleted")),
                        ]),
                        H.el("td", [("data-field", "count")], text: String(r.count)),
                        H.el("td", text: BackupComponents.size(r.totalBytes, l)),
                        H.el("td", text: BackupComponents.size(r.storedBytes, l)),
                        H.el("td", [], [r.count == 0 ? H.el("span", [("class", "muted")], text: l.t("backups.none_yet")) : Components.time(r.latest, l)]),
                        H.el("td", [], [
                            r.corrupt > 0
                                ? H.el("span", [("class", "badge error"), ("data-testid", "corrupt-count")], text: l.t("backups.corrupt_count", ["count": String(r.corrupt)]))
                                : H.group([]),
                        ]),
                    ])
                }),
            ])
        }
    }
}
