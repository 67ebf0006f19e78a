import Foundation

/// The pieces the health center's pages share: a check's status as a badge, a dashboard's
/// recent runs as traffic-light dots, and the link to one check.
enum HealthComponents {
    /// PASS, WARN or FAIL in the page's language.
    static func label(_ status: HealthStatus, _ l: Localizer) -> String {
        l.t("health.status.\(status.rawValue)")
    }

    /// The status as a green, amber or red badge (also an issue's severity).
    static func badge(_ status: HealthStatus, _ l: Localizer) -> HTMLNode {
        H.el("span", [("class", "badge health-\(status.rawValue)"), ("data-testid", "health-badge"), ("data-status", status.rawValue)],
             text: label(status, l))
    }

    /// `/health/checks/<id>`.
    static func checkPath(_ id: UUID) -> String {
        SiteURL.healthCheckPage(.value(id)).path
    }

    /// A time as `Components.time` shows it, as plain text (for titles).
    static func timeText(_ date: Date) -> String {
        GitComponents.timeText(date)
    }

    /// A dashboard's runs (given newest first) as dots, oldest first so the newest is at the
    /// right; each links to its check and names its status and time in its title (and, for
    /// screen readers, in hidden text).
    static func runs(_ runs: [HealthMatrixRow.Run], _ l: Localizer) -> HTMLNode {
        H.el("span", [("class", "health-runs"), ("data-testid", "health-runs")], runs.reversed().map { run -> HTMLNode in
            let text = l.t("health.run_at", ["status": label(run.status, l), "time": timeText(run.checkedAt)])
            return H.el("a", [("href", checkPath(run.id)), ("class", "health-dot health-\(run.status.rawValue)"), ("title", text),
                              ("data-testid", "health-run"), ("data-status", run.status.rawValue)], [
                H.el("span", [("class", "visually-hidden")], text: text),
            ])
        })
    }
}
