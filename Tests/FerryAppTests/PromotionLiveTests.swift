import Foundation
import SupersetKit
import Testing
import VaporTesting

@testable import FerryApp

/// Promotion end to end against the two real Supersets of scripts/test: dev has "Regional
/// orders" (tabs, a native filter, cross-filters) and "Order KPIs" sharing "Order total", over a
/// SQLite connection "Sales" and a PostgreSQL connection "Warehouse" that needs a password; prod
/// has connections of the same names over its own data.
///
/// One test, in steps, because each step starts from the state the previous one left on prod.
@Suite(.serialized, .enabled(if: LiveSuperset.enabled, "needs the real Superset instances of scripts/test"))
struct PromotionLiveTests {
    static func client(_ url: String) -> SupersetClient {
        SupersetClient(configuration: .init(baseURL: URL(string: url)!, credentials: .init(username: "admin", password: "admin")),
                       transport: TestTransport.shared)
    }

    @Test func promoteVerifyRepeatCascadeRollBackAndRefuseConflicts() async throws {
        let devURL = try LiveSuperset.url("dev"), prodURL = try LiveSuperset.url("prod")
        let devManifest = try LiveSuperset.manifest("dev"), prodManifest = try LiveSuperset.manifest("prod")
        let dev = Self.client(devURL), prod = Self.client(prodURL)
        let prodDatabasesBefore = try await prod.databaseRefs()
        let prodSales = try #require(prodDatabasesBefore.first { $0.name == "Sales" })
        let prodWarehouse = try #require(prodDatabasesBefore.first { $0.name == "Warehouse" })
        let devSales = try #require(devManifest["databases"]?["Sales"]?["uuid"]?.stringValue)

        try await withFerry(.sqlite, tasks: true) { t in
            // Two requests at once, each on a connection of its own (the real gunicorn closes them).
            var devInput = sample("dev", password: "admin", url: devURL), prodInput = sample("prod", password: "admin", url: prodURL, stage: "prod")
            devInput.parallelRequests = 2
            prodInput.parallelRequests = 2
            let devCreated = try await t.createEnvironment(devInput)
            let prodCreated = try await t.createEnvironment(prodInput)
            // Their first inventory syncs end first: the suggestions below ask both Supersets
            // within the interactive timeout (5 s), which a fresh-clone run under load missed
            // while the syncs were reading the same Supersets.
            await t.app.syncCoordinator.wait(devCreated.id)
            await t.app.syncCoordinator.wait(prodCreated.id)

            // Suggestions rank the same-named prod connection first; store the Sales mapping,
            // leave Warehouse for the plan to ask about.
            let suggestions = try await t.request(.GET, "/api/mappings/suggestions?source=dev&target=prod").json()
            let salesRow = try #require(suggestions["items"]?.listValue?.first { $0["source"]?["name"]?.stringValue == "Sales" })
            #expect(salesRow["suggestions"]?.listValue?.first?["target"]?["uuid"]?.stringValue == prodSales.uuid)
            #expect(salesRow["suggestions"]?.listValue?.first?["confidence"]?.intValue == 100)
            let put = try await t.request(.PUT, "/api/mappings", json: MappingInput(
                source: "dev", target: "prod", sourceDatabaseUuid: devSales, sourceDatabaseName: "Sales",
                targetDatabaseUuid: prodSales.uuid, targetDatabaseName: "Sales"))
            #expect(put.status == .ok, "\(put.body.string)")

            // 1. Plan: the unmapped Warehouse makes the task wait for input, with suggestions.
            let planned = try await t.plan(PlanInput(source: "dev", target: "prod", dashboards: ["regional-orders", "order-kpis"]))
            let waiting = try await t.waitFor(planned.taskId, [.awaitingInput, .failed])
            #expect(waiting.status == .awaitingInput, "\(waiting.error ?? "")")
            let options = waiting.inputRequest?["schema"]?["properties"]?["targetDatabase"]?["enum"]?.listValue ?? []
            #expect(options.first?.stringValue == prodWarehouse.uuid, "best suggestion first")
            let answered = try await t.request(.POST, "/api/tasks/\(planned.taskId)/input",
                                               json: BundleValue.map(["targetDatabase": .string(prodWarehouse.uuid)]))
            #expect(answered.status == .accepted || answered.status == .ok, "\(answered.body.string)")
            // The answer is delivered; the task leaves awaiting_input on its own a moment later.
            _ = try await t.waitFor(planned.taskId, [.running, .succeeded, .failed])
            let plan = try await t.finishedPlan(planned)
            #expect(plan.status == .ready, "\(plan.error ?? "")")
            #expect(plan.summary.conflict == 0 && plan.summary.update == 0 && plan.summary.unchanged == 0)
            #expect(plan.items.filter { $0.kind == .dashboard }.count == 2)
            #expect(plan.items.filter { $0.kind == .chart }.count == 4)
            #expect(plan.items.filter { $0.kind == .dataset }.count == 2)
            #expect(Set(plan.mappings.map(\.target.uuid)) == [prodSales.uuid, prodWarehouse.uuid])
            let stored = try await t.request(.GET, "/api/mappings?source=dev&target=prod").json()["items"]?.listValue ?? []
            #expect(stored.count == 2, "the answered mapping is remembered")

            // 2. Apply and verify.
            let first = try await t.apply(plan.id)
            let firstTask = try await t.waitFor(first.taskId, [.succeeded, .partial, .failed])
            let firstLog = try await t.logs(first.taskId).items.suffix(15).map(\.message)
            #expect(firstTask.status == .succeeded, "\(firstTask.error ?? "") \(firstLog)")
            let promotion = try await t.request(.GET, "/api/promotions/\(first.id)").content.decode(PromotionDTO.self, using: JSONDecoder.ferry)
            #expect(promotion.status == .succeeded)
            #expect(promotion.report?["passed"]?.boolValue == true)
            #expect(promotion.report?["chartsChecked"]?.intValue == 4)
            let batchedChecks = try await t.logs(first.taskId, "search=in%20one%20request").items
            #expect(batchedChecks.count == 2, "one chart-data request per target dataset (orders, revenue)")

            // prod's connections are untouched: same uuids and URIs.
            let prodDatabasesAfter = try await prod.databaseRefs()
            #expect(prodDatabasesAfter.map(\.uuid) == prodDatabasesBefore.map(\.uuid))
            #expect(prodDatabasesAfter.map(\.uri) == prodDatabasesBefore.map(\.uri))

            // Every chart queries prod's own data.
            let chartIDs = try await prod.idsByUUID(.chart)
            let orderTotalUUID = try #require(devManifest["promo"]?["charts"]?["Order total"]?["uuid"]?.stringValue)
            let revenueTotalUUID = try #require(devManifest["promo"]?["charts"]?["Revenue total"]?["uuid"]?.stringValue)
            let orderTotal = try #require(chartIDs[orderTotalUUID])
            let revenueTotal = try #require(chartIDs[revenueTotalUUID])
            #expect(try await prod.chartData(id: orderTotal).rows.first?.values.compactMap(\.doubleValue).first == prodManifest["orders_total"]?.doubleValue)
            #expect(try await prod.chartData(id: revenueTotal).rows.first?.values.compactMap(\.doubleValue).first == prodManifest["revenue_total"]?.doubleValue)

            // prod's filters and cross-filters point at prod's chart ids.
            let dashboardIDs = try await prod.idsByUUID(.dashboard)
            let regionalUUID = try #require(devManifest["promo"]?["dashboards"]?["regional-orders"]?["uuid"]?.stringValue)
            let regional = try #require(dashboardIDs[regionalUUID])
            let detail = try await prod.dashboardDetail(id: regional)
            let referenced = DashboardMetadata.referencedChartIDs(detail.metadata)
            #expect(!referenced.isEmpty)
            #expect(referenced.isSubset(of: detail.layoutChartIDs), "\(referenced) vs \(detail.layoutChartIDs)")
            #expect(Set(detail.metadata["native_filter_configuration"]?.listValue?.first?["chartsInScope"]?.listValue?.compactMap(\.intValue) ?? []).count == 3)
            #expect(DashboardCheck.problems(detail, members: try await prod.memberChartIDs(ofDashboard: regional)).isEmpty)

            let history = try await t.request(.GET, "/api/promotions/history?target=prod").json()["items"]?.listValue ?? []
            #expect(history.count == 2)
            #expect(history.allSatisfy { $0["bundleChecksum"]?.stringValue?.count == 64 && $0["source"]?.stringValue == "dev" })

            // 3. Idempotent: the same promotion again changes nothing.
            let again = try await t.finishedPlan(try await t.plan(PlanInput(source: "dev", target: "prod", dashboards: ["regional-orders", "order-kpis"], scope: "cascade")))
            #expect(again.status == .ready, "\(again.error ?? "")")
            #expect(again.items.allSatisfy { $0.action == .unchanged }, "\(again.items.filter { $0.action != .unchanged })")

            // 3b. A plan is applied only to the target it was made against: change prod after
            // planning and the apply refuses, writing nothing.
            let kpiChart = try #require(chartIDs[orderTotalUUID])
            try await prod.sendJSON("PUT", "/api/v1/chart/\(kpiChart)", body: .map(["description": .string("edited on prod after the plan")]))
            let staleApply = try await t.apply(again.id)
            let staleTask = try await t.waitFor(staleApply.taskId, [.succeeded, .partial, .failed])
            #expect(staleTask.status == .failed)
            #expect(staleTask.error?.contains("changed since the plan") == true, "\(staleTask.error ?? "")")
            #expect(try await t.request(.GET, "/api/promotions/plans/\(again.id)").json()["status"]?.stringValue == "stale")
            #expect(try await prod.getJSON("/api/v1/chart/\(kpiChart)")["result"]?["description"]?.stringValue == "edited on prod after the plan")
            try await prod.sendJSON("PUT", "/api/v1/chart/\(kpiChart)", body: .map(["description": .null]))

            // 3c. A chart that can't query on the target makes the promotion partial, not
            // succeeded: "Dev only" reads a table prod doesn't have.
            let devOnly = try await t.finishedPlan(try await t.plan(PlanInput(source: "dev", target: "prod", dashboards: ["dev-only"])))
            let devOnlyApply = try await t.apply(devOnly.id)
            let devOnlyTask = try await t.waitFor(devOnlyApply.taskId, [.succeeded, .partial, .failed])
            #expect(devOnlyTask.status == .partial)
            let devOnlyReport = try await t.request(.GET, "/api/promotions/\(devOnlyApply.id)").json()
            #expect(devOnlyReport["status"]?.stringValue == "partial")
            #expect(devOnlyReport["report"]?["chartsFailed"]?.intValue == 1)
            let reasons = devOnlyReport["report"]?["dashboards"]?.listValue?.first?["reasons"]?.listValue?.compactMap(\.stringValue) ?? []
            #expect(reasons.contains { $0.contains("Dev-only total") }, "\(reasons)")
            #expect(try await t.logs(devOnlyApply.taskId, "search=one%20by%20one").items.count == 1, "the failed batch was re-checked chart by chart")
            let cleanup = try await t.request(.POST, "/api/promotions/\(devOnlyApply.id)/rollback", json: RollbackInput(deleteCreated: true))
            let cleanupBody = try cleanup.json()
            let cleanupTask = try #require(cleanupBody["taskId"]?.stringValue.flatMap(UUID.init(uuidString:)))
            #expect(try await t.waitFor(cleanupTask, [.succeeded, .failed]).status == .succeeded)
            let devOnlyUUID = try #require(devManifest["promo"]?["dashboards"]?["dev-only"]?["uuid"]?.stringValue)
            #expect(try await prod.idsByUUID(.dashboard)[devOnlyUUID] == nil)

            // 4. Cascade: a changed chart and a new dataset metric on dev both reach prod.
            let productChart = try #require(devManifest["promo"]?["charts"]?["Orders by product"]?["id"]?.intValue)
            let productUUID = try #require(devManifest["promo"]?["charts"]?["Orders by product"]?["uuid"]?.stringValue)
            let ordersDataset = try #require(devManifest["promo"]?["datasets"]?["orders"]?["id"]?.intValue)
            let ordersUUID = try #require(devManifest["promo"]?["datasets"]?["orders"]?["uuid"]?.stringValue)
            let prodProductID = try #require(chartIDs[productUUID])
            let prodBefore = try await prod.export(.chart, ids: [prodProductID])
            try await dev.sendJSON("PUT", "/api/v1/chart/\(productChart)", body: .map(["description": .string("Orders per product, promoted by Ferry")]))
            let metrics = try await dev.getJSON("/api/v1/dataset/\(ordersDataset)")["result"]?["metrics"]?.listValue ?? []
            let kept = metrics.map { m in BundleValue.map((m.mapValue ?? [:]).filter { ["id", "metric_name", "expression", "metric_type", "verbose_name"].contains($0.key) }) }
            try await dev.sendJSON("PUT", "/api/v1/dataset/\(ordersDataset)", body: .map(["metrics": .list(kept + [.map([
                "metric_name": .string("order_count"), "expression": .string("COUNT(*)")])])]))
            let cascade = try await t.finishedPlan(try await t.plan(PlanInput(source: "dev", target: "prod", dashboards: ["regional-orders"], scope: "cascade")))
            let changed = cascade.items.filter { $0.action != .unchanged }
            #expect(Set(changed.map(\.uuid)) == [productUUID, ordersUUID], "\(changed)")
            #expect(changed.allSatisfy { $0.action == .update })
            let second = try await t.apply(cascade.id)
            let secondTask = try await t.waitFor(second.taskId, [.succeeded, .partial, .failed])
            #expect(secondTask.status == .succeeded, "\(secondTask.error ?? "")")
            let prodChart = try await prod.getJSON("/api/v1/chart/\(prodProductID)")["result"]
            #expect(prodChart?["description"]?.stringValue == "Orders per product, promoted by Ferry")
            let prodDatasets = try await prod.idsByUUID(.dataset)
            let prodDatasetID = try #require(prodDatasets[ordersUUID])
            let prodMetrics = try await prod.getJSON("/api/v1/dataset/\(prodDatasetID)")["result"]?["metrics"]?.listValue ?? []
            #expect(prodMetrics.contains { $0["metric_name"]?.stringValue == "order_count" })
            #expect(try await prod.databaseRefs() == prodDatabasesBefore, "a cascade leaves prod's connections alone too")

            // 5. Rollback restores prod's previous version exactly.
            let rolled = try await t.request(.POST, "/api/promotions/\(second.id)/rollback", json: RollbackInput())
            #expect(rolled.status == .accepted, "\(rolled.body.string)")
            let rolledBody = try rolled.json()
            let rollbackTask = try #require(rolledBody["taskId"]?.stringValue.flatMap(UUID.init(uuidString:)))
            #expect(try await t.waitFor(rollbackTask, [.succeeded, .failed]).status == .succeeded)
            let prodAfter = try await prod.export(.chart, ids: [prodProductID])
            for kind in [AssetKind.chart, .dataset] {
                for asset in prodBefore.all(kind) {
                    let restored = try #require(prodAfter.asset(kind, uuid: asset.uuid))
                    #expect(CanonicalAsset.text(of: restored) == CanonicalAsset.text(of: asset), "\(kind) \(asset.name)")
                }
            }
            #expect(try await t.request(.GET, "/api/promotions/\(second.id)").json()["status"]?.stringValue == "rolled_back")

            // 6. Conflicts: prod already has a dashboard with the slug executive-summary and a
            // dataset on Sales' sales table under another uuid. Both block, before any write.
            let conflicted = try await t.finishedPlan(try await t.plan(PlanInput(source: "dev", target: "prod", dashboards: ["executive-summary"])))
            #expect(conflicted.status == .ready)
            let blocking = conflicted.items.filter(\.blocking)
            #expect(blocking.contains { $0.kind == .dashboard && $0.reasons.joined().contains("slug 'executive-summary'") }, "\(conflicted.items)")
            #expect(blocking.contains { $0.kind == .dataset && $0.reasons.joined().contains("same table") }, "\(conflicted.items)")
            let refused = try await t.request(.POST, "/api/promotions/\(conflicted.id)/apply", json: ApplyInput())
            #expect(refused.status == .conflict)
            #expect(try refused.json()["code"]?.stringValue == "plan_conflict")

            // 7. A Superset that dies mid-apply: prod behind a proxy that answers 503 to
            // everything once the first import went through. The task fails with a clear error,
            // and rollback (once prod is back) restores what the first import changed.
            let proxy = try await FakeSuperset.start(.proxy(to: prodURL, dieAfterImports: 1))
            defer { Task { await proxy.stop() } }
            let prodEnv = try await t.request(.GET, "/api/environments").json()["items"]?.listValue?.first { $0["name"]?.stringValue == "prod" }
            let prodEnvID = try #require(prodEnv?["id"]?.stringValue)
            // Another server (the proxy's port): the password must come with it.
            var withoutPassword = sample("prod", password: "admin", url: proxy.url, stage: "prod")
            withoutPassword.password = nil
            #expect(try await t.request(.PUT, "/api/environments/\(prodEnvID)", json: withoutPassword).status == .unprocessableEntity)
            let moved = sample("prod", password: "admin", url: proxy.url, stage: "prod")
            #expect(try await t.request(.PUT, "/api/environments/\(prodEnvID)", json: moved).status == .ok)
            try await dev.sendJSON("PUT", "/api/v1/dataset/\(ordersDataset)", body: .map(["description": .string("Orders, second revision")]))
            try await dev.sendJSON("PUT", "/api/v1/chart/\(productChart)", body: .map(["description": .string("Orders per product, second revision")]))
            let beforeCrash = try await prod.export(.chart, ids: [prodProductID])
            let risky = try await t.finishedPlan(try await t.plan(PlanInput(source: "dev", target: "prod", dashboards: ["regional-orders"], scope: "cascade")))
            #expect(Set(risky.items.filter { $0.action == .update }.map(\.uuid)) == [productUUID, ordersUUID], "\(risky.items.map { "\($0.kind) \($0.uuid) \($0.action) \($0.reasons)" })")
            let crashed = try await t.apply(risky.id)
            let crashedTask = try await t.waitFor(crashed.taskId, [.succeeded, .partial, .failed])
            #expect(crashedTask.status == .failed)
            #expect(crashedTask.error?.contains("503") == true, "\(crashedTask.error ?? "")")
            #expect(crashedTask.nextAction?.isEmpty == false)
            #expect(try await t.request(.GET, "/api/promotions/\(crashed.id)").json()["status"]?.stringValue == "failed")
            let halfway = try await prod.export(.chart, ids: [prodProductID])
            #expect(halfway.datasets.first?.string("description") == "Orders, second revision", "the first import went through")
            proxy.mode = .proxy(to: prodURL, dieAfterImports: nil)
            let undo = try await t.request(.POST, "/api/promotions/\(crashed.id)/rollback", json: RollbackInput())
            #expect(undo.status == .accepted, "\(undo.body.string)")
            let undoBody = try undo.json()
            let undoTask = try #require(undoBody["taskId"]?.stringValue.flatMap(UUID.init(uuidString:)))
            #expect(try await t.waitFor(undoTask, [.succeeded, .failed]).status == .succeeded)
            let restoredAfterCrash = try await prod.export(.chart, ids: [prodProductID])
            for kind in [AssetKind.chart, .dataset] {
                for asset in beforeCrash.all(kind) {
                    let restored = try #require(restoredAfterCrash.asset(kind, uuid: asset.uuid))
                    #expect(CanonicalAsset.text(of: restored) == CanonicalAsset.text(of: asset), "\(kind) \(asset.name)")
                }
            }

            // 8. Rolling back the first promotion with deleteCreated removes what it created and
            // nothing else.
            proxy.mode = .proxy(to: prodURL, dieAfterImports: nil)
            let undoFirst = try await t.request(.POST, "/api/promotions/\(first.id)/rollback", json: RollbackInput(deleteCreated: true))
            #expect(undoFirst.status == .accepted, "\(undoFirst.body.string)")
            let undoFirstBody = try undoFirst.json()
            let undoFirstTask = try #require(undoFirstBody["taskId"]?.stringValue.flatMap(UUID.init(uuidString:)))
            #expect(try await t.waitFor(undoFirstTask, [.succeeded, .failed]).status == .succeeded)
            let leftDashboards = try await prod.idsByUUID(.dashboard), leftCharts = try await prod.idsByUUID(.chart)
            let leftDatasets = try await prod.idsByUUID(.dataset)
            for item in plan.items {
                let left: [String: Int] = item.kind == .dashboard ? leftDashboards : item.kind == .chart ? leftCharts : leftDatasets
                #expect(left[item.uuid] == nil, "\(item.kind) \(item.name) was created by the promotion and is deleted")
            }
            #expect(leftDatasets.count >= 1, "prod's own sales dataset stays")
            #expect(try await prod.databaseRefs() == prodDatabasesBefore)

            // Restore dev for anyone reading it later in the run.
            try await dev.sendJSON("PUT", "/api/v1/dataset/\(ordersDataset)", body: .map(["metrics": .list(kept), "description": .null]))
        }
    }
}

struct Queued: Decodable, Sendable {
    var id: UUID
    var taskId: UUID
}

extension TestHarness {
    func plan(_ input: PlanInput) async throws -> Queued {
        let res = try await request(.POST, "/api/promotions/plan", json: input)
        #expect(res.status == .accepted, "\(res.body.string)")
        return try res.content.decode(Queued.self, using: JSONDecoder.ferry)
    }

    func finishedPlan(_ queued: Queued) async throws -> PlanDTO {
        let task = try await waitFor(queued.taskId, [.succeeded, .failed, .awaitingInput])
        #expect(task.status == .succeeded, "\(task.error ?? "") \(task.step)")
        return try await request(.GET, "/api/promotions/plans/\(queued.id)").content.decode(PlanDTO.self, using: JSONDecoder.ferry)
    }

    func apply(_ plan: UUID, acceptShared: Bool = false) async throws -> Queued {
        let res = try await request(.POST, "/api/promotions/\(plan)/apply", json: ApplyInput(acceptShared: acceptShared))
        #expect(res.status == .accepted, "\(res.body.string)")
        return try res.content.decode(Queued.self, using: JSONDecoder.ferry)
    }
}
