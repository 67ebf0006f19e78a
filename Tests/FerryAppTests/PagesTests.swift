import Foundation
import Testing
import SupersetKit
import Vapor

@testable import FerryApp

/// HTML a strict CSP would block, or that breaks out of text: inline scripts, inline handlers,
/// inline styles, javascript: URLs.
func cspViolations(_ html: String) -> [String] {
    var found: [String] = []
    // Look at tags only (text is escaped, so every raw "<" starts a real tag), with quoted
    // attribute values removed, so escaped user text can't trigger or hide a finding.
    let tags = html.matches(of: /<[^>]+>/).map { String($0.output) }
    for tag in tags {
        let bare = tag.replacing(/"[^"]*"/, with: "\"\"")
        if bare.lowercased().hasPrefix("<script"), !bare.contains(" src=") { found.append(tag) }
        if bare.lowercased().hasPrefix("<style") { found.append(tag) }
        if bare.contains(/\son[a-z]+\s*=/.ignoresCase()) { found.append(tag) }
        if bare.contains(/\sstyle\s*=/.ignoresCase()) { found.append(tag) }
        if tag.lowercased().contains("javascript:") { found.append(tag) }
    }
    return found
}

func formHeaders() -> HTTPHeaders {
    var h = HTTPHeaders()
    h.contentType = .urlEncodedForm
    h.replaceOrAdd(name: .accept, value: "text/html")
    return h
}

func formBody(_ fields: [(String, String)]) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
}

@Suite struct PagesTests {
    @Test(arguments: Store.available)
    func environmentsPageServesAStrictCSPShell(store: Store) async throws {
        try await withFerry(store) { t in
            let res = try await t.request(.GET, "/environments")
            #expect(res.status == .ok)
            #expect(res.headers.contentType == .html)
            let csp = try #require(res.headers.first(name: "Content-Security-Policy"))
            #expect(csp.contains("script-src 'self'"))
            #expect(!csp.contains("unsafe-inline"))
            let html = res.body.string
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(html.contains(#"<script type="module" src="/js/ferry.js"></script>"#))
            #expect(html.contains("No environments yet"))
            #expect(html.contains(#"data-testid="user""#))
            #expect(html.contains(#"href="/environments?lang=ru""#))
            #expect(res.headers.first(name: "X-Request-ID")?.isEmpty == false)
        }
    }

    @Test func theLanguageSwitcherSticks() async throws {
        try await withFerry(.sqlite) { t in
            let ru = try await t.request(.GET, "/environments?lang=ru")
            #expect(ru.body.string.contains("<html lang=\"ru\">"))
            #expect(ru.body.string.contains("Окружения"))
            let cookie = try #require(ru.headers.setCookie?["ferry_lang"]?.string)
            #expect(cookie == "ru")
            var headers = HTTPHeaders()
            headers.cookie = ["ferry_lang": .init(string: "ru")]
            let again = try await t.request(.GET, "/dashboards", headers: headers)
            #expect(again.body.string.contains("Дашборды"))
            var accept = HTTPHeaders()
            accept.replaceOrAdd(name: .acceptLanguage, value: "ru-RU,ru;q=0.9,en;q=0.8")
            #expect(try await t.request(.GET, "/dashboards", headers: accept).body.string.contains("Дашборды"))
            #expect(try await t.request(.GET, "/dashboards").body.string.contains("Dashboards"))
        }
    }

    @Test(arguments: Store.available)
    func addingAnEnvironmentThroughTheForm(store: Store) async throws {
        try await withFerry(store) { t in
            // Invalid: re-rendered with what was typed, the errors, and nothing saved.
            let bad = try await t.request(.POST, "/environments", headers: formHeaders(), body: formBody([
                ("name", "staging <b>"), ("url", "ftp://nope"), ("username", "admin"), ("password", "Pw-Not-Echoed-1"),
                ("stage", "stage"), ("authProvider", "db"), ("verifyTLS", "false"), ("verifyTLS", "true"), ("isDefault", "false"),
            ]))
            #expect(bad.status == .unprocessableEntity)
            let html = bad.body.string
            #expect(html.contains(#"data-testid="form-error""#))
            #expect(html.contains("staging &lt;b&gt;"))
            #expect(!html.contains("staging <b>"))
            #expect(!html.contains("Pw-Not-Echoed-1"))
            #expect(html.contains("field invalid"))
            #expect(try await EnvironmentModel.query(on: t.db).count() == 0)

            // Valid: saved, then redirected to the list with a notice.
            let good = try await t.request(.POST, "/environments", headers: formHeaders(), body: formBody([
                ("name", "staging"), ("url", closedURL), ("username", "admin"), ("password", "pw"), ("stage", "stage"),
                ("authProvider", "db"), ("verifyTLS", "false"), ("isDefault", "false"),
            ]))
            #expect(good.status == .seeOther)
            let location = try #require(good.headers.first(name: .location))
            #expect(location == "/environments?done=saved&name=staging")
            let list = try await t.request(.GET, location)
            #expect(list.body.string.contains("Environment “staging” saved"))
            #expect(list.body.string.contains(#"data-environment="staging""#))
            let env = try #require(try await EnvironmentModel.query(on: t.db).first())
            #expect(env.verifyTLS == false)
            #expect(env.stage == "stage")

            // Edit shows the form without the password; delete removes it.
            let edit = try await t.request(.GET, "/environments/\(env.id!.uuidString.lowercased())/edit")
            #expect(edit.status == .ok)
            #expect(edit.body.string.contains("Leave empty to keep the stored password"))
            await t.app.syncCoordinator.wait(env.id!)
            let deleted = try await t.request(.POST, "/environments/\(env.id!.uuidString.lowercased())/delete", headers: formHeaders(), body: "")
            #expect(deleted.status == .seeOther)
            #expect(try await EnvironmentModel.query(on: t.db).count() == 0)
        }
    }

    @Test func testConnectionFromThePageShowsTheReason() async throws {
        let fake = try await FakeSuperset.start(.badCredentials)
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let env = try await t.createEnvironment(sample("fake", url: fake.url))
            let res = try await t.request(.POST, "/environments/\(env.id.uuidString.lowercased())/test", headers: formHeaders(), body: "")
            #expect(res.status == .ok)
            #expect(res.body.string.contains(#"data-testid="test-result""#))
            #expect(res.body.string.contains("The username or password was refused."))
        }
    }

    @Test func unknownPagesAndRoutesExplainThemselves() async throws {
        try await withFerry(.sqlite) { t in
            var html = HTTPHeaders()
            html.replaceOrAdd(name: .accept, value: "text/html")
            let page = try await t.request(.GET, "/nowhere", headers: html)
            #expect(page.status == .notFound)
            #expect(page.body.string.contains(#"data-testid="error""#))
            #expect(page.body.string.contains("/nowhere"))
            let api = try await t.request(.GET, "/api/nowhere")
            #expect(api.status == .notFound)
            #expect(api.headers.first(name: .contentType)?.hasPrefix("application/problem+json") == true)
            #expect(try api.json()["code"]?.stringValue == "not_found")
            let missing = try await t.request(.GET, "/environments/\(UUID().uuidString)/edit", headers: html)
            #expect(missing.status == .notFound)
            #expect(missing.body.string.contains("does not exist"))
        }
    }

    @Test func dashboardsPageListsSearchesAndEscapes() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 75))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let env = try await t.createEnvironment(sample("fake", url: fake.url))
            await t.app.syncCoordinator.wait(env.id)
            let res = try await t.request(.GET, "/dashboards?search=dashboard%207")
            #expect(res.status == .ok)
            let html = res.body.string
            #expect(html.contains("Dashboards found: 13"))  // 7, 17, 27, 37, 47, 57, 67, 70-75
            #expect(html.contains("Fake dashboard 70"))
            #expect(html.contains(#"data-testid="sync-status""#))
            #expect(cspViolations(html).isEmpty)
            let paged = try await t.request(.GET, "/dashboards?page=2").body.string
            #expect(paged.contains("Page 2 of 2"))
            #expect(paged.contains(#"rel="prev""#))
        }
    }
}

/// Views are pure functions of their models: rendered with fixed models and compared with the
/// committed snapshots under `__Snapshots__`. Set FERRY_RECORD_SNAPSHOTS=1 to re-record after an
/// intended change (and review the diff).
@Suite struct ViewSnapshotTests {
    static let fixed = Date(timeIntervalSince1970: 1_800_000_000)

    func context(_ lang: String, path: String) -> PageContext {
        PageContext(localizer: Localizer(language: lang), path: path, query: [:], user: PageUser(name: "Ada", permissions: Set(Permission.allCases)), csrf: "token")
    }

    func assertSnapshot(_ html: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("__Snapshots__")
        let file = dir.appendingPathComponent(name + ".html")
        let pretty = html.replacingOccurrences(of: "><", with: ">\n<")
        if ProcessInfo.processInfo.environment["FERRY_RECORD_SNAPSHOTS"] == "1" || !FileManager.default.fileExists(atPath: file.path) {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try pretty.write(to: file, atomically: true, encoding: .utf8)
            Issue.record("recorded snapshot \(name); check it in and run again", sourceLocation: sourceLocation)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(pretty == expected, "snapshot \(name) differs", sourceLocation: sourceLocation)
    }

    @Test func environmentsList() throws {
        let id = UUID(uuidString: "00000000-0000-4000-8000-000000000001")!
        let model = EnvironmentsPage.Model(
            rows: [.init(id: id, name: "prod", url: "https://bi.example.com", stage: "prod", username: "ferry", authProvider: "ldap",
                         isDefault: true, lastSyncAt: Self.fixed, syncStatus: "failed", syncError: "Superset answered HTTP 503",
                         counts: ["dashboard": 12, "chart": 40, "dataset": 9, "database": 2], canWrite: true, canSync: true)],
            canAdd: true,
            test: .init(environment: "prod", result: .init(ok: false, version: nil, reason: "timeout", message: "Superset did not answer within 10 s",
                                                           loginOK: false, csrfOK: false, latencyMs: nil)),
            flash: nil)
        for lang in ["en", "ru"] {
            let html = Layout.render(EnvironmentsPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/environments"))
            #expect(cspViolations(html).isEmpty)
            try assertSnapshot(html, named: "environments-\(lang)")
        }
    }

    @Test func dashboardsWithAHostileTitle() throws {
        let envID = UUID(uuidString: "00000000-0000-4000-8000-000000000002")!
        let model = DashboardsPage.Model(
            search: "\"><script>alert(1)</script>", owner: "", environment: "dev",
            environments: [.init(id: envID, name: "dev", stage: "dev", lastSyncAt: Self.fixed, syncStatus: "succeeded", syncError: nil)],
            items: [.init(environmentId: envID, environment: "dev", kind: "dashboard", id: 7, uuid: "u-7", name: "<img src=x onerror=alert(1)>",
                          detail: "x\" onmouseover=\"alert(1)", parent: nil, owners: ["Ada Admin"], changedOn: Self.fixed,
                          url: "http://127.0.0.1:8088/superset/dashboard/7/")],
            page: 1, perPage: 50, total: 1)
        var hub = model
        hub.promotable = [envID]
        hub.checkable = [envID]
        hub.latestCheck = ["\(envID.uuidString.lowercased()) 7": .init(id: UUID(uuidString: "00000000-0000-4000-8000-000000000003")!, status: .fail, checkedAt: Self.fixed)]
        for (model, lang, name) in [(model, "en", "dashboards-hostile"), (hub, "en", "dashboards-hub-en"), (hub, "ru", "dashboards-hub-ru")] {
            let html = Layout.render(DashboardsPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/dashboards"))
            #expect(!html.contains("<script>alert"))
            #expect(!html.contains("<img src=x"))
            #expect(html.range(of: ##"<[^>]*\sonmouseover=""##, options: .regularExpression) == nil)
            #expect(cspViolations(html).isEmpty)
            try assertSnapshot(html, named: name)
        }
        let html = Layout.render(DashboardsPage.View(model: hub, localizer: Localizer(language: "en")), context: context("en", path: "/dashboards"))
        #expect(html.contains(#"aria-label="Select &lt;img src=x onerror=alert(1)&gt;""#), "each checkbox is labelled with its dashboard")
        #expect(html.contains(#"href="/health/checks/00000000-0000-4000-8000-000000000003""#) && html.contains(#"data-status="fail""#))
        #expect(html.contains(#"href="/promote?dashboards=7&amp;source=00000000-0000-4000-8000-000000000002""#))
    }
}

extension ViewSnapshotTests {
    @Test func aPlanWithConflictsAndASharedUpdate() throws {
        let id = UUID(uuidString: "00000000-0000-4000-8000-000000000003")!
        var items = [
            PlanItem(kind: .dataset, uuid: "ds", name: "sales", action: .conflict, reasons: ["same table: target dataset 1 already reads main.sales"], blocking: true),
            PlanItem(kind: .chart, uuid: "c1", name: "Total <sales>", action: .update, reasons: ["changed: params"], targetID: 4),
            PlanItem(kind: .chart, uuid: "c2", name: "By region", action: .conflict, reasons: ["changed: params", "shared: 1 dashboard(s) outside this promotion show it on the target"]),
            PlanItem(kind: .dashboard, uuid: "d", name: "Sales", action: .create),
        ]
        // The update's field-level diff, a hostile value in it.
        items[1].changes = [FieldChange(field: "params.metrics[0]", before: "count", after: "<script>alert(1)</script>"),
                            FieldChange(field: "description", before: nil, after: "Total")]
        items[1].moreChanges = true
        let plan = PlanDTO(
            id: id, sourceId: UUID(uuidString: "00000000-0000-4000-8000-00000000000d")!, targetId: UUID(uuidString: "00000000-0000-4000-8000-00000000000e")!,
            source: "dev", target: "prod", scope: "cascade", dashboards: ["sales"], search: nil, schemaMapping: [:], status: .ready,
            items: items, summary: PlanSummary(items),
            mappings: [UsedMapping(source: DatabaseRef(uuid: "s", name: "Sales", uri: "sqlite:///dev.db"),
                                   target: DatabaseRef(uuid: "t", name: "Sales", uri: "sqlite:///prod.db"))],
            bundleChecksum: nil, error: nil, taskId: nil, createdBy: "anonymous", createdAt: Self.fixed)
        // The mapping, editable: the target's connections ranked, one of them named with markup.
        var model = PlanPage.Model(plan: plan, task: nil, canApply: true)
        let prodSales = DatabaseRef(uuid: "t", name: "Sales", uri: "")
        model.mappings = [.init(source: DatabaseRef(uuid: "s", name: "Sales", uri: "sqlite:///dev.db"), target: prodSales, confidence: 100,
                                options: [DatabaseSuggestion(target: prodSales, confidence: 100),
                                          DatabaseSuggestion(target: DatabaseRef(uuid: "u", name: "<b>Other</b>", uri: ""), confidence: 32)])]
        model.canRemap = true
        for lang in ["en", "ru"] {
            let html = Layout.render(PlanPage.View(model: model, localizer: Localizer(language: lang)),
                                     context: context(lang, path: "/promote/plans/\(id)"))
            #expect(cspViolations(html).isEmpty)
            #expect(!html.contains("Total <sales>") && !html.contains("<script>alert") && !html.contains("<b>Other</b>"))
            #expect(html.contains(#"data-testid="remap-form""#) && html.contains(#"<option value="t" selected>"#))
            #expect(html.contains(#"data-testid="item-diff""#) && html.contains(#"<tr data-field="params.metrics[0]">"#))
            #expect(!html.contains("data-testid=\"apply-form\""), "a blocking conflict leaves no apply button")
            try assertSnapshot(html, named: "plan-\(lang)")
        }
        var clean = plan
        clean.items = Array(items[1...1])
        clean.summary = PlanSummary(clean.items)
        let html = Layout.render(PlanPage.View(model: .init(plan: clean, task: nil, canApply: true), localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(html.contains("data-testid=\"apply-form\""))
        #expect(!html.contains("acceptShared"), "no shared conflict, no acceptance box")
        let reviewer = Layout.render(PlanPage.View(model: .init(plan: clean, task: nil, canApply: false), localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(!reviewer.contains("data-testid=\"apply-form\""), "no apply button without promote:apply on the target")
        #expect(reviewer.contains("data-testid=\"plan-review-only\""))
    }
}

extension ViewSnapshotTests {
    /// A downgrade to 5.0: the versions with their badge, the values lost per asset (a hostile
    /// one escaped), the fields an upgrade would default, and the acceptance box.
    @Test func aDowngradePlanListsWhatIsLost() throws {
        let id = UUID(uuidString: "00000000-0000-4000-8000-000000000004")!
        var dataset = PlanItem(kind: .dataset, uuid: "ds", name: "orders", action: .create)
        dataset.losses = [FieldLoss(field: "currency_code_column", value: "currency"),
                          FieldLoss(field: "columns[<b>sold_at</b>].datetime_format", value: "<script>alert(1)</script>")]
        var dashboard = PlanItem(kind: .dashboard, uuid: "d", name: "Sales", action: .update, reasons: ["changed: position"], targetID: 3)
        dashboard.losses = [FieldLoss(field: "theme_uuid", value: "1b0c3f5e-0000-4000-8000-000000000001")]
        var kept = PlanItem(kind: .chart, uuid: "c", name: "Kept", action: .unchanged)
        kept.losses = [FieldLoss(field: "tags", value: "[\"finance\"]")]
        let items = [dataset, kept, dashboard]
        var plan = PlanDTO(
            id: id, sourceId: UUID(uuidString: "00000000-0000-4000-8000-00000000000d")!, targetId: UUID(uuidString: "00000000-0000-4000-8000-00000000000e")!,
            source: "dev", target: "legacy", scope: "dashboards", dashboards: ["sales"], search: nil, schemaMapping: [:], status: .ready,
            items: items, summary: PlanSummary(items), mappings: [], bundleChecksum: nil, error: nil, taskId: nil, createdBy: "anonymous", createdAt: Self.fixed)
        plan.sourceVersion = "6.1.0"
        plan.targetVersion = "5.0.0"
        plan.versionChange = PlanDTO.versionChange(from: "6.1.0", to: "5.0.0", acceptUnknown: false)
        #expect(plan.versionChange == "downgrade")
        #expect(plan.summary.lost == 3, "only what the apply writes counts")
        for lang in ["en", "ru"] {
            let html = Layout.render(PlanPage.View(model: .init(plan: plan, task: nil, canApply: true), localizer: Localizer(language: lang)),
                                     context: context(lang, path: "/promote/plans/\(id)"))
            #expect(cspViolations(html).isEmpty)
            #expect(!html.contains("<script>alert") && !html.contains("<b>sold_at"))
            #expect(html.contains("data-direction=\"downgrade\"") && html.contains("data-testid=\"plan-losses\""))
            #expect(html.contains("name=\"acceptLosses\""))
            #expect(!html.contains("data-field=\"tags\""), "an unchanged chart loses nothing")
            try assertSnapshot(html, named: "plan-downgrade-\(lang)")
        }
        var upgrade = plan
        upgrade.sourceVersion = "4.1.4"
        upgrade.targetVersion = "6.1.0"
        upgrade.versionChange = PlanDTO.versionChange(from: "4.1.4", to: "6.1.0", acceptUnknown: true)
        #expect(upgrade.versionChange == "upgrade", "a known release is translated even when importing as is was allowed")
        #expect(PlanDTO.versionChange(from: "6.1.0", to: "7.0.0", acceptUnknown: true) == "as_is")
        #expect(PlanDTO.versionChange(from: "unknown (uploaded)", to: "6.1.0", acceptUnknown: false) == "unknown_source")
        var created = PlanItem(kind: .dataset, uuid: "ds", name: "orders", action: .create)
        created.defaulted = ["folders", "columns[].datetime_format"]
        upgrade.items = [created]
        upgrade.summary = PlanSummary(upgrade.items)
        let html = Layout.render(PlanPage.View(model: .init(plan: upgrade, task: nil, canApply: true), localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(html.contains("data-direction=\"upgrade\"") && html.contains("folders, columns[].datetime_format"))
        #expect(!html.contains("acceptLosses") && !html.contains("plan-losses"))
    }
}

@Suite struct PromotePageTests {
    @Test(arguments: Store.available)
    func anInvalidPlanFormShowsEveryFieldsErrorAndKeepsWhatWasTyped(store: Store) async throws {
        try await withFerry(store) { t in
            _ = try await t.createEnvironment(sample("dev"))
            let page = try await t.request(.GET, "/promote")
            #expect(page.status == .ok)
            #expect(page.body.string.contains("data-testid=\"promote-form\""))
            let bad = try await t.request(.POST, "/promote", headers: formHeaders(), body: formBody([
                ("source", "dev"), ("target", "dev"), ("dashboards", ""), ("search", ""), ("scope", "cascade"), ("schemas", "oops"),
            ]))
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.body.string.contains("Write source=target pairs, comma-separated."))
            let bad2 = try await t.request(.POST, "/promote", headers: formHeaders(), body: formBody([
                ("source", "dev"), ("target", "dev"), ("dashboards", ""), ("scope", "cascade"),
            ]))
            #expect(bad2.status == .unprocessableEntity)
            let html = bad2.body.string
            #expect(html.contains("the target must be another environment than the source"))
            #expect(html.contains("Tick at least one dashboard."), "on the page dashboards are ticked, not named")
            #expect(html.contains("<option value=\"cascade\" selected"))
            #expect(try await PromotionPlanModel.query(on: t.db).count() == 0)
            let history = try await t.request(.GET, "/promotions")
            #expect(history.status == .ok && history.body.string.contains("data-testid=\"new-promotion\""))
            #expect(try await t.request(.GET, "/promote/plans/\(UUID())").status == .notFound)
        }
    }
}

@Suite struct SchedulesPageTests {
    @Test(arguments: Store.available)
    func addingToggleAndDeletingASchedule(store: Store) async throws {
        try await withFerry(store, plugins: [ScriptPlugin()]) { t in
            let bad = try await t.request(.POST, "/schedules", headers: formHeaders(), body: formBody([
                ("name", "nightly"), ("plugin", "test.script"), ("params", "{not json"), ("cron", "61 * * * *"), ("timeZone", "Europe/Berlin"),
            ]))
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.body.string.contains("is not valid JSON"))
            let bad2 = try await t.request(.POST, "/schedules", headers: formHeaders(), body: formBody([
                ("name", "nightly"), ("plugin", "test.script"), ("params", #"{"steps": 1}"#), ("cron", "61 * * * *"), ("timeZone", "Europe/Berlin"),
            ]))
            #expect(bad2.status == .unprocessableEntity)
            #expect(bad2.body.string.contains("minute: 61 is out of range 0-59"))
            #expect(bad2.body.string.contains(#"value="61 * * * *""#), "what was typed stays")
            #expect(try await ScheduleModel.query(on: t.db).count() == 0)
            let good = try await t.request(.POST, "/schedules", headers: formHeaders(), body: formBody([
                ("name", "nightly"), ("plugin", "test.script"), ("params", #"{"steps": 1}"#), ("cron", "30 2 * * MON-FRI"), ("timeZone", "Europe/Berlin"),
            ]))
            #expect(good.status == .seeOther)
            let page = try await t.request(.GET, "/schedules?done=saved").body.string
            #expect(page.contains("Schedule saved."))
            #expect(page.contains(#"<tr data-schedule="nightly">"#))
            #expect(page.contains("2027-01-18 01:30:00 UTC"))
            #expect(cspViolations(page).isEmpty)
            let s = try #require(try await ScheduleModel.query(on: t.db).first())
            _ = try await t.request(.POST, "/schedules/\(s.id!.uuidString.lowercased())/toggle", headers: formHeaders(), body: "")
            #expect(try await ScheduleModel.find(s.id, on: t.db)?.enabled == false)
            _ = try await t.request(.POST, "/schedules/\(s.id!.uuidString.lowercased())/delete", headers: formHeaders(), body: "")
            #expect(try await ScheduleModel.query(on: t.db).count() == 0)
        }
    }
}
