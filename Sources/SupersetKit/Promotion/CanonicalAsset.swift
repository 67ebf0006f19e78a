import Foundation

/// The environment-independent form of an asset, for comparing a source asset with its target
/// version by uuid.
///
/// Every numeric id an instance assigns (chart ids in layouts, filters and cross-filter scopes;
/// dataset ids in chart params and query contexts) is replaced by the uuid it stands for, or
/// dropped where the uuid is already beside it. Lists whose order Superset does not keep
/// (dataset columns and metrics, chart id scopes) are sorted. Two assets are the same on both
/// sides exactly when their canonical forms are equal.
public enum CanonicalAsset {
    /// The canonical fields of `asset`. Each asset carries what maps its instance's ids to uuids
    /// (a dashboard's layout names each chart's id and uuid; charts and datasets name their
    /// parents by uuid), so no other file is needed.
    public static func fields(of asset: Asset) -> [String: BundleValue] {
        var f = asset.fields
        f.removeValue(forKey: "version")
        switch asset.kind {
        case .database:
            break
        case .dataset:
            for key in ["columns", "metrics"] {
                let nameKey = key == "columns" ? "column_name" : "metric_name"
                if let list = f[key]?.listValue {
                    f[key] = .list(list.sorted { ($0[nameKey]?.stringValue ?? "") < ($1[nameKey]?.stringValue ?? "") })
                }
            }
        case .chart:
            if var params = f["params"], params.mapValue != nil {
                params["datasource"] = nil
                params["slice_id"] = nil
                params["dashboards"] = nil
                f["params"] = params.droppingEmptyKeys()
            }
            if let text = f["query_context"]?.stringValue, var qc = try? BundleValue.parseJSON(text) {
                qc["datasource"] = nil
                if var form = qc["form_data"] {
                    form["datasource"] = nil
                    form["slice_id"] = nil
                    form["dashboards"] = nil
                    qc["form_data"] = form.droppingEmptyKeys()
                }
                if let queries = qc["queries"]?.listValue {
                    qc["queries"] = .list(queries.map { q in var q = q; q["datasource"] = nil; return q })
                }
                f["query_context"] = qc
            }
        case .dashboard:
            let uuidByChartID = chartUUIDs(in: asset)
            if var position = f["position"]?.mapValue {
                for (key, node) in position where node["type"]?.stringValue == "CHART" {
                    var n = node
                    n.modify(["meta"]) { meta in var meta = meta; meta["chartId"] = nil; return meta }
                    position[key] = n
                }
                f["position"] = .map(position)
            }
            if let metadata = f["metadata"] {
                var m = DashboardMetadata.mapChartIDs(metadata) { id in uuidByChartID[id].map(BundleValue.string) }
                    .sortingChartScopes().droppingEmptyKeys()
                // Values Superset writes when a key is missing mean the same as the missing key.
                for (key, value) in CanonicalAsset.metadataDefaults where m[key] == value { m[key] = nil }
                f["metadata"] = m
            }
        }
        return f
    }

    /// Dashboard metadata values Superset 6.1 fills in on save when the key is missing.
    static let metadataDefaults: [String: BundleValue] = [
        "refresh_frequency": .int(0), "color_scheme": .string(""), "cross_filters_enabled": .bool(true),
    ]

    /// The canonical text (sorted-key JSON) of an asset.
    public static func text(of asset: Asset) -> String {
        BundleValue.map(fields(of: asset)).jsonText()
    }

    /// Top-level fields whose canonical values differ, sorted.
    public static func changedFields(_ a: Asset, _ b: Asset) -> [String] {
        let fa = fields(of: a), fb = fields(of: b)
        return Set(fa.keys).union(fb.keys).filter { (fa[$0] ?? .null) != (fb[$0] ?? .null) }.sorted()
    }

    /// chartId -> chart uuid, from a dashboard's layout.
    public static func chartUUIDs(in dashboard: Asset) -> [Int: String] {
        var out: [Int: String] = [:]
        for node in dashboard["position"]?.mapValue?.values ?? [:].values {
            guard node["type"]?.stringValue == "CHART", let id = node["meta"]?["chartId"]?.intValue,
                  let uuid = node["meta"]?["uuid"]?.stringValue else { continue }
            out[id] = uuid
        }
        return out
    }
}

/// The chart references inside a dashboard's `metadata` (json_metadata) that Superset's import
/// leaves alone: native filters' `chartsInScope` and `scope.excluded`, `global_chart_configuration`
/// and the cross-filter `chart_configuration` (keys, `id`, `crossFilters.chartsInScope`).
public enum DashboardMetadata {
    /// Maps every chart id reference through `transform`; references it returns nil for are dropped.
    public static func mapChartIDs(_ metadata: BundleValue, _ transform: (Int) -> BundleValue?) -> BundleValue {
        withoutActuallyEscaping(transform) { transform in
            mapChartRefs(metadata, dropOtherKeys: true, escaping: { ref in
                guard let id = ref.intValue else { return ref }
                return transform(id)
            })
        }
    }

    /// Maps every chart reference (an id, or the uuid a canonical form holds in its place)
    /// through `transform`; references it returns nil for are dropped. `chart_configuration`'s
    /// keys are passed as ints when they are numbers, as strings otherwise.
    public static func mapChartRefs(_ metadata: BundleValue, _ transform: (BundleValue) -> BundleValue?) -> BundleValue {
        withoutActuallyEscaping(transform) { transform in mapChartRefs(metadata, dropOtherKeys: false, escaping: transform) }
    }

    /// `dropOtherKeys`: a `chart_configuration` key that is no number is dropped (ids only).
    private static func mapChartRefs(_ metadata: BundleValue, dropOtherKeys: Bool, escaping transform: @escaping (BundleValue) -> BundleValue?) -> BundleValue {
        let mapList: (BundleValue) -> BundleValue? = { v in
            guard let list = v.listValue else { return v }
            return .list(list.compactMap(transform))
        }
        var m = metadata
        m.modify(["native_filter_configuration"]) { filters in
            guard let list = filters.listValue else { return filters }
            return .list(list.map { filter in
                var f = filter
                f.modify(["chartsInScope"], mapList)
                f.modify(["scope", "excluded"], mapList)
                return f
            })
        }
        m.modify(["global_chart_configuration", "chartsInScope"], mapList)
        m.modify(["global_chart_configuration", "scope", "excluded"], mapList)
        if let config = m["chart_configuration"]?.mapValue {
            var out: [String: BundleValue] = [:]
            for (key, entry) in config {
                if dropOtherKeys && Int(key) == nil { continue }
                guard let mapped = transform(Int(key).map(BundleValue.int) ?? .string(key)) else { continue }
                var e = entry
                if e["id"] != nil { e["id"] = mapped }
                e.modify(["crossFilters", "chartsInScope"], mapList)
                e.modify(["crossFilters", "scope", "excluded"], mapList)
                out[mapped.intValue.map(String.init) ?? mapped.stringValue ?? key] = e
            }
            m["chart_configuration"] = .map(out)
        }
        return m
    }

    /// Every chart id the metadata refers to.
    public static func referencedChartIDs(_ metadata: BundleValue) -> Set<Int> {
        var ids = Set<Int>()
        _ = mapChartIDs(metadata) { ids.insert($0); return .int($0) }
        return ids
    }
}

extension BundleValue {
    /// The map without keys whose value is null, an empty list or an empty map. Superset's
    /// import adds such defaults (`annotation_layers: []`, `label_colors: {}`,
    /// `timed_refresh_immune_slices: []`...), which mean the same as their absence.
    func droppingEmptyKeys() -> BundleValue {
        guard let m = mapValue else { return self }
        return .map(m.filter { _, v in
            switch v {
            case .null: return false
            case .list(let l): return !l.isEmpty
            case .map(let m): return !m.isEmpty
            default: return true
            }
        })
    }

    /// Replaces the value at a path of map keys by `transform` of it; does nothing when the path
    /// does not exist. A nil result removes the key.
    public mutating func modify(_ path: [String], _ transform: (BundleValue) -> BundleValue?) {
        guard let key = path.first, case .map(var m) = self, let child = m[key] else { return }
        if path.count == 1 {
            m[key] = transform(child)
        } else {
            var c = child
            c.modify(Array(path.dropFirst()), transform)
            m[key] = c
        }
        self = .map(m)
    }

    /// Sorts the chart scope lists (order carries no meaning there) so comparisons ignore it.
    func sortingChartScopes() -> BundleValue {
        let sortList: (BundleValue) -> BundleValue? = { v in
            guard let list = v.listValue else { return v }
            return .list(list.sorted { $0.jsonText() < $1.jsonText() })
        }
        var m = self
        m.modify(["native_filter_configuration"]) { filters in
            guard let list = filters.listValue else { return filters }
            return .list(list.map { var f = $0; f.modify(["chartsInScope"], sortList); return f })
        }
        m.modify(["global_chart_configuration", "chartsInScope"], sortList)
        m.modify(["chart_configuration"]) { config in
            guard let map = config.mapValue else { return config }
            return .map(map.mapValues { var e = $0; e.modify(["crossFilters", "chartsInScope"], sortList); return e })
        }
        return m
    }
}
