import Foundation
import Testing
@testable import SupersetKit

/// A Superset whose metadata is SQLite keeps dataset table names unique across all connections:
/// the plan refuses a promotion that would break that, and an import that fails anyway with
/// Superset's bare HTTP 500 is explained from the target.
@Suite struct TableNameClashPlanTests {
    /// The promotion bundle as planned: its `revenue` dataset (schema sales_dev) on prod's Warehouse.
    func rewritten() throws -> AssetBundle { try BundleRewriter(databases: ["db-src": prodWarehouse]).rewrite(promotionBundle()) }

    let salesRevenue = TargetState.Dataset(id: 31, uuid: "other-ds", databaseUUID: "db-sales", catalog: nil, schema: "main", table: "revenue",
                                           databaseName: "Sales")

    func state(_ datasets: [TargetState.Dataset], current: AssetBundle = AssetBundle()) -> TargetState {
        TargetState(dashboards: [], datasets: datasets, chartIDs: [:], current: current)
    }

    @Test func aSameNamedDatasetOnAnotherConnectionBlocksAndNamesBoth() throws {
        let items = PromotionPlanner.plan(try rewritten(), target: state([salesRevenue]), scope: .dashboards)
        let item = try #require(items.first { $0.kind == .dataset })
        #expect(item.action == .conflict && item.blocking)
        let reason = item.reasons.joined(separator: " ")
        #expect(reason.contains("table name clash"))
        #expect(reason.contains("sales_dev.revenue on connection 'Warehouse' (db-prod)"), "the promoted dataset: table, schema, connection")
        #expect(reason.contains("target dataset 31 (other-ds) reading main.revenue on connection 'Sales' (db-sales)"), "the target's: id, uuid, connection")
        #expect(reason.contains("SQLite"))
        let refusal = try #require(PromotionPlanner.refusal(items, acceptShared: true, acceptLosses: false))
        #expect(refusal.message.contains("dataset 'revenue'"))
        #expect(items.filter { $0.kind != .dataset }.allSatisfy { $0.action == .create }, "charts and the dashboard are unaffected")
    }

    @Test func theSameNameOnTheSameConnectionInAnotherSchemaBlocksToo() throws {
        let otherSchema = TargetState.Dataset(id: 32, uuid: "other-ds", databaseUUID: "db-prod", catalog: "warehouse_prod", schema: "archive",
                                              table: "revenue", databaseName: "Warehouse")
        let item = try #require(PromotionPlanner.plan(try rewritten(), target: state([otherSchema]), scope: .dashboards).first { $0.kind == .dataset })
        #expect(item.action == .conflict && item.blocking)
        #expect(item.reasons.joined().contains("archive.revenue"))
    }

    @Test func aTargetThatAlreadyRepeatsTableNamesIsNotSQLiteSoTheClashIsOnlyNoted() throws {
        let twins = [TargetState.Dataset(id: 40, uuid: "t1", databaseUUID: "db-a", catalog: nil, schema: nil, table: "events"),
                     TargetState.Dataset(id: 41, uuid: "t2", databaseUUID: "db-b", catalog: nil, schema: nil, table: "events")]
        let target = state([salesRevenue] + twins)
        #expect(target.repeatsTableNames)
        #expect(!state([salesRevenue]).repeatsTableNames)
        let item = try #require(PromotionPlanner.plan(try rewritten(), target: target, scope: .dashboards).first { $0.kind == .dataset })
        #expect(item.action == .create && !item.blocking)
        #expect(item.reasons.joined().contains("can proceed"))
    }

    @Test func anUpdateOntoTheTableAnotherTargetDatasetReadsBlocksOnAnyMetadata() throws {
        let bundle = try rewritten()
        var current = bundle
        var old = try #require(current.asset(.dataset, uuid: "ds-1"))
        old["table_name"] = .string("revenue_old")
        current.insert(old)
        let mine = TargetState.Dataset(id: 4, uuid: "ds-1", databaseUUID: "db-prod", catalog: "warehouse_prod", schema: "sales_dev", table: "revenue_old")
        let squatter = TargetState.Dataset(id: 5, uuid: "squatter", databaseUUID: "db-prod", catalog: "warehouse_prod", schema: "sales_dev", table: "revenue",
                                           databaseName: "Warehouse")
        let twins = [TargetState.Dataset(id: 40, uuid: "t1", databaseUUID: "db-a", catalog: nil, schema: nil, table: "events"),
                     TargetState.Dataset(id: 41, uuid: "t2", databaseUUID: "db-b", catalog: nil, schema: nil, table: "events")]
        let item = try #require(PromotionPlanner.plan(bundle, target: state([mine, squatter] + twins, current: current), scope: .cascade)
            .first { $0.kind == .dataset })
        #expect(item.action == .conflict && item.blocking)
        #expect(item.reasons.joined().contains("target dataset 5 (squatter)"))
        // In the dashboards scope the target keeps its version: nothing is written, nothing clashes.
        let kept = try #require(PromotionPlanner.plan(bundle, target: state([mine, squatter], current: current), scope: .dashboards)
            .first { $0.kind == .dataset })
        #expect(kept.action == .unchanged && !kept.blocking)
    }

    @Test func twoNewDatasetsUnderOneTableNameBlock() throws {
        var bundle = try rewritten()
        var twin = try #require(bundle.asset(.dataset, uuid: "ds-1"))
        twin.uuid = "ds-2"
        twin["schema"] = .string("other")
        bundle.insert(twin)
        let items = PromotionPlanner.plan(bundle, target: state([]), scope: .dashboards).filter { $0.kind == .dataset }
        #expect(items.count == 2)
        #expect(items.allSatisfy { $0.blocking && $0.reasons.joined().contains("of this promotion") })
    }

    @Test func theFingerprintNoticesANewNameHolder() throws {
        let bundle = try rewritten()
        #expect(PromotionPlanner.fingerprint(bundle, target: state([])) != PromotionPlanner.fingerprint(bundle, target: state([salesRevenue])))
        let unrelated = TargetState.Dataset(id: 9, uuid: "u", databaseUUID: "db-sales", catalog: nil, schema: "main", table: "sales")
        #expect(PromotionPlanner.fingerprint(bundle, target: state([])) == PromotionPlanner.fingerprint(bundle, target: state([unrelated])),
                "other table names leave it as it was (plans made before stay valid)")
    }
}

@Suite struct ImportDiagnosisTests {
    let unknown = SupersetError.http(status: 500, message: "import (Dashboard): Import dashboard failed for an unknown reason")

    @Test func onlyHTTP500IsUnexplained() {
        #expect(ImportDiagnosis.isUnexplained(unknown))
        #expect(!ImportDiagnosis.isUnexplained(SupersetError.http(status: 502, message: "bad gateway")))
        #expect(!ImportDiagnosis.isUnexplained(SupersetError.importFailed([ImportProblem(path: nil, message: "x")])))
        #expect(!ImportDiagnosis.isUnexplained(CancellationError()))
    }

    @Test func namesTheDatasetWhoseTableNameTheTargetAlreadyUses() throws {
        let bundle = try BundleRewriter(databases: ["db-src": prodWarehouse]).rewrite(promotionBundle())
        let holder = TargetState.Dataset(id: 31, uuid: "other-ds", databaseUUID: "db-sales", catalog: nil, schema: "main", table: "revenue",
                                         databaseName: "Sales")
        let findings = ImportDiagnosis.diagnose(bundle, datasets: [holder], dashboards: [])
        let finding = try #require(findings.first)
        #expect(findings.count == 1)
        #expect(finding.kind == .dataset && finding.uuid == "ds-1" && finding.name == "revenue")
        #expect(finding.reason.contains("target dataset 31 (other-ds) reading main.revenue on connection 'Sales' (db-sales)"))
        #expect(finding.reason.contains("tables.table_name"))
        let message = ImportDiagnosis.failureMessage(unknown, findings: findings)
        #expect(message.contains("HTTP 500"))
        #expect(message.contains("Most likely cause: dataset 'revenue' (ds-1)"))
    }

    @Test func namesASlugInUseAndBundleInternalDuplicates() throws {
        var bundle = try BundleRewriter(databases: ["db-src": prodWarehouse]).rewrite(promotionBundle())
        let taken = TargetState.Dashboard(id: 8, uuid: "other-dash", slug: "revenue", title: "Old revenue")
        let slugFinding = try #require(ImportDiagnosis.diagnose(bundle, datasets: [], dashboards: [taken]).first)
        #expect(slugFinding.kind == .dashboard && slugFinding.uuid == "dash-1")
        #expect(slugFinding.reason.contains("slug 'revenue' is used by target dashboard 8 'Old revenue'"))
        var twin = try #require(bundle.asset(.dataset, uuid: "ds-1"))
        twin.uuid = "ds-2"
        bundle.insert(twin)
        let findings = ImportDiagnosis.diagnose(bundle, datasets: [], dashboards: [])
        #expect(findings.count == 1)
        #expect(findings.first?.reason.contains("2 new datasets of this import share the table name 'revenue'") == true)
    }

    @Test func whatTheTargetAdoptsOrAllowsIsNotBlamed() throws {
        let bundle = try BundleRewriter(databases: ["db-src": prodWarehouse]).rewrite(promotionBundle())
        // Same physical table under another uuid: Superset adopts it, no failure.
        let adopted = TargetState.Dataset(id: 2, uuid: "other-ds", databaseUUID: "db-prod", catalog: "warehouse_prod", schema: "sales_dev", table: "revenue")
        #expect(ImportDiagnosis.diagnose(bundle, datasets: [adopted], dashboards: []).isEmpty)
        // The same dataset (by uuid), e.g. imported by an earlier batch of this apply.
        let itself = TargetState.Dataset(id: 3, uuid: "ds-1", databaseUUID: "db-prod", catalog: "warehouse_prod", schema: "sales_dev", table: "revenue")
        #expect(ImportDiagnosis.diagnose(bundle, datasets: [itself], dashboards: [.init(id: 1, uuid: "dash-1", slug: "revenue", title: "Revenue")]).isEmpty)
        // A target that repeats table names isn't SQLite: a name holder elsewhere is no cause.
        let elsewhere = TargetState.Dataset(id: 31, uuid: "other-ds", databaseUUID: "db-sales", catalog: nil, schema: "main", table: "revenue")
        let twins = [TargetState.Dataset(id: 40, uuid: "t1", databaseUUID: "db-a", catalog: nil, schema: nil, table: "events"),
                     TargetState.Dataset(id: 41, uuid: "t2", databaseUUID: "db-b", catalog: nil, schema: nil, table: "events")]
        #expect(ImportDiagnosis.diagnose(bundle, datasets: [elsewhere] + twins, dashboards: []).isEmpty)
        #expect(ImportDiagnosis.failureMessage(unknown, findings: []) == unknown.errorDescription)
    }

    @Test func anUnexplainedImportFailureIsDiagnosedFromWhatTheTargetShows() async throws {
        let transport = ScriptedTransport { r, _ in
            if let answer = standardAnswer(r) { return answer }
            switch r.path {
            case "/api/v1/dashboard/import/":
                return json(500, #"{"message":"Import dashboard failed for an unknown reason"}"#)
            case "/api/v1/dataset/":
                return json(200, #"{"count":1,"result":[{"id":31,"uuid":"other-ds","table_name":"revenue","schema":"main","catalog":null,"database":{"uuid":"db-sales","database_name":"Sales"}}]}"#)
            case "/api/v1/dashboard/":
                return json(200, #"{"count":0,"result":[]}"#)
            default:
                return json(404, #"{"message":"not scripted"}"#)
            }
        }
        let client = makeClient(transport)
        let bundle = try BundleRewriter(databases: ["db-src": prodWarehouse]).rewrite(promotionBundle())
        var failure: (any Error)?
        do { try await client.importBundle(bundle, as: .dashboard, overwrite: true) } catch { failure = error }
        let error = try #require(failure, "Superset answered 500")
        #expect(ImportDiagnosis.isUnexplained(error))
        let findings = try await client.diagnoseImportFailure(of: bundle)
        #expect(findings.map(\.uuid) == ["ds-1"])
        #expect(findings.first?.reason.contains("connection 'Sales'") == true)
        let listed = transport.requests.filter { $0.method == "GET" }.map(\.path)
        #expect(listed.contains("/api/v1/dataset/") && listed.contains("/api/v1/dashboard/"), "read back, never written")
        #expect(!transport.requests.contains { $0.method == "DELETE" || $0.method == "PUT" })
    }
}

/// Against the real Supersets of scripts/test (prod's metadata there is SQLite): a dataset on prod
/// under a table name a dev dataset has, but on another connection.
///
/// The test makes its own pair (virtual datasets under a fresh name, dev's on Sales, prod's on
/// Warehouse) rather than reusing dev's seeded `orders`: PromotionLiveTests promotes `orders` into
/// prod while this runs, and a prod `orders` on Warehouse would make that import fail.
@Suite(.enabled(if: Live.enabled, "needs the real Superset instances of scripts/test"))
struct LiveTableNameClashTests {
    private func createVirtualDataset(_ client: SupersetClient, database: Int, schema: String, name: String) async throws -> Int {
        let answer = try await client.sendJSON("POST", "/api/v1/dataset/", body: .map([
            "database": .int(database), "schema": .string(schema), "table_name": .string(name), "sql": .string("select 1 as amount"),
        ]))
        return try #require(answer["id"]?.intValue, "dataset create answered \(answer.jsonText())")
    }

    @Test func aSameNamedProdDatasetOnAnotherConnectionBlocksThePlanAndExplainsTheImportFailure() async throws {
        let devInstance = try Live.instance("dev"), prodInstance = try Live.instance("prod")
        let dev = Live.client(devInstance), prod = Live.client(prodInstance)
        let prodDatabases = try await prod.databaseRefs()
        let prodSales = try #require(prodDatabases.first { $0.name == "Sales" })
        let prodWarehouse = try #require(prodDatabases.first { $0.name == "Warehouse" }, "scripts/test seeds Warehouse (PostgreSQL) on prod")
        let prodWarehouseID = try #require(prodWarehouse.id)
        let name = "ferry_clash_\(UUID().uuidString.prefix(8).lowercased())"

        var made: [(SupersetClient, Int)] = []
        func cleanUp() async {
            for (client, id) in made.reversed() { try? await client.delete(.dataset, id: id) }
        }
        do {
            let devID = try await createVirtualDataset(dev, database: try devInstance.id("databases", "Sales"), schema: "main", name: name)
            made.append((dev, devID))
            let prodID = try await createVirtualDataset(prod, database: prodWarehouseID, schema: "public", name: name)
            made.append((prod, prodID))
            let prodUUID = try #require(try await prod.getJSON("/api/v1/dataset/\(prodID)")["result"]?["uuid"]?.stringValue)

            // The plan, as promote.plan makes it: export from dev, map dev's Sales to prod's, read prod, diff.
            let exported = try await dev.export(.dataset, ids: [devID])
            let devDataset = try #require(exported.datasets.first)
            let devDatabase = try #require(exported.databases.first)
            let rewritten = try BundleRewriter(databases: [devDatabase.uuid: prodSales]).rewrite(exported)
            let target = TargetState(dashboards: try await prod.dashboardRefs(), datasets: try await prod.datasetRefs(), chartIDs: [:],
                                     current: AssetBundle())
            let items = PromotionPlanner.plan(rewritten, target: target, scope: .dashboards)
            let item = try #require(items.first { $0.kind == .dataset && $0.uuid == devDataset.uuid })
            #expect(item.action == .conflict && item.blocking, "\(item)")
            let reason = item.reasons.joined(separator: " ")
            #expect(reason.contains("main.\(name) on connection 'Sales' (\(prodSales.uuid))"), "\(reason)")
            #expect(reason.contains("target dataset \(prodID) (\(prodUUID)) reading public.\(name) on connection 'Warehouse' (\(prodWarehouse.uuid))"),
                    "\(reason)")
            #expect(PromotionPlanner.refusal(items, acceptShared: true, acceptLosses: false) != nil, "the apply refuses it")

            // Imported anyway, SQLite metadata (scripts/test's default) answers HTTP 500 with no
            // reason; the read-back names the clash.
            do {
                try await prod.importBundle(rewritten, as: .dataset, overwrite: true)
                // Only metadata in PostgreSQL (SUPERSET_METADATA_PG) takes it: nothing to diagnose,
                // remove what it made.
                if let id = try await prod.idsByUUID(.dataset)[devDataset.uuid] { made.append((prod, id)) }
            } catch {
                #expect(ImportDiagnosis.isUnexplained(error), "\(error)")
                let findings = try await prod.diagnoseImportFailure(of: rewritten)
                let finding = try #require(findings.first)
                #expect(finding.uuid == devDataset.uuid)
                #expect(finding.reason.contains("target dataset \(prodID) (\(prodUUID))"), "\(finding.reason)")
                #expect(ImportDiagnosis.failureMessage(error, findings: findings).contains("Most likely cause: dataset '\(name)'"))
            }
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
        #expect(try await prod.datasetRefs().contains { $0.table == name } == false, "the test leaves nothing behind on prod")
    }
}
