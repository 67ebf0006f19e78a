import Foundation
import SupersetKit

/// Reads what a plan is judged on from the target: its dashboards, datasets and charts, the
/// current version of every bundle asset it already has, and who shares what the plan updates.
///
/// Side effects: Superset reads only (lists, exports, detail GETs).
enum PromotionTargetReader {
    static func read(_ client: SupersetClient, bundle: AssetBundle, scope: PromotionScope, concurrency: Int) async throws -> TargetState {
        async let dashboards = client.dashboardRefs()
        async let datasets = client.datasetRefs()
        async let charts = client.idsByUUID(.chart)
        let (d, ds, c) = try await (dashboards, datasets, charts)
        let dashboardIDByUUID = Dictionary(d.map { ($0.uuid, $0.id) }, uniquingKeysWith: { a, _ in a })
        let datasetIDByUUID = Dictionary(ds.map { ($0.uuid, $0.id) }, uniquingKeysWith: { a, _ in a })

        var current = AssetBundle()
        let dashboardIDs = bundle.dashboards.compactMap { dashboardIDByUUID[$0.uuid] }
        if !dashboardIDs.isEmpty { current.merge(try await client.export(.dashboard, ids: dashboardIDs, concurrency: concurrency)) }
        let chartIDs = bundle.charts.compactMap { current.asset(.chart, uuid: $0.uuid) == nil ? c[$0.uuid] : nil }
        if !chartIDs.isEmpty { current.merge(try await client.export(.chart, ids: chartIDs, concurrency: concurrency)) }
        let datasetIDs = bundle.datasets.compactMap { current.asset(.dataset, uuid: $0.uuid) == nil ? datasetIDByUUID[$0.uuid] : nil }
        if !datasetIDs.isEmpty { current.merge(try await client.export(.dataset, ids: datasetIDs, concurrency: concurrency)) }

        var state = TargetState(dashboards: d, datasets: ds, chartIDs: c, current: current)
        let shared = PromotionPlanner.updatedShared(bundle, target: state, scope: scope)
        let dashboardUUIDByID = Dictionary(d.map { ($0.id, $0.uuid) }, uniquingKeysWith: { a, _ in a })
        let chartUUIDByID = Dictionary(c.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        for uuid in shared.charts {
            guard let id = c[uuid] else { continue }
            state.chartDashboards[uuid] = try await client.dashboardIDs(ofChart: id).compactMap { dashboardUUIDByID[$0] }
        }
        for uuid in shared.datasets {
            guard let id = datasetIDByUUID[uuid] else { continue }
            state.datasetCharts[uuid] = try await client.chartIDs(ofDataset: id).compactMap { chartUUIDByID[$0] }
        }
        return state
    }
}
