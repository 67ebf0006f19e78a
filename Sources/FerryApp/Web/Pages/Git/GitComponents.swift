import Foundation

/// The pieces the git history's pages share: a dashboard's drift as a badge, links to a
/// dashboard's history and comparisons, and the short form of a commit.
enum GitComponents {
    /// The drift status named for people (an unknown status reads as never committed).
    static func driftLabel(_ status: String, _ l: Localizer) -> String {
        switch status {
        case GitDriftStatus.inSync.rawValue: return l.t("git.drift.in_sync")
        case GitDriftStatus.changed.rawValue: return l.t("git.drift.changed")
        default: return l.t("git.drift.uncommitted")
        }
    }

    /// What the drift status means, for the badge's title.
    static func driftHint(_ status: String, _ l: Localizer) -> String {
        switch status {
        case GitDriftStatus.inSync.rawValue: return l.t("git.drift_hint.in_sync")
        case GitDriftStatus.changed.rawValue: return l.t("git.drift_hint.changed")
        default: return l.t("git.drift_hint.uncommitted")
        }
    }

    /// in sync (green), changed (amber) or never committed (grey); a link to the dashboard's
    /// history when `link` is given.
    static func drift(_ status: String, link: String? = nil, _ l: Localizer) -> HTMLNode {
        let known = GitDriftStatus(rawValue: status)?.rawValue ?? GitDriftStatus.uncommitted.rawValue
        let attributes: [(String, String?)] = [("class", "badge drift-\(known)"), ("data-testid", "git-drift-badge"), ("data-drift", known),
                                               ("title", driftHint(known, l))]
        guard let link else { return H.el("span", attributes, text: driftLabel(known, l)) }
        return H.el("a", [("href", link)] + attributes, text: driftLabel(known, l))
    }

    /// `/git/history?environment=<id>&dashboard=<uuid>` (and more query, e.g. `revision`).
    static func historyPath(environment: UUID, dashboard: String, extra: [String: String?] = [:]) -> String {
        var query: [String: String?] = ["environment": environment.key, "dashboard": dashboard]
        for (k, v) in extra { query[k] = v }
        return SiteURL.gitHistoryPage.path(query: query)
    }

    /// `/git/diff?...`: `from` and `to` are revisions or `live`; `toEnvironment` another environment's id.
    static func diffPath(environment: UUID, dashboard: String, from: String, to: String, toEnvironment: UUID? = nil) -> String {
        SiteURL.gitDiffPage.path(query: ["environment": environment.key, "dashboard": dashboard, "from": from, "to": to,
                                         "toEnvironment": toEnvironment?.key])
    }

    /// A time as `Components.time` shows it, as plain text (for options of a select).
    static func timeText(_ date: Date) -> String {
        UTCTimestamp.text(date)
    }

    /// The first 12 hex digits of a commit, in `<code>` with the full sha as its title.
    static func sha(_ sha: String) -> HTMLNode {
        H.el("code", [("title", sha), ("data-sha", sha)], text: String(sha.prefix(12)))
    }
}
