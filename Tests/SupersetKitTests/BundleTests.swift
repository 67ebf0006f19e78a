import Foundation
import Testing
import ZIPFoundation
@testable import SupersetKit

/// A real export made by Superset 6.1.0 from the test seed (two dashboards, three charts).
func fixtureExport() throws -> Data {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/dashboard_export.zip")
    return try Data(contentsOf: url)
}

@Suite struct BundleReadWriteTests {
    @Test func readsARealExportIntoTypedAssets() throws {
        let bundle = try BundleReader().read(try fixtureExport())
        #expect(bundle.metadata["type"] == .string("Dashboard"))
        #expect(bundle.databases.map(\.name) == ["Sales"])
        #expect(bundle.datasets.map(\.name) == ["sales"])
        #expect(Set(bundle.charts.map(\.name)) == ["Sales by region", "Sales by product", "Total sales"])
        #expect(Set(bundle.dashboards.map(\.name)) == ["Sales overview", "Executive summary"])
        let overview = try #require(bundle.dashboards.first { $0.name == "Sales overview" })
        #expect(overview.chartUUIDsInLayout.count == 3)
        #expect(Set(overview.chartUUIDsInLayout) == Set(bundle.charts.map(\.uuid)))
        #expect(overview.filterDatasetUUIDs == [bundle.datasets[0].uuid])
        #expect(bundle.datasets[0].databaseUUID == bundle.databases[0].uuid)
        #expect(bundle.unresolvedReferences().isEmpty)
    }

    @Test func keepsFieldsFerryDoesNotModel() throws {
        let bundle = try BundleReader().read(try fixtureExport())
        let chart = try #require(bundle.charts.first)
        // query_context is a JSON string with source ids; it must survive untouched.
        #expect(chart["query_context"]?.stringValue?.contains("\"datasource\"") == true)
        #expect(chart["params"] != nil)
        #expect(bundle.databases[0]["sqlalchemy_uri"]?.stringValue?.hasPrefix("sqlite:///") == true)
    }

    @Test func roundTripGivesIdenticalAssetsAndBytes() throws {
        let original = try BundleReader().read(try fixtureExport())
        let writer = BundleWriter(topFolder: "ferry_test")
        let first = try writer.write(original)
        let reread = try BundleReader().read(first)
        #expect(reread == original)
        let second = try writer.write(reread)
        #expect(first == second, "writing the same content twice must give identical bytes")
    }

    @Test func fileNamesCarryNoSourceIds() throws {
        let bundle = try BundleReader().read(try fixtureExport())
        let paths = try BundleWriter().files(bundle).map(\.0)
        #expect(paths.first == "metadata.yaml")
        #expect(paths.contains { $0.hasPrefix("databases/Sales_") })
        for asset in bundle.charts {
            let path = BundleWriter.path(of: asset, in: bundle)
            #expect(path.hasSuffix("_\(asset.uuid.prefix(8)).yaml"))
            #expect(!path.hasSuffix("_1.yaml") && !path.hasSuffix("_2.yaml") && !path.hasSuffix("_3.yaml"))
        }
    }

    /// A whole number too large for Int (1e300 from a request or a Superset) is no Int, where a
    /// bare conversion would trap and end the process.
    @Test func hugeWholeNumbersAreNoInt() throws {
        #expect(BundleValue.double(1e300).intValue == nil)
        #expect(BundleValue.double(-9.3e18).intValue == nil)
        #expect(try BundleValue.parseJSON("1e300").intValue == nil)
        #expect(BundleValue.double(42).intValue == 42)
        #expect(BundleValue.double(1.5).intValue == nil)
    }

    @Test func stringsThatLookLikeNumbersStayStrings() throws {
        var bundle = AssetBundle()
        bundle.insert(Asset(kind: .database, fields: [
            "uuid": .string("00000000-0000-0000-0000-000000000001"), "database_name": .string("123"),
            "flag": .string("true"), "nothing": .string("null"), "n": .int(7), "x": .double(1.5), "b": .bool(false),
            "nested": .map(["list": .list([.string("1"), .int(1), .null])]),
        ]))
        let reread = try BundleReader().read(try BundleWriter().write(bundle))
        #expect(reread == bundle)
    }

    @Test func subsetForChartImportDropsDashboards() throws {
        let bundle = try BundleReader().read(try fixtureExport())
        let charts = bundle.subset(for: .chart)
        #expect(charts.dashboards.isEmpty)
        #expect(charts.charts.count == 3)
        #expect(charts.metadata["type"] == .string("Slice"))
    }

    @Test func closureCheckFindsMissingFiles() throws {
        var bundle = try BundleReader().read(try fixtureExport())
        let db = bundle.databases[0].uuid
        bundle.remove(.database, uuid: db)
        let problems = bundle.unresolvedReferences()
        #expect(problems.count == 1)
        #expect(problems[0].contains(db))
    }

    @Test func mergeUnionsByUUID() throws {
        let a = try BundleReader().read(try fixtureExport())
        var b = AssetBundle()
        var changed = a.charts[0]
        changed.name = "Renamed"
        b.insert(changed)
        var merged = a
        merged.merge(b)
        #expect(merged.count == a.count)
        #expect(merged.asset(.chart, uuid: changed.uuid)?.name == "Renamed")
    }
}

/// Archives built by hand to attack the reader.
@Suite struct HostileArchiveTests {
    func zip(_ entries: [(String, Data)], symlink: String? = nil, compression: CompressionMethod = .deflate) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (path, data) in entries {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: compression) { pos, size in
                data.subdata(in: Int(pos)..<Int(pos) + size)
            }
        }
        if let symlink {
            let target = Data("/etc/passwd".utf8)
            try archive.addEntry(with: symlink, type: .symlink, uncompressedSize: Int64(target.count)) { pos, size in
                target.subdata(in: Int(pos)..<Int(pos) + size)
            }
        }
        return archive.data!
    }

    let meta = Data("version: 1.0.0\ntype: Dashboard\n".utf8)

    @Test func notAZip() {
        #expect(throws: BundleError.notAZip) { try BundleReader().read(Data("hello".utf8)) }
    }

    @Test(arguments: ["../evil.yaml", "x/../../evil.yaml", "/etc/evil.yaml", "x\\..\\evil.yaml", "C:/evil.yaml", "x/./y.yaml"])
    func zipSlipAndAbsolutePaths(path: String) throws {
        let data = try zip([("x/metadata.yaml", meta), (path, Data("a: 1".utf8))])
        #expect(throws: BundleError.unsafePath(path)) { try BundleReader().read(data) }
    }

    @Test func symbolicLinks() throws {
        let data = try zip([("x/metadata.yaml", meta)], symlink: "x/databases/link.yaml")
        #expect(throws: BundleError.link("x/databases/link.yaml")) { try BundleReader().read(data) }
    }

    @Test func compressionBomb() throws {
        let zeros = Data(count: 8 << 20)  // 8 MiB of zeros deflate to a few KiB
        let data = try zip([("x/metadata.yaml", meta), ("x/charts/bomb.yaml", zeros)])
        #expect(throws: BundleError.compressionBomb("x/charts/bomb.yaml")) { try BundleReader().read(data) }
    }

    @Test func oversizeEntryAndArchive() throws {
        var limits = BundleLimits()
        limits.maxEntryBytes = 1000
        let big = Data((0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let data = try zip([("x/metadata.yaml", meta), ("x/charts/big.yaml", big)], compression: .none)
        #expect(throws: BundleError.self) { try BundleReader(limits: limits).read(data) }
        limits = BundleLimits()
        limits.maxArchiveBytes = 100
        #expect(throws: BundleError.self) { try BundleReader(limits: limits).read(data) }
    }

    @Test func tooManyEntries() throws {
        var limits = BundleLimits()
        limits.maxEntries = 3
        let entries = (0..<5).map { ("x/charts/c\($0).yaml", Data("uuid: u\($0)".utf8)) }
        let data = try zip([("x/metadata.yaml", meta)] + entries)
        #expect(throws: BundleError.tooManyEntries(3)) { try BundleReader(limits: limits).read(data) }
    }

    @Test func missingMetadataOrTopFolder() throws {
        #expect(throws: BundleError.missingMetadata) {
            try BundleReader().read(try zip([("x/charts/a.yaml", Data("uuid: a".utf8))]))
        }
        #expect(throws: BundleError.noTopFolder) {
            try BundleReader().read(try zip([("metadata.yaml", meta)]))
        }
        #expect(throws: BundleError.noTopFolder) {
            try BundleReader().read(try zip([("x/metadata.yaml", meta), ("y/charts/a.yaml", Data("uuid: a".utf8))]))
        }
    }

    @Test func invalidYAMLAndMissingUUIDNameTheFile() throws {
        let bad = try zip([("x/metadata.yaml", meta), ("x/charts/a.yaml", Data("a: [unclosed".utf8))])
        #expect {
            try BundleReader().read(bad)
        } throws: { error in
            guard case BundleError.invalidYAML(let path, _) = error else { return false }
            return path == "charts/a.yaml"
        }
        let noUUID = try zip([("x/metadata.yaml", meta), ("x/charts/a.yaml", Data("slice_name: x".utf8))])
        #expect(throws: BundleError.missingField(path: "charts/a.yaml", field: "uuid")) { try BundleReader().read(noUUID) }
    }

    @Test func lyingSizeHeaderIsCaughtWhileExpanding() throws {
        // A stored entry whose central directory claims fewer bytes than the data holds is refused
        // (either by the size bound or by the archive library's own CRC/size check), never loaded whole.
        var data = try zip([("x/metadata.yaml", meta), ("x/charts/a.yaml", Data(repeating: 0x61, count: 5000))], compression: .none)
        // Patch both headers' uncompressed size fields for the second entry to 10 bytes.
        let name = Data("x/charts/a.yaml".utf8)
        var searchStart = data.startIndex
        while let range = data.range(of: name, in: searchStart..<data.endIndex) {
            let headerStart = range.lowerBound - (data[range.lowerBound - 46 ..< range.lowerBound - 42] == Data([0x50, 0x4b, 0x01, 0x02]) ? 46 : 30)
            let sig = data[headerStart..<headerStart + 4]
            let offset = sig == Data([0x50, 0x4b, 0x03, 0x04]) ? 22 : 24
            data.replaceSubrange(headerStart + offset..<headerStart + offset + 4, with: [10, 0, 0, 0])
            searchStart = range.upperBound
        }
        #expect(throws: (any Error).self) { try BundleReader().read(data) }
    }
}

@Suite struct YAMLScalarTests {
    @Test func plainScalarsAreTypedLikeYAML11AndQuotedOnesStayStrings() throws {
        let v = try BundleValue.parseYAML("""
            a: 1
            b: '1'
            c: 1.5
            d: yes
            e: ~
            f: 2024-01-01
            g: -42
            h: "true"
            i: 1e3
            j: Sales by region
            k:
            l: .5
            m: 12:30
            n: 0x1F
            """, path: "t.yaml")
        #expect(v["a"] == .int(1))
        #expect(v["b"] == .string("1"))
        #expect(v["c"] == .double(1.5))
        #expect(v["d"] == .bool(true))
        #expect(v["e"] == .null)
        #expect(v["f"] == .string("2024-01-01"), "timestamps stay text")
        #expect(v["g"] == .int(-42))
        #expect(v["h"] == .string("true"))
        #expect(v["i"] == .double(1000))
        #expect(v["j"] == .string("Sales by region"))
        #expect(v["k"] == .null)
        #expect(v["l"] == .double(0.5))
        #expect(v["n"] == .int(31))
    }
}
