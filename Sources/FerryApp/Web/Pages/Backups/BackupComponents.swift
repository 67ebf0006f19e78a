import Foundation

/// The pieces the storage browser's pages share: sizes, and a backup's origin, type,
/// verification and pin as badges.
enum BackupComponents {
    /// A byte count for people (`Localizer.byteSize`).
    static func size(_ bytes: Int64, _ l: Localizer) -> String { l.byteSize(bytes) }

    /// `task` (read from the environment) or `upload`.
    static func origin(_ origin: String, _ l: Localizer) -> HTMLNode {
        let known = origin == "upload" ? "upload" : "task"
        return H.el("span", [("class", "badge origin-\(known)"), ("data-field", "origin"), ("data-origin", origin)], text: l.t("backups.origin.\(known)"))
    }

    static func backupType(full: Bool, _ l: Localizer) -> HTMLNode {
        H.el("span", [("class", full ? "badge status-succeeded" : "badge"), ("data-field", "type"), ("data-full", full ? "true" : "false")],
             text: l.t(full ? "backups.type.full" : "backups.type.incremental"))
    }

    /// unverified, verified or CORRUPT (red).
    static func verify(_ status: String, _ l: Localizer) -> HTMLNode {
        let known = ["verified", "corrupt"].contains(status) ? status : "unverified"
        let cls = known == "corrupt" ? "badge error" : known == "verified" ? "badge status-succeeded" : "badge"
        return H.el("span", [("class", cls), ("data-field", "verify"), ("data-verify", known)], text: l.t("backups.verify.\(known)"))
    }

    static func pinned(_ pinned: Bool, _ l: Localizer) -> HTMLNode {
        pinned ? H.el("span", [("class", "badge status-running"), ("data-field", "pinned")], text: l.t("backups.pinned")) : H.group([])
    }

    /// "3 dashboards, 12 charts, 4 datasets, 1 databases".
    static func counts(_ c: BackupDTO.Counts, _ l: Localizer) -> String {
        l.t("environments.counts", [
            "dashboards": String(c.dashboards), "charts": String(c.charts), "datasets": String(c.datasets), "databases": String(c.databases),
        ])
    }

    /// A backup's time, linking to its page.
    static func link(_ id: UUID, createdAt: Date, _ l: Localizer) -> HTMLNode {
        H.el("a", [("href", SiteURL.backupPage(.value(id)).path), ("data-testid", "backup-link")], [Components.time(createdAt, l)])
    }
}
