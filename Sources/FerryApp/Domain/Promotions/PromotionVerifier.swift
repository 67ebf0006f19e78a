import Foundation
import SupersetKit

/// Checks a promotion on the target: each dashboard is whole (layout and members agree,
/// filters point at its own charts) and each chart's saved query runs.
///
/// Side effects: Superset reads, chart queries at most `concurrency` at a time.
enum PromotionVerifier {
    struct Report: Sendable {
        var value: BundleValue
        var passed: Bool
    }

    static func verify(bundle: AssetBundle, client: SupersetClient, dashboardIDs: [String: Int], chartIDs: [String: Int], concurrency: Int,
                       context: TaskContext) async throws -> Report {
        // Every chart once, even when dashboards share it.
        let outcomes = try await bundle.charts.concurrentMap(limit: concurrency) { chart -> (String, BundleValue) in
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
        let details = try await bundle.dashboards.concurrentMap(limit: concurrency) { dashboard -> [String] in
            guard let id = dashboardIDs[dashboard.uuid] else { return ["not found on the target"] }
            async let detail = client.dashboardDetail(id: id)
            async let members = client.memberChartIDs(ofDashboard: id)
            return DashboardCheck.problems(try await detail, members: try await members)
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
