import Fluent
import Foundation
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

/// Hand-built models for the health center's views.
enum HealthPageFixtures {
    static let fixed = ViewSnapshotTests.fixed
    static let devID = UUID(uuidString: "00000000-0000-4000-8000-0000000000f1")!
    static let prodID = UUID(uuidString: "00000000-0000-4000-8000-0000000000f2")!
    static let taskID = UUID(uuidString: "00000000-0000-4000-8000-0000000000f3")!
    /// The checks of the hostile dashboard, newest first: FAIL, WARN, PASS.
    static let failID = UUID(uuidString: "00000000-0000-4000-8000-0000000000c1")!
    static let warnID = UUID(uuidString: "00000000-0000-4000-8000-0000000000c2")!
    static let passID = UUID(uuidString: "00000000-0000-4000-8000-0000000000c3")!
    static let revenueID = UUID(uuidString: "00000000-0000-4000-8000-0000000000c4")!
    static let overviewID = UUID(uuidString: "00000000-0000-4000-8000-0000000000c5")!
    static let dashboard = "11111111-1111-4111-8111-111111111111"
    /// A title that would break out of text and attributes if it weren't escaped.
    static let hostile = "Sales <script>alert(1)</script>\" onmouseover=\"alert(1)"

    static var matrixModel: HealthPage.Model {
        var m = HealthPage.Model(environments: [.init(id: devID, name: "dev"), .init(id: prodID, name: "prod")], selected: devID)
        m.rows = [
            HealthMatrixRow(environmentID: devID, dashboardUUID: dashboard, dashboardID: 7, title: hostile, runs: [
                .init(id: failID, status: .fail, checkedAt: fixed.addingTimeInterval(3600)),
                .init(id: warnID, status: .warn, checkedAt: fixed),
                .init(id: passID, status: .pass, checkedAt: fixed.addingTimeInterval(-3600)),
            ]),
            HealthMatrixRow(environmentID: devID, dashboardUUID: "22222222-2222-4222-8222-222222222222", dashboardID: 9, title: "Revenue", runs: [
                .init(id: revenueID, status: .warn, checkedAt: fixed.addingTimeInterval(1800)),
            ]),
            HealthMatrixRow(environmentID: devID, dashboardUUID: "33333333-3333-4333-8333-333333333333", dashboardID: 12, title: "Overview", runs: [
                .init(id: overviewID, status: .pass, checkedAt: fixed.addingTimeInterval(60)),
            ]),
        ]
        m.canRun = true
        m.run = .init(render: false, dashboards: [9])
        m.runError = "A check of dev is already queued."
        return m
    }

    static var check: DashboardCheckDTO {
        let details = DashboardCheckDetails(
            charts: [
                ChartProbe(id: 21, name: "Revenue <b>by</b> month", milliseconds: 800, rows: 0, error: nil),
                ChartProbe(id: 22, name: "Orders", milliseconds: 434, rows: nil, error: "relation \"orders\" does not exist"),
                ChartProbe(id: 23, name: "Customers", milliseconds: 12, rows: 48, error: nil),
            ],
            tabs: [.init(name: "Overview", charts: 2, stillLoading: 0), .init(name: nil, charts: 1, stillLoading: 1)],
            consoleErrors: ["Uncaught TypeError: x is undefined <img src=x onerror=alert(1)>"])
        return DashboardCheckDTO(
            id: failID, taskId: taskID, environmentId: devID, environment: "dev", dashboardId: 7, dashboardUuid: dashboard, title: hostile,
            status: .fail,
            issues: [
                HealthIssue(.fail, .queryFailed, "relation \"orders\" does not exist", chartID: 22, chart: "Orders"),
                HealthIssue(.warn, .emptyResult, "the query returned no rows", chartID: 21, chart: "Revenue <b>by</b> month"),
                HealthIssue(.fail, .structure, "a filter or cross-filter points at chart id 99, which this dashboard does not show", chartID: 99),
                HealthIssue(.warn, .visualChange, "12.5 % of the pixels changed since the last passing check", tab: "Overview"),
                HealthIssue(.warn, .consoleError, "1 error in the browser console"),
            ],
            charts: 3, chartsFailed: 1, queryMs: 1246, renderMs: 5678, visualChange: 12.5,
            screenshots: [.init(index: 0, tab: "Overview", bytes: 1000), .init(index: 1, tab: nil, bytes: 2000)],
            checkedAt: fixed.addingTimeInterval(3600), details: details)
    }

    static var checkModel: HealthCheckPage.Model {
        HealthCheckPage.Model(check: check, history: [
            .init(id: failID, status: .fail, checkedAt: fixed.addingTimeInterval(3600)),
            .init(id: warnID, status: .warn, checkedAt: fixed),
            .init(id: passID, status: .pass, checkedAt: fixed.addingTimeInterval(-3600)),
        ])
    }
}

extension ViewSnapshotTests {
    @Test func healthMatrix() throws {
        let f = HealthPageFixtures.self
        let model = f.matrixModel
        for lang in ["en", "ru"] {
            let html = Layout.render(HealthPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/health"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("onmouseover=\"alert(1)\""))
            #expect(html.contains(#"href="/health" class="active""#), "the health navigation item is current")
            try assertSnapshot(html, named: "health-\(lang)")
        }
        let ru = Layout.render(HealthPage.View(model: model, localizer: Localizer(language: "ru")), context: context("ru", path: "/health"))
        #expect(ru.contains(#"class="badge health-fail" data-testid="health-badge" data-status="fail">СБОЙ<"#))

        let html = Layout.render(HealthPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/health"))
        // Worst first, as the matrix gives them; each title opens the latest check.
        #expect(occurrences(#"data-testid="health-row""#, in: html) == 3)
        #expect(html.contains("href=\"/health/checks/\(f.failID.key)\" data-testid=\"health-check-link\""))
        #expect(html.contains(#"class="badge health-fail" data-testid="health-badge" data-status="fail">FAIL<"#))
        #expect(html.contains(#"class="badge health-warn""#) && html.contains(#"class="badge health-pass""#))
        // Every run is a dot linking to its check, oldest first, its status and time in its title.
        #expect(occurrences(#"data-testid="health-run""#, in: html) == 5)
        let pass = try #require(html.range(of: "href=\"/health/checks/\(f.passID.key)\" class=\"health-dot health-pass\""))
        let warn = try #require(html.range(of: "href=\"/health/checks/\(f.warnID.key)\" class=\"health-dot health-warn\""))
        let fail = try #require(html.range(of: "href=\"/health/checks/\(f.failID.key)\" class=\"health-dot health-fail\""))
        #expect(pass.lowerBound < warn.lowerBound && warn.lowerBound < fail.lowerBound)
        #expect(html.contains(#"title="FAIL · 2027-01-15 09:00:00 UTC""#))
        // The filter: both environments, the statuses with their counts.
        #expect(html.contains("<option value=\"\(f.devID.key)\" selected>dev</option>") && html.contains("<option value=\"\(f.prodID.key)\">prod</option>"))
        #expect(html.contains(#"<option value selected>Any status</option>"#) && html.contains(#"<option value="warn">WARN · 1</option>"#))
        // Check now: the environment, render as sent (cleared), the dashboard picked kept; the token.
        #expect(html.contains(#"action="/health/run""#) && html.contains(#"data-testid="health-run-form""#))
        #expect(html.contains(#"name="_csrf" value="token""#))
        #expect(html.contains("name=\"environment\" value=\"\(f.devID.key)\""))
        #expect(html.contains(#"<input id="f-render" type="checkbox" name="render" value="true"/>"#))
        #expect(html.contains(#"name="dashboards" value="9" checked"#) && html.contains(#"name="dashboards" value="7" data-testid"#))
        #expect(html.contains(#"<details class="health-pick" open"#))
        #expect(html.contains(#"data-testid="health-run-error""#))

        // Only FAIL: one row; the filter keeps its pick.
        var failing = model
        failing.status = .fail
        let only = Layout.render(HealthPage.View(model: failing, localizer: Localizer(language: "en")), context: context("en", path: "/health"))
        #expect(occurrences(#"data-testid="health-row""#, in: only) == 1 && only.contains(#"data-dashboard="7""#))
        #expect(only.contains(#"<option value="fail" selected>"#))
        // Nothing left by the filter; the form still offers every dashboard.
        var none = model
        none.rows = [model.rows[0]]
        none.status = .pass
        let unmatched = Layout.render(HealthPage.View(model: none, localizer: Localizer(language: "en")), context: context("en", path: "/health"))
        #expect(unmatched.contains(#"data-testid="health-none-match""#) && unmatched.contains(#"name="dashboards" value="7""#))

        // A reader: no form; with no check yet, how one is started.
        var reader = model
        reader.canRun = false
        reader.runError = nil
        reader.rows = []
        let read = Layout.render(HealthPage.View(model: reader, localizer: Localizer(language: "en")), context: context("en", path: "/health"))
        #expect(!read.contains(#"data-testid="health-run-form""#) && !read.contains(#"action="/health/run""#))
        #expect(read.contains(#"data-testid="health-no-checks""#) && read.contains("health:run"))
        // A runner with no check yet: the form, no picker (every dashboard is checked), render ticked.
        var first = reader
        first.canRun = true
        first.run = .init()
        let fresh = Layout.render(HealthPage.View(model: first, localizer: Localizer(language: "en")), context: context("en", path: "/health"))
        #expect(fresh.contains(#"data-testid="health-no-checks""#) && fresh.contains(#"data-testid="health-run-form""#))
        #expect(!fresh.contains(#"data-testid="health-pick""#))
        #expect(fresh.contains(#"<input id="f-render" type="checkbox" name="render" value="true" checked/>"#))

        let empty = Layout.render(HealthPage.View(model: HealthPage.Model(), localizer: Localizer(language: "en")), context: context("en", path: "/health"))
        #expect(empty.contains(#"data-testid="health-no-environments""#) && !empty.contains(#"data-testid="health-filter-form""#))
    }

    @Test func aHealthCheck() throws {
        let f = HealthPageFixtures.self
        let model = f.checkModel
        for lang in ["en", "ru"] {
            let html = Layout.render(HealthCheckPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/health/checks"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("onmouseover=\"alert(1)\"") && !html.contains("<img src=x") && !html.contains("<b>by</b>"))
            #expect(html.contains(#"href="/health" class="active""#))
            try assertSnapshot(html, named: "health-check-\(lang)")
        }
        let html = Layout.render(HealthCheckPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(html.contains("href=\"/health?environment=\(f.devID.key)\" data-testid=\"health-back\""))
        #expect(html.contains(#"<h1>Sales &lt;script&gt;alert(1)&lt;/script&gt;" onmouseover="alert(1) <span class="badge health-fail""#))
        // The facts.
        #expect(html.contains("1246 ms") && html.contains("5678 ms") && html.contains("12.5 %"))
        #expect(html.contains("href=\"/tasks/\(f.taskID.key)\" data-testid=\"health-task\""))
        #expect(html.contains(#"<dd class="fail" data-testid="health-charts-failed">1</dd>"#))
        // Issues: severity, kind in words, chart, tab, message.
        #expect(occurrences(#"data-testid="health-issue""#, in: html) == 5)
        #expect(html.contains(#"data-kind="query_failed" data-severity="fail""#) && html.contains(">Query failed<"))
        #expect(html.contains("Orders <small class=\"muted\">chart 22</small>") && html.contains(">chart 99<"))
        #expect(html.contains(">Looks different<") && html.contains(">Overview<"))
        // Every chart's query.
        #expect(occurrences(#"data-testid="health-chart""#, in: html) == 3)
        #expect(html.contains(#"data-chart="22" data-failed="true""#) && html.contains(#"<span class="fail">relation "orders" does not exist</span>"#))
        // Screenshots, lazily, from the API; the tab as the caption.
        let shots = SiteURL.api(.healthScreenshot(.value(f.failID))).path
        #expect(html.contains("src=\"\(shots)?n=0\"") && html.contains("src=\"\(shots)?n=1\""))
        #expect(occurrences(#"loading="lazy""#, in: html) == 2)
        #expect(html.contains("<figcaption>Tab: Overview</figcaption>") && html.contains("<figcaption>Screenshot 2</figcaption>"))
        #expect(html.contains(#"data-testid="health-console""#) && html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        // The history: this check marked, not linked; the others linked.
        #expect(occurrences(#"data-testid="health-history-row""#, in: html) == 3)
        #expect(!html.contains("href=\"/health/checks/\(f.failID.key)\""))
        #expect(html.contains("href=\"/health/checks/\(f.warnID.key)\"") && html.contains("href=\"/health/checks/\(f.passID.key)\""))
        #expect(html.contains("(this check)"))

        // A check that found nothing and didn't render, with no details and no history.
        var bare = model
        bare.check.issues = []
        bare.check.status = .pass
        bare.check.renderMs = nil
        bare.check.visualChange = nil
        bare.check.screenshots = []
        bare.check.details = nil
        bare.history = []
        let plain = Layout.render(HealthCheckPage.View(model: bare, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(cspViolations(plain).isEmpty)
        #expect(plain.contains(#"data-testid="health-no-issues""#) && plain.contains(#"data-testid="health-no-charts""#))
        #expect(plain.contains(#"data-testid="health-no-screenshots""#) && plain.contains("didn't render the dashboard"))
        #expect(plain.contains("not rendered") && !plain.contains(#"data-testid="health-console""#) && plain.contains(#"data-testid="health-no-history""#))
        #expect(!plain.contains("<img"))
    }

    /// Statuses and issue kinds are named through keys built from their values: each has its
    /// text in every language.
    @Test func everyHealthStatusAndIssueKindIsNamedInEveryLanguage() throws {
        for lang in Localizer.languages {
            let table = try #require(Catalogue.shared.tables[lang])
            for status in HealthStatus.allCases { #expect(table["health.status.\(status.rawValue)"] != nil, "\(lang): \(status)") }
            for kind in HealthIssueKind.allCases { #expect(table["health.kind.\(kind.rawValue)"] != nil, "\(lang): \(kind)") }
            #expect(table["nav.health"] != nil)
        }
    }
}

/// The health center's handlers through HTTP, on checks stored as `dashboard.check` stores
/// them: the matrix and its filter, one check with its history, and what the form queues.
@Suite struct HealthPagesTests {
    /// Stores a check of `dashboard` (no task behind it: the pages read only the row).
    static func saveCheck(_ id: UUID, environment: UUID, dashboard: Int, uuid: String, title: String, status: HealthStatus,
                      issues: [HealthIssue] = [], at: Date, on db: any Database) async throws {
        let row = DashboardCheckModel()
        row.id = id
        row.taskID = UUID()
        row.environmentID = environment
        row.dashboardID = dashboard
        row.dashboardUUID = uuid
        row.title = title
        row.status = status.rawValue
        row.issues = String(decoding: try JSONEncoder().encode(issues), as: UTF8.self)
        row.charts = 1
        row.chartsFailed = issues.filter { $0.kind == .queryFailed }.count
        row.queryMilliseconds = 60
        row.renderMilliseconds = nil
        row.visualChange = nil
        row.screenshots = "[]"
        row.details = String(decoding: try JSONEncoder().encode(DashboardCheckDetails(charts: [ChartProbe(id: 1, name: "Revenue", milliseconds: 60, rows: 3)])),
                             as: UTF8.self)
        row.checkedAt = at
        try await row.create(on: db)
    }

    static func occurrences(_ needle: String, in html: String) -> Int { html.components(separatedBy: needle).count - 1 }

    @Test(arguments: Store.available)
    func browsingChecksAndStartingOne(store: Store) async throws {
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample("dev"))
            await t.app.syncCoordinator.wait(env.id)  // its first sync (of a closed port) ends first
            let now = t.clock.now()
            let hostile = "Sales <script>alert(1)</script>"
            let older = UUID(), latest = UUID(), other = UUID()
            try await Self.saveCheck(older, environment: env.id, dashboard: 7, uuid: "u-7", title: hostile, status: .pass, at: now.addingTimeInterval(-3600), on: t.db)
            try await Self.saveCheck(latest, environment: env.id, dashboard: 7, uuid: "u-7", title: hostile, status: .fail,
                                 issues: [HealthIssue(.fail, .queryFailed, "relation \"orders\" does not exist", chartID: 1, chart: "Revenue")], at: now, on: t.db)
            try await Self.saveCheck(other, environment: env.id, dashboard: 9, uuid: "u-9", title: "Revenue board", status: .pass, at: now, on: t.db)
            var html = HTTPHeaders()
            html.replaceOrAdd(name: .accept, value: "text/html")

            // The matrix: the first readable environment by default, worst first, each run a link.
            let page = try await t.request(.GET, "/health", headers: html)
            #expect(page.status == .ok)
            let p = page.body.string
            #expect(cspViolations(p).isEmpty && !p.contains("<script>alert"))
            #expect(Self.occurrences(#"data-testid="health-row""#, in: p) == 2)
            let seven = try #require(p.range(of: #"data-dashboard="7""#)), nine = try #require(p.range(of: #"data-dashboard="9""#))
            #expect(seven.lowerBound < nine.lowerBound)
            #expect(p.contains("href=\"/health/checks/\(latest.key)\" data-testid=\"health-check-link\""))
            #expect(p.contains("href=\"/health/checks/\(older.key)\" class=\"health-dot health-pass\""))
            #expect(p.contains(#"data-testid="health-run-form""#) && p.contains(#"name="dashboards" value="7""#) && p.contains(#"name="dashboards" value="9""#))
            let fails = try await t.request(.GET, "/health?environment=dev&status=fail", headers: html).body.string
            #expect(fails.contains(#"data-dashboard="7""#) && !fails.contains(#"data-dashboard="9""#))
            #expect(try await t.request(.GET, "/health?environment=nope", headers: html).status == .unprocessableEntity)

            // One check: its issue and charts, and the dashboard's history (its two checks only).
            let one = try await t.request(.GET, "/health/checks/\(latest.key)", headers: html)
            #expect(one.status == .ok)
            let o = one.body.string
            #expect(cspViolations(o).isEmpty && !o.contains("<script>alert"))
            #expect(o.contains(#"data-kind="query_failed""#) && o.contains("Query failed") && o.contains(#"data-testid="health-chart""#))
            #expect(Self.occurrences(#"data-testid="health-history-row""#, in: o) == 2)
            #expect(o.contains("href=\"/health/checks/\(older.key)\"") && !o.contains(other.key))
            #expect(try await t.request(.GET, "/health/checks/\(UUID().uuidString)", headers: html).status == .notFound)

            // Check now: the dashboards picked, not rendered; the task opens.
            let started = try await t.request(.POST, "/health/run", headers: formHeaders(), body: formBody([
                ("environment", env.id.key), ("render", "false"), ("dashboards", "9"), ("dashboards", "7"),
            ]))
            #expect(started.status == .seeOther, "\(started.body.string)")
            let task = try #require(try await TaskModel.query(on: t.db).filter(\.$pluginID == DashboardCheckPlugin.pluginID).first())
            #expect(started.headers.first(name: .location) == "/tasks/\(task.id!.key)")
            let params = try BundleValue.parseJSON(task.params)
            #expect(params["environment"]?.stringValue == env.id.key)
            #expect(params["render"]?.boolValue == false)
            #expect(params["dashboards"]?.listValue?.compactMap(\.intValue) == [7, 9])

            // Render ticked, nothing picked: every dashboard, rendered.
            let all = try await t.request(.POST, "/health/run", headers: formHeaders(), body: formBody([
                ("environment", env.id.key), ("render", "false"), ("render", "true"),
            ]))
            #expect(all.status == .seeOther, "\(all.body.string)")
            let tasks = try await TaskModel.query(on: t.db).filter(\.$pluginID == DashboardCheckPlugin.pluginID).all()
            let second = try #require(tasks.first { $0.id != task.id })
            let secondParams = try BundleValue.parseJSON(second.params)
            #expect(secondParams["render"]?.boolValue == true && secondParams["dashboards"] == nil)

            // A value that isn't a dashboard id is refused on the page, with the form kept; nothing queued.
            let bad = try await t.request(.POST, "/health/run", headers: formHeaders(), body: formBody([
                ("environment", env.id.key), ("render", "false"), ("dashboards", "9"), ("dashboards", "x<1>"),
            ]))
            #expect(bad.status == .unprocessableEntity)
            let b = bad.body.string
            #expect(b.contains(#"data-testid="health-run-error""#) && b.contains("x&lt;1&gt;") && !b.contains("x<1>"))
            #expect(b.contains(#"name="dashboards" value="9" checked"#))
            let noEnvironment = try await t.request(.POST, "/health/run", headers: formHeaders(), body: formBody([("render", "true")]))
            #expect(noEnvironment.status == .unprocessableEntity && noEnvironment.body.string.contains(#"data-testid="health-run-error""#))
            #expect(try await TaskModel.query(on: t.db).filter(\.$pluginID == DashboardCheckPlugin.pluginID).count() == 2)
        }
    }
}
