import Foundation
import SupersetKit

/// Checks a promotion on the target: each dashboard is whole (layout and members agree,
/// filters point at its own charts) and each chart's saved query runs.
///
/// Side effects: Superset reads, chart queries at most `concurrency` at a time (each on its own
/// connection when that is above 1: see `SupersetClient.connectionPerRequest`).
enum PromotionVerifier {
    struct Report: Sendable {
        var value: BundleValue
        var passed: Bool
    }

    /// Query objects sent in one chart-data request at most.
    static let maxQueriesPerRequest = 40

    static func verify(bundle: AssetBundle, client: SupersetClient, dashboardIDs: [String: Int], chartIDs: [String: Int], datasetIDs: [String: Int],
                       concurrency: Int, context: TaskContext) async throws -> Report {
        try await SupersetClient.spreading(concurrency) {
            try await check(bundle: bundle, client: client, dashboardIDs: dashboardIDs, chartIDs: chartIDs, datasetIDs: datasetIDs,
                            concurrency: concurrency, context: context)
        }
    }

    private static func check(bundle: AssetBundle, client: SupersetClient, dashboardIDs: [String: Int], chartIDs: [String: Int], datasetIDs: [String: Int],
                              concurrency: Int, context: TaskContext) async throws -> Report {
        // Every chart once, even when dashboards share it. Charts with a saved query context are
        // checked in batches per target dataset (one request runs many charts' queries); a
        // batch that fails is re-checked chart by chart, which names the failing ones.
        var batches: [[(chart: Asset, id: Int, queries: [BundleValue])]] = []
        var single: [Asset] = []
        var byDataset: [Int: [(chart: Asset, id: Int, queries: [BundleValue])]] = [:]
        for chart in bundle.charts {
            guard let id = chartIDs[chart.uuid], let dataset = chart.datasetUUID.flatMap({ datasetIDs[$0] }),
                  let text = chart.string("query_context"), let qc = try? BundleValue.parseJSON(text),
                  let queries = qc["queries"]?.listValue, !queries.isEmpty else { single.append(chart); continue }
            byDataset[dataset, default: []].append((chart, id, queries.map { q in var q = q; q["datasource"] = nil; return q }))
        }
        for (_, probes) in byDataset.sorted(by: { $0.key < $1.key }) {
            var batch: [(chart: Asset, id: Int, queries: [BundleValue])] = []
            var size = 0
            for probe in probes {
                if size + probe.queries.count > maxQueriesPerRequest, !batch.isEmpty { batches.append(batch); batch = []; size = 0 }
                batch.append(probe)
                size += probe.queries.count
            }
            if !batch.isEmpty { batches.append(batch) }
        }
        @Sendable func one(_ chart: Asset) async throws -> (String, BundleValue) {
            guard let id = chartIDs[chart.uuid] else {
                return (chart.uuid, .map(["name": .string(chart.name), "error": .string("not found on the target")]))
            }
            do {
                let data = try await client.chartData(id: id)
                return (chart.uuid, .map(["name": .string(chart.name), "id": .int(id), "rows": .int(data.rowCount)]))
            } catch let error as CancellationError {
                throw error
            } catch {
                return (chart.uuid, .map(["name": .string(chart.name), "id": .int(id), "error": .string(TaskEngine.describe(error).0)]))
            }
        }
        let batched = try await batches.concurrentMap(limit: concurrency) { batch -> [(String, BundleValue)] in
            guard let first = batch.first, let dataset = first.chart.datasetUUID.flatMap({ datasetIDs[$0] }) else { return [] }
            do {
                let results = try await client.chartDataBatch(datasetID: dataset, queries: batch.flatMap(\.queries))
                context.log(.debug, "checked \(batch.count) chart(s) on dataset \(dataset) in one request", source: "superset_api")
                var offset = 0
                return batch.map { probe in
                    defer { offset += probe.queries.count }
                    return (probe.chart.uuid, .map(["name": .string(probe.chart.name), "id": .int(probe.id), "rows": .int(results[offset].rowCount)]))
                }
            } catch let error as CancellationError {
                throw error
            } catch {
                context.log(.debug, "a chart on dataset \(dataset) doesn't query (\(TaskEngine.describe(error).0)); checking its \(batch.count) chart(s) one by one",
                            source: "superset_api")
                var out: [(String, BundleValue)] = []
                for probe in batch { out.append(try await one(probe.chart)) }
                return out
            }
        }
        let outcomes = batched.flatMap { $0 } + (try await single.concurrentMap(limit: concurrency, one))

        var results: [String: BundleValue] = [:]
        for (uuid, result) in outcomes {
            results[uuid] = result
            if let error = result["error"]?.stringValue {
                context.log(.error, "chart '\(result["name"]?.stringValue ?? uuid)' does not query: \(error)", source: "superset_api")
            } else {
                context.log(.debug, "chart '\(result["name"]?.stringValue ?? uuid)' queried: \(result["rows"]?.intValue ?? 0) row(s)", source: "superset_api")
            }
        }
        try Task.checkCancellation()
        let members = try await client.membersByDashboard()
        let details = try await bundle.dashboards.concurrentMap(limit: concurrency) { dashboard -> [String] in
            guard let id = dashboardIDs[dashboard.uuid] else { return ["not found on the target"] }
            return DashboardCheck.problems(try await client.dashboardDetail(id: id), members: members[id] ?? [])
        }

        var dashboards: [BundleValue] = []
        var allPassed = true
        for (dashboard, problems) in zip(bundle.dashboards, details) {
            var reasons = problems
            let targetID: BundleValue = dashboardIDs[dashboard.uuid].map(BundleValue.int) ?? .null
            let chartResults = dashboard.chartUUIDsInLayout.map { results[$0] ?? .map(["error": .string("not in the bundle")]) }
            for r in chartResults where r["error"] != nil {
                reasons.append("chart '\(r["name"]?.stringValue ?? "?")': \(r["error"]?.stringValue ?? "")")
            }
            let pass = reasons.isEmpty
            allPassed = allPassed && pass
            context.log(pass ? .info : .error, "dashboard '\(dashboard.name)': \(pass ? "pass" : "FAIL: " + reasons.joined(separator: "; "))", source: "superset_api")
            dashboards.append(.map([
                "uuid": .string(dashboard.uuid), "title": .string(dashboard.name), "targetId": targetID, "pass": .bool(pass),
                "reasons": .list(reasons.map(BundleValue.string)), "charts": .list(chartResults),
            ]))
        }
        let failedCharts = results.values.filter { $0["error"] != nil }.count
        return Report(value: .map([
            "dashboards": .list(dashboards), "chartsChecked": .int(results.count), "chartsFailed": .int(failedCharts),
            "passed": .bool(allPassed),
        ]), passed: allPassed)
    }
}
