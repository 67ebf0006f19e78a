import Fluent
import Foundation
import SQLKit
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

/// Stored the way Ferry leaves them: finished tasks with their results and the rows they name,
/// and reports written straight through `ReportService.save` for the list's filters.
enum ReportFixtures {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func environment(_ t: TestHarness, _ name: String, stage: String) async throws -> UUID {
        try await EnvironmentService.create(sample(name, stage: stage), on: t.db, box: t.app.secretBox, now: t.clock.now(), id: UUID()).id!
    }

    /// A finished task as the engine leaves it (no worker ran it: the builder reads only rows).
    static func task(_ t: TestHarness, plugin: String, params: BundleValue = .map([:]), environments: [UUID] = [], status: TaskStatus = .succeeded,
                     result: BundleValue? = nil, error: String? = nil, next: String? = nil, step: String = "done") async throws -> UUID {
        let task = TaskModel()
        task.id = UUID()
        task.pluginID = plugin
        task.params = params.jsonText()
        task.createdBy = "ada"
        task.environments = environments.map(\.key).joined(separator: ",")
        task.status = status.rawValue
        task.progress = 100
        task.step = step
        task.createdAt = t.clock.now().addingTimeInterval(-60)
        task.startedAt = t.clock.now().addingTimeInterval(-30)
        task.finishedAt = t.clock.now()
        task.result = result?.jsonText()
        task.error = error
        task.nextAction = next
        task.cancelRequested = false
        task.logCount = 0
        try await task.create(on: t.db)
        return task.id!
    }

    /// A plan (and, unless nil, a promotion of it) between two environments.
    static func promotion(_ t: TestHarness, source: UUID, target: UUID, items: [PlanItem], backup: UUID? = nil) async throws -> (plan: UUID, promotion: UUID) {
        let plan = PromotionPlanModel()
        plan.id = UUID()
        plan.sourceEnvID = source
        plan.targetEnvID = target
        plan.scope = "cascade"
        plan.selection = "{}"
        plan.schemaMapping = "{}"
        plan.status = .applied
        plan.items = String(decoding: try JSONEncoder().encode(items), as: UTF8.self)
        plan.createdBy = "ada"
        plan.createdAt = t.clock.now()
        plan.sourceBackupID = backup
        try await plan.create(on: t.db)
        let promotion = PromotionModel()
        promotion.id = UUID()
        promotion.planID = plan.id!
        promotion.sourceEnvID = source
        promotion.targetEnvID = target
        promotion.status = .partial
        promotion.startedBy = "ada"
        promotion.createdAt = t.clock.now()
        try await promotion.create(on: t.db)
        return (plan.id!, promotion.id!)
    }

    /// One dashboard's stored check of task `task`.
    static func check(_ t: TestHarness, task: UUID, environment: UUID, dashboard: Int, title: String, status: HealthStatus, issues: [HealthIssue] = []) async throws -> UUID {
        let row = DashboardCheckModel()
        row.id = UUID()
        row.taskID = task
        row.environmentID = environment
        row.dashboardID = dashboard
        row.dashboardUUID = "u-\(dashboard)"
        row.title = title
        row.status = status.rawValue
        row.issues = String(decoding: try JSONEncoder().encode(issues), as: UTF8.self)
        row.charts = 2
        row.chartsFailed = issues.filter { $0.severity == .fail }.count
        row.queryMilliseconds = 40
        row.screenshots = "[]"
        row.details = "{}"
        row.checkedAt = t.clock.now()
        try await row.create(on: t.db)
        return row.id!
    }

    static func record(_ id: UUID = UUID(), kind: ReportKind, status: ReportStatus, environments: [UUID], title: String, at: Date,
                       outcome: HealthStatus? = nil, details: ReportDetails? = nil, cause: String? = nil, next: String? = nil) -> ReportRecord {
        ReportRecord(id: id, taskID: id, pluginID: "test.\(kind.rawValue)", kind: kind, status: status, outcome: outcome, environmentIDs: environments,
                     title: title, summary: ReportLine(.generic, ["plugin": "test.\(kind.rawValue)"]), details: details, cause: cause, nextAction: next,
                     createdBy: "ada", startedAt: at.addingTimeInterval(-10), finishedAt: at)
    }

    static func list(_ t: TestHarness, _ query: String, headers: HTTPHeaders = [:]) async throws -> ReportsAPI.ReportList {
        let res = try await t.request(.GET, "/api/reports" + (query.isEmpty ? "" : "?" + query), headers: headers)
        #expect(res.status == .ok, "\(query): \(res.body.string)")
        return try res.content.decode(ReportsAPI.ReportList.self, using: JSONDecoder.ferry)
    }

    static func iso(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }
}

extension TestHarness {
    /// Polls until the task's report is stored (the engine writes it right after the task's
    /// final status, so a poll of the status alone can come first).
    func waitForReport(_ id: UUID, seconds: Double = 60) async throws -> ReportDTO {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let res = try await request(.GET, "/api/reports/\(id)")
            if res.status == .ok { return try res.content.decode(ReportDTO.self, using: JSONDecoder.ferry) }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        Issue.record("task \(id) has no report")
        throw Abort(.notFound)
    }
}

/// Each kind of task leaves its typed report, built from what the task stored.
@Suite struct ReportBuilderTests {
    @Test(arguments: Store.available)
    func everyKindOfTaskLeavesATypedReport(store: Store) async throws {
        try await withFerry(store) { t in
            let f = ReportFixtures.self
            let dev = try await f.environment(t, "dev", stage: "dev"), prod = try await f.environment(t, "prod", stage: "prod")

            // A promotion whose verification failed: partial, with the plan's counts and each dashboard.
            let items = [
                PlanItem(kind: .dashboard, uuid: "d1", name: "Sales", action: .update), PlanItem(kind: .dashboard, uuid: "d2", name: "Ops", action: .create),
                PlanItem(kind: .chart, uuid: "c1", name: "Revenue", action: .unchanged),
                PlanItem(kind: .dataset, uuid: "s1", name: "orders", action: .conflict, reasons: ["used by other dashboards"]),
            ]
            let (planID, promotionID) = try await f.promotion(t, source: dev, target: prod, items: items)
            let apply = try await f.task(t, plugin: "promote.apply", params: .map(["promotion": .string(promotionID.key)]), environments: [dev, prod], status: .partial,
                                         result: try BundleValue.parseJSON(#"""
                {"promotion": "\#(promotionID.key)", "imported": 2, "git": {"commit": "0123456789abcdef0123", "changed": 2, "added": 0, "removed": 0},
                 "report": {"chartsChecked": 2, "chartsFailed": 1, "passed": false, "dashboards": [
                   {"uuid": "d1", "title": "Sales", "targetId": 11, "pass": true, "reasons": [], "charts": [{"name": "Revenue", "id": 1, "rows": 3}]},
                   {"uuid": "d2", "title": "Ops", "targetId": 12, "pass": false, "reasons": ["chart 'Orders': relation \"orders\" does not exist"],
                    "charts": [{"name": "Orders", "id": 2, "error": "relation \"orders\" does not exist"}]}]}}
                """#))
            let promotion = try #require(try await ReportService.record(taskID: apply, on: t.db))
            #expect(promotion.kind == .promotion && promotion.status == .partial && promotion.environmentIDs == [dev, prod])
            #expect(promotion.title == "dev → prod: Sales, Ops")
            let p = try #require(promotion.details?.promotion)
            #expect(p.promotionId == promotionID && p.planId == planID && p.sourceId == dev && p.targetId == prod && p.origin == .environment)
            #expect(p.created == 1 && p.updated == 1 && p.unchanged == 1 && p.conflicts == 1)
            #expect(p.imported == 2 && p.chartsChecked == 2 && p.chartsFailed == 1 && p.verified == false && p.gitCommit == "0123456789abcdef0123")
            #expect(p.dashboards.map(\.title) == ["Sales", "Ops"] && p.dashboards.map(\.passed) == [true, false])
            #expect(p.dashboards[1].reasons == [#"chart 'Orders': relation "orders" does not exist"#] && p.dashboards[1].chartsFailed == 1)
            #expect(promotion.summary.text(Localizer(language: "en")) == "2 dashboard(s) imported into prod; 2 chart(s) checked, 1 failing.")
            // Partial, without a task error: the catalogue's advice is its cause, in the reader's language.
            let names = try await EnvironmentDirectory.load(on: t.db)
            let dto = ReportDTO(promotion, names: names, localizer: Localizer(language: "en"), withDetails: false)
            #expect(dto.cause?.hasPrefix("Verification failed") == true && dto.nextAction != nil && dto.details == nil && dto.environments == ["dev", "prod"])

            // A restore: the same plugin, its plan reading a backup.
            let (_, restoreID) = try await f.promotion(t, source: dev, target: dev, items: [PlanItem(kind: .dashboard, uuid: "d1", name: "Sales", action: .update)],
                                                       backup: UUID())
            let restoreTask = try await f.task(t, plugin: "promote.apply", params: .map(["promotion": .string(restoreID.key)]), environments: [dev],
                                               result: .map(["imported": .int(1), "report": .map(["chartsChecked": .int(1), "chartsFailed": .int(0), "passed": .bool(true)])]))
            let restore = try #require(try await ReportService.record(taskID: restoreTask, on: t.db))
            #expect(restore.kind == .restore && restore.details?.promotion?.origin == .backup && restore.details?.promotion?.verified == true)

            // A plan: its counts and conflicts.
            let planTask = try await f.task(t, plugin: "promote.plan", params: .map(["plan": .string(planID.key)]), environments: [dev, prod],
                                            result: .map(["plan": .string(planID.key), "create": .int(1), "update": .int(1), "unchanged": .int(1), "conflict": .int(1), "blocking": .int(0)]))
            let plan = try #require(try await ReportService.record(taskID: planTask, on: t.db))
            #expect(plan.kind == .plan && plan.details?.plan?.create == 1 && plan.details?.plan?.conflicts.map(\.name) == ["orders"])

            // A rollback.
            let rollbackTask = try await f.task(t, plugin: "promote.rollback", params: .map(["promotion": .string(promotionID.key), "deleteCreated": .bool(true)]),
                                                environments: [prod], result: .map(["restored": .int(4), "deleted": .int(1)]))
            let rollback = try #require(try await ReportService.record(taskID: rollbackTask, on: t.db))
            #expect(rollback.kind == .rollback && rollback.details?.rollback == RollbackReport(promotionId: promotionID, targetId: prod, restored: 4, deleted: 1, deleteCreated: true))
            #expect(rollback.title == "prod: Sales, Ops")

            // A backup: sizes, incremental, the commit; the summary sizes its bytes per language.
            let backupID = UUID()
            let backupTask = try await f.task(t, plugin: "backup.run", params: .map(["environment": .string(dev.key)]), environments: [dev], result: .map([
                "backup": .string(backupID.key), "environment": .string(dev.key), "full": .bool(false), "assets": .int(120), "newAssets": .int(3),
                "exported": .int(5), "totalBytes": .int(1_048_576), "newBytes": .int(2048), "git": .map(["commit": .string("feedface")]),
            ]))
            let backup = try #require(try await ReportService.record(taskID: backupTask, on: t.db))
            let b = try #require(backup.details?.backup)
            #expect(backup.kind == .backup && b.operation == .run && b.backupId == backupID && b.full == false && b.assets == 120 && b.newBytes == 2048)
            #expect(backup.title == "dev")
            #expect(backup.summary.text(Localizer(language: "en")) == "Incremental backup: 120 assets, 3 new file(s), 2.0 KB new.")
            #expect(backup.summary.text(Localizer(language: "ru")).contains("2,0"))

            // A dashboard check: counts from its stored checks (the truth), the worst first, the outcome.
            let checkTask = try await f.task(t, plugin: DashboardCheckPlugin.pluginID, params: .map(["environment": .string(dev.key)]), environments: [dev],
                                             result: .map(["environment": .string(dev.key), "dashboards": .int(3), "pass": .int(1), "warn": .int(1), "fail": .int(1), "rendered": .bool(false)]))
            let failing = try await f.check(t, task: checkTask, environment: dev, dashboard: 7, title: "Sales", status: .fail,
                                            issues: [HealthIssue(.fail, .queryFailed, "relation \"orders\" does not exist", chartID: 2, chart: "Orders")])
            _ = try await f.check(t, task: checkTask, environment: dev, dashboard: 8, title: "Ops", status: .warn, issues: [HealthIssue(.warn, .emptyResult, "no rows")])
            _ = try await f.check(t, task: checkTask, environment: dev, dashboard: 9, title: "Revenue", status: .pass)
            let check = try #require(try await ReportService.record(taskID: checkTask, on: t.db))
            let c = try #require(check.details?.dashboardCheck)
            #expect(check.kind == .dashboardCheck && check.outcome == .fail && c.dashboards == 3 && c.pass == 1 && c.warn == 1 && c.fail == 1 && c.rendered == false)
            #expect(c.worst.map(\.title) == ["Sales", "Ops"] && c.worst[0].checkId == failing && c.worst[0].issues == 1)
            #expect(c.worst[0].firstIssue == #"Orders: relation "orders" does not exist"#)
            #expect(check.summary.text(Localizer(language: "en")) == "3 dashboard(s): 1 PASS, 1 WARN, 1 FAIL.")
            // A policy's run is a dashboard check too (its policy gone since: named by id).
            let policyID = UUID()
            let policyTask = try await f.task(t, plugin: HealthPolicyPlugin.pluginID, params: .map(["policy": .string(policyID.key)]), environments: [prod],
                                              result: .map(["policy": .string(policyID.key), "checked": .int(2), "fail": .int(0), "warn": .int(0), "notified": .int(1)]))
            let policy = try #require(try await ReportService.record(taskID: policyTask, on: t.db))
            #expect(policy.kind == .dashboardCheck && policy.outcome == .pass && policy.details?.dashboardCheck?.pass == 2)
            #expect(policy.details?.dashboardCheck?.policyId == policyID && policy.details?.dashboardCheck?.notified == 1)

            // A sync.
            let syncTask = try await f.task(t, plugin: InventorySyncPlugin.pluginID, params: .map(["environment": .string(prod.key)]), environments: [prod],
                                            result: .map(["environment": .string("prod"), "counts": .map(["dashboard": .int(12), "chart": .int(40), "dataset": .int(9), "database": .int(2)])]))
            let sync = try #require(try await ReportService.record(taskID: syncTask, on: t.db))
            #expect(sync.kind == .sync && sync.details?.sync == SyncReport(environmentId: prod, dashboards: 12, charts: 40, datasets: 9, databases: 2))
            #expect(sync.summary.text(Localizer(language: "en")) == "12 dashboards, 40 charts, 9 datasets, 2 databases.")

            // Git: a push touches no environment.
            let pushTask = try await f.task(t, plugin: "git.push", result: .map(["commit": .string("abcdef0123456789"), "branch": .string("main")]))
            let push = try #require(try await ReportService.record(taskID: pushTask, on: t.db))
            #expect(push.kind == .git && push.environmentIDs.isEmpty && push.details?.git?.operation == .push && push.details?.git?.branch == "main")
            let pullTask = try await f.task(t, plugin: "git.pull", result: .map(["result": .string("merged"), "commit": .string("c0ffee"), "resolved": .int(2)]))
            let pull = try #require(try await ReportService.record(taskID: pullTask, on: t.db))
            #expect(pull.details?.git?.pullResult == .merged && pull.summary.key == .gitPullMerged)

            // Anything else: the result as rows, environment ids by name.
            let otherTask = try await f.task(t, plugin: "environment.health_check", params: .map(["environment": .string(dev.key)]), environments: [dev],
                                             result: .map(["environment": .string(dev.key), "counts": .map(["dashboard": .int(3)]), "tags": .list([.string("a"), .string("b")])]))
            let other = try #require(try await ReportService.record(taskID: otherTask, on: t.db))
            #expect(other.kind == .other && other.title == "environment.health_check · dev")
            #expect(other.details?.generic?.rows == [GenericReport.Row(key: "counts.dashboard", value: "3"), GenericReport.Row(key: "environment", value: "dev"), GenericReport.Row(key: "tags", value: "a, b")])

            // Recording again replaces, never duplicates.
            try await ReportService.record(taskID: apply, on: t.db)
            let count = try await TaskStore.sql(t.db).select().column("id").from("reports").where("task_id", .equal, SQLBind(apply)).all().count
            #expect(count == 1)
            // What was stored reads back the same.
            #expect(try await ReportService.find(apply, on: t.db) == promotion)
        }
    }

    @Test(arguments: Store.available)
    func failuresCarryCauseAndNextActionAndOddResultsDoNotCrash(store: Store) async throws {
        try await withFerry(store) { t in
            let f = ReportFixtures.self
            let dev = try await f.environment(t, "dev", stage: "dev")
            // A promotion that failed before it had a result, its promotion gone since.
            let failed = try await f.task(t, plugin: "promote.apply", params: .map(["promotion": .string(UUID().uuidString)]), environments: [dev], status: .failed,
                                          error: "prod changed since the plan was made; nothing was written.", next: "Make a new plan, review it, and apply that one.",
                                          step: "checking that prod has not changed since the plan")
            let r = try #require(try await ReportService.record(taskID: failed, on: t.db))
            #expect(r.status == .failed && r.kind == .promotion)
            #expect(r.cause == "prod changed since the plan was made; nothing was written." && r.nextAction == "Make a new plan, review it, and apply that one.")
            #expect(r.summary.text(Localizer(language: "en")) == "Failed at “checking that prod has not changed since the plan”.")
            #expect(r.details?.promotion?.dashboards == [] && r.details?.promotion?.imported == nil)

            // Keys of the wrong type, unknown keys, a result that isn't an object: fewer facts, no error.
            let odd = try await f.task(t, plugin: "backup.run", environments: [dev], result: .map([
                "assets": .string("many"), "full": .int(3), "newBytes": .list([]), "surprise": .map(["x": .null]),
            ]))
            let o = try #require(try await ReportService.record(taskID: odd, on: t.db))
            #expect(o.details?.backup?.assets == nil && o.details?.backup?.full == nil && o.details?.backup?.newBytes == nil)
            let list = try await f.task(t, plugin: InventorySyncPlugin.pluginID, environments: [dev], result: .list([.int(1)]))
            #expect(try await ReportService.record(taskID: list, on: t.db)?.details?.sync?.dashboards == nil)
            let check = try await f.task(t, plugin: DashboardCheckPlugin.pluginID, environments: [dev], result: .map(["dashboards": .string("?")]))
            let c = try #require(try await ReportService.record(taskID: check, on: t.db))
            #expect(c.outcome == nil && c.summary.key == .dashboardCheckNone)
            let weird = try await f.task(t, plugin: "git.frobnicate", result: .map(["deep": .map(["er": .list([.map([:])])])]))
            let w = try #require(try await ReportService.record(taskID: weird, on: t.db))
            #expect(w.kind == .other && w.details?.generic?.rows == [GenericReport.Row(key: "deep.er", value: "[1]")])
            // An interrupted task and one cancelled before it started say so.
            let interrupted = try await f.task(t, plugin: "diagnostics.sleep", status: .interrupted, error: "Ferry node n1 stopped while the task was running.",
                                               next: "Check what the task's log says was done, then start it again.", step: "second 3 of 10")
            #expect(try await ReportService.record(taskID: interrupted, on: t.db)?.summary.key == .interrupted)
            // A task still running has no report.
            let running = try await f.task(t, plugin: "diagnostics.sleep", status: .running)
            #expect(try await ReportService.record(taskID: running, on: t.db) == nil)
            #expect(try await ReportService.find(running, on: t.db) == nil)
        }
    }

    @Test(arguments: Store.available)
    func theEngineWritesTheReportWhenATaskEnds(store: Store) async throws {
        try await withFerry(store, tasks: true, plugins: [ScriptPlugin()]) { t in
            let sleep = try await t.submit("diagnostics.sleep", .map(["seconds": .int(0)]))
            _ = try await t.waitFor(sleep.id, [.succeeded])
            let slept = try await t.waitForReport(sleep.id)
            #expect(slept.kind == .other && slept.status == .succeeded && slept.plugin == "diagnostics.sleep" && slept.summary == "diagnostics.sleep finished.")
            #expect(slept.details?.generic?.rows == [GenericReport.Row(key: "logLines", value: "0"), GenericReport.Row(key: "slept", value: "0")])

            let failing = try await t.submit("test.script", .map(["steps": .int(1), "fail": .bool(true)]))
            _ = try await t.waitFor(failing.id, [.failed])
            let failed = try await t.waitForReport(failing.id)
            #expect(failed.status == .failed && failed.cause == "The target refused the bundle" && failed.nextAction == "Fix the target and run again")
            #expect(failed.summary.hasPrefix("Failed at"))

            let partial = try await t.submit("test.script", .map(["steps": .int(1), "partial": .bool(true)]))
            _ = try await t.waitFor(partial.id, [.partial])
            let p = try await t.waitForReport(partial.id)
            #expect(p.status == .partial && p.cause == Localizer(language: "en").t("report.advice.partial.cause"))
            // The Russian reader reads the advice in Russian.
            let ru = try await t.request(.GET, "/api/reports/\(partial.id)?lang=ru").content.decode(ReportDTO.self, using: JSONDecoder.ferry)
            #expect(ru.cause == Localizer(language: "ru").t("report.advice.partial.cause"))

            // The task page links to its report; the report page links back.
            let html: HTTPHeaders = ["Accept": "text/html"]
            let taskPage = try await t.request(.GET, "/tasks/\(sleep.id)", headers: html).body.string
            #expect(taskPage.contains("href=\"/reports/\(sleep.id.key)\" data-testid=\"task-report\""))
            let reportPage = try await t.request(.GET, "/reports/\(sleep.id)", headers: html).body.string
            #expect(reportPage.contains("href=\"/tasks/\(sleep.id.key)\" data-testid=\"report-task\""))
        }
    }

    @Test(arguments: Store.available)
    func aTaskCancelledBeforeItStartedHasItsReport(store: Store) async throws {
        try await withFerry(store) { t in
            let queued = try await t.submit("diagnostics.sleep", .map(["seconds": .int(5)]))  // no worker runs here: it stays pending
            let res = try await t.request(.POST, "/api/tasks/\(queued.id)/cancel")
            #expect(res.status == .accepted)
            let report = try await t.waitForReport(queued.id)
            #expect(report.status == .cancelled && report.startedAt == nil && report.summary == "Cancelled at “cancelled before it started”.")
        }
    }

    @Test(arguments: Store.available)
    func reportsOutliveTheirTasksUntilTheirOwnRetention(store: Store) async throws {
        try await withFerry(store) { t in
            let f = ReportFixtures.self
            let now = t.clock.now()
            let old = f.record(kind: .backup, status: .succeeded, environments: [], title: "old", at: now.addingTimeInterval(-400 * 86_400))
            let recent = f.record(kind: .backup, status: .succeeded, environments: [], title: "recent", at: now.addingTimeInterval(-40 * 86_400))
            try await ReportService.save(old, on: t.db)
            try await ReportService.save(recent, on: t.db)
            #expect(try await ReportService.prune(before: now.addingTimeInterval(-365 * 86_400), on: t.db) == 1)
            #expect(try await ReportService.find(old.id, on: t.db) == nil)
            #expect(try await ReportService.find(recent.id, on: t.db) != nil)
            #expect(try await ReportService.prune(before: now.addingTimeInterval(-365 * 86_400), on: t.db) == 0)
        }
    }

    @Test func retentionIsConfiguredWithinBounds() throws {
        #expect(try FerryConfiguration.from(environment: [:]).reportsRetentionDays == 365)
        #expect(try FerryConfiguration.from(environment: ["FERRY_REPORTS_RETENTION_DAYS": "30"]).reportsRetentionDays == 30)
        for bad in ["0", "3651", "a year", "-5"] {
            #expect(throws: ConfigurationError.self) { try FerryConfiguration.from(environment: ["FERRY_REPORTS_RETENTION_DAYS": bad]) }
        }
    }

    /// Kinds, statuses, summaries and advice are named through keys built from their values:
    /// each has its text in every language.
    @Test func everyReportKeyIsInEveryLanguage() throws {
        for lang in Localizer.languages {
            let table = try #require(Catalogue.shared.tables[lang])
            for k in ReportKind.allCases { #expect(table["report.kind.\(k.rawValue)"] != nil, "\(lang): \(k)") }
            for s in ReportStatus.allCases { #expect(table["task.status.\(s.rawValue)"] != nil, "\(lang): \(s)") }
            for k in ReportSummaryKey.allCases { #expect(table["report.summary.\(k.rawValue)"] != nil, "\(lang): \(k)") }
            for a in ReportAdvice.allCases {
                #expect(table["report.advice.\(a.rawValue).cause"] != nil && table["report.advice.\(a.rawValue).next"] != nil, "\(lang): \(a)")
            }
            for o in BackupOperation.allCases { #expect(table["report.backup.\(o.rawValue)"] != nil, "\(lang): \(o)") }
            for o in GitOperation.allCases { #expect(table["report.git.\(o.rawValue)"] != nil, "\(lang): \(o)") }
            for r in GitPullResult.allCases { #expect(table["report.pull.\(r.rawValue)"] != nil, "\(lang): \(r)") }
            for k in ReportKind.allCases where k != .other {
                let section = k == .dashboardCheck ? "dashboard_check" : k.rawValue
                #expect(table["report.section.\(section)"] != nil, "\(lang): section \(k)")
            }
        }
    }
}

/// `GET /api/reports[/{id}]`: filters, bounds, and access by the stored environments.
@Suite struct ReportsAPITests {
    /// Six reports a day apart, newest last: backup dev, backup prod (failed), promotion
    /// dev → prod (partial), check dev (FAIL), sync prod, git push (no environment).
    static func seed(_ t: TestHarness) async throws -> (dev: UUID, prod: UUID, reports: [ReportRecord]) {
        let f = ReportFixtures.self
        let dev = try await f.environment(t, "dev", stage: "dev"), prod = try await f.environment(t, "prod", stage: "prod")
        let now = t.clock.now()
        let day = 86_400.0
        var promotion = ReportDetails()
        promotion.promotion = PromotionReport(sourceId: dev, targetId: prod, origin: .environment, imported: 1, chartsChecked: 2, chartsFailed: 1, verified: false,
                                              dashboards: [.init(uuid: "d1", title: "Sales", targetId: 4, passed: false, reasons: ["chart 'Orders' fails"], charts: 2, chartsFailed: 1)])
        let reports = [
            f.record(kind: .backup, status: .succeeded, environments: [dev], title: "dev", at: now.addingTimeInterval(-5 * day)),
            f.record(kind: .backup, status: .failed, environments: [prod], title: "prod", at: now.addingTimeInterval(-4 * day),
                     cause: "Superset didn't answer", next: "Check that Superset is up"),
            f.record(kind: .promotion, status: .partial, environments: [dev, prod], title: "dev → prod: Sales", at: now.addingTimeInterval(-3 * day), details: promotion),
            f.record(kind: .dashboardCheck, status: .succeeded, environments: [dev], title: "dev", at: now.addingTimeInterval(-2 * day), outcome: .fail),
            f.record(kind: .sync, status: .succeeded, environments: [prod], title: "prod", at: now.addingTimeInterval(-1 * day)),
            f.record(kind: .git, status: .succeeded, environments: [], title: "git.push · main", at: now),
        ]
        for r in reports { try await ReportService.save(r, on: t.db) }
        return (dev, prod, reports)
    }

    @Test(arguments: Store.available)
    func listsNewestFirstWithEveryFilter(store: Store) async throws {
        try await withFerry(store) { t in
            let f = ReportFixtures.self
            let (dev, prod, r) = try await Self.seed(t)
            func ids(_ query: String) async throws -> [UUID] { try await f.list(t, query).items.map(\.id) }
            let all = try await f.list(t, "")
            #expect(all.items.map(\.id) == r.reversed().map(\.id) && all.nextOffset == nil && all.limit == 50 && all.offset == 0)
            #expect(all.items.allSatisfy { $0.details == nil }, "lists carry no details")
            #expect(all.items.first { $0.id == r[2].id }?.environments == ["dev", "prod"])
            #expect(try await ids("kind=backup") == [r[1].id, r[0].id])
            #expect(try await ids("status=failed") == [r[1].id])
            #expect(try await ids("kind=backup&status=succeeded") == [r[0].id])
            #expect(try await ids("outcome=fail") == [r[3].id])
            #expect(try await ids("environment=prod") == [r[4].id, r[2].id, r[1].id])
            #expect(try await ids("environment=\(dev.key)") == [r[3].id, r[2].id, r[0].id])
            #expect(try await ids("from=\(f.iso(r[2].finishedAt))") == [r[5].id, r[4].id, r[3].id, r[2].id])
            #expect(try await ids("to=\(f.iso(r[2].finishedAt))") == [r[1].id, r[0].id], "to is exclusive")
            #expect(try await ids("from=\(f.iso(r[1].finishedAt))&to=\(f.iso(r[3].finishedAt))&environment=\(prod.key)") == [r[2].id, r[1].id])
            // A date alone: from its midnight, to the end of its day (UTC).
            let day = ReportDates.day(r[4].finishedAt)
            #expect(try await ids("from=\(day)&to=\(day)") == [r[4].id])
            #expect(try await ids("q=SALES") == [r[2].id])
            #expect(try await ids("q=%25").isEmpty, "the search is literal")
            // Paging: limit + offset, nextOffset until the end.
            let first = try await f.list(t, "limit=2")
            #expect(first.items.map(\.id) == [r[5].id, r[4].id] && first.nextOffset == 2)
            let second = try await f.list(t, "limit=2&offset=2")
            #expect(second.items.map(\.id) == [r[3].id, r[2].id] && second.nextOffset == 4)
            let last = try await f.list(t, "limit=2&offset=4")
            #expect(last.items.map(\.id) == [r[1].id, r[0].id] && last.nextOffset == nil)
            #expect(try await f.list(t, "offset=1000000").items.isEmpty)

            // One report: its details; the failure's cause and next action.
            let one = try await t.request(.GET, "/api/reports/\(r[2].id)").content.decode(ReportDTO.self, using: JSONDecoder.ferry)
            #expect(one.details?.promotion?.dashboards.first?.reasons == ["chart 'Orders' fails"] && one.kind == .promotion)
            let failure = try await t.request(.GET, "/api/reports/\(r[1].id)").content.decode(ReportDTO.self, using: JSONDecoder.ferry)
            #expect(failure.cause == "Superset didn't answer" && failure.nextAction == "Check that Superset is up")
            #expect(try await t.request(.GET, "/api/reports/\(UUID())").status == .notFound)
            #expect(try await t.request(.GET, "/api/reports/not-a-uuid").status == .notFound)
        }
    }

    @Test(arguments: Store.available)
    func badFilterValuesAreA400NamingThem(store: Store) async throws {
        try await withFerry(store) { t in
            _ = try await Self.seed(t)
            let cases: [(String, String)] = [
                ("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"), ("offset=-1", "offset"), ("offset=1000001", "offset"),
                ("kind=bogus", "kind"), ("status=running", "status"), ("outcome=red", "outcome"), ("environment=nope", "environment"),
                ("from=yesterday", "from"), ("to=2026-01-01x", "to"), ("from=2027-01-02&to=2027-01-01", "to"),
                ("q=" + String(repeating: "x", count: 201), "q"), ("environment=" + String(repeating: "e", count: 256), "environment"),
            ]
            for (query, field) in cases {
                let res = try await t.request(.GET, "/api/reports?" + query)
                #expect(res.status == .unprocessableEntity, "\(query): \(res.status)")
                let body = try res.json()
                #expect(body["code"]?.stringValue == "validation", "\(query)")
                #expect(body["errors"]?.listValue?.compactMap { $0["field"]?.stringValue } == [field], "\(query): \(res.body.string)")
            }
            #expect(try await t.request(.GET, "/api/reports?limit=200&offset=0&lang=ru").status == .ok)
        }
    }

    @Test(arguments: Store.available)
    func aViewerOfOneEnvironmentSeesOnlyItsReports(store: Store) async throws {
        try await withFerry(store) { t in
            let f = ReportFixtures.self
            let (_, prod, r) = try await Self.seed(t)
            let dev = bearer(try await t.limitedUser("devrep", grants: ["tasks:read@stage:dev"]))
            // Dev's reports; none that touches prod, nor the push, which touched no environment
            // (it is for those who may read every environment).
            #expect(try await f.list(t, "", headers: dev).items.map(\.id) == [r[3].id, r[0].id])
            #expect(try await t.request(.GET, "/api/reports/\(r[5].id)", headers: dev).status == .notFound)
            #expect(try await t.request(.GET, "/api/reports/\(r[5].id)").status == .ok, "the administrator reads it")
            #expect(try await f.list(t, "environment=\(prod.key)", headers: dev).items.isEmpty)
            #expect(try await f.list(t, "kind=promotion", headers: dev).items.isEmpty)
            #expect(try await t.request(.GET, "/api/reports/\(r[0].id)", headers: dev).status == .ok)
            for hidden in [r[1], r[2], r[4]] {
                let res = try await t.request(.GET, "/api/reports/\(hidden.id)", headers: dev)
                #expect(res.status == .notFound && !res.body.string.contains(hidden.title), "\(hidden.title)")
            }
            // The pages alike.
            let html = dev.merging(["Accept": "text/html"])
            let page = try await t.request(.GET, "/reports", headers: html).body.string
            #expect(page.contains(r[0].id.key) && !page.contains(r[2].id.key) && !page.contains(r[1].id.key))
            #expect(!page.contains("<option value=\"\(prod.key)\""), "prod isn't offered")
            #expect(try await t.request(.GET, "/reports/\(r[2].id)", headers: html).status == .notFound)
            // Without tasks:read at all: refused.
            let none = bearer(try await t.limitedUser("invonly", grants: ["inventory:read"]))
            #expect(try await t.request(.GET, "/api/reports", headers: none).status == .forbidden)
        }
    }
}

/// The pages through HTTP, on reports stored as the engine stores them.
@Suite struct ReportPagesTests {
    static func occurrences(_ needle: String, in html: String) -> Int { html.components(separatedBy: needle).count - 1 }

    @Test(arguments: Store.available)
    func theListFiltersAndEachReportShowsItsType(store: Store) async throws {
        try await withFerry(store) { t in
            let (dev, _, r) = try await ReportsAPITests.seed(t)
            let html: HTTPHeaders = ["Accept": "text/html"]
            let page = try await t.request(.GET, "/reports", headers: html)
            #expect(page.status == .ok)
            let p = page.body.string
            #expect(cspViolations(p).isEmpty)
            #expect(Self.occurrences(#"data-testid="report-row""#, in: p) == 6)
            #expect(p.contains(#"data-testid="report-filters""#) && p.contains(#"<option value="dashboard_check">Dashboard check</option>"#))
            #expect(p.contains("<option value=\"\(dev.key)\">dev</option>") && p.contains(#"type="date" name="from""#))
            #expect(p.contains("href=\"/reports/\(r[2].id.key)\" data-testid=\"report-link\""))
            #expect(p.contains(#"class="badge status-partial" data-testid="report-status" data-status="partial""#))
            #expect(p.contains(#"class="badge health-fail""#), "a check's outcome")

            let backups = try await t.request(.GET, "/reports?kind=backup&environment=dev", headers: html).body.string
            #expect(Self.occurrences(#"data-testid="report-row""#, in: backups) == 1 && backups.contains(#"<option value="backup" selected>"#))
            #expect(backups.contains("<option value=\"\(dev.key)\" selected>dev</option>"), "a name picks the environment's id")
            #expect(backups.contains(#"data-testid="clear-filters""#))
            let paged = try await t.request(.GET, "/reports?limit=2&offset=2", headers: html).body.string
            #expect(paged.contains(#"data-testid="reports-newer""#) && paged.contains(#"data-testid="reports-older""#) && paged.contains("offset=4"))
            let none = try await t.request(.GET, "/reports?q=nothing-like-it", headers: html).body.string
            #expect(none.contains(#"data-testid="no-reports""#))

            let bad = try await t.request(.GET, "/reports?limit=abc&kind=backup", headers: html)
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.body.string.contains(#"data-testid="reports-error""#) && bad.body.string.contains(#"<option value="backup" selected>"#))

            // The promotion: its section, the verification, the advice for a partial end.
            let promotion = try await t.request(.GET, "/reports/\(r[2].id)", headers: html)
            #expect(promotion.status == .ok)
            let o = promotion.body.string
            #expect(cspViolations(o).isEmpty)
            #expect(o.contains(#"data-testid="report-promotion""#) && o.contains(#"data-testid="report-verification""#))
            #expect(o.contains(#"data-passed="false""#) && o.contains("Orders") && o.contains("fails</li>"))
            #expect(o.contains(#"data-testid="report-cause""#) && o.contains("Verification failed"))
            #expect(o.contains(#"data-testid="report-task-pruned""#), "no task behind it")
            // The failed backup: its cause and next action in an error box.
            let failed = try await t.request(.GET, "/reports/\(r[1].id)", headers: html).body.string
            #expect(failed.contains(#"<div class="notice error" role="alert" data-testid="report-cause">"#) && failed.contains("Check that Superset is up"))
            #expect(try await t.request(.GET, "/reports/\(UUID())", headers: html).status == .notFound)
        }
    }
}

/// Hand-built models for the report views.
enum ReportPageFixtures {
    static let fixed = ViewSnapshotTests.fixed
    static let devID = UUID(uuidString: "00000000-0000-4000-8000-0000000000d1")!
    static let prodID = UUID(uuidString: "00000000-0000-4000-8000-0000000000d2")!
    static let promotionID = UUID(uuidString: "00000000-0000-4000-8000-0000000000e1")!
    static let checkID = UUID(uuidString: "00000000-0000-4000-8000-0000000000e2")!
    static let syncID = UUID(uuidString: "00000000-0000-4000-8000-0000000000e3")!
    static let failedID = UUID(uuidString: "00000000-0000-4000-8000-0000000000e4")!
    static let checkRowID = UUID(uuidString: "00000000-0000-4000-8000-0000000000c9")!
    /// A title that would break out of text and attributes if it weren't escaped.
    static let hostile = "Sales <script>alert(1)</script>\" onmouseover=\"alert(1)"

    static func dto(_ id: UUID, kind: ReportKind, status: ReportStatus, environments: [(UUID, String)], title: String, summary: String,
                    outcome: HealthStatus? = nil, cause: String? = nil, next: String? = nil, details: ReportDetails? = nil, minutes: Double) -> ReportDTO {
        ReportDTO(id: id, taskId: id, plugin: "plugin.\(kind.rawValue)", kind: kind, status: status, outcome: outcome, environmentIds: environments.map { $0.0 },
                  environments: environments.map { $0.1 }, title: title, summary: summary, cause: cause, nextAction: next, createdBy: "ada",
                  startedAt: fixed.addingTimeInterval(minutes * 60 - 30), finishedAt: fixed.addingTimeInterval(minutes * 60), details: details)
    }

    static var promotion: ReportDTO {
        var d = ReportDetails()
        d.promotion = PromotionReport(promotionId: promotionID, planId: promotionID, sourceId: devID, targetId: prodID, origin: .environment, scope: "cascade",
                                      created: 1, updated: 2, unchanged: 5, conflicts: 0, imported: 2, chartsChecked: 6, chartsFailed: 1, verified: false,
                                      dashboards: [
                                        .init(uuid: "d1", title: hostile, targetId: 11, passed: false, reasons: ["chart 'Orders': relation \"orders\" does not exist"], charts: 4, chartsFailed: 1),
                                        .init(uuid: "d2", title: "Ops", targetId: 12, passed: true, reasons: [], charts: 2, chartsFailed: 0),
                                      ], gitCommit: "0123456789abcdef")
        return dto(promotionID, kind: .promotion, status: .partial, environments: [(devID, "dev"), (prodID, "prod")], title: "dev → prod: " + hostile,
                   summary: "2 dashboard(s) imported into prod; 6 chart(s) checked, 1 failing.",
                   cause: "Verification failed: some dashboards or charts don't work on the target.", next: "Open the failing dashboards below.", details: d, minutes: 30)
    }

    static var check: ReportDTO {
        var d = ReportDetails()
        d.dashboardCheck = DashboardCheckReport(environmentId: devID, dashboards: 3, pass: 1, warn: 1, fail: 1, rendered: true, worst: [
            .init(checkId: checkRowID, dashboardId: 7, title: hostile, status: .fail, issues: 2, firstIssue: "Orders: relation \"orders\" does not exist"),
            .init(checkId: UUID(uuidString: "00000000-0000-4000-8000-0000000000ca")!, dashboardId: 8, title: "Ops", status: .warn, issues: 1, firstIssue: nil),
        ])
        return dto(checkID, kind: .dashboardCheck, status: .succeeded, environments: [(devID, "dev")], title: "dev", summary: "3 dashboard(s): 1 PASS, 1 WARN, 1 FAIL.",
                   outcome: .fail, cause: "Some dashboards FAIL.", next: "Open each failing dashboard's check below.", details: d, minutes: 20)
    }

    static var listModel: ReportsPage.Model {
        var m = ReportsPage.Model(filter: .init(kind: "", status: "", environment: devID.key, from: "2027-01-01", to: "", q: ""),
                                  environments: [.init(id: devID, name: "dev"), .init(id: prodID, name: "prod")])
        var stripped = promotion
        stripped.details = nil
        var checked = check
        checked.details = nil
        m.reports = [
            stripped, checked,
            dto(syncID, kind: .sync, status: .succeeded, environments: [(prodID, "prod")], title: "prod", summary: "12 dashboards, 40 charts, 9 datasets, 2 databases.", minutes: 10),
            dto(failedID, kind: .backup, status: .failed, environments: [], title: "backup.verify", summary: "Failed at “verifying backup 1 of 3”.",
                cause: "The storage can't be read.", next: "Check FERRY_STORAGE.", minutes: 0),
        ]
        m.limit = 4
        m.offset = 4
        m.hasMore = true
        return m
    }
}

extension ViewSnapshotTests {
    @Test func reportsList() throws {
        let f = ReportPageFixtures.self
        let model = f.listModel
        for lang in ["en", "ru"] {
            let html = Layout.render(ReportsPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/reports"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("onmouseover=\"alert(1)\""))
            #expect(html.contains(#"href="/reports" class="active""#), "the Reports navigation item is current")
            try assertSnapshot(html, named: "reports-\(lang)")
        }
        let html = Layout.render(ReportsPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/reports"))
        #expect(occurrences(#"data-testid="report-row""#, in: html) == 4)
        #expect(html.contains("href=\"/reports/\(f.promotionID.key)\" data-testid=\"report-link\""))
        #expect(html.contains(#"data-kind="dashboard_check">Dashboard check<"#) && html.contains(#"class="badge health-fail""#))
        #expect(html.contains("<option value=\"\(f.devID.key)\" selected>dev</option>") && html.contains(#"value="2027-01-01""#))
        #expect(html.contains(#"data-testid="reports-newer""#) && html.contains(#"data-testid="reports-older""#) && html.contains("Reports 5–8"))
        #expect(html.contains(#">no environment<"#))

        var empty = ReportsPage.Model()
        empty.error = "limit: must be a whole number from 1 to 200"
        let refused = Layout.render(ReportsPage.View(model: empty, localizer: Localizer(language: "en")), context: context("en", path: "/reports"))
        #expect(refused.contains(#"data-testid="reports-error""#) && refused.contains(#"data-testid="no-reports""#) && !refused.contains(#"data-testid="clear-filters""#))
    }

    @Test func aPromotionReport() throws {
        let f = ReportPageFixtures.self
        let model = ReportPage.Model(report: f.promotion, names: [f.devID: "dev", f.prodID: "prod"], taskExists: true)
        for lang in ["en", "ru"] {
            let html = Layout.render(ReportPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/reports"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("onmouseover=\"alert(1)\""))
            try assertSnapshot(html, named: "report-promotion-\(lang)")
        }
        let html = Layout.render(ReportPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/reports"))
        #expect(html.contains(#"data-testid="report-summary">2 dashboard(s) imported into prod"#))
        #expect(html.contains(#"<div class="notice info" role="status" data-testid="report-cause">"#) && html.contains("Open the failing dashboards below."))
        #expect(html.contains("href=\"/tasks/\(f.promotionID.key)\" data-testid=\"report-task\""))
        #expect(occurrences(#"data-testid="report-verified-dashboard""#, in: html) == 2 && html.contains(#"data-passed="false""#))
        #expect(html.contains(#"data-testid="report-plan-counts""#) && html.contains("<code>0123456789ab</code>"))
        // Pruned task: no link.
        var pruned = model
        pruned.taskExists = false
        let p = Layout.render(ReportPage.View(model: pruned, localizer: Localizer(language: "en")), context: context("en", path: "/reports"))
        #expect(p.contains(#"data-testid="report-task-pruned""#) && !p.contains(#"data-testid="report-task""#))
    }

    @Test func aDashboardCheckReport() throws {
        let f = ReportPageFixtures.self
        let model = ReportPage.Model(report: f.check, names: [f.devID: "dev"], taskExists: true, canOpenChecks: true)
        let html = Layout.render(ReportPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/reports"))
        #expect(cspViolations(html).isEmpty && !html.contains("<script>alert"))
        try assertSnapshot(html, named: "report-check-en")
        #expect(html.contains("href=\"/health/checks/\(f.checkRowID.key)\" data-testid=\"report-check-link\""))
        #expect(occurrences(#"data-testid="report-checked-dashboard""#, in: html) == 2)
        #expect(html.contains(#"<div class="notice error" role="alert" data-testid="report-cause">"#))
        // A reader of the report who may not read the checks sees no links.
        var reader = model
        reader.canOpenChecks = false
        let r = Layout.render(ReportPage.View(model: reader, localizer: Localizer(language: "en")), context: context("en", path: "/reports"))
        #expect(!r.contains(#"data-testid="report-check-link""#) && r.contains("Ops"))
    }
}
