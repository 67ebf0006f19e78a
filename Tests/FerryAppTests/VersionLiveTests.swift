import Foundation
import SupersetKit
import Testing
import VaporTesting

@testable import FerryApp

/// Promotion across Superset releases, against the real 6.1.0 ("v61"), 5.0.0 ("v50") and 4.1.4
/// ("v41") that scripts/test starts for these tests only. v61 holds the promotion dashboards
/// ("Regional orders": tabs, a native filter, cross-filters; "Order KPIs"), with values only
/// 6.1 knows set on their `orders` dataset; v50 and v41 have same-named connections over their
/// own data.
///
/// One test, in steps: 6.1 → 5.0 and 6.1 → 4.1 (downgrades: the plan lists what is lost, the
/// apply refuses until it is accepted), then 5.0 → 6.1 and 4.1 → 6.1 (upgrades: the plan says
/// which new fields take defaults) into v61 after its own copies are deleted. Each promotion is
/// checked on the target: connections untouched, every chart queries the target's data, filters
/// point at the target's charts.
@Suite(.serialized, .enabled(if: LiveSuperset.environment["FERRY_TEST_SUPERSET_V61_URL"] != nil,
                             "needs the Superset 6.1, 5.0 and 4.1 of scripts/test (started when the filter names Version, or with no filter)"))
struct VersionLiveTests {
    /// Each release's importer fields, as scripts/lib/import_fields.py read them from the
    /// installed apache-superset, equal SupersetKit's table: a field missing there fails here.
    @Test func theImportFieldTableIsEachReleasesImporter() throws {
        let dir = try #require(LiveSuperset.environment["FERRY_TEST_IMPORT_FIELDS_DIR"], "run scripts/test: no import field lists")
        for (version, schema) in [("4.1.4", ImportSchema.v4_1), ("5.0.0", ImportSchema.v5_0), ("6.1.0", ImportSchema.v6_1)] {
            let read = try BundleValue.parseJSON(Data(contentsOf: URL(fileURLWithPath: dir).appendingPathComponent("import-fields-\(version).json")))
            #expect(read["version"]?.stringValue == version)
            #expect(ImportSchema.resolve(SupersetVersion(version)) == .known(schema, exact: true))
            for part in ImportPart.allCases {
                let actual = Set(read["fields"]?[part.rawValue]?.listValue?.compactMap(\.stringValue) ?? [])
                #expect(!actual.isEmpty, "\(version) \(part)")
                #expect(actual.subtracting(schema.fields[part] ?? []).isEmpty, "\(version) \(part.rawValue): missing from ImportSchema: \(actual.subtracting(schema.fields[part] ?? []).sorted())")
                #expect((schema.fields[part] ?? []).subtracting(actual).isEmpty, "\(version) \(part.rawValue): not accepted by the release: \((schema.fields[part] ?? []).subtracting(actual).sorted())")
            }
        }
    }

    @Test func promoteDownAndUpAcrossReleases() async throws {
        let urls = (v61: try LiveSuperset.url("v61"), v50: try LiveSuperset.url("v50"), v41: try LiveSuperset.url("v41"))
        let v61 = PromotionLiveTests.client(urls.v61), v50 = PromotionLiveTests.client(urls.v50), v41 = PromotionLiveTests.client(urls.v41)
        #expect(try await v61.version() == "6.1.0")
        #expect(try await v50.version() == "5.0.0")
        #expect(try await v41.version() == "4.1.4")
        let sourceManifest = try LiveSuperset.manifest("v61")
        let promo = try #require(sourceManifest["promo"])
        let ordersDataset = try #require(promo["datasets"]?["orders"]?["id"]?.intValue)

        // Values only 6.1 has, on the source: a currency code column and a column's datetime format.
        let columns = try await v61.getJSON("/api/v1/dataset/\(ordersDataset)")["result"]?["columns"]?.listValue ?? []
        let region = try #require(columns.first { $0["column_name"]?.stringValue == "region" })
        try await v61.sendJSON("PUT", "/api/v1/dataset/\(ordersDataset)", body: .map([
            "currency_code_column": .string("product"),
            "columns": .list(columns.map { c in
                var kept: [String: BundleValue] = [:]
                for key in ["id", "column_name", "type", "is_dttm", "filterable", "groupby", "expression", "verbose_name"] { if let v = c[key], !v.isNull { kept[key] = v } }
                if c["id"] == region["id"] { kept["datetime_format"] = .string("%Y-%m") }
                return .map(kept)
            }),
        ]))

        try await withFerry(.sqlite, tasks: true) { t in
            for (name, url) in [("v61", urls.v61), ("v50", urls.v50), ("v41", urls.v41)] {
                _ = try await t.createEnvironment(sample(name, password: "admin", url: url))
            }
            for (source, target) in [("v61", "v50"), ("v61", "v41"), ("v50", "v61"), ("v41", "v61")] {
                try await Self.mapSameNames(t, source: source, target: target)
            }

            // 0. A restore plans through the same translation: a backup of v61 restored into 5.0
            // is read as 6.1.0 (its manifest says so) and lists the same losses. Planned only.
            let backup = try #require(try await t.backup("v61").backup)
            #expect(backup.supersetVersion == "6.1.0")
            let regionalUUID = try #require(promo["dashboards"]?["regional-orders"]?["uuid"]?.stringValue)
            let restorePlan = try await t.finishedPlan(try await t.restore(RestoreInput(backup: backup.id.key, target: "v50", dashboards: [regionalUUID])))
            #expect(restorePlan.status == .ready && restorePlan.sourceVersion == "6.1.0" && restorePlan.targetVersion == "5.0.0", "\(restorePlan.error ?? "")")
            #expect(Set(restorePlan.items.first { $0.kind == .dataset && $0.name == "orders" }?.losses?.map(\.field) ?? [])
                == ["currency_code_column", "columns[region].datetime_format"])

            // 1-2. Downgrades: what 5.0 and 4.1 can't import is listed, and must be accepted.
            for (name, client) in [("v50", v50), ("v41", v41)] {
                let plan = try await t.finishedPlan(try await t.plan(PlanInput(source: "v61", target: name, dashboards: ["regional-orders", "order-kpis"])))
                #expect(plan.status == .ready, "\(plan.error ?? "")")
                #expect(plan.sourceVersion == "6.1.0" && plan.targetVersion == (name == "v50" ? "5.0.0" : "4.1.4"))
                let dataset = try #require(plan.items.first { $0.kind == .dataset && $0.name == "orders" })
                #expect(Set(dataset.losses?.map(\.field) ?? []) == ["currency_code_column", "columns[region].datetime_format"], "\(dataset)")
                #expect(dataset.losses?.first { $0.field == "currency_code_column" }?.value == "product")
                #expect(plan.summary.lost == 2)
                let html = try await t.request(.GET, SiteURL.planPage(.value(plan.id)).path).body.string
                #expect(html.contains("data-testid=\"plan-losses\"") && html.contains("columns[region].datetime_format") && html.contains("name=\"acceptLosses\""))

                let refused = try await t.request(.POST, "/api/promotions/\(plan.id)/apply", json: ApplyInput())
                #expect(refused.status == .conflict && refused.body.string.contains("plan_losses"), "\(refused.body.string)")
                try await Self.applyAndCheck(t, plan: plan, acceptLosses: true, target: client, targetManifest: try LiveSuperset.manifest(name), promo: promo)
            }

            // 3-4. Upgrades into 6.1, once v61's own copies are gone: new fields take defaults, nothing is lost.
            for slug in ["regional-orders", "order-kpis"] { try await v61.delete(.dashboard, id: try #require(promo["dashboards"]?[slug]?["id"]?.intValue)) }
            for (chart, entry) in promo["charts"]?.mapValue ?? [:] where chart != "Dev-only total" { try await v61.delete(.chart, id: try #require(entry["id"]?.intValue)) }
            for dataset in ["orders", "revenue"] { try await v61.delete(.dataset, id: try #require(promo["datasets"]?[dataset]?["id"]?.intValue)) }
            #expect(try await v61.idsByUUID(.dashboard)[regionalUUID] == nil)

            for source in ["v50", "v41"] {
                let plan = try await t.finishedPlan(try await t.plan(PlanInput(source: source, target: "v61", dashboards: ["regional-orders", "order-kpis"])))
                #expect(plan.status == .ready, "\(plan.error ?? "")")
                #expect(plan.targetVersion == "6.1.0" && plan.summary.lost == 0 && plan.summary.create == 8, "\(plan.summary)")
                let dataset = try #require(plan.items.first { $0.kind == .dataset && $0.name == "orders" })
                #expect(Set(dataset.defaulted ?? []).isSuperset(of: ["currency_code_column", "folders", "columns[].datetime_format"]), "\(dataset)")
                #expect(plan.items.first { $0.kind == .dashboard }?.defaulted?.contains("theme_uuid") == true)
                let promotion = try await Self.applyAndCheck(t, plan: plan, acceptLosses: false, target: v61, targetManifest: sourceManifest, promo: promo)
                // Roll back what this one created, so the next upgrade creates again.
                let rollback = try await t.request(.POST, "/api/promotions/\(promotion)/rollback", json: RollbackInput(deleteCreated: true))
                let rollbackTask = try #require(try rollback.json()["taskId"]?.stringValue.flatMap(UUID.init(uuidString:)), "\(rollback.body.string)")
                let rolled = try await t.waitFor(rollbackTask, [.succeeded, .failed])
                #expect(rolled.status == .succeeded, "\(rolled.error ?? "")")
                #expect(try await v61.idsByUUID(.dashboard)[regionalUUID] == nil)
            }
        }
    }

    /// A target whose release Ferry doesn't know (v50 behind a proxy that says 3.1.0, then
    /// 7.0.0) fails the plan naming the release and the way out; accepted, the bundle goes as is.
    /// v50, not prod: other suites write to prod while a plan reads it (a dataset deleted between
    /// the list and the export is a 404), and this suite runs its tests one at a time.
    @Test func anUnknownReleaseIsRefusedUnlessImportingAsIsIsAccepted() async throws {
        let devURL = try LiveSuperset.url("dev"), v50URL = try LiveSuperset.url("v50")
        let proxy = try await FakeSuperset.start(.proxy(to: v50URL, dieAfterImports: nil))
        defer { Task { await proxy.stop() } }
        try await withFerry(.sqlite, tasks: true) { t in
            _ = try await t.createEnvironment(sample("dev", password: "admin", url: devURL))
            _ = try await t.createEnvironment(sample("old", password: "admin", url: proxy.url, stage: "prod"))
            try await Self.mapSameNames(t, source: "dev", target: "old")
            for (version, words) in [("3.1.0", "older than 4.1"), ("7.0.0", "newer than 6.1"), ("nightly", "doesn't know the Superset release")] {
                proxy.version = version
                let queued = try await t.plan(PlanInput(source: "dev", target: "old", dashboards: ["order-kpis"]))
                let task = try await t.waitFor(queued.taskId, [.succeeded, .failed, .awaitingInput])
                #expect(task.status == .failed)
                #expect(task.error?.contains(words) == true && task.error?.contains("old") == true, "\(task.error ?? "")")
                #expect(task.nextAction?.contains("Unknown version, import as is") == true && task.nextAction?.contains("--accept-unknown-version") == true,
                        "\(task.nextAction ?? "")")
            }
            proxy.version = "7.0.0"
            // "Dev only": nothing of it is on v50, so the plan has no conflict and may be applied.
            let accepted = try await t.finishedPlan(try await t.plan(PlanInput(source: "dev", target: "old", dashboards: ["dev-only"], acceptUnknownVersion: true)))
            #expect(accepted.summary.conflict == 0, "\(accepted.items)")
            #expect(accepted.status == .ready, "\(accepted.error ?? "")")
            #expect(accepted.acceptUnknownVersion && accepted.targetVersion == "7.0.0" && accepted.sourceVersion == "6.1.0")
            #expect(accepted.summary.lost == 0 && accepted.items.allSatisfy { $0.losses == nil && $0.defaulted == nil })
            let html = try await t.request(.GET, SiteURL.planPage(.value(accepted.id)).path).body.string
            #expect(html.contains("data-direction=\"as_is\""))

            // The target changed release since the plan: the apply refuses before any write.
            proxy.version = "6.1.0"
            let applied = try await t.apply(accepted.id)
            let refused = try await t.waitFor(applied.taskId, [.succeeded, .partial, .failed])
            #expect(refused.status == .failed && refused.error?.contains("now runs Superset 6.1.0") == true, "\(refused.error ?? "")")
            #expect(try await t.request(.GET, "/api/promotions/plans/\(accepted.id)").json()["status"]?.stringValue == "stale")
        }
    }

    /// Stores source -> target mappings of the same-named connections (Sales, Warehouse).
    static func mapSameNames(_ t: TestHarness, source: String, target: String) async throws {
        let suggestions = try await t.request(.GET, "/api/mappings/suggestions?source=\(source)&target=\(target)").json()
        for row in suggestions["items"]?.listValue ?? [] {
            let name = try #require(row["source"]?["name"]?.stringValue)
            let match = try #require(row["suggestions"]?.listValue?.first { $0["target"]?["name"]?.stringValue == name }?["target"], "\(target) has \(name)")
            let put = try await t.request(.PUT, "/api/mappings", json: MappingInput(
                source: source, target: target, sourceDatabaseUuid: row["source"]?["uuid"]?.stringValue, sourceDatabaseName: name,
                targetDatabaseUuid: match["uuid"]?.stringValue, targetDatabaseName: name))
            #expect(put.status == .ok, "\(put.body.string)")
        }
    }

    /// Applies `plan` and checks the target: connections untouched, every chart verified and
    /// querying the target's own numbers, filters on the target's chart ids. Returns the promotion.
    @discardableResult
    static func applyAndCheck(_ t: TestHarness, plan: PlanDTO, acceptLosses: Bool, target: SupersetClient, targetManifest: BundleValue,
                              promo: BundleValue) async throws -> UUID {
        let before = try await target.databaseRefs()
        let res = try await t.request(.POST, "/api/promotions/\(plan.id)/apply", json: ApplyInput(acceptLosses: acceptLosses))
        #expect(res.status == .accepted, "\(res.body.string)")
        let queued = try res.content.decode(Queued.self, using: JSONDecoder.ferry)
        let task = try await t.waitFor(queued.taskId, [.succeeded, .partial, .failed])
        let log = try await t.logs(queued.taskId).items.suffix(12).map(\.message)
        #expect(task.status == .succeeded, "\(plan.source) → \(plan.target): \(task.error ?? "") \(log)")
        let promotion = try await t.request(.GET, "/api/promotions/\(queued.id)").json()
        #expect(promotion["report"]?["chartsChecked"]?.intValue == 4, "\(promotion["report"]?.jsonText() ?? "")")

        let after = try await target.databaseRefs()
        #expect(after.map(\.uuid) == before.map(\.uuid) && after.map(\.uri) == before.map(\.uri), "the target's connections are untouched")

        let chartIDs = try await target.idsByUUID(.chart)
        for (chart, key) in [("Order total", "orders_total"), ("Revenue total", "revenue_total")] {
            let uuid = try #require(promo["charts"]?[chart]?["uuid"]?.stringValue)
            let id = try #require(chartIDs[uuid], "\(chart) on \(plan.target)")
            #expect(try await target.chartData(id: id).rows.first?.values.compactMap(\.doubleValue).first == targetManifest[key]?.doubleValue,
                    "\(chart) queries \(plan.target)'s own data")
        }
        let dashboardIDs = try await target.idsByUUID(.dashboard)
        let regionalUUID = try #require(promo["dashboards"]?["regional-orders"]?["uuid"]?.stringValue)
        let regional = try #require(dashboardIDs[regionalUUID])
        let detail = try await target.dashboardDetail(id: regional)
        let referenced = DashboardMetadata.referencedChartIDs(detail.metadata)
        #expect(!referenced.isEmpty && referenced.isSubset(of: detail.layoutChartIDs), "\(referenced) vs \(detail.layoutChartIDs)")
        #expect(DashboardCheck.problems(detail, members: try await target.memberChartIDs(ofDashboard: regional)).isEmpty)
        return queued.id
    }
}
