import Fluent
import Foundation
import SupersetKit
import Testing
import VaporTesting

@testable import FerryApp

/// The promotion API's validation, state rules and mapping storage, on every store. The
/// Superset side is proven by `PromotionLiveTests`.
@Suite struct PromotionsAPITests {
    @Test(arguments: Store.available)
    func planInputIsValidatedFieldByField(store: Store) async throws {
        try await withFerry(store) { t in
            _ = try await t.createEnvironment(sample("dev"))
            let empty = try await t.request(.POST, "/api/promotions/plan", json: PlanInput())
            #expect(empty.status == .unprocessableEntity)
            let fields = Set((try empty.json()["errors"]?.listValue ?? []).compactMap { $0["field"]?.stringValue })
            #expect(fields == ["source", "target", "dashboards"])

            let bad = try await t.request(.POST, "/api/promotions/plan", json: PlanInput(source: "dev", target: "dev", dashboards: ["x"], scope: "everything"))
            #expect(bad.status == .unprocessableEntity)
            let codes = (try bad.json()["errors"]?.listValue ?? []).compactMap { $0["code"]?.stringValue }
            #expect(codes.contains("same_environment") && codes.contains("invalid"))

            // Schema renames are bounded: at most 100, each name at most 128 characters.
            var many = PlanInput(source: "dev", target: "dev", dashboards: ["x"])
            many.schemaMapping = Dictionary(uniqueKeysWithValues: (0...100).map { ("s\($0)", "t\($0)") })
            let tooMany = try await t.request(.POST, "/api/promotions/plan", json: many)
            #expect(tooMany.status == .unprocessableEntity)
            #expect((try tooMany.json()["errors"]?.listValue ?? []).contains { $0["field"]?.stringValue == "schemaMapping" && $0["code"]?.stringValue == "too_many" })
            many.schemaMapping = ["main": String(repeating: "x", count: 129)]
            #expect((try await t.request(.POST, "/api/promotions/plan", json: many).json()["errors"]?.listValue ?? []).contains { $0["field"]?.stringValue == "schemaMapping" })

            let unknown = try await t.request(.POST, "/api/promotions/plan", json: PlanInput(source: "dev", target: "nowhere", dashboards: ["x"]))
            #expect(unknown.status == .unprocessableEntity)
            #expect(unknown.body.string.contains("no environment 'nowhere'"))
            #expect(try await PromotionPlanModel.query(on: t.db).count() == 0, "nothing half-saved")
            #expect(try await TaskModel.query(on: t.db).filter(\.$pluginID != InventorySyncPlugin.pluginID).count() == 0, "no plan task queued")
        }
    }

    @Test(arguments: Store.available)
    func aPlanIsQueuedAsATaskAndCanOnlyBeAppliedWhenReady(store: Store) async throws {
        try await withFerry(store) { t in
            _ = try await t.createEnvironment(sample("dev"))
            _ = try await t.createEnvironment(sample("prod", stage: "prod"))
            let res = try await t.request(.POST, "/api/promotions/plan", json: PlanInput(source: "dev", target: "prod", dashboards: ["sales-overview"], scope: "cascade"))
            #expect(res.status == .accepted, "\(res.body.string)")
            let queued = try res.content.decode(Queued.self, using: JSONDecoder.ferry)
            #expect(res.headers.first(name: .location) == "/api/promotions/plans/\(queued.id.uuidString.lowercased())")
            let task = try await t.request(.GET, "/api/tasks/\(queued.taskId)").json()
            #expect(task["plugin"]?.stringValue == "promote.plan")
            #expect(Set(task["environments"]?.listValue?.compactMap(\.stringValue) ?? []) == ["dev", "prod"])
            let plan = try await t.request(.GET, "/api/promotions/plans/\(queued.id)").content.decode(PlanDTO.self, using: JSONDecoder.ferry)
            #expect(plan.status == .planning)
            #expect(plan.scope == "cascade" && plan.dashboards == ["sales-overview"])

            let early = try await t.request(.POST, "/api/promotions/\(queued.id)/apply", json: ApplyInput())
            #expect(early.status == .conflict)
            #expect(try early.json()["code"]?.stringValue == "plan_not_ready")

            // A ready plan with a blocking conflict is refused; a shared one needs acceptShared;
            // a clean one is applied once.
            let model = try #require(try await PromotionPlanModel.find(queued.id, on: t.db))
            func setItems(_ items: [PlanItem]) async throws {
                model.status = .ready
                model.items = String(decoding: try JSONEncoder().encode(items), as: UTF8.self)
                try await model.save(on: t.db)
            }
            try await setItems([PlanItem(kind: .dashboard, uuid: "d", name: "D", action: .conflict, reasons: ["slug"], blocking: true)])
            #expect(try await t.request(.POST, "/api/promotions/\(queued.id)/apply", json: ApplyInput()).json()["code"]?.stringValue == "plan_conflict")
            try await setItems([PlanItem(kind: .chart, uuid: "c", name: "C", action: .conflict, reasons: ["shared"])])
            #expect(try await t.request(.POST, "/api/promotions/\(queued.id)/apply", json: ApplyInput()).json()["code"]?.stringValue == "plan_shared")
            let applied = try await t.request(.POST, "/api/promotions/\(queued.id)/apply", json: ApplyInput(acceptShared: true))
            #expect(applied.status == .accepted, "\(applied.body.string)")
            let promotion = try applied.content.decode(Queued.self, using: JSONDecoder.ferry)
            let twice = try await t.request(.POST, "/api/promotions/\(queued.id)/apply", json: ApplyInput(acceptShared: true))
            #expect(twice.status == .conflict, "a plan is applied at most once")
            let shown = try await t.request(.GET, "/api/promotions/\(promotion.id)").json()
            #expect(shown["status"]?.stringValue == "applying")
            #expect(shown["hasSnapshot"]?.boolValue == false)
            #expect(try await t.request(.GET, "/api/promotions").json()["items"]?.listValue?.count == 1)

            let rollback = try await t.request(.POST, "/api/promotions/\(promotion.id)/rollback", json: RollbackInput())
            #expect(rollback.status == .conflict, "still applying")

            // The process dies mid-apply: the engine marks the task interrupted on restart. The
            // promotion must not stay "applying" forever.
            let applyTask = try #require(try await TaskModel.find(promotion.taskId, on: t.db))
            applyTask.status = TaskStatus.interrupted.rawValue
            try await applyTask.save(on: t.db)
            #expect(try await t.request(.GET, "/api/promotions/\(promotion.id)").json()["status"]?.stringValue == "failed")
            let afterCrash = try await t.request(.POST, "/api/promotions/\(promotion.id)/rollback", json: RollbackInput())
            #expect(try afterCrash.json()["code"]?.stringValue == "nothing_to_roll_back", "it died before its snapshot: nothing was written")

            let second = try await t.request(.POST, "/api/promotions/plan", json: PlanInput(source: "dev", target: "prod", dashboards: ["x"]))
            let queuedSecond = try second.content.decode(Queued.self, using: JSONDecoder.ferry)
            let planTask = try #require(try await TaskModel.find(queuedSecond.taskId, on: t.db))
            planTask.status = TaskStatus.interrupted.rawValue
            try await planTask.save(on: t.db)
            let shownPlan = try await t.request(.GET, "/api/promotions/plans/\(queuedSecond.id)").json()
            #expect(shownPlan["status"]?.stringValue == "failed")
            #expect(shownPlan["error"]?.stringValue?.contains("interrupted") == true)
        }
    }

    @Test(arguments: Store.available)
    func unknownIdsAre404s(store: Store) async throws {
        try await withFerry(store) { t in
            let id = UUID()
            for (method, path) in [(HTTPMethod.GET, "/api/promotions/plans/\(id)"), (.POST, "/api/promotions/\(id)/apply"),
                                   (.GET, "/api/promotions/\(id)"), (.POST, "/api/promotions/\(id)/rollback"), (.DELETE, "/api/mappings/\(id)"),
                                   (.GET, "/api/promotions/plans/not-a-uuid")] {
                let res = try await t.request(method, path)
                #expect(res.status == .notFound, "\(method) \(path)")
                #expect(res.headers.contentType?.description.contains("problem+json") == true)
            }
        }
    }

    @Test(arguments: Store.available)
    func mappingsAreStoredPerPairAndReplaced(store: Store) async throws {
        try await withFerry(store) { t in
            _ = try await t.createEnvironment(sample("dev"))
            _ = try await t.createEnvironment(sample("prod", stage: "prod"))
            let invalid = try await t.request(.PUT, "/api/mappings", json: MappingInput(source: "dev", target: "dev"))
            #expect(invalid.status == .unprocessableEntity)
            let fields = Set((try invalid.json()["errors"]?.listValue ?? []).compactMap { $0["field"]?.stringValue })
            #expect(fields == ["sourceDatabaseUuid", "targetDatabaseUuid", "target"])
            let input = MappingInput(source: "dev", target: "prod", sourceDatabaseUuid: "src-1", sourceDatabaseName: "Sales",
                                     targetDatabaseUuid: "tgt-1", targetDatabaseName: "Sales")
            let first = try await t.request(.PUT, "/api/mappings", json: input).content.decode(MappingDTO.self, using: JSONDecoder.ferry)
            var changed = input
            changed.targetDatabaseUuid = "tgt-2"
            let second = try await t.request(.PUT, "/api/mappings", json: changed).content.decode(MappingDTO.self, using: JSONDecoder.ferry)
            #expect(second.id == first.id && second.targetDatabaseUuid == "tgt-2")
            #expect(try await t.request(.GET, "/api/mappings?source=dev&target=prod").json()["items"]?.listValue?.count == 1)
            #expect(try await t.request(.GET, "/api/mappings?source=prod&target=dev").json()["items"]?.listValue?.count == 0)
            #expect(try await t.request(.DELETE, "/api/mappings/\(first.id)").status == .noContent)
            #expect(try await t.request(.GET, "/api/mappings").json()["items"]?.listValue?.count == 0)
            #expect(try await t.request(.GET, "/api/mappings/suggestions?source=dev").status == .unprocessableEntity)
        }
    }
}
