import Foundation

extension ReportsPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("reports.title") }
        var nav: NavItem? { .reports }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: l.t("reports.title")),
                H.el("p", [("class", "lead")], text: l.t("reports.lead")),
                filters(l),
                model.error.map { Components.notice("error", title: l.t("reports.bad_filter"), detail: $0, testID: "reports-error") } ?? H.group([]),
                model.reports.isEmpty
                    ? H.el("p", [("class", "empty"), ("data-testid", "no-reports")], text: l.t(model.filtered ? "reports.none_match" : "reports.none"))
                    : H.group([table(l), pager(l)]),
            ])
        }

        func filters(_ l: Localizer) -> HTMLNode {
            let f = model.filter
            func select(_ name: String, _ label: String, _ options: [(String, String)], _ selected: String) -> HTMLNode {
                H.group([
                    H.el("label", [("for", "f-\(name)"), ("class", "visually-hidden")], text: label),
                    H.el("select", [("id", "f-\(name)"), ("name", name), ("data-testid", "filter-\(name)")],
                         ([("", label)] + options).map { v, t in H.el("option", [("value", v), ("selected", H.flag(v == selected))], text: t) }),
                ])
            }
            func date(_ name: String, _ label: String, _ value: String) -> HTMLNode {
                H.group([
                    H.el("label", [("for", "f-\(name)")], text: label),
                    H.void("input", [("id", "f-\(name)"), ("type", "date"), ("name", name), ("value", value), ("data-testid", "filter-\(name)")]),
                ])
            }
            return H.el("form", [("method", "get"), ("action", SiteURL.reportsPage.path), ("class", "search"), ("data-testid", "report-filters")], [
                select("kind", l.t("reports.filter.kind"), ReportKind.allCases.map { ($0.rawValue, ReportComponents.kindLabel($0, l)) }, f.kind),
                select("status", l.t("reports.filter.status"), ReportStatus.allCases.map { ($0.rawValue, l.t("task.status.\($0.rawValue)")) }, f.status),
                select("environment", l.t("reports.filter.environment"), model.environments.map { ($0.id.key, $0.name) }, f.environment),
                date("from", l.t("reports.filter.from"), f.from),
                date("to", l.t("reports.filter.to"), f.to),
                H.el("label", [("for", "f-q"), ("class", "visually-hidden")], text: l.t("reports.filter.q")),
                H.void("input", [("id", "f-q"), ("type", "search"), ("name", "q"), ("value", f.q), ("maxlength", "200"),
                                 ("placeholder", l.t("reports.filter.q")), ("data-testid", "filter-q")]),
                H.el("button", [("type", "submit"), ("class", "button"), ("data-testid", "apply-filters")], text: l.t("reports.filter.apply")),
                model.filtered ? H.a(SiteURL.reportsPage.path, l.t("reports.filter.clear"), [("data-testid", "clear-filters")]) : H.group([]),
            ])
        }

        func table(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "reports")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("reports.col.report")), H.el("th", text: l.t("reports.col.kind")),
                    H.el("th", text: l.t("reports.col.status")), H.el("th", text: l.t("reports.col.environments")),
                    H.el("th", text: l.t("reports.col.finished")), H.el("th", text: l.t("reports.col.summary")),
                ])]),
                H.el("tbody", [], model.reports.map { r in
                    H.el("tr", [("data-testid", "report-row"), ("data-report", r.id.key), ("data-kind", r.kind.rawValue), ("data-status", r.status.rawValue)], [
                        H.el("td", [], [H.a(ReportComponents.path(r.id), r.title, [("data-testid", "report-link")])]),
                        H.el("td", [], [ReportComponents.kind(r.kind, l)]),
                        H.el("td", [], [ReportComponents.status(r.status, outcome: r.outcome, l)]),
                        H.el("td", [], [ReportComponents.environments(r.environments, l)]),
                        H.el("td", [], [Components.time(r.finishedAt, l)]),
                        H.el("td", [("data-testid", "report-summary")], text: r.summary),
                    ])
                }),
            ])
        }

        /// Newer and older pages, keeping the filter.
        func pager(_ l: Localizer) -> HTMLNode {
            guard model.offset > 0 || model.hasMore else { return H.group([]) }
            let f = model.filter
            func link(_ offset: Int) -> String {
                SiteURL.reportsPage.path(query: [
                    "kind": f.kind, "status": f.status, "environment": f.environment, "from": f.from, "to": f.to, "q": f.q,
                    "offset": offset > 0 ? String(offset) : nil, "limit": model.limit != 50 ? String(model.limit) : nil,
                ])
            }
            return H.el("nav", [("class", "pager"), ("aria-label", l.t("pager.label"))], [
                model.offset > 0 ? H.a(link(max(0, model.offset - model.limit)), l.t("reports.newer"), [("rel", "prev"), ("data-testid", "reports-newer")]) : H.group([]),
                H.el("span", text: l.t("reports.position", ["first": String(model.offset + 1), "last": String(model.offset + model.reports.count)])),
                model.hasMore ? H.a(link(model.offset + model.limit), l.t("reports.older"), [("rel", "next"), ("data-testid", "reports-older")]) : H.group([]),
            ])
        }
    }
}
