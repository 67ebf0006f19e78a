import Foundation

/// The four kinds of asset in a Superset export bundle, in import dependency order.
public enum AssetKind: String, Sendable, CaseIterable, Codable, Comparable {
    case database, dataset, chart, dashboard

    /// The bundle folder holding this kind's files.
    public var folder: String {
        switch self {
        case .database: return "databases"
        case .dataset: return "datasets"
        case .chart: return "charts"
        case .dashboard: return "dashboards"
        }
    }

    /// The field that names an asset of this kind for people.
    public var nameField: String {
        switch self {
        case .database: return "database_name"
        case .dataset: return "table_name"
        case .chart: return "slice_name"
        case .dashboard: return "dashboard_title"
        }
    }

    /// The import endpoint that overwrites assets of this kind (each imports what they reference).
    public var importType: ImportType {
        switch self {
        case .database: return .database
        case .dataset: return .dataset
        case .chart: return .chart
        case .dashboard: return .dashboard
        }
    }

    /// Superset's REST resource name (`/api/v1/<resource>/`).
    public var resource: String { self == .chart ? "chart" : rawValue }

    private var order: Int { AssetKind.allCases.firstIndex(of: self)! }
    public static func < (a: AssetKind, b: AssetKind) -> Bool { a.order < b.order }
}

/// One asset file of a bundle: its kind and all of its fields, modelled or not.
///
/// Invariant: `uuid` is non-empty (the reader refuses files without one). Typed accessors read
/// and write `fields`, so nothing Superset adds in a later version is lost.
public struct Asset: Sendable, Hashable {
    public let kind: AssetKind
    public var fields: [String: BundleValue]

    public init(kind: AssetKind, fields: [String: BundleValue]) {
        self.kind = kind
        self.fields = fields
    }

    public var uuid: String {
        get { fields["uuid"]?.stringValue ?? "" }
        set { fields["uuid"] = .string(newValue) }
    }

    /// The human name: database_name, table_name, slice_name or dashboard_title.
    public var name: String {
        get { fields[kind.nameField]?.stringValue ?? "" }
        set { fields[kind.nameField] = .string(newValue) }
    }

    public subscript(field: String) -> BundleValue? {
        get { fields[field] }
        set { fields[field] = newValue }
    }

    public func string(_ field: String) -> String? { fields[field]?.stringValue }

    // Kind-specific references.

    /// dataset -> database
    public var databaseUUID: String? {
        get { string("database_uuid") }
        set { fields["database_uuid"] = newValue.map(BundleValue.string) ?? .null }
    }

    /// chart -> dataset
    public var datasetUUID: String? {
        get { string("dataset_uuid") }
        set { fields["dataset_uuid"] = newValue.map(BundleValue.string) ?? .null }
    }

    /// dashboard -> charts, read from the `position` layout (`CHART` nodes' `meta.uuid`).
    public var chartUUIDsInLayout: [String] {
        guard let position = fields["position"]?.mapValue else { return [] }
        var out = Set<String>()
        for node in position.values {
            guard node["type"]?.stringValue == "CHART", let uuid = node["meta"]?["uuid"]?.stringValue else { continue }
            out.insert(uuid)
        }
        return out.sorted()
    }

    /// dashboard -> datasets, read from native filter targets.
    public var filterDatasetUUIDs: [String] {
        guard let filters = fields["metadata"]?["native_filter_configuration"]?.listValue else { return [] }
        var out = Set<String>()
        for filter in filters {
            for target in filter["targets"]?.listValue ?? [] {
                if let uuid = target["datasetUuid"]?.stringValue { out.insert(uuid) }
            }
        }
        return out.sorted()
    }
}
