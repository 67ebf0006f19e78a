import Foundation

extension AssetBundle {
    /// The assets `uuids` of `kind` with everything they reference (dashboards -> charts and
    /// filter datasets -> datasets -> databases): a bundle an import endpoint accepts whole.
    public func closure(_ kind: AssetKind, uuids: [String]) -> AssetBundle {
        var out = AssetBundle(metadata: metadata)
        var charts = Set<String>(), datasets = Set<String>(), databases = Set<String>()
        for uuid in uuids {
            guard let asset = asset(kind, uuid: uuid) else { continue }
            out.insert(asset)
            switch kind {
            case .dashboard:
                charts.formUnion(asset.chartUUIDsInLayout)
                datasets.formUnion(asset.filterDatasetUUIDs)
            case .chart: if let d = asset.datasetUUID { datasets.insert(d) }
            case .dataset: if let d = asset.databaseUUID { databases.insert(d) }
            case .database: break
            }
        }
        if kind != .chart {
            for uuid in charts { if let c = asset(.chart, uuid: uuid) { out.insert(c); if let d = c.datasetUUID { datasets.insert(d) } } }
        }
        if kind != .dataset {
            for uuid in datasets { if let d = asset(.dataset, uuid: uuid) { out.insert(d); if let db = d.databaseUUID { databases.insert(db) } } }
        }
        for uuid in databases { if let db = asset(.database, uuid: uuid) { out.insert(db) } }
        return out
    }
}
