import Fluent
import Foundation
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

@Suite struct ScheduleTests {
    @Test(arguments: Store.available)
    func createShowsTheNextRunAndRejectsBadInput(store: Store) async throws {
        try await withFerry(store, plugins: [ScriptPlugin()]) { t in
            let res = try await t.request(.POST, "/api/schedules", json: ScheduleInput(
                name: "nightly", plugin: "test.script", params: .map(["steps": .int(1)]), cron: "30 2 * * MON-FRI", timeZone: "Europe/Berlin"))
            #expect(res.status == .created, "\(res.body.string)")
            let s = try res.content.decode(ScheduleDTO.self, using: JSONDecoder.ferry)
            // The test clock is 2027-01-15 08:00 UTC, a Friday: next is Monday 02:30 Berlin (01:30 UTC).
            #expect(s.nextRunAt == ISO8601DateFormatter().date(from: "2027-01-18T01:30:00Z"))
            let bad = try await t.request(.POST, "/api/schedules", json: ScheduleInput(
                name: "", plugin: "nope", cron: "61 * * *", timeZone: "Mars/Olympus"))
            #expect(bad.status == .unprocessableEntity)
            let fields = Set((try bad.json()["errors"]?.listValue ?? []).compactMap { $0["field"]?.stringValue })
            #expect(fields == ["name", "plugin", "cron", "timeZone"])
            #expect(bad.body.string.contains("needs 5"))
            let badCron = try await t.request(.PUT, "/api/schedules/\(s.id)", json: ScheduleInput(cron: "* * * * 9"))
            #expect(badCron.status == .unprocessableEntity)
            #expect(badCron.body.string.contains("day-of-week: 9 is out of range 0-7"))
            let dup = try await t.request(.POST, "/api/schedules", json: ScheduleInput(name: "nightly", plugin: "test.script", cron: "* * * * *"))
            #expect(dup.status == .conflict)
            #expect(try await t.request(.DELETE, "/api/schedules/\(s.id)").status == .noContent)
            #expect(try await ScheduleModel.query(on: t.db).count() == 0)
        }
    }

    @Test(arguments: Store.available)
    func aDueScheduleFiresOnceAndMissedRunsCollapse(store: Store) async throws {
        try await withFerry(store, plugins: [ScriptPlugin()]) { t in
            let s = try await t.request(.POST, "/api/schedules", json: ScheduleInput(
                name: "every five", plugin: "test.script", params: .map(["steps": .int(1)]), cron: "*/5 * * * *")).content.decode(ScheduleDTO.self, using: JSONDecoder.ferry)
            let engine = t.app.taskEngine
            #expect(try await ScheduleService.fireDue(now: t.clock.now(), engine: engine, on: t.db).isEmpty, "not due yet")
            // Ferry was down for an hour: twelve due times passed; it runs once.
            t.clock.advance(3600)
            let fired = try await ScheduleService.fireDue(now: t.clock.now(), engine: engine, on: t.db)
            #expect(fired.count == 1)
            #expect(fired.first?.scheduleID == s.id)
            #expect(fired.first?.createdBy == "scheduler:every five")
            #expect(try await ScheduleService.fireDue(now: t.clock.now(), engine: engine, on: t.db).isEmpty, "fired once per due time")
            let after = try await t.request(.GET, "/api/schedules/\(s.id)").content.decode(ScheduleDTO.self, using: JSONDecoder.ferry)
            #expect(after.nextRunAt! > t.clock.now())
            #expect(after.lastRunAt != nil)
            // Without catch-up, a stale due time is skipped, not run.
            _ = try await t.request(.PUT, "/api/schedules/\(s.id)", json: ScheduleInput(catchUp: false))
            t.clock.advance(3600)
            #expect(try await ScheduleService.fireDue(now: t.clock.now(), engine: engine, on: t.db).isEmpty)
            let skipped = try await t.request(.GET, "/api/schedules/\(s.id)").content.decode(ScheduleDTO.self, using: JSONDecoder.ferry)
            #expect(skipped.nextRunAt! > t.clock.now())
        }
    }

    @Test(.enabled(if: Store.available.contains(.postgres))) func twoNodesFireADueScheduleOnce() async throws {
        try await withFerry(.postgres, plugins: [ScriptPlugin()]) { t in
            _ = try await t.request(.POST, "/api/schedules", json: ScheduleInput(name: "race", plugin: "test.script", cron: "* * * * *"))
            let other = try await Application.make(.testing)
            var config = t.app.ferryConfiguration
            config.tasks.nodeID = "node-b"
            try await FerryApp.configure(other, configuration: config, dependencies: t.app.ferry, extraPlugins: [ScriptPlugin()])
            t.clock.advance(90)
            for _ in 0..<5 {
                async let a = ScheduleService.fireDue(now: t.clock.now(), engine: t.app.taskEngine, on: t.db)
                async let b = ScheduleService.fireDue(now: t.clock.now(), engine: other.taskEngine, on: other.db)
                let (x, y) = try await (a, b)
                #expect(x.count + y.count <= 1)
            }
            try await other.asyncShutdown()
            #expect(try await TaskModel.query(on: t.db).count() == 1)
        }
    }

    @Test func retentionPrunesOnlyOldFinishedTasks() async throws {
        try await withFerry(.sqlite, tasks: true, plugins: [ScriptPlugin()]) { t in
            // The built-in daily prune would catch up when the clock jumps; this test runs its own.
            let builtIn = try #require(try await ScheduleModel.query(on: t.db).filter(\.$name == "Prune old tasks").first())
            #expect(try await t.request(.PUT, "/api/schedules/\(builtIn.id!)", json: ScheduleInput(enabled: false)).status == .ok)
            let old = try await t.waitFor(try await t.submit("test.script", params(["steps": .int(2), "linesPerStep": .int(5)])).id, [.succeeded])
            func plan(_ status: PlanStatus) async throws -> UUID {
                let p = PromotionPlanModel()
                p.id = t.clock.uuid()
                (p.sourceEnvID, p.targetEnvID, p.scope, p.selection, p.schemaMapping) = (UUID(), UUID(), "dashboards", #"{"dashboards":["x"]}"#, "{}")
                (p.status, p.createdBy, p.createdAt, p.bundle) = (status, "test", t.clock.now(), Data(repeating: 7, count: 1000))
                try await p.create(on: t.db)
                return p.id!
            }
            let oldUnapplied = try await plan(.ready), oldApplied = try await plan(.applied)
            // Stale after its apply found the target changed: its promotion refers to it.
            let oldStaleApplied = try await plan(.stale)
            let promotion = PromotionModel()
            promotion.id = t.clock.uuid()
            (promotion.planID, promotion.sourceEnvID, promotion.targetEnvID, promotion.status) = (oldStaleApplied, UUID(), UUID(), .failed)
            (promotion.startedBy, promotion.createdAt) = ("test", t.clock.now())
            try await promotion.create(on: t.db)
            t.clock.advance(40 * 86_400)
            let recentUnapplied = try await plan(.failed)
            let recent = try await t.waitFor(try await t.submit("test.script", params(["steps": .int(1)])).id, [.succeeded])
            let prune = try await t.waitFor(try await t.submit("maintenance.prune_tasks", params(["days": .int(30)])).id, [.succeeded])
            #expect(prune.result?["deleted"] == .int(1))
            #expect(prune.result?["plansDeleted"] == .int(1))
            #expect(try await PromotionPlanModel.find(oldUnapplied, on: t.db) == nil)
            #expect(try await PromotionPlanModel.find(oldApplied, on: t.db) != nil, "applied plans stay with their history")
            #expect(try await PromotionPlanModel.find(oldStaleApplied, on: t.db) != nil, "a plan a promotion refers to stays with it")
            #expect(try await PromotionPlanModel.find(recentUnapplied, on: t.db) != nil)
            #expect(try await t.request(.GET, "/api/tasks/\(old.id)").status == .notFound)
            #expect(try await t.request(.GET, "/api/tasks/\(recent.id)").status == .ok)
            #expect(try await TaskStore.logs(old.id, filter: .init(), on: t.db).isEmpty)
            let schedules = try await t.request(.GET, "/api/schedules").json()
            #expect(schedules["items"]?.listValue?.contains { $0["name"]?.stringValue == "Prune old tasks" && $0["cron"]?.stringValue == "17 3 * * *" } == true)
        }
    }
}
