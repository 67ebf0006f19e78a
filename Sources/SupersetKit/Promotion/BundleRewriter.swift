import Foundation

/// Rewrites a source environment's bundle so that importing it on the target touches only the
/// target's own connections.
///
/// Purpose: Superset's import hijacks same-named connections and keeps the source `catalog`;
/// this replaces every database file with the mapped target connection (its uuid, name and
/// masked URI: the source URI and credentials never leave the source), points datasets at it
/// (`database_uuid`, `catalog`), applies an optional schema mapping, and repairs layouts whose
/// chart nodes lack `meta.uuid`.
/// Precondition: every database of the bundle is in `databases`, else `unmapped` names them.
/// Invariant: the output's references resolve whenever the input's did.
public struct BundleRewriter: Sendable {
    /// Source database uuid -> target connection.
    public var databases: [String: DatabaseRef]
    /// Source schema -> target schema. Schema-qualified SQL of virtual datasets is rewritten only
    /// for schemas listed here.
    public var schemas: [String: String]

    public init(databases: [String: DatabaseRef], schemas: [String: String] = [:]) {
        self.databases = databases
        self.schemas = schemas
    }

    public enum Failure: Error, Equatable, Sendable {
        /// Source databases (uuid, name) with no mapping.
        case unmapped([DatabaseRef])
    }

    /// The source databases of a bundle, as refs.
    public static func sourceDatabases(of bundle: AssetBundle) -> [DatabaseRef] {
        bundle.databases.map { DatabaseRef(uuid: $0.uuid, name: $0.name, uri: $0.string("sqlalchemy_uri") ?? "") }
    }

    public func rewrite(_ bundle: AssetBundle) throws(Failure) -> AssetBundle {
        let sources = Self.sourceDatabases(of: bundle)
        let missing = sources.filter { databases[$0.uuid] == nil }
        if !missing.isEmpty { throw .unmapped(missing) }
        var out = AssetBundle(metadata: bundle.metadata)
        for source in sources { out.insert(databases[source.uuid]!.bundleAsset) }
        let sourceByUUID = Dictionary(uniqueKeysWithValues: sources.map { ($0.uuid, $0) })
        for var dataset in bundle.datasets {
            if let dbUUID = dataset.databaseUUID, let target = databases[dbUUID] {
                dataset.databaseUUID = target.uuid
                let catalog = dataset.string("catalog")
                if catalog == nil || catalog == sourceByUUID[dbUUID]?.defaultCatalog {
                    dataset["catalog"] = target.defaultCatalog.map(BundleValue.string) ?? .null
                }
            }
            if let schema = dataset.string("schema"), let mapped = schemas[schema] { dataset["schema"] = .string(mapped) }
            if let sql = dataset.string("sql"), !sql.isEmpty, !schemas.isEmpty {
                dataset["sql"] = .string(Self.rewriteSchemas(in: sql, schemas))
            }
            out.insert(dataset)
        }
        for chart in bundle.charts { out.insert(chart) }
        for var dashboard in bundle.dashboards {
            Self.repairLayout(&dashboard)
            out.insert(dashboard)
        }
        return out
    }

    /// Replaces `schema.` and `"schema".` qualifiers in SQL, whole identifiers only.
    static func rewriteSchemas(in sql: String, _ schemas: [String: String]) -> String {
        var text = sql
        for (from, to) in schemas.sorted(by: { $0.key.count > $1.key.count }) {
            let escaped = NSRegularExpression.escapedPattern(for: from)
            for (pattern, template) in [("\"\(escaped)\"\\.", "\"\(to)\"."), ("(?<![A-Za-z0-9_\".])\(escaped)\\.(?=[A-Za-z_\"])", "\(to).")] {
                guard let re = try? NSRegularExpression(pattern: pattern) else { continue }
                text = re.stringByReplacingMatches(
                    in: text, range: NSRange(text.startIndex..., in: text),
                    withTemplate: NSRegularExpression.escapedTemplate(for: template))
            }
        }
        return text
    }

    /// Superset's exporter gives chart nodes a `meta.uuid` only when the saved layout had one; for
    /// the others it appends a second, unparented node with the uuid, and the import then keeps
    /// the first node's SOURCE `chartId`. This copies the uuid onto the placed node (matched by
    /// chartId) and drops the appended duplicates.
    public static func repairLayout(_ dashboard: inout Asset) {
        guard var position = dashboard["position"]?.mapValue else { return }
        var uuidByChartID: [Int: String] = [:]
        var referenced = Set<String>()
        for node in position.values {
            for child in node["children"]?.listValue ?? [] { if let c = child.stringValue { referenced.insert(c) } }
            if node["type"]?.stringValue == "CHART", let id = node["meta"]?["chartId"]?.intValue, let uuid = node["meta"]?["uuid"]?.stringValue {
                uuidByChartID[id] = uuid
            }
        }
        var placedUUIDs = Set<String>()
        var changed = false
        for (key, node) in position where node["type"]?.stringValue == "CHART" && node["meta"]?["uuid"] == nil {
            guard let id = node["meta"]?["chartId"]?.intValue, let uuid = uuidByChartID[id] else { continue }
            var fixed = node
            fixed.modify(["meta"]) { meta in var meta = meta; meta["uuid"] = .string(uuid); return meta }
            position[key] = fixed
            placedUUIDs.insert(uuid)
            changed = true
        }
        for (key, node) in position where node["type"]?.stringValue == "CHART" && !referenced.contains(key) {
            if let uuid = node["meta"]?["uuid"]?.stringValue, placedUUIDs.contains(uuid) {
                position.removeValue(forKey: key)
            }
        }
        if changed { dashboard["position"] = .map(position) }
    }
}
