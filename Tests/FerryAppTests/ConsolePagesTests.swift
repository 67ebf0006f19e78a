import Fluent
import Foundation
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

/// Issue 17's readable console: tasks named for people, their params and results as tables.
extension ViewSnapshotTests {
    static let consoleTaskID = UUID(uuidString: "00000000-0000-4000-8000-000000000171")!

    /// A finished promotion apply whose result holds a hostile title, a list of records, nested
    /// counts and more rows than a table shows.
    static var promotionTask: TaskDTO {
        let charts: [BundleValue] = (1...103).map { i in
            .map(["title": .string(i == 1 ? "<script>alert(1)</script>" : "Chart \(i)"), "verified": .bool(i != 2), "rows": .int(i * 10),
                  "error": i == 2 ? .string("Superset is unreachable: connection refused") : .null])
        }
        return TaskDTO(id: consoleTaskID, plugin: "promote.apply",
                       params: .map(["plan": .string("00000000-0000-4000-8000-000000000172"), "acceptLosses": .bool(false)]),
                       createdBy: "ada", environmentIds: [], environments: ["dev", "prod"], status: .succeeded, progress: 100, step: "done",
                       createdAt: fixed, startedAt: fixed, finishedAt: fixed,
                       result: .map(["counts": .map(["create": .int(3), "update": .int(1)]), "charts": .list(charts),
                                     "tags": .list([.string("finance"), .string("\" onmouseover=\"alert(1)")]), "unnamedKey": .double(12.5),
                                     "nothing": .null, "newBytes": .int(3_355_443)]),
                       error: nil, nextAction: nil, inputRequest: nil, inputDeadline: nil, node: nil, logLines: 0)
    }

    @Test func aTaskWithItsResultAsTables() throws {
        let model = TaskDetailPage.Model(task: Self.promotionTask, lines: [], level: "", source: "", sources: [])
        for lang in ["en", "ru"] {
            let html = Layout.render(TaskDetailPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/tasks"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            // Hostile text stays text: no tag, and no attribute (an attribute would sit inside a tag).
            #expect(!html.contains("<script>alert") && html.range(of: ##"<[^>]*\sonmouseover=""##, options: .regularExpression) == nil)
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
        // A byte count is a size; a chart's error is red, in the reader's language.
        #expect(html.contains(#"<span class="num" title="3355443">3.2 MB</span>"#) && ru.contains(#"<span class="num" title="3355443">3,2 МБ</span>"#))
        #expect(html.contains(#"<span class="fail">Superset is unreachable: connection refused</span>"#))
        #expect(ru.contains(#"<span class="fail">Superset недоступен: connection refused</span>"#))
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
            let (dev, prod) = try await t.devAndProd(on: fake)
            // No source yet: nothing to pick from, and no id to type anywhere.
            let empty = try await t.request(.GET, "/promote").body.string
            #expect(empty.contains(#"data-testid="pick-source-first""#) && !empty.contains(#"name="dashboards" type="text""#))
            #expect(empty.contains("<option value=\"\(dev.id.uuidString.lowercased())\">dev</option>"), "environments by id, named")

            // From the hub: the source and two dashboards picked.
            let linked = try await t.request(.GET, "/promote?source=\(dev.id)&dashboards=3&dashboards=70&dashboards=99999").body.string
            #expect(rows("picked", in: linked) == ["3", "70"])
            #expect(linked.contains(#"data-testid="unknown-picks""#) && linked.contains("99999"))
            #expect(!linked.contains(#"data-testid="invalid-picks""#) && !linked.contains(#"data-testid="too-many-picks""#))
            // More than a plan takes: the first 500 kept, and the page says the rest were left out.
            let crowded = try await t.request(.GET, "/promote?source=\(dev.id)&" + (1...501).map { "dashboards=\($0)" }.joined(separator: "&")).body.string
            #expect(crowded.contains(#"data-testid="too-many-picks""#) && crowded.contains("At most 500 dashboards go into one plan"))
            // Picks that aren't ids (a link edited by hand) are left out, and said so, escaped.
            let edited = try await t.request(.GET, "/promote?source=\(dev.id)&dashboards=3&dashboards=%3Cb%3Esales&dashboards=-2").body.string
            #expect(rows("picked", in: edited) == ["3"])
            #expect(edited.contains(#"data-testid="invalid-picks""#) && edited.contains("&lt;b&gt;sales, -2") && !edited.contains("<b>sales"))
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

    /// Schema renames are picked too: each schema of the source's datasets, with the target's
    /// schemas to rename it to; one no dataset uses yet is typed, folded away.
    @Test func schemaRenamesArePickedFromTheDatasetsSchemas() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 3))
        fake.datasetSchemas = ["main", "staging", "<b>odd</b>"]
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let (dev, prod) = try await t.devAndProd(on: fake)
            let onlySource = try await t.request(.GET, "/promote?source=\(dev.id)").body.string
            #expect(onlySource.contains(#"data-testid="schemas-none""#) && !onlySource.contains(#"name="schemaTo""#))
            let page = try await t.request(.GET, "/promote?source=\(dev.id)&target=\(prod.id)").body.string
            #expect(HealthPagesTests.occurrences(#"name="schemaTo""#, in: page) == 3)
            #expect(page.contains(#"<input type="hidden" name="schemaFrom" value="main"/>"#))
            #expect(page.contains(#"<option value="staging">staging</option>"#) && page.contains("&lt;b&gt;odd&lt;/b&gt;") && !page.contains("<b>odd"))
            #expect(page.contains(#"aria-label="New name of schema main on the target""#))
            #expect(cspViolations(page).isEmpty)

            let planned = try await t.request(.POST, "/promote", headers: formHeaders(), body: formBody([
                ("source", dev.id.uuidString), ("target", prod.id.uuidString), ("dashboards", "2"), ("scope", "dashboards"),
                ("schemaFrom", "main"), ("schemaTo", "staging"), ("schemaFrom", "staging"), ("schemaTo", ""),
                ("schemaFrom", "<b>odd</b>"), ("schemaTo", ""), ("schemas", "analytics_dev=analytics"), ("action", "plan"),
            ]))
            #expect(planned.status == .seeOther, "\(planned.body.string.prefix(400))")
            let plan = try #require(try await PromotionPlanModel.query(on: t.db).first())
            let mapping = try JSONDecoder().decode([String: String].self, from: Data(plan.schemaMapping.utf8))
            #expect(mapping == ["main": "staging", "analytics_dev": "analytics"], "picked and typed renames; a kept schema is no rename")

            // A typed rename that isn't a pair: the page again, in the reader's language, the picks kept.
            var ru = formHeaders()
            ru.replaceOrAdd(name: .cookie, value: "ferry_lang=ru")
            let bad = try await t.request(.POST, "/promote", headers: ru, body: formBody([
                ("source", dev.id.uuidString), ("target", prod.id.uuidString), ("dashboards", "2"),
                ("schemaFrom", "main"), ("schemaTo", "staging"), ("schemas", "nonsense"), ("action", "plan"),
            ]))
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.body.string.contains("Укажите пары источник=цель через запятую."))
            #expect(bad.body.string.contains(#"<option value="staging" selected>staging</option>"#))
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
            #expect(rows("results", in: page.body.string).isEmpty && page.body.string.contains(#"data-testid="inventory-unreadable""#))
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
            let (dev, _) = try await t.devAndProd(on: fake)
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

            // Back up: the environment's (a backup is always the whole environment), one task.
            #expect(hub.contains("formaction=\"/backups/environments/\(dev.id.uuidString.lowercased())/run\"") && hub.contains("Back up all of dev"))
            let backup = try await t.request(.POST, "/backups/environments/\(dev.id.uuidString.lowercased())/run", headers: formHeaders(), body: formBody([
                ("source", dev.id.uuidString), ("environment", dev.id.uuidString), ("selection", "required"), ("dashboards", "5"),
            ]))
            #expect(backup.status == .seeOther)
            let backupTask = try #require(try await TaskModel.query(on: t.db).filter(\.$pluginID == "backup.run").first())
            #expect(try BundleValue.parseJSON(backupTask.params)["environment"] == .string(dev.id.key))
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

/// A page per dashboard: the same uuid in every environment the viewer may read, with its checks
/// and the actions the viewer's grants allow there.
@Suite struct DashboardPageTests {
    @Test func aDashboardsPageShowsItInEveryReadableEnvironmentWithItsActions() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 5))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            // Two environments on one Superset: the same dashboards (same uuids) in both.
            let (dev, prod) = try await t.devAndProd(on: fake)
            let item = try #require(try await t.search("dashboards", "environment=dev&search=dashboard%203").items.first)
            let uuid = try #require(item.uuid?.lowercased())
            let checkID = UUID()
            try await HealthPagesTests.saveCheck(checkID, environment: prod.id, dashboard: item.id, uuid: uuid, title: item.name, status: .warn,
                                                 at: t.app.ferry.now(), on: t.db)

            // The hub links each row to it.
            let hub = try await t.request(.GET, "/dashboards?environment=dev&search=dashboard%203").body.string
            #expect(hub.contains("href=\"/dashboards/\(uuid)\" data-testid=\"dashboard-link\""))

            let page = try await t.request(.GET, "/dashboards/\(uuid)")
            #expect(page.status == .ok)
            let html = page.body.string
            #expect(html.contains("<h1 data-testid=\"dashboard-title\">\(item.name)</h1>"))
            #expect(html.contains(#"<tr data-environment="dev">"#) && html.contains(#"<tr data-environment="prod">"#))
            #expect(html.contains("href=\"/health/checks/\(checkID.uuidString.lowercased())\""), "prod's latest check, linked")
            #expect(html.contains(#"data-testid="dashboard-checks""#) && html.contains(#"data-testid="dashboard-promotions-none""#))
            // The administrator may do everything in both; not yet committed to git, so no deploy.
            for action in ["action-promote", "action-backup", "action-restore", "action-check", "action-open"] {
                #expect(HealthPagesTests.occurrences("data-testid=\"\(action)\"", in: html) == 2, "\(action)")
            }
            #expect(!html.contains(#"data-testid="action-deploy""#))
            #expect(html.contains("href=\"/promote?dashboards=\(item.id)&amp;source=\(dev.id.uuidString.lowercased())\""))
            #expect(cspViolations(html).isEmpty)

            // A viewer of dev only: dev alone, and nothing to do there but open it in Superset.
            #expect(try await t.request(.POST, "/api/roles", json: RoleInput(name: "dev-viewer", grants: ["inventory:read@name:dev"])).status == .created)
            let (_, token) = try await t.user("dora", roles: ["dev-viewer"])
            let limited = try await t.request(.GET, "/dashboards/\(uuid)", headers: bearer(token)).body.string
            #expect(limited.contains(#"<tr data-environment="dev">"#) && !limited.contains(#"<tr data-environment="prod">"#))
            #expect(!limited.contains(checkID.uuidString.lowercased()), "prod's check is not dev's to see")
            #expect(!limited.contains(#"data-testid="action-promote""#) && !limited.contains(#"data-testid="action-check""#)
                && !limited.contains(#"data-testid="action-backup""#) && limited.contains(#"data-testid="action-open""#))

            // A uuid no readable environment has, or not a uuid at all: not found, saying why.
            let missing = try await t.request(.GET, "/dashboards/\(UUID())")
            #expect(missing.status == .notFound && missing.body.string.contains("No dashboard with this uuid"))
            #expect(try await t.request(.GET, "/dashboards/not-a-uuid").status == .notFound)
        }
    }

    /// Its promotions (with their task and status) and its environments' backups, newest first,
    /// on either store; a promotion is listed only to those who may follow both of its ends.
    @Test(arguments: Store.available)
    func itsPromotionsAndBackupsAreListedToThoseWhoMayFollowThem(store: Store) async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 3))
        defer { Task { await fake.stop() } }
        try await withFerry(store) { t in
            let (dev, prod) = try await t.devAndProd(on: fake)
            let item = try #require(try await t.search("dashboards", "environment=dev").items.first)
            let uuid = try #require(item.uuid?.lowercased())
            let now = t.app.ferry.now()
            let plan = PromotionPlanModel()
            plan.id = UUID()
            (plan.sourceEnvID, plan.targetEnvID, plan.scope, plan.selection, plan.schemaMapping) = (dev.id, prod.id, "dashboards", "{}", "{}")
            (plan.status, plan.createdBy, plan.createdAt) = (.applied, "root", now)
            try await plan.create(on: t.db)
            var tasks: [UUID] = []
            for (n, status) in [PromotionStatus.succeeded, .failed].enumerated() {
                let task = UUID()
                tasks.append(task)
                let promotion = PromotionModel()
                promotion.id = UUID()
                (promotion.planID, promotion.sourceEnvID, promotion.targetEnvID, promotion.status, promotion.taskID) = (plan.id!, dev.id, prod.id, status, task)
                (promotion.startedBy, promotion.createdAt) = ("root", now)
                try await promotion.create(on: t.db)
                let history = DashboardHistoryModel()
                history.id = UUID()
                (history.targetEnvID, history.sourceEnvID, history.dashboardUUID, history.dashboardTitle) = (prod.id, dev.id, uuid, item.name)
                (history.promotionID, history.planID, history.promotedBy, history.promotedAt, history.bundleChecksum) =
                    (promotion.id!, plan.id!, "promoter-\(n)", now.addingTimeInterval(Double(n) * 60), "c")
                try await history.create(on: t.db)
            }
            let backup = BackupModel()
            backup.id = UUID()
            (backup.environmentID, backup.createdAt, backup.supersetVersion, backup.full, backup.origin) = (prod.id, now, "6.1.0", true, BackupOrigin.task.rawValue)
            (backup.dashboards, backup.charts, backup.datasets, backup.databases, backup.totalBytes, backup.newBytes) = (3, 4, 2, 1, 100, 100)
            (backup.manifestChecksum, backup.pinned, backup.verifyStatus, backup.createdBy) = ("m", false, BackupVerifyStatus.unverified.rawValue, "root")
            try await backup.create(on: t.db)

            let html = try await t.request(.GET, "/dashboards/\(uuid)").body.string
            let promotions = try #require(html.range(of: #"data-testid="dashboard-promotions""#).map { String(html[$0.upperBound...]) })
            // Newest first: the failed one (a minute later), then the one that succeeded.
            let failed = try #require(promotions.range(of: "/tasks/\(tasks[1].uuidString.lowercased())"))
            let succeeded = try #require(promotions.range(of: "/tasks/\(tasks[0].uuidString.lowercased())"))
            #expect(failed.lowerBound < succeeded.lowerBound)
            #expect(promotions.contains("dev → prod") && promotions.contains("promoter-1") && promotions.contains("status-failed"))
            #expect(html.contains("href=\"/backups/\(backup.id!.uuidString.lowercased())\""), "prod's backup, linked")

            // tasks:read on dev alone: the dev → prod promotions are not theirs to follow.
            let limited = try await t.limitedUser("devfollower", grants: ["inventory:read", "tasks:read@name:dev"])
            let theirs = try await t.request(.GET, "/dashboards/\(uuid)", headers: bearer(limited)).body.string
            #expect(theirs.contains(#"data-testid="dashboard-promotions-none""#) && !theirs.contains("promoter-"))
            #expect(theirs.contains("href=\"/backups/\(backup.id!.uuidString.lowercased())\""))
            // tasks:read on both ends: they are.
            let both = try await t.limitedUser("bothfollower", grants: ["inventory:read", "tasks:read@name:dev", "tasks:read@name:prod"])
            let listed = try await t.request(.GET, "/dashboards/\(uuid)", headers: bearer(both)).body.string
            #expect(listed.contains("promoter-0") && listed.contains("promoter-1"))
        }
    }
}

extension ViewSnapshotTests {
    @Test func aDashboardsOwnPage() throws {
        let dev = UUID(uuidString: "00000000-0000-4000-8000-000000000181")!, prod = UUID(uuidString: "00000000-0000-4000-8000-000000000182")!
        let hostile = "<script>alert(1)</script>\" onmouseover=\"alert(1)"
        let model = DashboardPage.Model(
            uuid: "00000000-0000-4000-8000-000000000180", title: hostile,
            presences: [
                .init(environmentID: dev, environment: "dev", stage: "dev", dashboardID: 7, title: hostile, owners: ["Ada Admin"], changedOn: Self.fixed,
                      supersetURL: "http://127.0.0.1:8088/superset/dashboard/7/", drift: .inSync,
                      latestCheck: .init(id: UUID(uuidString: "00000000-0000-4000-8000-000000000183")!, status: .pass, checkedAt: Self.fixed),
                      canPromote: true, canBackUp: true, canRestore: true, canCheck: true, canDeploy: true),
                .init(environmentID: prod, environment: "prod", stage: "prod", dashboardID: 12, title: hostile, owners: [], changedOn: nil,
                      supersetURL: "http://127.0.0.1:8089/superset/dashboard/12/", drift: .uncommitted, latestCheck: nil),
            ],
            promotions: [.init(promotionID: UUID(uuidString: "00000000-0000-4000-8000-000000000184")!, taskID: UUID(uuidString: "00000000-0000-4000-8000-000000000185")!,
                               source: "dev", target: "prod", status: .succeeded, by: "ada", at: Self.fixed)],
            checks: [.init(id: UUID(uuidString: "00000000-0000-4000-8000-000000000183")!, environment: "dev", status: .pass, checkedAt: Self.fixed)],
            backups: [.init(id: UUID(uuidString: "00000000-0000-4000-8000-000000000186")!, environment: "dev", createdAt: Self.fixed, full: true, dashboards: 40, taskID: nil)],
            revisions: [.init(environmentID: dev, environment: "dev", sha: String(repeating: "a1", count: 20), shortSha: String(repeating: "a1", count: 6),
                              summary: "backup of dev <b>by</b> ada", author: "Ferry", date: Self.fixed, taskID: nil)])
        for lang in ["en", "ru"] {
            let html = Layout.render(DashboardPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/dashboards"))
            #expect(!html.contains("<script>alert") && !html.contains("<b>by</b>"))
            let attribute = html.range(of: ##"<[^>]*\sonmouseover=""##, options: .regularExpression)
            #expect(attribute == nil, "\(attribute.map { html[$0] } ?? "")")
            #expect(cspViolations(html).isEmpty)
            try assertSnapshot(html, named: "dashboard-\(lang)")
        }
        let html = Layout.render(DashboardPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/dashboards"))
        #expect(HealthPagesTests.occurrences(#"data-testid="action-deploy""#, in: html) == 1, "only where it was committed")
        #expect(html.contains(#"href="/tasks/00000000-0000-4000-8000-000000000185""#) && html.contains("dev → prod"))
        #expect(html.contains(#"href="/backups/00000000-0000-4000-8000-000000000186""#))
    }
}

/// The activity count and drawer: the user's own unfinished tasks, those waiting for input
/// flagged, nobody else's.
@Suite struct ActivityTests {
    @Test(arguments: Store.available)
    func theCountAndTheDrawerListTheUsersUnfinishedTasks(store: Store) async throws {
        try await withFerry(store) { t in
            // Queued (no workers run here): two of the administrator's, one of another operator's.
            for seconds in [1, 2] {
                let res = try await t.request(.POST, "/api/tasks", json: BundleValue.map(["plugin": .string("diagnostics.sleep"), "params": .map(["seconds": .int(seconds)])]))
                #expect(res.status == .accepted || res.status == .created, "\(res.body.string)")
            }
            let (_, op) = try await t.user("otto", roles: ["operator"])
            #expect(try await t.request(.POST, "/api/tasks", json: BundleValue.map(["plugin": .string("diagnostics.sleep"), "params": .map(["seconds": .int(3)])]),
                                        headers: bearer(op)).status.code < 300)
            let html: HTTPHeaders = ["Accept": "text/html"]
            var page = try await t.request(.GET, "/dashboards", headers: html).body.string
            #expect(page.contains(#"<span class="nav-count" data-testid="activity-count">2</span>"#), "the administrator's two")

            // One waits for input: flagged in the count and in the drawer, with the way to answer.
            let mine = try await TaskModel.query(on: t.db).filter(\.$createdBy == TestAdmin.username).sort(\.$createdAt).all()
            #expect(mine.count == 2)
            mine[0].status = TaskStatus.awaitingInput.rawValue
            try await mine[0].save(on: t.db)
            page = try await t.request(.GET, "/dashboards", headers: html).body.string
            #expect(page.contains(#"<span class="nav-count awaiting" data-testid="activity-count">2</span>"#))

            let drawer = try await t.request(.GET, "/activity", headers: html)
            #expect(drawer.status == .ok && drawer.headers.first(name: .cacheControl) == "no-store")
            let body = drawer.body.string
            #expect(body.hasPrefix(#"<div data-activity-count="2" data-activity-awaiting="1" data-activity-label="Activity: 2 of your tasks running">"#), "a fragment, no layout")
            #expect(HealthPagesTests.occurrences("data-activity-task=", in: body) == 2)
            #expect(body.contains(">Canary (sleep)<") && !body.contains("diagnostics.sleep"))
            #expect(body.contains("href=\"/tasks/\(mine[0].id!.uuidString.lowercased())#input\" class=\"button small primary\" data-testid=\"activity-answer\""))
            #expect(HealthPagesTests.occurrences(#"data-testid="activity-answer""#, in: body) == 1)

            // A question the viewer may answer is asked in place, its ids apart from the task page's.
            mine[1].status = TaskStatus.awaitingInput.rawValue
            mine[1].inputRequest = #"{"prompt":"Pick one","schema":{"type":"object","properties":{"choice":{"type":"string","enum":["a","b"],"x-enumLabels":["Alpha","Beta"],"title":"Choice"}}}}"#
            try await mine[1].save(on: t.db)
            let asked = try await t.request(.GET, "/activity", headers: html).body.string
            let answering = mine[1].id!.uuidString.lowercased()
            #expect(asked.contains(#"<form method="post" action="/tasks/\#(answering)/input" class="stacked" data-testid="activity-input-form">"#), "\(asked)")
            #expect(asked.contains(#"<label for="a-\#(answering)-input.choice">Choice</label><select id="a-\#(answering)-input.choice" name="input.choice">"#))
            #expect(asked.contains("<strong>Pick one</strong>") && asked.contains(#"<option value="b">Beta</option>"#))
            #expect(HealthPagesTests.occurrences(#"data-testid="activity-answer""#, in: asked) == 1, "the task with no stored question links to its page")
            #expect(HealthPagesTests.occurrences(#"data-testid="activity-input-form""#, in: asked) == 1)
            #expect(asked.contains(#"data-testid="activity-input-form"><input type="hidden" name="_csrf""#), "the drawer's form carries the CSRF field")

            // The operator sees only their own.
            let theirs = try await t.request(.GET, "/activity", headers: bearer(op)).body.string
            #expect(theirs.hasPrefix(#"<div data-activity-count="1" data-activity-awaiting="0" data-activity-label="Activity: 1 of your tasks running">"#))

            // Finished: gone from the count, and the drawer says so.
            for task in mine { task.status = TaskStatus.cancelled.rawValue; try await task.save(on: t.db) }
            page = try await t.request(.GET, "/dashboards", headers: html).body.string
            #expect(page.contains(#"data-testid="activity-count" hidden>0</span>"#))
            #expect(try await t.request(.GET, "/activity").body.string.contains(#"data-testid="activity-none""#))
        }
    }
}

/// Roles as a matrix: a checkbox per permission with its scope picked from lists; the same role
/// as the text form (and the API) would make it.
@Suite struct RoleMatrixTests {
    static func index(_ p: Permission) -> Int { Permission.allCases.firstIndex(of: p)! }

    @Test(arguments: Store.available)
    func aRoleTickedInTheMatrixIsTheRoleTheTextFormMakes(store: Store) async throws {
        try await withFerry(store) { t in
            let dev = try await t.createEnvironment(sample("dev"))
            let plan = Self.index(.promotePlan), read = Self.index(.environmentsRead), audit = Self.index(.auditRead), users = Self.index(.usersAdmin)
            let matrix = try await t.request(.POST, "/admin/roles", headers: formHeaders(), body: formBody([
                ("name", "by-matrix"), ("description", ""), ("matrix", "1"), ("source", "matrix"),
                ("g\(read)", "on"), ("g\(plan)", "on"), ("s\(plan)", "stage"), ("e\(plan)", dev.id.uuidString), ("g\(audit)", "on"),
                ("grants", "ignored: the matrix was saved"),
            ]))
            #expect(matrix.status == .seeOther, "\(matrix.body.string.prefix(300))")
            let text = try await t.request(.POST, "/admin/roles", headers: formHeaders(), body: formBody([
                ("name", "by-text"), ("description", ""), ("grants", "environments:read\npromote:plan@stage:stage,name:dev\naudit:read"), ("source", "text"),
            ]))
            #expect(text.status == .seeOther, "\(text.body.string.prefix(300))")
            let roles = try await t.request(.GET, "/api/roles").content.decode(AccountsAPI.Items<RoleDTO>.self, using: JSONDecoder.ferry).items
            let byMatrix = try #require(roles.first { $0.name == "by-matrix" }), byText = try #require(roles.first { $0.name == "by-text" })
            #expect(Set(byMatrix.grants) == Set(byText.grants) && byMatrix.grants.count == 3, "\(byMatrix.grants) vs \(byText.grants)")

            // Editing shows the matrix ticked as stored.
            let edit = try await t.request(.GET, "/admin/roles/\(byText.id)").body.string
            #expect(edit.contains(#"name="g\#(plan)" value="on" checked data-testid="grant-promote:plan""#))
            #expect(edit.contains(#"name="s\#(plan)" value="stage" checked"#) && !edit.contains(#"name="s\#(plan)" value="prod" checked"#))
            #expect(edit.contains("name=\"e\(plan)\" value=\"\(dev.id.uuidString.lowercased())\" checked"))
            #expect(!edit.contains(#"name="s\#(audit)""#), "a global permission offers no scope")
            #expect(cspViolations(edit).isEmpty)

            // A limit on a global permission (no page offers it) is refused, nothing saved.
            let refused = try await t.request(.POST, "/admin/roles", headers: formHeaders(), body: formBody([
                ("name", "sneaky"), ("matrix", "1"), ("source", "matrix"), ("g\(users)", "on"), ("s\(users)", "dev"),
            ]))
            #expect(refused.status == .unprocessableEntity)
            #expect(refused.body.string.contains(#"data-testid="form-error""#))
            let after = try await t.request(.GET, "/api/roles").content.decode(AccountsAPI.Items<RoleDTO>.self, using: JSONDecoder.ferry).items
            #expect(!after.contains { $0.name == "sneaky" })
        }
    }
}

extension ViewSnapshotTests {
    @Test func theRolesMatrix() throws {
        let dev = UUID(uuidString: "00000000-0000-4000-8000-000000000191")!
        let role = RoleDTO(id: UUID(uuidString: "00000000-0000-4000-8000-000000000190")!, name: "stage-ops", description: "<b>ops</b>", builtin: false,
                           grants: ["environments:read", "promote:plan@stage:stage,name:<dev>", "audit:read"])
        let model = RolesPage.Model(roles: [role], editing: role,
                                    form: .init(name: role.name, description: role.description, grants: role.grants.joined(separator: "\n")),
                                    permissions: Permission.allCases.map(\.rawValue),
                                    environments: [.init(id: dev, name: "<dev>", stage: "dev"), .init(id: UUID(uuidString: "00000000-0000-4000-8000-000000000192")!, name: "qa", stage: "qa")])
        for lang in ["en", "ru"] {
            let html = Layout.render(RolesPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/admin/roles"))
            #expect(!html.contains("<b>ops</b>") && !html.contains("<dev>"))
            #expect(cspViolations(html).isEmpty)
            try assertSnapshot(html, named: "roles-matrix-\(lang)")
        }
        let rows = model.matrix
        #expect(rows.filter(\.granted).map(\.permission) == [.environmentsRead, .promotePlan, .auditRead])
        #expect(rows.first { $0.permission == .promotePlan }?.stages == ["stage"] && rows.first { $0.permission == .promotePlan }?.environments == [dev])
        #expect(model.stages == ["dev", "stage", "prod", "qa"], "the usual stages and any an environment has")
    }
}

@Suite struct AssetsHubTests {
    @Test func theChartsHubSearchesPagesAndKeepsEachViewerToTheirEnvironments() async throws {
        let fake = try await FakeSuperset.start(.healthyWithCharts(dashboards: 3, charts: 55))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let (dev, _) = try await t.devAndProd(on: fake)

            let all = try await t.request(.GET, "/charts")
            #expect(all.status == .ok)
            let html = all.body.string
            #expect(html.contains("Charts found: 110"))
            #expect(HealthPagesTests.occurrences(#"data-testid="row-open""#, in: html) == 50, "pages of 50")
            #expect(html.contains(#"href="/charts?page=2""#))
            #expect(html.contains(#"aria-current="page">Charts</a>"#), "the Charts tab is the current one")
            #expect(!html.contains("<script>alert") && html.contains("&lt;script&gt;alert"), "a chart's name is text, never markup")
            #expect(cspViolations(html).isEmpty)

            // One environment and a search, kept in the pager's links: the even charts are tables.
            let tables = try await t.request(.GET, "/charts?environment=\(dev.id.uuidString.lowercased())&search=table").body.string
            #expect(tables.contains("Charts found: 27"))
            #expect(!tables.contains("<td>prod</td>"))
            let last = try await t.request(.GET, "/charts?environment=dev&page=3").body.string
            #expect(HealthPagesTests.occurrences(#"data-testid="row-open""#, in: last) == 0 && last.contains("Charts found: 55"))
            let second = try await t.request(.GET, "/charts?environment=dev&page=2").body.string
            #expect(HealthPagesTests.occurrences(#"data-testid="row-open""#, in: second) == 5)
            #expect(second.contains("environment=dev") && second.contains(#"rel="prev""#))

            // Datasets: their own hub, empty here.
            let datasets = try await t.request(.GET, "/datasets").body.string
            #expect(datasets.contains("Datasets found: 0") && datasets.contains(#"aria-current="page">Datasets</a>"#))

            // Bad input is refused, saying what is wrong.
            let bad = try await t.request(.GET, "/charts?page=many")
            #expect(bad.status == .unprocessableEntity && bad.body.string.contains("page and per_page must be whole numbers"))
            let unknown = try await t.request(.GET, "/charts?environment=nowhere")
            #expect(unknown.status == .unprocessableEntity && unknown.body.string.contains("no environment"))

            // A viewer of dev alone sees dev's charts and nothing of prod's.
            #expect(try await t.request(.POST, "/api/roles", json: RoleInput(name: "dev-viewer", grants: ["inventory:read@name:dev"])).status == .created)
            let (_, token) = try await t.user("dora", roles: ["dev-viewer"])
            let limited = try await t.request(.GET, "/charts", headers: bearer(token)).body.string
            #expect(limited.contains("Charts found: 55") && !limited.contains("<td>prod</td>"))
            let (_, nobody) = try await t.user("nina", roles: [])
            #expect(try await t.request(.GET, "/charts", headers: bearer(nobody)).status == .forbidden)
        }
    }
}

extension RoleMatrixTests {
    /// The fields a browser sends for the matrix as rendered: every ticked checkbox.
    static func ticked(in html: String) -> [String: [String]] {
        var fields: [String: [String]] = [:]
        let pattern = try! NSRegularExpression(pattern: #"<input type="checkbox" name="([a-z]\d+)" value="([^"]*)" checked"#)
        for m in pattern.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            let name = String(html[Range(m.range(at: 1), in: html)!]), value = String(html[Range(m.range(at: 2), in: html)!])
            fields[name, default: []].append(value)
        }
        return fields
    }

    /// Saving a role from the matrix as shown keeps every grant as it was: a scope naming an
    /// environment Ferry no longer has, or a stage no environment has, stays limited (it was
    /// widened to every environment before), and an unlimited grant stays unlimited beside a
    /// limited line of the same permission.
    @Test func theMatrixAsShownSavesTheSameGrants() throws {
        let dev = UUID(uuidString: "00000000-0000-4000-8000-0000000001a1")!, gone = UUID(uuidString: "00000000-0000-4000-8000-0000000001a2")!
        let grants = ["promote:apply@id:\(gone.uuidString.lowercased())", "restore:run@stage:qa", "backup:run", "backup:run@stage:dev",
                      "promote:plan@name:dev", "audit:read"]
        let model = RolesPage.Model(roles: [], editing: nil, form: .init(name: "r", description: "", grants: grants.joined(separator: "\n")),
                                    permissions: Permission.allCases.map(\.rawValue), environments: [.init(id: dev, name: "dev", stage: "dev")])
        #expect(model.scopeEnvironments.map(\.id) == [dev, gone] && model.scopeEnvironments.last?.missing == true)
        #expect(model.stages.contains("qa"))
        let html = Layout.render(RolesPage.View(model: model, localizer: Localizer(language: "en")), context: ViewSnapshotTests().context("en", path: "/admin/roles"))
        #expect(html.contains("deleted environment 00000000"))
        let saved = Set(RolesPage.Model.grants(fromMatrix: Self.ticked(in: html)))
        #expect(saved == ["promote:apply@id:\(gone.uuidString.lowercased())", "restore:run@stage:qa", "backup:run",
                          "promote:plan@id:\(dev.uuidString.lowercased())", "audit:read"])
    }

    /// The matrix's Save sends both editors: a change in the text form alone is what is saved;
    /// a change in both is refused (nil), never half-applied.
    @Test func theEditorThatChangedIsTheOneSaved() throws {
        let original = "audit:read\npromote:plan@stage:dev"
        let environments: [RolesPage.Model.Environment] = []
        let audit = "g\(Self.index(.auditRead))", plan = "g\(Self.index(.promotePlan))", users = "g\(Self.index(.usersAdmin))"
        let unchanged: [String: [String]] = [audit: ["on"], plan: ["on"], "s\(Self.index(.promotePlan))": ["dev"]]
        var ticked = unchanged
        ticked[users] = ["on"]
        // Nothing changed in the text: the matrix.
        #expect(RolesPage.Model.grants(fields: ticked, text: original, original: original, fromMatrix: true, environments: environments)
            .map(Set.init) == ["audit:read", "promote:plan@stage:dev", "users:admin"])
        // Only the text changed: the text.
        #expect(RolesPage.Model.grants(fields: unchanged, text: "audit:read", original: original, fromMatrix: true, environments: environments) == ["audit:read"])
        // Both changed: neither.
        #expect(RolesPage.Model.grants(fields: ticked, text: "audit:read", original: original, fromMatrix: true, environments: environments) == nil)
        // The text form's own button: the text, whatever the matrix says.
        #expect(RolesPage.Model.grants(fields: ticked, text: "audit:read", original: original, fromMatrix: false, environments: environments) == ["audit:read"])
        // A stage value that isn't a tag is never written into the grammar; the save is refused.
        let hostile: [String: [String]] = [plan: ["on"], "s\(Self.index(.promotePlan))": ["dev,id:00000000-0000-4000-8000-000000000001", "prod\nusers:admin", "qa"]]
        #expect(RolesPage.Model.invalidStages(hostile) == ["dev,id:00000000-0000-4000-8000-000000000001", "prod\nusers:admin"])
        #expect(RolesPage.Model.grants(fromMatrix: hostile) == ["promote:plan@stage:qa"])
        #expect(RolesPage.Model.invalidStages(unchanged).isEmpty)
    }
}

/// The plan's database mapping, shown with its confidence and changed in place: the pick is
/// stored as the mapping and the plan made again with the same selection.
@Suite struct PlanRemapTests {
    @Test func aPickedConnectionIsRememberedAndThePlanMadeAgain() async throws {
        let fake = try await FakeSuperset.start(.healthyWithCharts(dashboards: 2, charts: 1))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let (dev, prod) = try await t.devAndProd(on: fake)
            let source = DatabaseRef(uuid: "00000009-0000-4000-8000-000000000001", name: "Sales warehouse (dev)", backend: "postgresql", uri: "")
            let current = DatabaseRef(uuid: "00000003-0000-4000-8000-000000000002", name: "Marketing", backend: "postgresql", uri: "")
            let plan = PromotionPlanModel()
            plan.id = UUID()
            (plan.sourceEnvID, plan.targetEnvID, plan.scope, plan.selection, plan.schemaMapping) = (dev.id, prod.id, "cascade", #"{"dashboards":["1","2"]}"#, #"{"main":"public"}"#)
            (plan.status, plan.createdBy, plan.createdAt) = (.ready, "root", t.clock.now())
            plan.items = String(decoding: try JSONEncoder().encode([PlanItem(kind: .dashboard, uuid: "d", name: "Fake dashboard 1", action: .create)]), as: UTF8.self)
            plan.mappings = String(decoding: try JSONEncoder().encode([UsedMapping(source: source, target: current)]), as: UTF8.self)
            try await plan.create(on: t.db)

            // The page: the target's connections best first, the one used selected, its match.
            let page = try await t.request(.GET, "/promote/plans/\(plan.id!)").body.string
            #expect(page.contains(#"data-testid="remap-form""#))
            let warehouse = try #require(page.range(of: "Sales warehouse (postgresql)")), marketing = try #require(page.range(of: "Marketing (postgresql)"))
            #expect(warehouse.lowerBound < marketing.lowerBound, "the better match first")
            #expect(page.contains(#"<option value="00000003-0000-4000-8000-000000000002" selected>"#))
            #expect(cspViolations(page).isEmpty)

            // A connection the target doesn't have is refused, nothing stored, no plan made.
            let field = "map-" + source.uuid
            let bad = try await t.request(.POST, "/promote/plans/\(plan.id!)/remap", headers: formHeaders(), body: formBody([(field, "nope")]))
            #expect(bad.status == .unprocessableEntity && bad.body.string.contains(#"data-testid="remap-error""#))
            #expect(bad.body.string.contains("Sales warehouse (dev): pick one of the target"))
            #expect(try await PromotionPlanModel.query(on: t.db).count() == 1)
            // The same connection as before: nothing to do, back to the same plan.
            let same = try await t.request(.POST, "/promote/plans/\(plan.id!)/remap", headers: formHeaders(), body: formBody([(field, current.uuid)]))
            #expect(same.status == .seeOther && same.headers.first(name: .location) == "/promote/plans/\(plan.id!.uuidString.lowercased())")
            #expect(try await PromotionPlanModel.query(on: t.db).count() == 1)
            #expect(try await MappingService.stored(source: dev.id, target: prod.id, on: t.db).isEmpty)

            // The better match: stored, and a new plan of the same dashboards, scope and schemas.
            let done = try await t.request(.POST, "/promote/plans/\(plan.id!)/remap", headers: formHeaders(),
                                           body: formBody([(field, "00000003-0000-4000-8000-000000000001")]))
            #expect(done.status == .seeOther)
            let stored = try await MappingService.stored(source: dev.id, target: prod.id, on: t.db)
            #expect(stored[source.uuid]?.targetDatabaseName == "Sales warehouse")
            let again = try #require(try await PromotionPlanModel.query(on: t.db).filter(\.$id != plan.id!).first())
            #expect(done.headers.first(name: .location) == "/promote/plans/\(again.id!.uuidString.lowercased())")
            #expect(again.selection.contains(#""1""#) && again.selection.contains(#""2""#) && again.scope == "cascade")
            #expect(again.schemaMapping.contains("public"))
            // The old plan, with the connection just replaced, can't be applied any more.
            #expect(try await PromotionPlanModel.find(plan.id!, on: t.db)?.status == .stale)
            #expect(try await t.request(.GET, "/promote/plans/\(plan.id!)").body.string.contains(#"data-testid="plan-stale""#))

            // Who may only read plans between them can't change the mapping.
            #expect(try await t.request(.POST, "/api/roles", json: RoleInput(name: "reader", grants: ["inventory:read", "tasks:read"])).status == .created)
            let (_, token) = try await t.user("rita", roles: ["reader"])
            var headers = formHeaders()
            headers.bearerAuthorization = BearerAuthorization(token: token)
            let refused = try await t.request(.POST, "/promote/plans/\(plan.id!)/remap", headers: headers, body: formBody([(field, "00000003-0000-4000-8000-000000000002")]))
            #expect(refused.status == .forbidden)
            #expect(try await MappingService.stored(source: dev.id, target: prod.id, on: t.db)[source.uuid]?.targetDatabaseName == "Sales warehouse")

            // A plan made by a search (through the API) is made again of the dashboards it found,
            // not by running the search again.
            let searched = PromotionPlanModel()
            searched.id = UUID()
            (searched.sourceEnvID, searched.targetEnvID, searched.scope, searched.selection, searched.schemaMapping) = (dev.id, prod.id, "dashboards", #"{"dashboards":[],"search":"Fake"}"#, "{}")
            (searched.status, searched.createdBy, searched.createdAt) = (.ready, "root", t.clock.now())
            let found = "00000001-0000-4000-8000-000000000002"
            searched.items = String(decoding: try JSONEncoder().encode([PlanItem(kind: .dashboard, uuid: found, name: "Fake dashboard 2", action: .create),
                                                                        PlanItem(kind: .chart, uuid: "c", name: "A chart", action: .create)]), as: UTF8.self)
            searched.mappings = String(decoding: try JSONEncoder().encode([UsedMapping(source: source, target: current)]), as: UTF8.self)
            try await searched.create(on: t.db)
            let redone = try await t.request(.POST, "/promote/plans/\(searched.id!)/remap", headers: formHeaders(),
                                             body: formBody([(field, "00000003-0000-4000-8000-000000000001")]))
            #expect(redone.status == .seeOther, "\(redone.body.string.prefix(300))")
            let newest = try #require(try await PromotionPlanModel.query(on: t.db).filter(\.$id !~ [plan.id!, again.id!, searched.id!]).first())
            let selection = try JSONDecoder().decode(PlanSelection.self, from: Data(newest.selection.utf8))
            #expect(selection.dashboards == [found] && selection.search == nil)
            #expect(try await PromotionPlanModel.find(searched.id!, on: t.db)?.status == .stale)
        }
    }
}

extension TestHarness {
    /// Environments "dev" and "prod", both on `fake`, their first inventory sync done.
    func devAndProd(on fake: FakeSuperset) async throws -> (dev: EnvironmentDTO, prod: EnvironmentDTO) {
        let dev = try await createEnvironment(sample("dev", url: fake.url))
        let prod = try await createEnvironment(sample("prod", url: fake.url))
        await app.syncCoordinator.wait(dev.id)
        await app.syncCoordinator.wait(prod.id)
        return (dev, prod)
    }
}

@Suite struct UTCTimestampTests {
    /// The arithmetic agrees with Foundation's formatter: epoch, before it, leap days, century
    /// rules and a spread of seconds over four centuries.
    @Test func agreesWithISO8601DateFormatter() {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        var seconds: [Double] = [0, -1, -86_400, -86_401, 951_782_400, 951_868_799, 4_107_542_400, 1_800_000_000.75, 253_402_300_799]
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2_000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            seconds.append(Double(Int64(bitPattern: x >> 1) % 12_000_000_000) - 2_000_000_000)
        }
        for s in seconds {
            let date = Date(timeIntervalSince1970: s)
            #expect(UTCTimestamp.iso(date) == f.string(from: date), "\(s)")
        }
        #expect(UTCTimestamp.text(Date(timeIntervalSince1970: 1_800_000_000)) == "2027-01-15 08:00:00 UTC")
        // No date to show is a question mark, never a trap.
        for odd in [Double.infinity, -Double.infinity, Double.nan, 1e300, -1e300] {
            #expect(UTCTimestamp.text(Date(timeIntervalSince1970: odd)) == "?")
        }
    }
}
