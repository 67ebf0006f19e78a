import Foundation
import Yams

extension CanonicalAsset {
    /// An asset Superset's importer takes, rebuilt from its canonical fields (as
    /// `CanonicalAsset.fields` gives them, or as a reviewed file in Ferry's git history holds
    /// them).
    ///
    /// The ids the canonical form replaced by uuids come back as stand-in ids: a dashboard's
    /// charts are numbered 1, 2, 3... in uuid order, in its layout (`meta.chartId`) and in every
    /// metadata reference, so the importer and Ferry's filter remap map them to the target's ids
    /// exactly as they map an export's. A chart's query context becomes JSON text again; the
    /// export format's `version` is put back. Dataset ids in chart params stay out: the importer
    /// sets them from `dataset_uuid`.
    public static func importable(kind: AssetKind, fields canonical: [String: BundleValue]) -> Asset {
        var f = canonical
        f["version"] = .string("1.0.0")
        switch kind {
        case .chart:
            if let qc = f["query_context"], qc.mapValue != nil { f["query_context"] = .string(qc.jsonText()) }
        case .dashboard:
            var uuids = Set<String>()
            for node in f["position"]?.mapValue?.values ?? [:].values where node["type"]?.stringValue == "CHART" {
                if let uuid = node["meta"]?["uuid"]?.stringValue { uuids.insert(uuid) }
            }
            let idByUUID = Dictionary(uniqueKeysWithValues: uuids.sorted().enumerated().map { ($1, $0 + 1) })
            if var position = f["position"]?.mapValue {
                for (key, node) in position where node["type"]?.stringValue == "CHART" {
                    guard let id = node["meta"]?["uuid"]?.stringValue.flatMap({ idByUUID[$0] }) else { continue }
                    var n = node
                    n.modify(["meta"]) { meta in var meta = meta; meta["chartId"] = .int(id); return meta }
                    position[key] = n
                }
                f["position"] = .map(position)
            }
            if let metadata = f["metadata"] {
                f["metadata"] = DashboardMetadata.mapChartRefs(metadata) { ref in
                    guard let uuid = ref.stringValue else { return ref }
                    // A uuid of no chart in the layout: the reference is dropped, as an id of
                    // no chart is when the canonical form is made.
                    return idByUUID[uuid].map(BundleValue.int) ?? (UUID(uuidString: uuid) == nil ? ref : nil)
                }
            }
        case .dataset, .database:
            break
        }
        return Asset(kind: kind, fields: f)
    }
}

extension CanonicalAsset {
    /// The canonical file of an asset, as Ferry's git history keeps it: YAML with sorted keys,
    /// multi-line text (SQL, descriptions) as literal blocks so a diff shows its lines. The same
    /// state always gives the same bytes.
    public static func file(of asset: Asset) throws -> Data {
        Data(try BundleValue.map(fields(of: asset)).readableYAMLText().utf8)
    }
}

extension BundleValue {
    var readableYAMLNode: Node {
        switch self {
        case .string(let s) where s.contains("\n"):
            var scalar = s.represented()
            scalar.style = .literal
            return .scalar(scalar)
        case .list(let l): return .sequence(.init(l.map(\.readableYAMLNode)))
        case .map(let m): return .mapping(.init(m.keys.sorted().map { (Node.scalar($0.represented()), m[$0]!.readableYAMLNode) }))
        default: return yamlNode
        }
    }

    /// `yamlText`, with multi-line strings as literal blocks where YAML allows one.
    func readableYAMLText() throws -> String {
        try Yams.serialize(node: readableYAMLNode, width: -1, allowUnicode: true, sortKeys: true)
    }
}
