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
        let charts = bundle.charts
        var results: [String: BundleValue] = [:]
        try await withThrowingTaskGroup(of: (String, BundleValue).self) { group in
            var next = 0
            func add() {
                guard next < charts.count else { return }
                let chart = charts[next]
                next += 1
                group.addTask {
                    guard let id = chartIDs[chart.uuid] else {
                        return (chart.uuid, .map(["name": .string(chart.name), "error": .string("not found on the target")]))
                    }
                    do {
                        let data = try await client.chartData(id: id)
                        return (chart.uuid, .map(["name": .string(chart.name), "id": .int(id), "rows": .int(data.rowCount)]))
                    } catch {
                        return (chart.uuid, .map(["name": .string(chart.name), "id": .int(id), "error": .string(TaskEngine.describe(error).0)]))
                    }
                }
            }
            for _ in 0..<max(1, concurrency) { add() }
            while let (uuid, result) = try await group.next() {
                results[uuid] = result
                if let error = result["error"]?.stringValue {
                    context.log(.error, "chart '\(result["name"]?.stringValue ?? uuid)' does not query: \(error)", source: "superset_api")
                } else {
                    context.log(.info, "chart '\(result["name"]?.stringValue ?? uuid)' queried: \(result["rows"]?.intValue ?? 0) row(s)", source: "superset_api")
                }
                try Task.checkCancellation()
                add()
            }
        }

        var dashboards: [BundleValue] = []
        var allPassed = true
        for dashboard in bundle.dashboards {
            var reasons: [String] = []
            var targetID: BundleValue = .null
            if let id = dashboardIDs[dashboard.uuid] {
                targetID = .int(id)
                let detail = try await client.dashboardDetail(id: id)
                let members = try await client.memberChartIDs(ofDashboard: id)
                reasons += DashboardCheck.problems(detail, members: members)
            } else {
                reasons.append("not found on the target")
            }
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
