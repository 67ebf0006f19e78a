import Foundation
import Testing
import ZIPFoundation
@testable import SupersetKit

/// YAML inside a bundle is read within bounds: aliases counted at the size they repeat, nesting
/// depth, integers inside Int64. Each hostile file is refused with a `BundleError` naming it.
@Suite struct YAMLBoundsTests {
    private func bundleZip(_ files: [(String, String)]) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (path, text) in [("x/metadata.yaml", "version: 1.0.0\ntype: Dashboard\n")] + files {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { pos, size in
                data.subdata(in: Int(pos)..<Int(pos) + size)
            }
        }
        return try #require(archive.data)
    }

    /// Nine levels of nine aliases: about 387 million nodes from 400 bytes.
    static let billionLaughs = """
        uuid: 00000000-0000-0000-0000-00000000dead
        slice_name: laughs
        a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
        f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
        g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
        h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
        i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
        """

    @Test func aBillionLaughsFileInABundleIsRefusedByName() throws {
        let zip = try bundleZip([("x/charts/laughs.yaml", Self.billionLaughs)])
        #expect(throws: BundleError.yamlTooLarge(path: "charts/laughs.yaml", limit: BundleLimits.default.maxYAMLNodes)) {
            try BundleReader().read(zip)
        }
    }

    /// A 1 MB anchored string repeated by 100,000 aliases is a 1.5 MB file that would expand to
    /// 100 GB wherever the bundle is walked: its weight counts at every alias.
    @Test func aliasesOfAHugeStringCountItsSize() throws {
        let big = (0..<30_000).map { _ in UUID().uuidString }.joined()  // about 1 MB that doesn't compress away
        let yaml = "uuid: a\nbig: &s \"\(big)\"\nitems: [" + Array(repeating: "*s", count: 100_000).joined(separator: ", ") + "]\n"
        let zip = try bundleZip([("x/charts/huge.yaml", yaml)])
        #expect(throws: BundleError.yamlTooLarge(path: "charts/huge.yaml", limit: BundleLimits.default.maxYAMLNodes)) {
            try BundleReader().read(zip)
        }
    }

    @Test func filesUnderThePerFileBoundStillShareTheArchiveBudget() throws {
        // Each file makes 55 nodes; together with metadata.yaml they pass a budget of 100.
        let list = (1...50).map(String.init).joined(separator: ", ")
        let zip = try bundleZip([("x/charts/a.yaml", "uuid: a\nitems: [\(list)]\n"), ("x/charts/b.yaml", "uuid: b\nitems: [\(list)]\n")])
        var limits = BundleLimits()
        limits.maxYAMLNodes = 100
        #expect(throws: Never.self) { try BundleReader(limits: limits).read(zip) }
        limits.maxYAMLTotalNodes = 100
        #expect {
            try BundleReader(limits: limits).read(zip)
        } throws: { error in
            guard case BundleError.tooLarge(let message) = error else { return false }
            return message.contains("charts/b.yaml")
        }
    }

    @Test func deepNestingIsRefusedByName() throws {
        let deep = "uuid: d\nx: " + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000) + "\n"
        let zip = try bundleZip([("x/datasets/deep.yaml", deep)])
        #expect(throws: BundleError.yamlTooDeep(path: "datasets/deep.yaml", limit: 128)) { try BundleReader().read(zip) }
        // Nesting within the bound reads.
        let fine = "uuid: d\nx: " + String(repeating: "[", count: 100) + "1" + String(repeating: "]", count: 100) + "\n"
        #expect(throws: Never.self) { try BundleReader().read(try bundleZip([("x/datasets/fine.yaml", fine)])) }
    }

    @Test func aThirtyDigitIntegerIsAnErrorNamingFileAndValue() throws {
        let zip = try bundleZip([("x/charts/a.yaml", "uuid: a\nslice_name: big\ncache_timeout: 123456789012345678901234567890\n")])
        #expect(throws: BundleError.integerOutOfRange(path: "charts/a.yaml", value: "123456789012345678901234567890")) {
            try BundleReader().read(zip)
        }
        let error = BundleError.integerOutOfRange(path: "charts/a.yaml", value: "123456789012345678901234567890")
        #expect(error.errorDescription?.contains("charts/a.yaml") == true)
        #expect(error.errorDescription?.contains("123456789012345678901234567890") == true)
    }

    @Test(arguments: ["9223372036854775808", "-9223372036854775809", "0x1_0000_0000_0000_0000", "0o1000000000000000000000", "9999999999999999:00:00"])
    func integersOutsideInt64AreErrors(text: String) {
        #expect(throws: BundleError.integerOutOfRange(path: "t.yaml", value: text)) { try BundleValue.parseYAML("n: \(text)", path: "t.yaml") }
    }

    @Test func aLongIntegerIsShortenedInTheError() {
        let digits = String(repeating: "9", count: 5_000)
        #expect(throws: BundleError.integerOutOfRange(path: "t.yaml", value: String(repeating: "9", count: 24) + "… (5000 characters)")) {
            try BundleValue.parseYAML("n: \(digits)", path: "t.yaml")
        }
    }

    @Test func integersAtTheEdgesAndLookalikesKeepTheirTypes() throws {
        let v = try BundleValue.parseYAML("""
            max: 9223372036854775807
            min: -9223372036854775808
            zero: -0
            octal: 012
            sexagesimal: 1:30
            quoted: '123456789012345678901234567890'
            tagged: !!str 123456789012345678901234567890
            float: 123456789012345678901234567890.5
            hex: 0x_
            """, path: "t.yaml")
        #expect(v["max"] == .int(Int.max))
        #expect(v["min"] == .int(Int.min))
        #expect(v["zero"] == .int(0))
        #expect(v["octal"] == .int(10))
        #expect(v["sexagesimal"] == .int(90))
        #expect(v["quoted"] == .string("123456789012345678901234567890"))
        #expect(v["tagged"] == .string("123456789012345678901234567890"))
        #expect(v["float"]?.doubleValue == 123456789012345678901234567890.5)
        #expect(v["hex"] == .string("0x_"), "no digits: kept as text, as before")
        #expect(throws: BundleError.integerOutOfRange(path: "t.yaml", value: "123456789012345678901234567890")) {
            try BundleValue.parseYAML("n: !!int 123456789012345678901234567890", path: "t.yaml")
        }
    }

    @Test func aliasesWithinTheBoundsExpandAsBefore() throws {
        let v = try BundleValue.parseYAML("""
            base: &base {metric: count, label: &label Count}
            copy: *base
            list: [*label, *label]
            *label : keyed by an alias
            """, path: "t.yaml")
        #expect(v["copy"] == .map(["metric": .string("count"), "label": .string("Count")]))
        #expect(v["list"] == .list([.string("Count"), .string("Count")]))
        #expect(v["Count"] == .string("keyed by an alias"))
    }

    @Test func malformedYAMLStillNamesTheFileAndPlace() throws {
        #expect {
            try BundleValue.parseYAML("a: [unclosed", path: "charts/a.yaml")
        } throws: { error in
            guard case BundleError.invalidYAML(let path, let message) = error else { return false }
            return path == "charts/a.yaml" && message.contains("line ") && message.contains("did not find expected ',' or ']'")
        }
        #expect(throws: BundleError.self) { try BundleValue.parseYAML("a: *nowhere", path: "t.yaml") }
        #expect(throws: BundleError.self) { try BundleValue.parseYAML("a: 1\n---\nb: 2\n", path: "t.yaml") }
        #expect(throws: BundleError.self) { try BundleValue.parseYAML("[a, b]: 1", path: "t.yaml") }
        #expect(try BundleValue.parseYAML("", path: "t.yaml") == .null)
    }

    @Test func aRealExportStillReadsWithTheSameValues() throws {
        // The fixture (Superset 6.1.0) read through the bounded composer: typed scalars, nested maps.
        let bundle = try BundleReader().read(try fixtureExport())
        #expect(bundle.count == 7)
        let dataset = try #require(bundle.datasets.first)
        #expect(dataset["columns"]?.listValue?.isEmpty == false)
        #expect(dataset["metrics"]?.listValue?.first?["metric_name"]?.stringValue?.isEmpty == false)
        let overview = try #require(bundle.dashboards.first { $0.name == "Sales overview" })
        #expect(overview["metadata"]?["native_filter_configuration"]?.listValue?.count == 1)
        #expect(overview["position"]?.mapValue?.values.contains { $0["meta"]?["chartId"]?.intValue != nil } == true)
    }
}
