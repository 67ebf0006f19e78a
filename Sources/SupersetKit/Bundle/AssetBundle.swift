import Foundation

/// A Superset export bundle held in memory: assets of each kind keyed by uuid, plus the
/// bundle's metadata.
///
/// Invariant: each dictionary's keys equal its assets' `uuid`.
public struct AssetBundle: Sendable, Equatable {
    /// The `metadata.yaml` fields (`version`, `type`, `timestamp`, ...).
    public var metadata: [String: BundleValue]
    public private(set) var assets: [AssetKind: [String: Asset]]

    public init(metadata: [String: BundleValue] = AssetBundle.defaultMetadata(type: .dashboard), assets: [Asset] = []) {
        self.metadata = metadata
        self.assets = [:]
        for asset in assets { insert(asset) }
    }

    public static func defaultMetadata(type: ImportType) -> [String: BundleValue] {
        ["version": .string("1.0.0"), "type": .string(type.rawValue)]
    }

    public mutating func insert(_ asset: Asset) {
        assets[asset.kind, default: [:]][asset.uuid] = asset
    }

    @discardableResult
    public mutating func remove(_ kind: AssetKind, uuid: String) -> Asset? {
        assets[kind]?.removeValue(forKey: uuid)
    }

    public func all(_ kind: AssetKind) -> [Asset] {
        (assets[kind] ?? [:]).values.sorted { $0.uuid < $1.uuid }
    }

    public func asset(_ kind: AssetKind, uuid: String) -> Asset? { assets[kind]?[uuid] }

    public var databases: [Asset] { all(.database) }
    public var datasets: [Asset] { all(.dataset) }
    public var charts: [Asset] { all(.chart) }
    public var dashboards: [Asset] { all(.dashboard) }

    public var count: Int { assets.values.reduce(0) { $0 + $1.count } }

    /// Adds every asset of `other`, its versions winning over ours.
    public mutating func merge(_ other: AssetBundle) {
        for kind in AssetKind.allCases {
            for asset in other.all(kind) { insert(asset) }
        }
    }

    /// References that do not resolve to an asset of the bundle, as "kind uuid -> missing uuid".
    /// Superset silently skips a dataset whose database file is missing (with its charts), so an
    /// import must never be posted while this is non-empty.
    public func unresolvedReferences() -> [String] {
        var problems: [String] = []
        for ds in datasets {
            if let db = ds.databaseUUID, asset(.database, uuid: db) == nil {
                problems.append("dataset \(ds.name) (\(ds.uuid)) -> database \(db)")
            }
        }
        for chart in charts {
            if let ds = chart.datasetUUID, asset(.dataset, uuid: ds) == nil {
                problems.append("chart \(chart.name) (\(chart.uuid)) -> dataset \(ds)")
            }
        }
        for dash in dashboards {
            for c in dash.chartUUIDsInLayout where asset(.chart, uuid: c) == nil {
                problems.append("dashboard \(dash.name) (\(dash.uuid)) -> chart \(c)")
            }
            for d in dash.filterDatasetUUIDs where asset(.dataset, uuid: d) == nil {
                problems.append("dashboard \(dash.name) (\(dash.uuid)) filter -> dataset \(d)")
            }
        }
        return problems
    }

    /// The sub-bundle an import endpoint accepts: for `.chart`, databases, datasets and charts;
    /// for `.dataset`, databases and datasets; for `.dashboard` and `.assets`, everything.
    public func subset(for type: ImportType) -> AssetBundle {
        var out = AssetBundle(metadata: metadata.merging(["type": .string(type.rawValue)]) { $1 })
        for kind in type.kinds { for a in all(kind) { out.insert(a) } }
        return out
    }
}

/// The `type` of a bundle's metadata, which decides which import endpoint accepts it.
public enum ImportType: String, Sendable, CaseIterable {
    case dashboard = "Dashboard"
    case chart = "Slice"
    case dataset = "SqlaTable"
    case database = "Database"
    case assets = "assets"

    public var kinds: [AssetKind] {
        switch self {
        case .dashboard, .assets: return AssetKind.allCases
        case .chart: return [.database, .dataset, .chart]
        case .dataset: return [.database, .dataset]
        case .database: return [.database]
        }
    }

    /// The import endpoint path (with the trailing slash Superset needs for multipart posts).
    public var endpoint: String {
        switch self {
        case .dashboard: return "/api/v1/dashboard/import/"
        case .chart: return "/api/v1/chart/import/"
        case .dataset: return "/api/v1/dataset/import/"
        case .database: return "/api/v1/database/import/"
        case .assets: return "/api/v1/assets/import/"
        }
    }

    /// The multipart field holding the ZIP.
    public var fileField: String { self == .assets ? "bundle" : "formData" }
}
