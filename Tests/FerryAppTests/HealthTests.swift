import Foundation
import SupersetKit
import Testing

@testable import FerryApp

/// The parts of dashboard checks that need no Superset and no browser: PNG decoding and
/// comparison, the screenshots folder, and how findings become a verdict.
@Suite struct HealthTests {
    /// A PNG of `pixels` (RGBA rows), each row written with the filter `filters[y % count]`,
    /// the way an encoder would (so decoding must undo every filter type).
    static func png(width: Int, height: Int, rgba pixels: [UInt8], filters: [UInt8] = [0, 1, 2, 3, 4]) throws -> Data {
        let stride = width * 4
        var raw: [UInt8] = []
        for y in 0..<height {
            let filter = filters[y % filters.count]
            raw.append(filter)
            for x in 0..<stride {
                let v = Int(pixels[y * stride + x])
                let a = x >= 4 ? Int(pixels[y * stride + x - 4]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * stride + x]) : 0
                let c = (x >= 4 && y > 0) ? Int(pixels[(y - 1) * stride + x - 4]) : 0
                let predicted: Int
                switch filter {
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: predicted = 0
                }
                raw.append(UInt8(truncatingIfNeeded: v - predicted))
            }
        }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let n = UInt32(body.count)
            return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + Array(type.utf8) + body + [0, 0, 0, 0]
        }
        let w = UInt32(width), h = UInt32(height)
        let ihdr: [UInt8] = [UInt8(w >> 24), UInt8(w >> 16 & 0xff), UInt8(w >> 8 & 0xff), UInt8(w & 0xff),
                             UInt8(h >> 24), UInt8(h >> 16 & 0xff), UInt8(h >> 8 & 0xff), UInt8(h & 0xff), 8, 6, 0, 0, 0]
        let idat = [0x78, 0x9c] + [UInt8](try Deflate.compress(Data(raw))) + [0, 0, 0, 0]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", []))
    }

    static func gradient(width: Int, height: Int, seed: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width { out += [UInt8((x * 7 + seed) & 0xff), UInt8((y * 13) & 0xff), UInt8((x * y + seed) & 0xff), 255] }
        }
        return out
    }

    @Test func decodesEveryFilterTypeExactly() throws {
        let pixels = Self.gradient(width: 37, height: 23)
        let image = try PNGImage(try Self.png(width: 37, height: 23, rgba: pixels))
        #expect(image.width == 37 && image.height == 23)
        #expect(image.pixels == pixels)
    }

    @Test func refusesWhatIsNoScreenshot() throws {
        #expect(throws: PNGImage.Unsupported.self) { try PNGImage(Data("GIF89a".utf8)) }
        // A header claiming a giant image is refused before anything is inflated.
        var bomb = try Self.png(width: 4, height: 4, rgba: Self.gradient(width: 4, height: 4))
        bomb.replaceSubrange(16..<24, with: [0, 0, 0x7f, 0xff, 0, 0, 0x7f, 0xff])
        #expect(throws: PNGImage.Unsupported.self) { try PNGImage(bomb) }
        // Cut short: the truncated chunk is named, nothing traps.
        let whole = try Self.png(width: 8, height: 8, rgba: Self.gradient(width: 8, height: 8))
        #expect(throws: (any Error).self) { try PNGImage(whole.prefix(whole.count - 20)) }
    }

    @Test func measuresTheShareOfChangedPixels() throws {
        let a = PNGImage(width: 10, height: 10, pixels: Self.gradient(width: 10, height: 10))
        #expect(a.percentChanged(from: a) == 0)
        var b = a
        for i in 0..<25 { b.pixels[i * 4] = b.pixels[i * 4] &+ 128 }  // 25 of 100 pixels
        #expect(b.percentChanged(from: a) == 25)
        // Taller by half: the extra rows count as changed.
        let taller = PNGImage(width: 10, height: 15, pixels: Self.gradient(width: 10, height: 15))
        #expect(taller.percentChanged(from: a) == 33.3)
        // Small differences (anti-aliasing) are not changes.
        var faint = a
        for i in 0..<100 { faint.pixels[i * 4 + 1] = faint.pixels[i * 4 + 1] &+ 10 }
        #expect(faint.percentChanged(from: a) == 0)
    }

    @Test func screenshotsAreNamedByCheckAndPrunedToTheQuotaKeepingTheLastPass() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-health-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shots = HealthScreenshots(storageRoot: dir)
        let png = try Self.png(width: 4, height: 4, rgba: Self.gradient(width: 4, height: 4))
        var refs: [HealthScreenshotRef] = []
        for i in 0..<4 { refs.append(try shots.save(png, check: UUID(), index: 0, tab: i == 0 ? nil : "Tab \(i)")) }
        #expect(refs.allSatisfy { HealthScreenshots.isValidName($0.file) && shots.load($0.file) == png })
        let mode = try FileManager.default.attributesOfItem(atPath: shots.root.appendingPathComponent(refs[0].file).path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // Names that are not ours are never read.
        for bad in ["../ferry.sqlite", "\(UUID().uuidString)-0.png/../../x", "x.png", ""] { #expect(shots.load(bad) == nil) }
        // Over the quota: the oldest go first, never a kept one.
        for (i, r) in refs.enumerated() {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: Double(i - 10) * 60)], ofItemAtPath: shots.root.appendingPathComponent(r.file).path)
        }
        let removed = shots.prune(olderThan: 86400, quotaBytes: Int64(png.count * 2), keep: [refs[0].file])
        #expect(removed == 2)
        #expect(shots.load(refs[0].file) != nil, "the kept (last passing) one stays, though oldest")
        #expect(shots.load(refs[1].file) == nil && shots.load(refs[2].file) == nil)
        #expect(shots.load(refs[3].file) != nil)
        // Past the retention age everything not kept goes.
        #expect(shots.prune(olderThan: 0, quotaBytes: 1 << 30, keep: [refs[0].file]) == 1)
        #expect(shots.load(refs[0].file) != nil)
    }

    @Test func findingsBecomeTheWorstSeverity() {
        let ok = ChartProbe(id: 1, name: "A", milliseconds: 40, rows: 12)
        #expect(DashboardChecker.queryIssues(ok, slowMilliseconds: 1000).isEmpty)
        let empty = DashboardChecker.queryIssues(ChartProbe(id: 2, name: "B", milliseconds: 40, rows: 0), slowMilliseconds: 1000)
        #expect(empty.map(\.kind) == [.emptyResult] && empty.allSatisfy { $0.severity == .warn && $0.chartID == 2 })
        let slow = DashboardChecker.queryIssues(ChartProbe(id: 3, name: "C", milliseconds: 1500, rows: 5), slowMilliseconds: 1000)
        #expect(slow.map(\.kind) == [.slowQuery] && slow.first?.message.contains("1500 ms") == true)
        let failed = DashboardChecker.queryIssues(ChartProbe(id: 4, name: "D", milliseconds: 5, error: "relation \"x\" does not exist"), slowMilliseconds: 1000)
        #expect(failed.map(\.kind) == [.queryFailed] && failed.first?.severity == .fail && failed.first?.chart == "D")
        let legacy = DashboardChecker.queryIssues(ChartProbe(id: 5, name: "E", milliseconds: 5, error: "Chart has no query context saved. Please save the chart again."),
                                                  slowMilliseconds: 1000)
        #expect(legacy.map(\.kind) == [.noSavedQuery] && legacy.first?.severity == .warn)
        #expect(HealthIssue.verdict([]) == .pass)
        #expect(HealthIssue.verdict(empty + slow) == .warn)
        #expect(HealthIssue.verdict(empty + failed + slow) == .fail)
    }

    @Test func aRenderingWithErrorBoxesFailsAndAVisualChangeWarns() {
        let tab = RenderedTab(name: "Sales", png: Data(), chartErrors: [(chartID: 7, chart: "Revenue", message: "relation does not exist")], stillLoading: 1, charts: 3)
        let rendering = Rendering(tabs: [tab], consoleErrors: [BrowserPage.uncaught + "TypeError: x is undefined", "Uncaught in a console.error text is no exception"], milliseconds: 900)
        let issues = DashboardChecker.renderingIssues(rendering, visualChange: 42.5, visualThreshold: 30)
        #expect(issues.contains { $0.kind == .chartErrorBox && $0.severity == .fail && $0.chartID == 7 && $0.tab == "Sales" })
        #expect(issues.contains { $0.kind == .stillLoading && $0.severity == .warn })
        #expect(issues.contains { $0.kind == .consoleError && $0.message.contains("1 uncaught") })
        #expect(issues.contains { $0.kind == .visualChange && $0.message.contains("42.5%") })
        #expect(DashboardChecker.renderingIssues(Rendering(tabs: [], consoleErrors: ["Failed to load resource"], milliseconds: 1), visualChange: 5, visualThreshold: 30).isEmpty)
        // A page whose dashboard never appeared (a sign-in page) is a WARN naming what showed.
        let away = RenderedTab(name: nil, png: Data(), chartErrors: [], stillLoading: 0, charts: 0, notShown: "/login/ (Superset)")
        let missing = DashboardChecker.renderingIssues(Rendering(tabs: [away], consoleErrors: [], milliseconds: 1), visualChange: nil, visualThreshold: 30)
        #expect(missing.map(\.kind) == [.renderFailed] && missing[0].severity == .warn && missing[0].message.contains("/login/ (Superset)"))
    }
}
