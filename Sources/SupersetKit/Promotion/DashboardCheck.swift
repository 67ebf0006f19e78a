import Foundation

/// After an import: puts a dashboard's metadata chart references on the target's ids, and
/// checks that a dashboard is whole.
public enum DashboardCheck {
    /// Maps the SOURCE chart ids Superset's import leaves in `metadata` to target ids, through
    /// the charts' uuids. References to charts unknown on either side are dropped (they pointed
    /// at nothing the dashboard shows).
    ///
    /// - Parameters:
    ///   - sourceUUIDByID: source chart id -> uuid (from the source bundle's layout).
    ///   - targetIDByUUID: chart uuid -> target id.
    public static func remap(_ metadata: BundleValue, sourceUUIDByID: [Int: String], targetIDByUUID: [String: Int]) -> BundleValue {
        DashboardMetadata.mapChartIDs(metadata) { id in
            sourceUUIDByID[id].flatMap { targetIDByUUID[$0] }.map(BundleValue.int)
        }
    }

    /// The target's metadata after an import with every chart reference taken from the SOURCE
    /// metadata, mapped to target ids. Whatever the importer did or did not rewrite (6.1 keeps
    /// source ids in every `chartsInScope`), the result points at the target's own charts.
    /// Native filters keep the target's own `targets` (dataset ids) and take `chartsInScope`
    /// and `scope` from the source filter with the same id.
    public static func remapped(target: BundleValue, source: BundleValue, sourceUUIDByID: [Int: String], targetIDByUUID: [String: Int]) -> BundleValue {
        let mapped = remap(source, sourceUUIDByID: sourceUUIDByID, targetIDByUUID: targetIDByUUID)
        var out = target
        if let targetFilters = out["native_filter_configuration"]?.listValue {
            let sourceFilters = Dictionary((mapped["native_filter_configuration"]?.listValue ?? []).compactMap { f in f["id"]?.stringValue.map { ($0, f) } },
                                           uniquingKeysWith: { a, _ in a })
            out["native_filter_configuration"] = .list(targetFilters.map { filter in
                guard let id = filter["id"]?.stringValue, let src = sourceFilters[id] else { return filter }
                var f = filter
                for key in ["chartsInScope", "scope"] { if let v = src[key] { f[key] = v } }
                return f
            })
        }
        for key in ["global_chart_configuration", "chart_configuration"] {
            if let v = mapped[key] { out[key] = v }
        }
        return out
    }

    /// Metadata keys of the legacy filter box era that Superset's importer remaps itself; a
    /// dashboard carrying any of them is fixed from what the importer stored (`remapped`), not
    /// rebuilt from the source (`rebuilt`).
    public static let legacyKeys = ["filter_scopes", "expanded_slices", "timed_refresh_immune_slices", "default_filters"]

    /// The whole metadata a dashboard must have on the target, built from the SOURCE metadata
    /// without reading the target: every chart reference mapped through uuids to target ids,
    /// and native filter targets' `datasetUuid` turned into the target's `datasetId` (as the
    /// importer does). Nil when the metadata has legacy keys or a filter dataset the target
    /// lacks: then the caller reads what the importer stored and uses `remapped`.
    public static func rebuilt(source: BundleValue, sourceUUIDByID: [Int: String], targetIDByUUID: [String: Int],
                               targetDatasetIDByUUID: [String: Int]) -> BundleValue? {
        for key in legacyKeys {
            if let v = source[key], !(v.listValue?.isEmpty ?? v.mapValue?.isEmpty ?? v.isNull) { return nil }
        }
        var out = remap(source, sourceUUIDByID: sourceUUIDByID, targetIDByUUID: targetIDByUUID)
        var missing = false
        out.modify(["native_filter_configuration"]) { filters in
            guard let list = filters.listValue else { return filters }
            return .list(list.map { filter in
                var f = filter
                f.modify(["targets"]) { targets in
                    guard let ts = targets.listValue else { return targets }
                    return .list(ts.map { target in
                        guard let uuid = target["datasetUuid"]?.stringValue else { return target }
                        guard let id = targetDatasetIDByUUID[uuid] else { missing = true; return target }
                        var t = target
                        t["datasetUuid"] = nil
                        t["datasetId"] = .int(id)
                        return t
                    })
                }
                return f
            })
        }
        return missing ? nil : out
    }

    /// Problems of a dashboard on the target, empty when it is whole: every chart placed in the
    /// layout is a member and the other way round, and filters and cross-filters point only at
    /// charts the layout shows.
    public static func problems(_ dashboard: DashboardDetail, members: Set<Int>) -> [String] {
        var out: [String] = []
        let layout = dashboard.layoutChartIDs
        let notMembers = layout.subtracting(members).sorted()
        let notPlaced = members.subtracting(layout).sorted()
        if !notMembers.isEmpty { out.append("layout shows chart(s) \(notMembers.map(String.init).joined(separator: ", ")) that are not members of the dashboard") }
        if !notPlaced.isEmpty { out.append("member chart(s) \(notPlaced.map(String.init).joined(separator: ", ")) are not placed in the layout") }
        let referenced = DashboardMetadata.referencedChartIDs(dashboard.metadata)
        let stray = referenced.subtracting(layout).sorted()
        if !stray.isEmpty {
            out.append("filters or cross-filters point at chart id(s) \(stray.map(String.init).joined(separator: ", ")), which this dashboard does not show")
        }
        return out
    }
}
