import Foundation

/// The pieces the report pages share: a report's type, status and environments as badges, and
/// the link to one report.
enum ReportComponents {
    /// `/reports/<id>`.
    static func path(_ id: UUID) -> String { SiteURL.reportPage(.value(id)).path }

    static func kindLabel(_ kind: ReportKind, _ l: Localizer) -> String { l.t("report.kind.\(kind.rawValue)") }

    /// The report's type as a badge.
    static func kind(_ kind: ReportKind, _ l: Localizer) -> HTMLNode {
        H.el("span", [("class", "badge report-kind"), ("data-testid", "report-kind"), ("data-kind", kind.rawValue)], text: kindLabel(kind, l))
    }

    /// How the task ended, as the task's own status badge shows it; a dashboard check adds its
    /// worst verdict.
    static func status(_ status: ReportStatus, outcome: HealthStatus?, _ l: Localizer) -> HTMLNode {
        H.group([
            H.el("span", [("class", "badge status-\(status.rawValue)"), ("data-testid", "report-status"), ("data-status", status.rawValue)],
                 text: l.t("task.status.\(status.rawValue)")),
            outcome.map { HealthComponents.badge($0, l) } ?? H.group([]),
        ])
    }

    /// Each environment's name as a badge; "none" for a task that touched no environment.
    static func environments(_ names: [String], _ l: Localizer) -> HTMLNode {
        guard !names.isEmpty else { return H.el("span", [("class", "muted")], text: l.t("reports.no_environment")) }
        return H.group(names.map { H.el("span", [("class", "badge"), ("data-testid", "report-environment")], text: $0) })
    }
}
