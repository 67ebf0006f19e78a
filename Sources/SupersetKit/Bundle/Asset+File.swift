import Foundation

extension Asset {
    /// The asset's file as Ferry stores it: YAML with sorted keys, so the same fields always give
    /// the same bytes (and the same SHA-256).
    public func fileData() throws -> Data { Data(try BundleValue.map(fields).yamlText().utf8) }

    /// Reads one asset file (as `fileData` writes it, or as an export holds it) under `limits`.
    /// Throws `BundleError` when the bytes aren't UTF-8 YAML mapping with a `uuid`.
    public init(kind: AssetKind, file data: Data, path: String, limits: BundleLimits = .default) throws {
        guard let text = String(data: data, encoding: .utf8) else { throw BundleError.invalidYAML(path: path, message: "not UTF-8 text") }
        guard case .map(let fields) = try BundleValue.parseYAML(text, path: path, limits: limits) else {
            throw BundleError.invalidYAML(path: path, message: "expected a mapping")
        }
        guard let uuid = fields["uuid"]?.stringValue, !uuid.isEmpty else { throw BundleError.missingField(path: path, field: "uuid") }
        self.init(kind: kind, fields: fields)
    }

    /// The uuids this asset references directly: a dashboard's charts and filter datasets, a
    /// chart's dataset, a dataset's database.
    public var references: [String] {
        switch kind {
        case .dashboard: return chartUUIDsInLayout + filterDatasetUUIDs
        case .chart: return datasetUUID.map { [$0] } ?? []
        case .dataset: return databaseUUID.map { [$0] } ?? []
        case .database: return []
        }
    }
}
