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

    /// The asset with every credential masked as Superset's export masks it: the password of a
    /// database's `sqlalchemy_uri` and an SSH tunnel's password and private key. An export
    /// already carries them masked; an uploaded file may not.
    public var withoutSecrets: Asset {
        guard kind == .database else { return self }
        var out = self
        let mask = "XXXXXXXXXX"
        if let uri = string("sqlalchemy_uri"), let scheme = uri.range(of: "://") {
            let rest = uri[scheme.upperBound...]
            if let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":"), rest[rest.index(after: colon)..<at] != mask[...] {
                out["sqlalchemy_uri"] = .string(String(uri[..<rest.index(after: colon)]) + mask + String(rest[at...]))
            }
        }
        if case .map(var tunnel) = out["ssh_tunnel"] ?? .null {
            for key in ["password", "private_key", "private_key_password"] where tunnel[key] != nil && tunnel[key] != .null {
                tunnel[key] = .string(mask)
            }
            out["ssh_tunnel"] = .map(tunnel)
        }
        return out
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
