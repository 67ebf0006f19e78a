import Fluent
import Foundation
import SupersetKit
import Testing

@testable import FerryApp

/// Issue 17's readable console: tasks named for people, their params and results as tables.
extension ViewSnapshotTests {
    static let consoleTaskID = UUID(uuidString: "00000000-0000-4000-8000-000000000171")!

    /// A finished promotion apply whose result holds a hostile title, a list of records, nested
    /// counts and more rows than a table shows.
    static var promotionTask: TaskDTO {
        let charts: [BundleValue] = (1...103).map { i in
            .map(["title": .string(i == 1 ? "<script>alert(1)</script>" : "Chart \(i)"), "verified": .bool(i != 2), "rows": .int(i * 10)])
        }
        return TaskDTO(id: consoleTaskID, plugin: "promote.apply",
                       params: .map(["plan": .string("00000000-0000-4000-8000-000000000172"), "acceptLosses": .bool(false)]),
                       createdBy: "ada", environmentIds: [], environments: ["dev", "prod"], status: .succeeded, progress: 100, step: "done",
                       createdAt: fixed, startedAt: fixed, finishedAt: fixed,
                       result: .map(["counts": .map(["create": .int(3), "update": .int(1)]), "charts": .list(charts),
                                     "tags": .list([.string("finance"), .string("\" onmouseover=\"alert(1)")]), "unnamedKey": .double(12.5),
                                     "nothing": .null]),
                       error: nil, nextAction: nil, inputRequest: nil, inputDeadline: nil, node: nil, logLines: 0)
    }

    @Test func aTaskWithItsResultAsTables() throws {
        let model = TaskDetailPage.Model(task: Self.promotionTask, lines: [], level: "", source: "", sources: [])
        for lang in ["en", "ru"] {
            let html = Layout.render(TaskDetailPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/tasks"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            // Hostile text stays text: no tag, and no attribute (an attribute would sit inside a tag).
            #expect(!html.contains("<script>alert") && html.range(of: #"<[^>]*\sonmouseover="#, options: .regularExpression) == nil)
            try assertSnapshot(html, named: "task-promotion-\(lang)")
        }
        let html = Layout.render(TaskDetailPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/tasks"))
        // Named for people, in the title and the heading.
        #expect(html.contains("<h1>Task: Apply a promotion</h1>") || html.contains(">Apply a promotion<"), "the plugin's name")
        #expect(!html.contains("<h1>Task: promote.apply"))
        // The result: named rows, nested counts, a list of records as a table with badges.
        #expect(html.contains(#"<th scope="row">Counts</th>"#) && html.contains(#"<th scope="row">Created</th>"#))
        #expect(html.contains(#"<th scope="col">Title</th>"#) && html.contains(#"<th scope="col">Verified</th>"#))
        #expect(html.contains(#"<span class="badge ok">yes</span>"#) && html.contains(#"<span class="badge">no</span>"#))
        // Bounded: 100 of the 103 charts, and the rest counted.
        let tables = String(html[..<(html.range(of: #"<details class="raw-json">"#)?.lowerBound ?? html.endIndex)])
        #expect(tables.contains("Chart 100") && !tables.contains("Chart 101"))
        #expect(html.contains(">and 3 more<"))
        // A key the catalogue doesn't name shows as it is; the raw JSON stays one click away.
        #expect(html.contains("<code>unnamedKey</code>") && html.contains("12.50"))
        #expect(html.contains(#"<details class="raw-json">"#) && html.contains(#""title":"Chart 103""#))
        // The params as a table too.
        #expect(html.contains(#"data-testid="task-params""#) && html.contains(#"<th scope="row">Losses accepted</th>"#))
        let ru = Layout.render(TaskDetailPage.View(model: model, localizer: Localizer(language: "ru")), context: context("ru", path: "/tasks"))
        #expect(ru.contains("Применение переноса") && ru.contains(#"<span class="badge ok">да</span>"#))
    }

    @Test func everyRegisteredPluginHasANameInEveryLanguage() async throws {
        try await withFerry(.sqlite) { t in
            let ids = t.app.taskEngine.registry.all.map(\.id)
            #expect(ids.count >= 16)
            for lang in Localizer.languages {
                let l = Localizer(language: lang)
                for id in ids { #expect(l.pluginName(id) != id, "\(lang): \(id) has no name") }
                #expect(l.pluginName("custom.plugin") == "custom.plugin", "an unnamed plugin shows its id")
            }
        }
    }
}

/// The promotion wizard picks, never types: environments from lists, dashboards ticked in the
/// source's inventory.
@Suite struct PromoteWizardTests {
    @Test func theWizardListsTheSourcesDashboardsKeepsThePicksAndPlansThem() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 75))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let dev = try await t.createEnvironment(sample("dev", url: fake.url))
            let prod = try await t.createEnvironment(sample("prod", url: fake.url))
            await t.app.syncCoordinator.wait(dev.id)
            await t.app.syncCoordinator.wait(prod.id)
            // No source yet: nothing to pick from, and no id to type anywhere.
            let empty = try await t.request(.GET, "/promote").body.string
            #expect(empty.contains(#"data-testid="pick-source-first""#) && !empty.contains(#"name="dashboards" type="text""#))
            #expect(empty.contains("<option value=\"\(dev.id.uuidString.lowercased())\">dev</option>"), "environments by id, named")

            // From the hub: the source and two dashboards picked.
            let linked = try await t.request(.GET, "/promote?source=\(dev.id)&dashboards=3&dashboards=70&dashboards=99999").body.string
            #expect(rows("picked", in: linked) == ["3", "70"])
            #expect(linked.contains(#"data-testid="unknown-picks""#) && linked.contains("99999"))
            let results = rows("results", in: linked)
            #expect(results.count == 50 && !results.contains("3") && !results.contains("70"), "a page of 50, the picked ones apart")
            #expect(linked.contains("Showing 50 of 73"))
            #expect(cspViolations(linked).isEmpty)

            // Searching keeps what was picked.
            let searched = try await t.request(.POST, "/promote", headers: formHeaders(), body: formBody([
                ("source", dev.id.uuidString), ("target", prod.id.uuidString), ("dashboards", "3"), ("dashboards", "70"),
                ("q", "dashboard 7"), ("action", "list"),
            ]))
            #expect(searched.status == .ok)
            let html = searched.body.string
            #expect(rows("picked", in: html) == ["3", "70"])
            #expect(Set(rows("results", in: html)) == ["7", "17", "27", "37", "47", "57", "67", "71", "72", "73", "74", "75"])
            #expect(html.contains("<option value=\"\(prod.id.uuidString.lowercased())\" selected"))
            #expect(try await PromotionPlanModel.query(on: t.db).count() == 0, "listing plans nothing")

            // Planning: the ticked ids become the plan's selection.
            let planned = try await t.request(.POST, "/promote", headers: formHeaders(), body: formBody([
                ("source", dev.id.uuidString), ("target", prod.id.uuidString), ("dashboards", "3"), ("dashboards", "70"), ("dashboards", "3"),
                ("q", ""), ("scope", "dashboards"), ("schemas", ""), ("action", "plan"),
            ]))
            #expect(planned.status == .seeOther, "\(planned.body.string.prefix(400))")
            let plan = try #require(try await PromotionPlanModel.query(on: t.db).first())
            #expect(plan.sourceEnvID == dev.id && plan.targetEnvID == prod.id)
            #expect(plan.selection.contains(#""3""#) && plan.selection.contains(#""70""#), "\(plan.selection)")
        }
    }

    @Test func aUserWhoMayNotReadTheInventoryPicksNothingFromIt() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 5))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let dev = try await t.createEnvironment(sample("dev", url: fake.url))
            await t.app.syncCoordinator.wait(dev.id)
            #expect(try await t.request(.POST, "/api/roles", json: RoleInput(name: "planner", grants: ["promote:plan"])).status == .created)
            let (_, token) = try await t.user("planner", roles: ["planner"])
            let page = try await t.request(.GET, "/promote?source=\(dev.id)", headers: bearer(token))
            #expect(page.status == .ok)
            #expect(rows("results", in: page.body.string).isEmpty && page.body.string.contains(#"data-testid="no-results""#))
        }
    }

    /// The dashboard ids of a wizard table's rows, in order.
    func rows(_ table: String, in html: String) -> [String] {
        guard let start = html.range(of: "data-testid=\"\(table)\"") else { return [] }
        let rest = html[start.upperBound...]
        let body = rest[..<(rest.range(of: "</table>")?.lowerBound ?? rest.endIndex)]
        return body.components(separatedBy: "data-dashboard=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }
}

/// The dashboards hub: health per row and as a filter, row actions and a bulk bar offered only
/// as the viewer's grants allow, each bulk action one plan or one task for the selection.
@Suite struct DashboardsHubTests {
    @Test func theBulkBarPromotesAndChecksTheTickedDashboardsOfOneEnvironment() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 60))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let dev = try await t.createEnvironment(sample("dev", url: fake.url))
            let prod = try await t.createEnvironment(sample("prod", url: fake.url))
            await t.app.syncCoordinator.wait(dev.id)
            await t.app.syncCoordinator.wait(prod.id)
            let now = t.app.ferry.now()
            try await HealthPagesTests.saveCheck(UUID(), environment: dev.id, dashboard: 3, uuid: "", title: "Fake dashboard 3", status: .pass,
                                                 at: now.addingTimeInterval(-60), on: t.db)
            try await HealthPagesTests.saveCheck(UUID(), environment: dev.id, dashboard: 3, uuid: "", title: "Fake dashboard 3", status: .fail,
                                                 at: now, on: t.db)
            try await HealthPagesTests.saveCheck(UUID(), environment: dev.id, dashboard: 4, uuid: "", title: "Fake dashboard 4", status: .warn,
                                                 at: now, on: t.db)

            // Across environments: row actions, no bulk bar (a selection has one source).
            let all = try await t.request(.GET, "/dashboards").body.string
            #expect(all.contains(#"data-testid="bulk-hint""#) && !all.contains(#"data-testid="bulk-bar""#))
            #expect(all.contains(#"data-testid="row-promote""#))

            // One environment: the bulk bar, a checkbox per row, pages of 50 in the URL.
            let hub = try await t.request(.GET, "/dashboards?environment=dev").body.string
            #expect(hub.contains(#"data-testid="bulk-bar""#) && hub.contains(#"data-testid="bulk-promote""#) && hub.contains(#"data-testid="bulk-check""#))
            #expect(HealthPagesTests.occurrences(#"data-testid="select-row""#, in: hub) == 50)
            #expect(hub.contains("page=2") && hub.contains("environment=dev"))
            #expect(cspViolations(hub).isEmpty)

            // Health: the latest check counts (dashboard 3 failed after it passed).
            let failing = try await t.request(.GET, "/dashboards?environment=dev&health=fail").body.string
            #expect(failing.contains("Dashboards found: 1") && failing.contains("Fake dashboard 3"))
            let warn = try await t.request(.GET, "/dashboards?environment=dev&health=warn").body.string
            #expect(warn.contains("Dashboards found: 1") && warn.contains("Fake dashboard 4"))
            let unchecked = try await t.request(.GET, "/dashboards?environment=dev&health=unchecked").body.string
            #expect(unchecked.contains("Dashboards found: 58"))
            #expect(unchecked.contains("health=unchecked"), "the filter stays in the pager's links")
            let passing = try await t.request(.GET, "/dashboards?environment=dev&health=pass").body.string
            #expect(passing.contains("Dashboards found: 0"))

            // Bulk promote: the wizard, source and ticked dashboards picked, nothing planned yet.
            let wizard = try await t.request(.POST, "/promote", headers: formHeaders(), body: formBody([
                ("source", dev.id.uuidString.lowercased()), ("environment", dev.id.uuidString.lowercased()), ("selection", "required"),
                ("dashboards", "5"), ("dashboards", "6"), ("dashboards", "7"), ("action", "list"),
            ]))
            #expect(wizard.status == .ok)
            #expect(PromoteWizardTests().rows("picked", in: wizard.body.string) == ["5", "6", "7"])
            #expect(try await PromotionPlanModel.query(on: t.db).count() == 0)

            // Bulk check: one task for the ticked dashboards; none ticked is refused, not "all".
            let none = try await t.request(.POST, "/health/run", headers: formHeaders(), body: formBody([
                ("source", dev.id.uuidString), ("environment", dev.id.uuidString), ("selection", "required"),
            ]))
            #expect(none.status == .unprocessableEntity && none.body.string.contains("Tick at least one dashboard to check."))
            let checked = try await t.request(.POST, "/health/run", headers: formHeaders(), body: formBody([
                ("source", dev.id.uuidString), ("environment", dev.id.uuidString), ("selection", "required"),
                ("dashboards", "5"), ("dashboards", "6"), ("dashboards", "7"),
            ]))
            #expect(checked.status == .seeOther)
            let task = try #require(try await TaskModel.query(on: t.db).filter(\.$pluginID == DashboardCheckPlugin.pluginID).first())
            let params = try BundleValue.parseJSON(task.params)
            #expect(params["dashboards"] == .list([.int(5), .int(6), .int(7)]) && params["environment"] == .string(dev.id.uuidString))
        }
    }

    @Test func aViewerSeesNoActionTheyMayNotTake() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 5))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let dev = try await t.createEnvironment(sample("dev", url: fake.url))
            await t.app.syncCoordinator.wait(dev.id)
            let (_, viewer) = try await t.user("vera", roles: ["viewer"])
            let hub = try await t.request(.GET, "/dashboards?environment=dev", headers: bearer(viewer))
            #expect(hub.status == .ok)
            let html = hub.body.string
            #expect(html.contains("Fake dashboard 1"))
            #expect(!html.contains(#"data-testid="bulk-bar""#) && !html.contains(#"data-testid="select-row""#) && !html.contains(#"data-testid="row-promote""#))
            #expect(!html.contains(#"data-testid="bulk-hint""#))
        }
    }
}
