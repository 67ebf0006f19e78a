import Foundation
import Testing
@testable import SupersetKit

/// The two real Superset 6.1.0 instances that `scripts/test` starts and seeds.
///
/// When `FERRY_REQUIRE_INTEGRATION=1` (the test command sets it) a missing instance is a failure,
/// not a skip, so a broken harness can't pass as green.
enum Live {
    static let environment = ProcessInfo.processInfo.environment
    static let required = environment["FERRY_REQUIRE_INTEGRATION"] == "1"
    static let available = environment["FERRY_TEST_SUPERSET_DEV_URL"] != nil
    static let enabled = required || available

    struct Instance: Sendable {
        let url: URL
        let manifest: [String: BundleValue]

        func id(_ group: String, _ name: String) throws -> Int {
            try #require(manifest[group]?[name]?["id"]?.intValue, "manifest has no \(group)/\(name)")
        }
        func uuid(_ group: String, _ name: String) throws -> String {
            try #require(manifest[group]?[name]?["uuid"]?.stringValue, "manifest has no uuid for \(group)/\(name)")
        }
        var salesTotal: Double { manifest["sales_total"]?.doubleValue ?? -1 }
        var dashboardCount: Int { manifest["dashboard_count"]?.intValue ?? -1 }
    }

    static func instance(_ name: String) throws -> Instance {
        let upper = name.uppercased()
        let url = try #require(environment["FERRY_TEST_SUPERSET_\(upper)_URL"].flatMap(URL.init(string:)),
                               "FERRY_TEST_SUPERSET_\(upper)_URL is not set: run scripts/test")
        let path = try #require(environment["FERRY_TEST_\(upper)_MANIFEST"], "FERRY_TEST_\(upper)_MANIFEST is not set")
        let manifest = try BundleValue.parseJSON(try Data(contentsOf: URL(fileURLWithPath: path)))
        return Instance(url: url, manifest: manifest.mapValue ?? [:])
    }

    /// One transport for the whole test process, as Ferry shares one per process.
    static let transport = AsyncHTTPClientTransport()

    static func client(_ instance: Instance, password: String = "admin", pageSize: Int = 100, batch: Int = 50) -> SupersetClient {
        var config = SupersetClientConfiguration(baseURL: instance.url, credentials: .init(username: "admin", password: password))
        config.timeout = 30
        config.pageSize = pageSize
        config.exportBatchSize = batch
        return SupersetClient(configuration: config, transport: transport)
    }
}

@Suite(.enabled(if: Live.enabled, "needs the real Superset instances of scripts/test"))
struct LiveSupersetTests {
    @Test func probeReportsVersionLoginAndCSRF() async throws {
        let dev = try Live.instance("dev")
        let probe = try await Live.client(dev).probe()
        #expect(probe.version == "6.1.0")
        #expect(probe.loginOK && probe.csrfOK)
    }

    @Test func wrongPasswordIsBadCredentials() async throws {
        let dev = try Live.instance("dev")
        await #expect {
            try await Live.client(dev, password: "not-the-password").login()
        } throws: { error in
            guard case SupersetError.badCredentials(let m) = error else { return false }
            return !m.contains("not-the-password")
        }
    }

    @Test func listingPagesToTheEnd() async throws {
        let dev = try Live.instance("dev")
        // 122+ dashboards in pages of 25 is at least five pages.
        let dashboards = try await Live.client(dev, pageSize: 25).list(.dashboard)
        #expect(dashboards.count >= dev.dashboardCount)
        #expect(Set(dashboards.map(\.id)).count == dashboards.count)
        let overview = try #require(dashboards.first { $0.detail == "sales-overview" })
        #expect(overview.uuid == (try dev.uuid("dashboards", "sales-overview")))
        #expect(overview.owners.contains { $0.contains("Ada") })
        #expect(overview.changedOn != nil)
        let charts = try await Live.client(dev).list(.chart)
        #expect(Set(charts.map(\.name)).isSuperset(of: ["Sales by region", "Sales by product", "Total sales"]))
        let datasets = try await Live.client(dev).list(.dataset)
        #expect(datasets.contains { $0.name == "sales" && $0.parent == "Sales" })
        let databases = try await Live.client(dev).list(.database)
        #expect(Set(databases.map(\.name)).isSuperset(of: ["Sales", "Warehouse"]))
    }

    @Test func exportInBatchesMergesIntoOneBundle() async throws {
        let dev = try Live.instance("dev")
        let ids = [try dev.id("dashboards", "sales-overview"), try dev.id("dashboards", "executive-summary")]
        // A batch size of 1 forces two exports that must merge, sharing "Total sales".
        let bundle = try await Live.client(dev, batch: 1).export(.dashboard, ids: ids)
        #expect(bundle.dashboards.count == 2)
        #expect(bundle.charts.count == 3)
        #expect(bundle.datasets.count == 1)
        #expect(bundle.databases.map(\.name) == ["Sales"])
        #expect(bundle.unresolvedReferences().isEmpty)
        let overview = try #require(bundle.asset(.dashboard, uuid: try dev.uuid("dashboards", "sales-overview")))
        #expect(overview.chartUUIDsInLayout.count == 3)
        // The same content written twice is byte-identical.
        #expect(try BundleWriter().write(bundle) == (try BundleWriter().write(bundle)))
    }

    @Test func csrfWriteRoundTrips() async throws {
        let prod = try Live.instance("prod")
        let client = Live.client(prod)
        let id = try prod.id("charts", "Sales by product")
        let marker = "written by Ferry's test \(UUID().uuidString.prefix(8))"
        try await client.sendJSON("PUT", "/api/v1/chart/\(id)", body: .map(["description": .string(marker)]))
        let got = try await client.getJSON("/api/v1/chart/\(id)")
        #expect(got["result"]?["description"]?.stringValue == marker)
    }

    @Test func importOverwritesThroughTheDashboardEndpoint() async throws {
        let prod = try Live.instance("prod")
        let client = Live.client(prod)
        let id = try prod.id("dashboards", "executive-summary")
        var bundle = try await client.export(.dashboard, ids: [id])
        let uuid = try prod.uuid("dashboards", "executive-summary")
        var dashboard = try #require(bundle.asset(.dashboard, uuid: uuid))
        let title = "Executive summary \(UUID().uuidString.prefix(6))"
        dashboard.name = title
        bundle.insert(dashboard)
        try await client.importBundle(bundle, as: .dashboard, overwrite: true)
        let got = try await client.getJSON("/api/v1/dashboard/\(id)")
        #expect(got["result"]?["dashboard_title"]?.stringValue == title)
        // Put the title back for anyone reading prod later in the run.
        dashboard.name = "Executive summary"
        bundle.insert(dashboard)
        try await client.importBundle(bundle, as: .dashboard, overwrite: true)
    }

    @Test func importErrorsCarrySupersetsPerFileMessages() async throws {
        let dev = try Live.instance("dev")
        let prod = try Live.instance("prod")
        // The Warehouse connection needs a password; importing it without one must fail with
        // Superset's own message naming the file.
        let bundle = try await Live.client(dev).export(.database, ids: [try dev.id("databases", "Warehouse")])
        let warehouse = try #require(bundle.databases.first)
        let path = BundleWriter.path(of: warehouse, in: bundle)
        await #expect {
            try await Live.client(prod).importBundle(bundle, as: .database, overwrite: true)
        } throws: { error in
            guard case SupersetError.importFailed(let problems) = error else { return false }
            return problems.contains { ($0.path ?? "").hasSuffix(path) && $0.message.lowercased().contains("password") }
        }
    }

    @Test func chartDataRunsTheSavedQuery() async throws {
        let dev = try Live.instance("dev")
        let prod = try Live.instance("prod")
        let devTotal = try await Live.client(dev).chartData(id: try dev.id("charts", "Total sales"))
        let prodTotal = try await Live.client(prod).chartData(id: try prod.id("charts", "Total sales"))
        #expect(devTotal.rowCount == 1)
        let devValue = try #require(devTotal.rows.first?.values.compactMap(\.doubleValue).first)
        let prodValue = try #require(prodTotal.rows.first?.values.compactMap(\.doubleValue).first)
        #expect(devValue == dev.salesTotal)
        #expect(prodValue == prod.salesTotal)
        let byRegion = try await Live.client(dev).chartData(id: try dev.id("charts", "Sales by region"))
        #expect(byRegion.rowCount > 1)
    }
}
