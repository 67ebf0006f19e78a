import Foundation
import SupersetKit

/// An environment's assets as a dashboard check needs them, read once per task.
struct HealthInventory: Sendable {
    struct Dashboard: Sendable { var id: Int; var uuid: String; var title: String }
    struct Chart: Sendable { var id: Int; var name: String; var datasetID: Int?; var datasourceType: String? }
    var dashboards: [Dashboard]
    var charts: [Int: Chart]
    /// Dataset id -> its database's id (nil when Superset didn't say).
    var datasets: [Int: Int?]
    var databases: Set<Int>
    var members: [Int: Set<Int>]

    static func read(_ client: SupersetClient) async throws -> HealthInventory {
        let dashboards = try await client.listRows(.dashboard, columns: ["id", "uuid", "dashboard_title"]).compactMap { row -> Dashboard? in
            guard let id = row["id"]?.intValue else { return nil }
            return Dashboard(id: id, uuid: row["uuid"]?.stringValue ?? "", title: row["dashboard_title"]?.stringValue ?? "dashboard \(id)")
        }
        var charts: [Int: Chart] = [:]
        for row in try await client.listRows(.chart, columns: ["id", "slice_name", "datasource_id", "datasource_type"]) {
            guard let id = row["id"]?.intValue else { continue }
            charts[id] = Chart(id: id, name: row["slice_name"]?.stringValue ?? "chart \(id)", datasetID: row["datasource_id"]?.intValue,
                               datasourceType: row["datasource_type"]?.stringValue)
        }
        var datasets: [Int: Int?] = [:]
        for row in try await client.listRows(.dataset, columns: ["id", "database.id"]) {
            guard let id = row["id"]?.intValue else { continue }
            datasets[id] = row["database"]?["id"]?.intValue
        }
        let databases = Set(try await client.listRows(.database, columns: ["id"]).compactMap { $0["id"]?.intValue })
        return HealthInventory(dashboards: dashboards, charts: charts, datasets: datasets, databases: databases, members: try await client.membersByDashboard())
    }
}

/// One chart's query as a check ran it.
struct ChartProbe: Codable, Sendable, Equatable {
    var id: Int
    var name: String
    var milliseconds: Int
    var rows: Int?
    var error: String?
}

/// The checks of one dashboard that need no browser: its structure (layout, members, filters),
/// its charts' datasets and databases, and every chart's saved query with its time.
///
/// Pure apart from `probe`, which runs a query (shared across dashboards by the caller).
enum DashboardChecker {
    static func structureIssues(_ detail: DashboardDetail, members: Set<Int>, inventory: HealthInventory) -> [HealthIssue] {
        var out: [HealthIssue] = []
        let layout = detail.layoutChartIDs
        for id in layout.subtracting(members).sorted() {
            out.append(HealthIssue(.fail, .structure, "the layout shows chart \(id), which is not a member of this dashboard", chartID: id, chart: inventory.charts[id]?.name))
        }
        for id in members.subtracting(layout).sorted() {
            out.append(HealthIssue(.warn, .structure, "chart \(id) belongs to this dashboard but is not placed in its layout", chartID: id, chart: inventory.charts[id]?.name))
        }
        for id in DashboardMetadata.referencedChartIDs(detail.metadata).subtracting(layout).sorted() {
            out.append(HealthIssue(.fail, .structure, "a filter or cross-filter points at chart id \(id), which this dashboard does not show", chartID: id,
                                   chart: inventory.charts[id]?.name))
        }
        for id in layout.sorted() {
            guard let chart = inventory.charts[id] else {
                out.append(HealthIssue(.fail, .structure, "the layout shows chart \(id), which doesn't exist", chartID: id))
                continue
            }
            guard chart.datasourceType == nil || chart.datasourceType == "table", let dataset = chart.datasetID else { continue }
            guard let database = inventory.datasets[dataset] else {
                out.append(HealthIssue(.fail, .missingDataset, "its dataset (id \(dataset)) doesn't exist", chartID: id, chart: chart.name))
                continue
            }
            if let database, !inventory.databases.contains(database) {
                out.append(HealthIssue(.fail, .missingDatabase, "its dataset's database (id \(database)) doesn't exist", chartID: id, chart: chart.name))
            }
        }
        return out
    }

    /// Issues of one chart's query: an error is FAIL (a chart without a saved query is WARN), no
    /// rows is WARN, slower than `slowMilliseconds` is WARN.
    static func queryIssues(_ probe: ChartProbe, slowMilliseconds: Int) -> [HealthIssue] {
        if let error = probe.error {
            if error.localizedCaseInsensitiveContains("query context") {
                return [HealthIssue(.warn, .noSavedQuery, "it has no saved query Superset can run; open it in Superset and save it again",
                                    chartID: probe.id, chart: probe.name)]
            }
            return [HealthIssue(.fail, .queryFailed, "its query fails: \(error)", chartID: probe.id, chart: probe.name)]
        }
        var out: [HealthIssue] = []
        if probe.rows == 0 { out.append(HealthIssue(.warn, .emptyResult, "its query returns no rows", chartID: probe.id, chart: probe.name)) }
        if probe.milliseconds > slowMilliseconds {
            out.append(HealthIssue(.warn, .slowQuery, "its query took \(probe.milliseconds) ms (the limit is \(slowMilliseconds) ms)", chartID: probe.id, chart: probe.name))
        }
        return out
    }

    /// Issues of a rendering: error boxes are FAIL, charts still loading WARN, uncaught
    /// exceptions in the page WARN; a visual change above `visualThreshold` percent is WARN.
    static func renderingIssues(_ rendering: Rendering, visualChange: Double?, visualThreshold: Double) -> [HealthIssue] {
        var out: [HealthIssue] = []
        for tab in rendering.tabs {
            if let shown = tab.notShown {
                // Nothing drawn is nothing found: say so, or a page that never came looks healthy.
                out.append(HealthIssue(.warn, .renderFailed, "the dashboard did not appear in chromium; it showed \(shown)", tab: tab.name))
                continue
            }
            for e in tab.chartErrors {
                out.append(HealthIssue(.fail, .chartErrorBox, "Superset shows an error in this chart: \(e.message)", chartID: e.chartID, chart: e.chart, tab: tab.name))
            }
            if tab.stillLoading > 0 {
                out.append(HealthIssue(.warn, .stillLoading, "\(tab.stillLoading) chart(s) were still loading when the wait ended", tab: tab.name))
            }
        }
        let exceptions = rendering.consoleErrors.filter { $0.hasPrefix(BrowserPage.uncaught) }
        if let first = exceptions.first {
            out.append(HealthIssue(.warn, .consoleError, "\(exceptions.count) uncaught error(s) in the page, first: \(first.dropFirst(BrowserPage.uncaught.count).prefix(300))"))
        }
        if let visualChange, visualChange > visualThreshold {
            out.append(HealthIssue(.warn, .visualChange, "the page looks \(visualChange)% different from its last passing check"))
        }
        return out
    }
}
