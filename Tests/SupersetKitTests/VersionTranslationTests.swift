import Foundation
import Testing

@testable import SupersetKit

/// Release numbers, the importer field table, and the translation of a bundle between releases.
@Suite struct VersionTranslationTests {
    @Test func releaseNumbersParseAndOrder() {
        #expect(SupersetVersion("6.1.0") == SupersetVersion(6, 1, 0))
        #expect(SupersetVersion("5.0.0rc2") == SupersetVersion(5, 0, 0))
        #expect(SupersetVersion("v4.1.4") == SupersetVersion(4, 1, 4))
        #expect(SupersetVersion("6.1.0-fake") == SupersetVersion(6, 1, 0))
        #expect(SupersetVersion("6.1") == SupersetVersion(6, 1, 0))
        for bad in ["unknown", "", "6", "x.1.0", "unknown (uploaded)", "9999999.1.0"] { #expect(SupersetVersion(bad) == nil, "\(bad)") }
        #expect(SupersetVersion(4, 1, 4) < SupersetVersion(5, 0, 0))
        #expect(SupersetVersion(5, 0, 0) < SupersetVersion(6, 1, 0))
        #expect(SupersetVersion(6, 1, 0) < SupersetVersion(6, 1, 3))
    }

    /// 4.1 and 5.0 have no `/version`: their sign-in page's escaped bootstrap data says it.
    @Test func theReleaseIsReadFromASignInPagesBootstrapData() {
        let page = #"<div id="app" data-bootstrap="{&#34;common&#34;: {&#34;menu_data&#34;: {&#34;navbar_right&#34;: {&#34;version_string&#34;: &#34;5.0.0&#34;, &#34;version_sha&#34;: &#34;&#34;}}}}"></div>"#
        #expect(SupersetClient.bootstrapVersion(in: Data(page.utf8)) == "5.0.0")
        #expect(SupersetClient.bootstrapVersion(in: Data(#"{"version_string": "4.1.4"}"#.utf8)) == "4.1.4")
        #expect(SupersetClient.bootstrapVersion(in: Data("<html>Welcome to nginx!</html>".utf8)) == nil)
        #expect(SupersetClient.bootstrapVersion(in: Data(("&#34;version_string&#34;: &#34;" + String(repeating: "9", count: 500) + "&#34;").utf8)) == nil)
    }

    @Test func eachReleaseResolvesToItsSchemaAndOthersAreRefusedOrApproximated() {
        #expect(ImportSchema.resolve(SupersetVersion("4.1.4")) == .known(.v4_1, exact: true))
        #expect(ImportSchema.resolve(SupersetVersion("5.0.1")) == .known(.v5_0, exact: true))
        #expect(ImportSchema.resolve(SupersetVersion("6.1.3")) == .known(.v6_1, exact: true))
        // Between two known releases: the older one's fields, which it accepts too.
        #expect(ImportSchema.resolve(SupersetVersion("6.0.0")) == .known(.v5_0, exact: false))
        #expect(ImportSchema.resolve(SupersetVersion("4.0.2")) == .tooOld(SupersetVersion(4, 0, 2)))
        #expect(ImportSchema.resolve(SupersetVersion("6.2.0")) == .tooNew(SupersetVersion(6, 2, 0)))
        #expect(ImportSchema.resolve(SupersetVersion("7.0.0")) == .tooNew(SupersetVersion(7, 0, 0)))
        #expect(ImportSchema.resolve(nil) == .unknown)
        // Each release accepts what the one before did (the table is cumulative).
        for (older, newer) in zip(ImportSchema.known, ImportSchema.known.dropFirst()) {
            for part in ImportPart.allCases { #expect((older.fields[part] ?? []).isSubset(of: newer.fields[part] ?? []), "\(part)") }
        }
    }

    /// A bundle as 6.1 exports it, with values in the fields older importers refuse.
    static func sixOneBundle() -> AssetBundle {
        var bundle = AssetBundle()
        bundle.insert(Asset(kind: .database, fields: [
            "database_name": .string("Sales"), "sqlalchemy_uri": .string("postgresql://u:XXXXXXXXXX@db/sales"), "uuid": .string("db-1"),
            "version": .string("1.0.0"), "impersonate_user": .bool(true), "configuration_method": .string("sqlalchemy_form"),
            "encrypted_extra": .string("{\"credentials_info\": {\"private_key\": \"secret\"}}"), "extra": .map([:]),
        ]))
        bundle.insert(Asset(kind: .dataset, fields: [
            "table_name": .string("orders"), "uuid": .string("ds-1"), "database_uuid": .string("db-1"), "schema": .string("main"),
            "currency_code_column": .string("currency"), "folders": .null, "source_db_engine": .string("sqlite"), "data_file": .null,
            "columns": .list([
                .map(["column_name": .string("sold_at"), "type": .string("TEXT"), "datetime_format": .string("%Y-%m-%d")]),
                .map(["column_name": .string("region"), "type": .string("TEXT"), "datetime_format": .null]),
            ]),
            "metrics": .list([.map(["metric_name": .string("count"), "expression": .string("COUNT(*)"), "currency": .null])]),
            "version": .string("1.0.0"),
        ]))
        bundle.insert(Asset(kind: .chart, fields: [
            "slice_name": .string("Orders"), "uuid": .string("ch-1"), "dataset_uuid": .string("ds-1"), "viz_type": .string("table"),
            "params": .map([:]), "tags": .list([]), "version": .string("1.0.0"),
        ]))
        bundle.insert(Asset(kind: .dashboard, fields: [
            "dashboard_title": .string("Sales"), "uuid": .string("da-1"), "position": .map([:]), "metadata": .map([:]),
            "theme_uuid": .string("th-1"), "theme_id": .int(3), "tags": .null, "version": .string("1.0.0"),
        ]))
        return bundle
    }

    /// Every key of every file, and of every dataset column and metric, is one `schema` accepts.
    static func accepted(_ bundle: AssetBundle, by schema: ImportSchema) -> [String] {
        var unknown: [String] = []
        for kind in AssetKind.allCases {
            for asset in bundle.all(kind) {
                unknown += asset.fields.keys.filter { !schema.accepts($0, in: ImportPart(kind)) }.map { "\(kind) \($0)" }
                for (key, part) in [("columns", ImportPart.column), ("metrics", .metric)] where kind == .dataset {
                    for entry in asset[key]?.listValue ?? [] {
                        unknown += (entry.mapValue ?? [:]).keys.filter { !schema.accepts($0, in: part) }.map { "\(key) \($0)" }
                    }
                }
            }
        }
        return unknown
    }

    @Test func aDowngradeTo50RemovesWhatItRefusesAndListsEveryValueLost() {
        let (out, report) = BundleTranslator(target: .v5_0, source: .v6_1).translate(Self.sixOneBundle())
        #expect(Self.accepted(out, by: .v5_0).isEmpty, "\(Self.accepted(out, by: .v5_0))")
        #expect(out.count == 4 && out.dataset("ds-1")?.databaseUUID == "db-1" && out.asset(.chart, uuid: "ch-1")?.datasetUUID == "ds-1")
        let losses = Dictionary(uniqueKeysWithValues: report.map { ("\($0.kind) \($0.uuid)", $0.losses) })
        #expect(losses["dataset ds-1"] == [
            FieldLoss(field: "currency_code_column", value: "currency"),
            FieldLoss(field: "columns[sold_at].datetime_format", value: "%Y-%m-%d"),
        ])
        // theme_id is the source's row id, travelling as theme_uuid: only the uuid is a loss.
        #expect(losses["dashboard da-1"] == [FieldLoss(field: "theme_uuid", value: "th-1")])
        // 5.0 has impersonate_user; the credentials can't travel in any bundle.
        #expect(losses["database db-1"] == [FieldLoss(field: "encrypted_extra", value: "[redacted]", reason: .credentials)])
        #expect(losses["chart ch-1"] == nil, "an empty tag list carries nothing")
        #expect(out.asset(.database, uuid: "db-1")?["impersonate_user"] == .bool(true))
        #expect(report.allSatisfy { $0.defaulted.isEmpty }, "a downgrade takes no defaults")
    }

    @Test func aDowngradeTo41AlsoLosesTheImpersonationSetting() {
        let (out, report) = BundleTranslator(target: .v4_1, source: .v6_1).translate(Self.sixOneBundle())
        #expect(Self.accepted(out, by: .v4_1).isEmpty)
        let database = report.first { $0.kind == .database }?.losses ?? []
        #expect(database.contains(FieldLoss(field: "impersonate_user", value: "true", reason: .securitySetting)))
        #expect(!database.contains { $0.field == "configuration_method" }, "the default form carries nothing")
        // Off is what 4.1 does anyway: nothing lost.
        var off = Self.sixOneBundle()
        var db = off.databases[0]
        db["impersonate_user"] = .bool(false)
        off.insert(db)
        #expect(BundleTranslator(target: .v4_1).translate(off).assets.first { $0.kind == .database }?.losses.contains { $0.field == "impersonate_user" } == false)
    }

    @Test func theSameReleaseChangesNothing() {
        let bundle = Self.sixOneBundle()
        let (out, report) = BundleTranslator(target: .v6_1, source: .v6_1).translate(bundle)
        #expect(out == bundle)
        #expect(report.isEmpty)
    }

    @Test func anUpgradeNamesTheFieldsThatTakeTheTargetsDefaults() {
        let (down, _) = BundleTranslator(target: .v4_1).translate(Self.sixOneBundle())
        let (out, report) = BundleTranslator(target: .v6_1, source: .v4_1).translate(down)
        #expect(out == down, "an upgrade removes nothing")
        let dataset = report.first { $0.kind == .dataset }
        #expect(dataset?.losses.isEmpty == true)
        // theme_id, data_file and source_db_engine describe the source: no default to speak of.
        #expect(dataset?.defaulted == ["currency_code_column", "folders", "columns[].datetime_format"])
        #expect(report.first { $0.kind == .dashboard }?.defaulted == ["tags", "theme_uuid"])
        #expect(report.first { $0.kind == .database }?.defaulted.contains("impersonate_user") == true)
        // Unknown source release: no guess at what is new.
        #expect(BundleTranslator(target: .v6_1).translate(down).assets.isEmpty)
    }

    @Test func lossesAreAttachedToWrittenItemsAndMustBeAccepted() {
        let (_, report) = BundleTranslator(target: .v5_0, source: .v6_1).translate(Self.sixOneBundle())
        var items = [
            PlanItem(kind: .dataset, uuid: "ds-1", name: "orders", action: .create),
            PlanItem(kind: .dashboard, uuid: "da-1", name: "Sales", action: .unchanged),
            PlanItem(kind: .chart, uuid: "ch-1", name: "Orders", action: .update),
        ]
        PlanItem.attach(report, to: &items)
        #expect(items[0].losses?.count == 2)
        #expect(items[1].losses == nil, "kept as the target has it: nothing is lost")
        #expect(items[2].losses == nil)
        #expect(PromotionPlanner.refusal(items, acceptShared: false, acceptLosses: false) == .lossesNotAccepted(values: 2, assets: 1))
        #expect(PromotionPlanner.refusal(items, acceptShared: false, acceptLosses: true) == nil)
        // A plan stored before losses existed decodes with none.
        let old = #"[{"kind":"dataset","uuid":"ds-1","name":"orders","action":"create","reasons":[],"blocking":false}]"#
        let decoded = try? JSONDecoder().decode([PlanItem].self, from: Data(old.utf8))
        #expect(decoded?.first?.losses == nil && decoded?.first?.defaulted == nil)
    }

    /// A real 6.1.0 export (the fixture) goes to 4.1 with every key accepted: its nulls lose nothing.
    @Test func aReal61ExportTranslatesTo41WithNothingLost() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/dashboard_export.zip")
        let bundle = try BundleReader().read(Data(contentsOf: url))
        #expect(Self.accepted(bundle, by: .v6_1).isEmpty, "the 6.1 table knows every field 6.1 exports: \(Self.accepted(bundle, by: .v6_1))")
        #expect(!Self.accepted(bundle, by: .v4_1).isEmpty, "6.1's export has fields 4.1 refuses")
        let (out, report) = BundleTranslator(target: .v4_1, source: .v6_1).translate(bundle)
        #expect(Self.accepted(out, by: .v4_1).isEmpty)
        #expect(report.allSatisfy { $0.losses.isEmpty }, "\(report.flatMap { $0.losses })")
    }
}

private extension AssetBundle {
    func dataset(_ uuid: String) -> Asset? { asset(.dataset, uuid: uuid) }
}
