import Foundation

extension HealthCheckPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("health_check.title", ["dashboard": model.check.title]) }
        var nav: NavItem? { .health }

        func content(_ l: Localizer) -> HTMLNode {
            let c = model.check
            return H.group([
                H.el("p", [], [H.a(SiteURL.healthPage.path(query: ["environment": c.environmentId.key]), "← " + l.t("health.title"), [("data-testid", "health-back")])]),
                H.el("h1", [], [H.text(c.title + " "), HealthComponents.badge(c.status, l)]),
                facts(l),
                H.el("h2", text: l.t("health_check.issues")),
                issues(l),
                llmReview(l),
                H.el("h2", text: l.t("health_check.charts")),
                charts(l),
                H.el("h2", text: l.t("health_check.screenshots")),
                screenshots(l),
                consoleErrors(l),
                H.el("h2", text: l.t("health_check.history")),
                history(l),
            ])
        }

        /// A muted dash, for a value there is none of.
        var dash: HTMLNode { H.el("span", [("class", "muted")], text: "—") }

        func ms(_ n: Int, _ l: Localizer) -> String { l.t("health_check.ms", ["ms": String(n)]) }

        func facts(_ l: Localizer) -> HTMLNode {
            let c = model.check
            return H.el("dl", [("class", "facts"), ("data-testid", "health-facts")], [
                H.el("dt", text: l.t("health.col.environment")), H.el("dd", [("data-testid", "health-environment")], text: c.environment),
                H.el("dt", text: l.t("health_check.dashboard")),
                H.el("dd", [], [
                    H.text(l.t("health.dashboard_id", ["id": String(c.dashboardId)])),
                    c.dashboardUuid.isEmpty ? H.group([]) : H.group([H.text(" "), H.el("code", text: c.dashboardUuid)]),
                ]),
                H.el("dt", text: l.t("health_check.checked_at")), H.el("dd", [], [Components.time(c.checkedAt, l)]),
                H.el("dt", text: l.t("health_check.charts_count")), H.el("dd", [("data-testid", "health-charts-count")], text: String(c.charts)),
                H.el("dt", text: l.t("health_check.charts_failed")),
                H.el("dd", [("class", c.chartsFailed > 0 ? "fail" : nil), ("data-testid", "health-charts-failed")], text: String(c.chartsFailed)),
                H.el("dt", text: l.t("health_check.query_time")), H.el("dd", text: ms(c.queryMs, l)),
                H.el("dt", text: l.t("health_check.render_time")),
                H.el("dd", [], [c.renderMs.map { H.text(ms($0, l)) } ?? H.el("span", [("class", "muted")], text: l.t("health_check.not_rendered"))]),
                H.el("dt", text: l.t("health_check.visual_change")),
                H.el("dd", [], [c.visualChange.map { H.text(l.t("health_check.percent", ["value": String(format: "%.1f", $0)])) } ?? dash]),
                H.el("dt", text: l.t("health_check.task")),
                H.el("dd", [], [H.a(SiteURL.taskPage(.value(c.taskId)).path, l.t("health_check.open_task"), [("data-testid", "health-task")])]),
            ])
        }

        // MARK: Issues and charts

        func issues(_ l: Localizer) -> HTMLNode {
            let list = model.check.issues
            guard !list.isEmpty else {
                return H.el("p", [("class", "empty"), ("data-testid", "health-no-issues")], text: l.t("health_check.no_issues"))
            }
            return H.el("table", [("class", "grid"), ("data-testid", "health-issues")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("health_check.col.severity")), H.el("th", text: l.t("health_check.col.kind")),
                    H.el("th", text: l.t("health_check.col.chart")), H.el("th", text: l.t("health_check.col.tab")),
                    H.el("th", text: l.t("health_check.col.message")),
                ])]),
                H.el("tbody", [], list.map { i in
                    H.el("tr", [("data-testid", "health-issue"), ("data-kind", i.kind.rawValue), ("data-severity", i.severity.rawValue)], [
                        H.el("td", [], [HealthComponents.badge(i.severity, l)]),
                        H.el("td", text: l.t("health.kind.\(i.kind.rawValue)")),
                        H.el("td", [], [chart(i.chart, id: i.chartID, l)]),
                        H.el("td", [], [(i.tab ?? (i.location == LLMReview.location ? l.t("health.kind.llm_review") : i.location)).map { H.text($0) } ?? dash]),
                        H.el("td", text: i.message),
                    ])
                }),
            ])
        }

        /// The LLM provider's review (nothing when none was asked for): its verdict as a badge, or
        /// "unavailable" with why; who reviewed, whether the screenshot was sent, how long it took.
        func llmReview(_ l: Localizer) -> HTMLNode {
            guard let r = model.check.details?.llmReview else { return H.group([]) }
            let badge = r.verdict.map { HealthComponents.badge($0, l) }
                ?? H.el("span", [("class", "badge health-warn"), ("data-testid", "health-llm-unavailable")], text: l.t("health_check.llm_unavailable"))
            let who = l.t("health_check.llm_by", ["provider": r.provider, "model": r.model, "ms": String(r.milliseconds)])
            let sent = l.t(r.screenshot ? "health_check.llm_with_screenshot" : "health_check.llm_findings_only")
            return H.group([
                H.el("h2", text: l.t("health_check.llm")),
                H.el("div", [("class", "health-llm"), ("data-testid", "health-llm"), ("data-verdict", r.verdict?.rawValue ?? "unavailable")], [
                    H.el("p", [], [badge, H.text(" " + who + " · " + sent)]),
                    r.error.map { H.el("p", [("class", "fail"), ("data-testid", "health-llm-error")], text: l.t("health_check.llm_error", ["reason": $0])) }
                        ?? H.el("p", [("data-testid", "health-llm-summary")], text: (r.summary ?? "").isEmpty ? l.t("health_check.llm_no_summary") : r.summary ?? ""),
                ]),
            ])
        }

        /// A chart by name and Superset id, either of which may be unknown.
        func chart(_ name: String?, id: Int?, _ l: Localizer) -> HTMLNode {
            let idText = id.map { l.t("health.chart_id", ["id": String($0)]) }
            switch (name, idText) {
            case let (name?, idText?): return H.group([H.text(name + " "), H.el("small", [("class", "muted")], text: idText)])
            case let (name?, nil): return H.text(name)
            case let (nil, idText?): return H.text(idText)
            case (nil, nil): return dash
            }
        }

        /// Every chart's saved query as the check ran it: its time, rows and error.
        func charts(_ l: Localizer) -> HTMLNode {
            let list = model.check.details?.charts ?? []
            guard !list.isEmpty else {
                return H.el("p", [("class", "empty"), ("data-testid", "health-no-charts")], text: l.t("health_check.no_charts"))
            }
            return H.el("table", [("class", "grid"), ("data-testid", "health-charts")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("health_check.col.chart")), H.el("th", text: l.t("health_check.col.time")),
                    H.el("th", text: l.t("health_check.col.rows")), H.el("th", text: l.t("health_check.col.error")),
                ])]),
                H.el("tbody", [], list.map { p in
                    H.el("tr", [("data-testid", "health-chart"), ("data-chart", String(p.id)), ("data-failed", p.error == nil ? nil : "true")], [
                        H.el("td", [], [chart(p.name, id: p.id, l)]),
                        H.el("td", text: ms(p.milliseconds, l)),
                        H.el("td", [], [p.rows.map { H.text(String($0)) } ?? dash]),
                        H.el("td", [], [p.error.map { H.el("span", [("class", "fail")], text: $0) } ?? dash]),
                    ])
                }),
            ])
        }

        // MARK: The rendering

        /// Each tab's screenshot (the API's PNG), lazily loaded, linking to the full image.
        func screenshots(_ l: Localizer) -> HTMLNode {
            let c = model.check
            guard !c.screenshots.isEmpty else {
                return H.el("p", [("class", "empty"), ("data-testid", "health-no-screenshots")],
                            text: l.t(c.renderMs == nil ? "health_check.no_screenshots_not_rendered" : "health_check.no_screenshots"))
            }
            return H.el("div", [("class", "health-shots"), ("data-testid", "health-screenshots")], [
                H.el("p", [("class", "muted")], text: l.t("health_check.screenshots_hint")),
            ] + c.screenshots.map { s -> HTMLNode in
                let src = SiteURL.api(.healthScreenshot(.value(c.id))).path(query: ["n": String(s.index)])
                let caption = s.tab.map { l.t("health_check.tab", ["tab": $0]) } ?? l.t("health_check.screenshot_n", ["n": String(s.index + 1)])
                return H.el("figure", [("data-testid", "health-screenshot")], [
                    H.el("a", [("href", src)], [
                        H.void("img", [("src", src), ("alt", l.t("health_check.screenshot_alt", ["dashboard": c.title, "caption": caption])), ("loading", "lazy")]),
                    ]),
                    H.el("figcaption", text: caption),
                ])
            })
        }

        /// What the browser console reported while the dashboard rendered (nothing when empty).
        func consoleErrors(_ l: Localizer) -> HTMLNode {
            let errors = model.check.details?.consoleErrors ?? []
            guard !errors.isEmpty else { return H.group([]) }
            return H.group([
                H.el("h2", text: l.t("health_check.console")),
                H.el("ul", [("class", "health-console"), ("data-testid", "health-console")], errors.map { H.el("li", [], [H.el("code", text: $0)]) }),
            ])
        }

        // MARK: History

        /// The dashboard's latest checks in this environment, each opening its page (this one
        /// marked).
        func history(_ l: Localizer) -> HTMLNode {
            guard !model.history.isEmpty else {
                return H.el("p", [("class", "empty"), ("data-testid", "health-no-history")], text: l.t("health_check.no_history"))
            }
            return H.el("table", [("class", "grid"), ("data-testid", "health-history")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("health.col.status")), H.el("th", text: l.t("health.col.checked")),
                ])]),
                H.el("tbody", [], model.history.map { r -> HTMLNode in
                    let current = r.id == model.check.id
                    let time = Components.time(r.checkedAt, l)
                    return H.el("tr", [("data-testid", "health-history-row"), ("data-status", r.status.rawValue), ("class", current ? "selected" : nil)], [
                        H.el("td", [], [HealthComponents.badge(r.status, l)]),
                        H.el("td", [], [current
                            ? H.group([time, H.text(" "), H.el("small", [("class", "muted")], text: l.t("health_check.this_check"))])
                            : H.el("a", [("href", HealthComponents.checkPath(r.id)), ("data-testid", "health-history-link")], [time])]),
                    ])
                }),
            ])
        }
    }
}
