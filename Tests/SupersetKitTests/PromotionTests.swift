import Foundation
import Testing
@testable import SupersetKit

/// A small source bundle: one PostgreSQL database, a dataset, two charts (source ids 11 and 12)
/// and a dashboard whose filters and cross-filters use those ids.
func promotionBundle(chartIDs: (Int, Int) = (11, 12), datasetID: Int = 5, catalog: String? = "warehouse_dev") -> AssetBundle {
    let db = Asset(kind: .database, fields: [
        "database_name": .string("Warehouse"), "uuid": .string("db-src"),
        "sqlalchemy_uri": .string("postgresql+psycopg2://ferry:XXXXXXXXXX@dev-host:5432/warehouse_dev"),
    ])
    let ds = Asset(kind: .dataset, fields: [
        "table_name": .string("revenue"), "uuid": .string("ds-1"), "database_uuid": .string("db-src"),
        "catalog": catalog.map(BundleValue.string) ?? .null, "schema": .string("sales_dev"),
        "sql": .string("select * from sales_dev.revenue join \"sales_dev\".months using (m) -- not xsales_dev.t"),
        "metrics": .list([.map(["metric_name": .string("b")]), .map(["metric_name": .string("a")])]),
    ])
    func chart(_ uuid: String, _ name: String) -> Asset {
        Asset(kind: .chart, fields: [
            "slice_name": .string(name), "uuid": .string(uuid), "dataset_uuid": .string("ds-1"),
            "params": .map(["datasource": .string("\(datasetID)__table"), "viz_type": .string("table")]),
            "query_context": .string(#"{"datasource":{"id":\#(datasetID),"type":"table"},"form_data":{"datasource":"\#(datasetID)__table"},"queries":[{"row_limit":10}]}"#),
        ])
    }
    let (a, b) = chartIDs
    let dash = Asset(kind: .dashboard, fields: [
        "dashboard_title": .string("Revenue"), "uuid": .string("dash-1"), "slug": .string("revenue"),
        "position": .map([
            "ROOT_ID": .map(["type": .string("ROOT"), "id": .string("ROOT_ID"), "children": .list([.string("CHART-a"), .string("CHART-b")])]),
            "CHART-a": .map(["type": .string("CHART"), "id": .string("CHART-a"), "meta": .map(["chartId": .int(a), "uuid": .string("chart-a")])]),
            "CHART-b": .map(["type": .string("CHART"), "id": .string("CHART-b"), "meta": .map(["chartId": .int(b), "uuid": .string("chart-b")])]),
        ]),
        "metadata": .map([
            "native_filter_configuration": .list([.map([
                "id": .string("NATIVE_FILTER-1"), "chartsInScope": .list([.int(a), .int(b)]),
                "scope": .map(["excluded": .list([])]), "targets": .list([.map(["datasetUuid": .string("ds-1")])]),
            ])]),
            "global_chart_configuration": .map(["chartsInScope": .list([.int(b), .int(a)])]),
            "chart_configuration": .map(["\(a)": .map(["id": .int(a), "crossFilters": .map(["chartsInScope": .list([.int(b)])])])]),
        ]),
    ])
    return AssetBundle(assets: [db, ds, chart("chart-a", "A"), chart("chart-b", "B"), dash])
}

let prodWarehouse = DatabaseRef(id: 7, uuid: "db-prod", name: "Warehouse", uri: "postgresql://ferry:XXXXXXXXXX@prod-host:5432/warehouse_prod")

@Suite struct DatabaseMatcherTests {
    @Test func ignoresStageWordsSeparatorsCaseAndWordOrder() {
        #expect(DatabaseMatcher.words("Sales DWH (dev)") == ["sales", "dwh"])
        #expect(DatabaseMatcher.words("prodSalesDWH") == ["sales", "dwh"])
        #expect(DatabaseMatcher.similarity("Sales DWH (dev)", "prod_dwh_sales") == 1)
        #expect(DatabaseMatcher.similarity("Sales", "Warehouse") < 0.5)
    }

    @Test func ranksByNameThenBackendWithConfidence() {
        let source = DatabaseRef(uuid: "s", name: "warehouse-dev", uri: "postgresql://u@h/db")
        let targets = [
            DatabaseRef(uuid: "1", name: "Sales", uri: "sqlite:///x.db"),
            DatabaseRef(uuid: "2", name: "Warehouse (prod)", uri: "mysql://u@h/db"),
            DatabaseRef(uuid: "3", name: "PROD_WAREHOUSE", uri: "postgresql+psycopg2://u@h/db"),
        ]
        let ranked = DatabaseMatcher.suggestions(for: source, among: targets)
        #expect(ranked.map(\.target.uuid) == ["3", "2", "1"])
        #expect(ranked[0].confidence == 100)
        #expect(ranked[1].confidence == 80, "same name, other backend")
        #expect(ranked[2].confidence < 50)
    }
}

@Suite struct BundleRewriterTests {
    @Test func replacesConnectionsAndPointsDatasetsAtThem() throws {
        let out = try BundleRewriter(databases: ["db-src": prodWarehouse]).rewrite(promotionBundle())
        #expect(out.databases.map(\.uuid) == ["db-prod"])
        let db = try #require(out.databases.first)
        #expect(db.string("sqlalchemy_uri") == prodWarehouse.uri, "the source URI never reaches the target")
        #expect(!db.fields.values.contains { $0.stringValue?.contains("dev-host") == true })
        let ds = try #require(out.datasets.first)
        #expect(ds.databaseUUID == "db-prod")
        #expect(ds.string("catalog") == "warehouse_prod", "catalog follows the target database")
        #expect(ds.string("schema") == "sales_dev", "no schema mapping: schema kept")
        #expect(out.unresolvedReferences().isEmpty)
    }

    @Test func schemaMappingRewritesQualifiedSQLOnly() throws {
        let out = try BundleRewriter(databases: ["db-src": prodWarehouse], schemas: ["sales_dev": "sales"]).rewrite(promotionBundle())
        let ds = try #require(out.datasets.first)
        #expect(ds.string("schema") == "sales")
        #expect(ds.string("sql") == "select * from sales.revenue join \"sales\".months using (m) -- not xsales_dev.t")
    }

    @Test func aCustomCatalogIsKept() throws {
        let out = try BundleRewriter(databases: ["db-src": prodWarehouse]).rewrite(promotionBundle(catalog: "other_catalog"))
        #expect(out.datasets.first?.string("catalog") == "other_catalog")
    }

    @Test func unmappedDatabasesAreNamed() {
        #expect(throws: BundleRewriter.Failure.unmapped([DatabaseRef(uuid: "db-src", name: "Warehouse", uri: "postgresql+psycopg2://ferry:XXXXXXXXXX@dev-host:5432/warehouse_dev")])) {
            _ = try BundleRewriter(databases: [:]).rewrite(promotionBundle())
        }
    }

    @Test func repairsLayoutsWhoseChartNodesLackUUIDs() throws {
        // The fixture is a real 6.1.0 export of dashboards saved without meta.uuid: the exporter
        // appended an unparented duplicate node (with the uuid) for each chart.
        let bundle = try BundleReader().read(try fixtureExport())
        var overview = try #require(bundle.dashboards.first { $0.name == "Sales overview" })
        let before = overview["position"]?.mapValue?.values.filter { $0["type"]?.stringValue == "CHART" }.count ?? 0
        BundleRewriter.repairLayout(&overview)
        let charts = overview["position"]?.mapValue?.values.filter { $0["type"]?.stringValue == "CHART" } ?? []
        #expect(before == 6)
        #expect(charts.count == 3)
        #expect(charts.allSatisfy { $0["meta"]?["uuid"]?.stringValue != nil })
        #expect(Set(overview.chartUUIDsInLayout) == Set(bundle.charts.map(\.uuid)))
    }
}

@Suite struct CanonicalAndPlanTests {
    @Test func theSameAssetsUnderOtherIdsAreEqual() {
        let source = promotionBundle(chartIDs: (11, 12), datasetID: 5)
        let target = promotionBundle(chartIDs: (402, 77), datasetID: 9)
        for kind in [AssetKind.dataset, .chart, .dashboard] {
            for asset in source.all(kind) {
                #expect(CanonicalAsset.text(of: asset) == CanonicalAsset.text(of: target.asset(kind, uuid: asset.uuid)!), "\(kind)")
            }
        }
        var changed = target
        var chart = changed.asset(.chart, uuid: "chart-a")!
        chart["params"]?["viz_type"] = .string("bar")
        changed.insert(chart)
        #expect(CanonicalAsset.changedFields(source.asset(.chart, uuid: "chart-a")!, chart) == ["params"])
    }

    /// The field-level diff: leaves with their paths, records by name, ids never counted, a
    /// long value cut, and at most the limit listed.
    @Test func anUpdateIsDiffedValueByValue() {
        let source = promotionBundle(chartIDs: (11, 12), datasetID: 5)
        let target = promotionBundle(chartIDs: (402, 77), datasetID: 9)
        var chart = source.asset(.chart, uuid: "chart-a")!
        chart["params"]?["viz_type"] = .string("bar")
        chart["description"] = .string(String(repeating: "x", count: 500))
        let diff = CanonicalAsset.fieldChanges(chart, from: target.asset(.chart, uuid: "chart-a")!)
        #expect(diff.changes.map(\.field) == ["description", "params.viz_type"], "the other ids differ, and are not changes")
        #expect(diff.changes[0].before == nil && diff.changes[0].after?.count == CanonicalAsset.valueLimit + 1)
        #expect(diff.changes[1].after == "bar" && !diff.more)

        var dataset = source.asset(.dataset, uuid: "ds-1")!
        var current = target.asset(.dataset, uuid: "ds-1")!
        current["columns"] = .list([.map(["column_name": .string("amount"), "type": .string("INT")]), .map(["column_name": .string("sold_at"), "type": .string("DATE")])])
        dataset["columns"] = .list([.map(["column_name": .string("sold_at"), "type": .string("TIMESTAMP")]), .map(["column_name": .string("region"), "type": .string("TEXT")])])
        let columns = CanonicalAsset.fieldChanges(dataset, from: current).changes
        #expect(columns.contains(FieldChange(field: "columns[sold_at].type", before: "DATE", after: "TIMESTAMP")))
        #expect(columns.contains(FieldChange(field: "columns[amount]", before: #"{"column_name":"amount","type":"INT"}"#, after: nil)))
        #expect(columns.contains { $0.field == "columns[region]" && $0.before == nil })

        var many = chart
        many["params"] = .map(Dictionary(uniqueKeysWithValues: (0..<100).map { ("k\($0)", BundleValue.int($0)) }))
        let cut = CanonicalAsset.fieldChanges(many, from: target.asset(.chart, uuid: "chart-a")!, limit: 10)
        #expect(cut.changes.count == 10 && cut.more)
    }

    @Test func importDefaultsDoNotCountAsChanges() {
        let source = promotionBundle()
        var target = source
        var dash = target.asset(.dashboard, uuid: "dash-1")!
        dash["metadata"]?["label_colors"] = .map([:])
        dash["metadata"]?["timed_refresh_immune_slices"] = .list([])
        dash["metadata"]?["refresh_frequency"] = .int(0)
        dash["metadata"]?["cross_filters_enabled"] = .bool(true)
        target.insert(dash)
        #expect(CanonicalAsset.text(of: dash) == CanonicalAsset.text(of: source.asset(.dashboard, uuid: "dash-1")!))
    }

    func target(current: AssetBundle = AssetBundle(), dashboards: [TargetState.Dashboard] = [], datasets: [TargetState.Dataset] = [],
                charts: [String: Int] = [:]) -> TargetState {
        TargetState(dashboards: dashboards, datasets: datasets, chartIDs: charts, current: current)
    }

    @Test func newAssetsAreCreatesAndSameAssetsUnchanged() throws {
        let bundle = try BundleRewriter(databases: ["db-src": prodWarehouse]).rewrite(promotionBundle())
        let fresh = PromotionPlanner.plan(bundle, target: target(), scope: .dashboards)
        #expect(fresh.allSatisfy { $0.action == .create })
        #expect(fresh.count == 4)
        let existing = target(current: promotionBundle(chartIDs: (90, 91)), dashboards: [.init(id: 3, uuid: "dash-1", slug: "revenue", title: "Revenue")],
                              datasets: [.init(id: 4, uuid: "ds-1", databaseUUID: "db-prod", catalog: "warehouse_prod", schema: "sales_dev", table: "revenue")],
                              charts: ["chart-a": 90, "chart-b": 91])
        var current = existing.current
        for var ds in current.datasets { ds.databaseUUID = "db-prod"; ds["catalog"] = .string("warehouse_prod"); current.insert(ds) }
        var same = existing
        same.current = current
        #expect(PromotionPlanner.plan(bundle, target: same, scope: .cascade).allSatisfy { $0.action == .unchanged })
    }

    @Test func slugAndSameTableConflictsBlock() throws {
        let bundle = try BundleRewriter(databases: ["db-src": prodWarehouse]).rewrite(promotionBundle())
        let state = target(dashboards: [.init(id: 8, uuid: "other-dash", slug: "revenue", title: "Old revenue")],
                           datasets: [.init(id: 2, uuid: "other-ds", databaseUUID: "db-prod", catalog: "warehouse_prod", schema: "sales_dev", table: "revenue")])
        let items = PromotionPlanner.plan(bundle, target: state, scope: .dashboards)
        let dash = try #require(items.first { $0.kind == .dashboard })
        #expect(dash.action == .conflict && dash.blocking)
        #expect(dash.reasons.first?.contains("slug 'revenue'") == true)
        let ds = try #require(items.first { $0.kind == .dataset })
        #expect(ds.action == .conflict && ds.blocking)
        #expect(ds.reasons.first?.contains("same table") == true)
    }

    @Test func cascadeUpdatesOfSharedChartsAreNonBlockingConflicts() throws {
        let bundle = try BundleRewriter(databases: ["db-src": prodWarehouse]).rewrite(promotionBundle())
        var current = bundle
        var chart = current.asset(.chart, uuid: "chart-a")!
        chart["params"]?["viz_type"] = .string("bar")
        current.insert(chart)
        var state = target(current: current, dashboards: [.init(id: 3, uuid: "dash-1", slug: "revenue", title: "Revenue")],
                           datasets: [.init(id: 4, uuid: "ds-1", databaseUUID: "db-prod", catalog: "warehouse_prod", schema: "sales_dev", table: "revenue")],
                           charts: ["chart-a": 90, "chart-b": 91])
        #expect(PromotionPlanner.updatedShared(bundle, target: state, scope: .cascade).charts == ["chart-a"])
        #expect(PromotionPlanner.plan(bundle, target: state, scope: .dashboards).first { $0.uuid == "chart-a" }?.action == .unchanged,
                "dashboards scope keeps the target's chart")
        state.chartDashboards = ["chart-a": ["dash-1", "someone-elses"]]
        let item = try #require(PromotionPlanner.plan(bundle, target: state, scope: .cascade).first { $0.uuid == "chart-a" })
        #expect(item.action == .conflict && !item.blocking && item.writes)
        let print1 = PromotionPlanner.fingerprint(bundle, target: state)
        state.chartDashboards = ["chart-a": ["dash-1"]]
        #expect(PromotionPlanner.fingerprint(bundle, target: state) != print1, "the fingerprint notices a target change")
    }
}

@Suite struct RefusalTests {
    @Test func blockingConflictsWinAndSharedOnesNeedAcceptance() {
        let shared = PlanItem(kind: .chart, uuid: "c", name: "C", action: .conflict, reasons: ["shared"])
        let blocking = PlanItem(kind: .dashboard, uuid: "d", name: "D", action: .conflict, reasons: ["slug"], blocking: true)
        let update = PlanItem(kind: .chart, uuid: "u", name: "U", action: .update)
        #expect(PromotionPlanner.refusal([update], acceptShared: false, acceptLosses: false) == nil)
        #expect(PromotionPlanner.refusal([update, shared], acceptShared: false, acceptLosses: false) == .sharedNotAccepted)
        #expect(PromotionPlanner.refusal([update, shared], acceptShared: true, acceptLosses: false) == nil)
        #expect(PromotionPlanner.refusal([shared, blocking], acceptShared: true, acceptLosses: false) == .blocking(blocking, count: 1))
        #expect(PromotionPlanner.Refusal.blocking(blocking, count: 1).message.contains("dashboard 'D': slug"))
    }
}

@Suite struct DashboardRemapTests {
    @Test func everyChartReferenceMovesToTargetIds() {
        let source = promotionBundle(chartIDs: (11, 12))
        let dash = source.asset(.dashboard, uuid: "dash-1")!
        // What 6.1's import leaves: chart_configuration keys already moved, chartsInScope not.
        let importedTarget = BundleValue.map([
            "native_filter_configuration": .list([.map([
                "id": .string("NATIVE_FILTER-1"), "chartsInScope": .list([.int(11), .int(12)]), "targets": .list([.map(["datasetId": .int(9)])]),
            ])]),
            "chart_configuration": .map(["402": .map(["id": .int(402), "crossFilters": .map(["chartsInScope": .list([.int(12)])])])]),
            "global_chart_configuration": .map(["chartsInScope": .list([.int(12), .int(11)])]),
            "color_scheme": .string("blue"),
        ])
        let fixed = DashboardCheck.remapped(target: importedTarget, source: dash["metadata"]!, sourceUUIDByID: CanonicalAsset.chartUUIDs(in: dash),
                                            targetIDByUUID: ["chart-a": 402, "chart-b": 77])
        #expect(DashboardMetadata.referencedChartIDs(fixed) == [402, 77])
        #expect(fixed["native_filter_configuration"]?.listValue?.first?["chartsInScope"] == .list([.int(402), .int(77)]))
        #expect(fixed["native_filter_configuration"]?.listValue?.first?["targets"] == .list([.map(["datasetId": .int(9)])]), "target dataset ids kept")
        #expect(fixed["chart_configuration"]?["402"]?["crossFilters"]?["chartsInScope"] == .list([.int(77)]))
        #expect(fixed["color_scheme"] == .string("blue"))
    }

    @Test func rebuiltMetadataNeedsNoReadOfTheTarget() throws {
        let source = promotionBundle(chartIDs: (11, 12))
        let dash = source.asset(.dashboard, uuid: "dash-1")!
        let rebuilt = try #require(DashboardCheck.rebuilt(source: dash["metadata"]!, sourceUUIDByID: CanonicalAsset.chartUUIDs(in: dash),
                                                          targetIDByUUID: ["chart-a": 402, "chart-b": 77], targetDatasetIDByUUID: ["ds-1": 9]))
        #expect(DashboardMetadata.referencedChartIDs(rebuilt) == [402, 77])
        #expect(rebuilt["native_filter_configuration"]?.listValue?.first?["targets"] == .list([.map(["datasetId": .int(9)])]))
        #expect(DashboardCheck.rebuilt(source: dash["metadata"]!, sourceUUIDByID: [:], targetIDByUUID: [:], targetDatasetIDByUUID: [:]) == nil,
                "a filter dataset the target lacks: read back instead")
        var legacy = dash["metadata"]!
        legacy["filter_scopes"] = .map(["11": .map([:])])
        #expect(DashboardCheck.rebuilt(source: legacy, sourceUUIDByID: CanonicalAsset.chartUUIDs(in: dash), targetIDByUUID: ["chart-a": 1, "chart-b": 2],
                                       targetDatasetIDByUUID: ["ds-1": 9]) == nil, "legacy keys: read back instead")
    }

    @Test func problemsNameStrayFiltersAndMembership() {
        let detail = DashboardDetail(
            id: 1, uuid: nil, title: "x", slug: nil,
            position: .map(["C": .map(["type": .string("CHART"), "meta": .map(["chartId": .int(5)])])]),
            metadata: .map(["global_chart_configuration": .map(["chartsInScope": .list([.int(5), .int(99)])])]))
        let problems = DashboardCheck.problems(detail, members: [5, 6])
        #expect(problems.count == 2)
        #expect(problems.contains { $0.contains("99") })
        #expect(problems.contains { $0.contains("6") && $0.contains("not placed") })
        #expect(DashboardCheck.problems(detail, members: [5]).count == 1)
    }

    @Test func closureCarriesEverythingAnImportNeeds() {
        let bundle = promotionBundle()
        let c = bundle.closure(.dashboard, uuids: ["dash-1"])
        #expect(c.count == 5)
        #expect(c.unresolvedReferences().isEmpty)
        #expect(bundle.closure(.chart, uuids: ["chart-a"]).count == 3)
        #expect(bundle.closure(.dataset, uuids: ["ds-1"]).count == 2)
    }
}
