import Foundation

/// What a promotion copies: the dashboards alone (charts and datasets already on the target
/// keep their version), or a cascade that brings those up to date too.
public enum PromotionScope: String, Sendable, Codable, CaseIterable {
    case dashboards, cascade
}

/// What applying a plan does to one asset.
public enum PlanAction: String, Sendable, Codable, CaseIterable {
    case create, update, unchanged, conflict
}

/// One asset's line of a plan.
public struct PlanItem: Sendable, Equatable, Codable {
    public var kind: AssetKind
    public var uuid: String
    public var name: String
    public var action: PlanAction
    /// Why: the changed fields of an update, the reason of a conflict, what an unchanged means.
    public var reasons: [String]
    /// A blocking conflict stops the apply; a non-blocking one (an update reaching dashboards
    /// outside the selection) needs the operator's explicit acceptance.
    public var blocking: Bool
    /// The asset's id on the target when it exists there.
    public var targetID: Int?
    /// Values the translation to the target's Superset release removes (a downgrade): the
    /// operator must accept them before the apply. Nil when nothing is lost.
    public var losses: [FieldLoss]?
    /// Fields the target's release adds that took its defaults (an upgrade). Nil when none.
    public var defaulted: [String]?
    /// What differs from the target's version, value by value (`CanonicalAsset.fieldChanges`):
    /// what an update writes, or what a kept version differs on. Nil when nothing differs.
    public var changes: [FieldChange]?
    /// More changes than `changes` lists were found.
    public var moreChanges: Bool?

    public init(kind: AssetKind, uuid: String, name: String, action: PlanAction, reasons: [String] = [], blocking: Bool = false, targetID: Int? = nil) {
        self.kind = kind
        self.uuid = uuid
        self.name = name
        self.action = action
        self.reasons = reasons
        self.blocking = blocking
        self.targetID = targetID
    }

    /// Whether the apply writes this asset.
    public var writes: Bool { action == .create || action == .update || (action == .conflict && !blocking) }

    /// The losses that happen: an asset the apply doesn't write keeps the target's version and
    /// loses nothing. What the summary counts, the apply refuses on, and the plan page lists.
    public var writtenLosses: [FieldLoss] { writes ? losses ?? [] : [] }

    /// Attaches what translating did to the assets this plan writes (an asset kept as the target
    /// has it loses nothing).
    public static func attach(_ translations: [AssetTranslation], to items: inout [PlanItem]) {
        let byKey = Dictionary(translations.map { ("\($0.kind.rawValue) \($0.uuid)", $0) }, uniquingKeysWith: { a, _ in a })
        for i in items.indices where items[i].writes {
            guard let t = byKey["\(items[i].kind.rawValue) \(items[i].uuid)"] else { continue }
            items[i].losses = t.losses.isEmpty ? nil : t.losses
            items[i].defaulted = t.defaulted.isEmpty ? nil : t.defaulted
        }
    }
}

/// What Ferry knows of the target when planning: its assets by uuid and the facts conflicts
/// are judged on.
public struct TargetState: Sendable {
    public struct Dashboard: Sendable { public var id: Int; public var uuid: String; public var slug: String?; public var title: String
        public init(id: Int, uuid: String, slug: String?, title: String) { self.id = id; self.uuid = uuid; self.slug = slug; self.title = title } }
    public struct Dataset: Sendable { public var id: Int; public var uuid: String; public var databaseUUID: String?; public var catalog: String?; public var schema: String?; public var table: String
        /// The connection's name, for messages.
        public var databaseName: String?
        public init(id: Int, uuid: String, databaseUUID: String?, catalog: String?, schema: String?, table: String, databaseName: String? = nil) {
            self.id = id; self.uuid = uuid; self.databaseUUID = databaseUUID; self.catalog = catalog; self.schema = schema; self.table = table
            self.databaseName = databaseName } }

    public var dashboards: [Dashboard]
    public var datasets: [Dataset]
    /// chart uuid -> id, for every chart on the target.
    public var chartIDs: [String: Int]
    /// The target's current version of every bundle asset it already has (by uuid).
    public var current: AssetBundle
    /// For charts the plan would update: the uuids of target dashboards showing them.
    public var chartDashboards: [String: [String]]
    /// For datasets the plan would update: the uuids of target charts built on them.
    public var datasetCharts: [String: [String]]

    public init(dashboards: [Dashboard], datasets: [Dataset], chartIDs: [String: Int], current: AssetBundle,
                chartDashboards: [String: [String]] = [:], datasetCharts: [String: [String]] = [:]) {
        self.dashboards = dashboards
        self.datasets = datasets
        self.chartIDs = chartIDs
        self.current = current
        self.chartDashboards = chartDashboards
        self.datasetCharts = datasetCharts
    }

    /// Whether two target datasets share a table name. A Superset whose metadata is SQLite can't
    /// have that (its old constraint keeps `tables.table_name` unique across all connections),
    /// so this is the one sign the API gives that table names may repeat on the target.
    public var repeatsTableNames: Bool {
        var seen = Set<String>()
        return datasets.contains { !$0.table.isEmpty && !seen.insert($0.table).inserted }
    }
}

/// Diffs a rewritten bundle against the target by uuid.
///
/// Conflicts: a slug used by another target dashboard, a target dataset on the same physical
/// table under another uuid (Superset would adopt it silently), a dataset written under a table
/// name another target dataset already has (see `tableNameClash`) — all blocking — and, in a
/// cascade, an update of a chart or dataset that target dashboards outside the selection also use.
public enum PromotionPlanner {
    /// The uuids of charts and datasets the plan would update in place (the caller fetches their
    /// users on the target to fill `chartDashboards` / `datasetCharts`).
    public static func updatedShared(_ bundle: AssetBundle, target: TargetState, scope: PromotionScope) -> (charts: [String], datasets: [String]) {
        guard scope == .cascade else { return ([], []) }
        func differs(_ a: Asset) -> Bool {
            guard let t = target.current.asset(a.kind, uuid: a.uuid) else { return false }
            return CanonicalAsset.text(of: a) != CanonicalAsset.text(of: t)
        }
        return (bundle.charts.filter(differs).map(\.uuid), bundle.datasets.filter(differs).map(\.uuid))
    }

    public static func plan(_ bundle: AssetBundle, target: TargetState, scope: PromotionScope) -> [PlanItem] {
        var items: [PlanItem] = []
        let selection = Set(bundle.dashboards.map(\.uuid))
        let bundleCharts = Set(bundle.charts.map(\.uuid))
        let datasetByUUID = Dictionary(target.datasets.map { ($0.uuid, $0) }, uniquingKeysWith: { a, _ in a })

        for dataset in bundle.datasets {
            let existing = datasetByUUID[dataset.uuid]
            var item = PlanItem(kind: .dataset, uuid: dataset.uuid, name: dataset.name, action: .create, targetID: existing?.id)
            if existing != nil {
                let outside = (target.datasetCharts[dataset.uuid] ?? []).filter { !bundleCharts.contains($0) }
                judgeExisting(&item, dataset, target: target, scope: scope,
                              shared: outside.isEmpty ? nil : "shared: \(outside.count) chart(s) outside this promotion use it on the target")
            } else if let same = target.datasets.first(where: { sameTable($0, dataset) }) {
                item.action = .conflict
                item.blocking = true
                item.targetID = same.id
                item.reasons = ["same table: target dataset \(same.id) (\(same.uuid)) already reads \(same.schema.map { $0 + "." } ?? "")\(same.table); Superset would adopt it and merge these metrics into it"]
            }
            if item.writes, let clash = tableNameClash(dataset, bundle: bundle, target: target) {
                if clash.blocking {
                    item.action = .conflict
                    item.blocking = true
                    item.reasons = [clash.reason]
                } else {
                    item.reasons.append(clash.reason)
                }
            }
            items.append(item)
        }

        for chart in bundle.charts {
            let id = target.chartIDs[chart.uuid]
            var item = PlanItem(kind: .chart, uuid: chart.uuid, name: chart.name, action: .create, targetID: id)
            if id != nil {
                let outside = (target.chartDashboards[chart.uuid] ?? []).filter { !selection.contains($0) }
                judgeExisting(&item, chart, target: target, scope: scope,
                              shared: outside.isEmpty ? nil : "shared: \(outside.count) dashboard(s) outside this promotion show it on the target")
            }
            items.append(item)
        }

        let dashboardByUUID = Dictionary(target.dashboards.map { ($0.uuid, $0) }, uniquingKeysWith: { a, _ in a })
        for dashboard in bundle.dashboards {
            let existing = dashboardByUUID[dashboard.uuid]
            var item = PlanItem(kind: .dashboard, uuid: dashboard.uuid, name: dashboard.name, action: .create, targetID: existing?.id)
            // A dashboard is the selection itself: its update is always written.
            if existing != nil { judgeExisting(&item, dashboard, target: target, scope: .cascade, shared: nil) }
            if let slug = dashboard.string("slug"), !slug.isEmpty,
               let other = target.dashboards.first(where: { $0.slug == slug && $0.uuid != dashboard.uuid }) {
                item.action = .conflict
                item.blocking = true
                item.reasons = ["slug '\(slug)' is used by target dashboard \(other.id) '\(other.title)' (\(other.uuid))"]
            }
            items.append(item)
        }
        return items
    }

    /// The verdict on an asset the target already has: `unchanged` when the canonical forms
    /// agree; else `update` in a cascade (a non-blocking `conflict` when `shared` says who else
    /// uses it), or `unchanged` with the difference noted when the scope keeps the target's version.
    private static func judgeExisting(_ item: inout PlanItem, _ asset: Asset, target: TargetState, scope: PromotionScope, shared: String?) {
        item.action = .unchanged
        guard let current = target.current.asset(asset.kind, uuid: asset.uuid) else { return }
        let changed = CanonicalAsset.changedFields(asset, current)
        guard !changed.isEmpty else { return }
        let diff = CanonicalAsset.fieldChanges(asset, from: current)
        item.changes = diff.changes.isEmpty ? nil : diff.changes
        item.moreChanges = diff.more ? true : nil
        guard scope == .cascade else {
            item.reasons = ["differs on the target (\(changed.joined(separator: ", "))); the target's version is kept: scope is dashboards"]
            return
        }
        item.action = .update
        item.reasons = ["changed: " + changed.joined(separator: ", ")]
        if let shared {
            item.action = .conflict
            item.reasons.append(shared)
        }
    }

    /// Whether a target dataset reads the same physical table as a bundle dataset (same
    /// connection, catalog, schema and table), which Superset's import would adopt.
    static func sameTable(_ t: TargetState.Dataset, _ dataset: Asset) -> Bool {
        t.databaseUUID == dataset.databaseUUID && t.table == dataset.name
            && (t.schema ?? "") == (dataset.string("schema") ?? "") && (t.catalog ?? "") == (dataset.string("catalog") ?? "")
    }

    /// Target datasets other than `dataset` (by uuid) under its table name, on any connection or schema.
    public static func tableNameHolders(of dataset: Asset, in datasets: [TargetState.Dataset]) -> [TargetState.Dataset] {
        datasets.filter { $0.uuid != dataset.uuid && $0.table == dataset.name }
    }

    /// Whether writing `dataset` (a create or an update) clashes with another dataset's table name.
    ///
    /// A Superset whose metadata is SQLite keeps `tables.table_name` unique across the whole
    /// instance (an old constraint SQLite can't drop): a prod dataset `customers` on one
    /// connection makes the import of another `customers` fail with HTTP 500 "Import … failed for
    /// an unknown reason". Superset's API doesn't say which database holds its metadata, so the
    /// clash blocks unless the target already repeats a table name (then it can't be SQLite) and
    /// is only noted then. Moving onto the very table another dataset of the target reads (same
    /// connection, catalog, schema, table) fails on any metadata database and always blocks.
    /// Also caught: two datasets this promotion creates under one table name.
    /// Nil when there is no clash.
    static func tableNameClash(_ dataset: Asset, bundle: AssetBundle, target: TargetState) -> (blocking: Bool, reason: String)? {
        let repeats = target.repeatsTableNames
        let holders = tableNameHolders(of: dataset, in: target.datasets)
        let mine = describe(dataset, in: bundle)
        if let same = holders.first(where: { sameTable($0, dataset) }), target.datasets.contains(where: { $0.uuid == dataset.uuid }) {
            return (true, [
                "same table as another dataset: this update moves it to \(mine), which \(describe(same)) already reads;",
                "Superset allows one dataset per connection, catalog, schema and table, so the import would fail (HTTP 500).",
                "Delete one of the two on the target, or point this dataset elsewhere in the source.",
            ].joined(separator: " "))
        }
        let onTarget = Set(target.datasets.map(\.uuid))
        let created = onTarget.contains(dataset.uuid) ? [] : bundle.datasets.filter { $0.uuid != dataset.uuid && $0.name == dataset.name && !onTarget.contains($0.uuid) }
        let others: [String] = holders.filter { !sameTable($0, dataset) }.map { describe($0) }
            + created.map { "dataset \($0.uuid) of this promotion (\(describe($0, in: bundle)))" }
        guard !others.isEmpty else { return nil }
        let list = others.joined(separator: "; ")
        if repeats {
            return (false, "table name '\(dataset.name)' is also used by \(list); the target already has datasets sharing table names, so its metadata is not SQLite and the import can proceed")
        }
        return (true, [
            "table name clash: this dataset (\(mine)) and \(list) share the table name '\(dataset.name)'.",
            "A Superset whose metadata is SQLite allows each table name once across all connections and would fail the import (HTTP 500);",
            "its API doesn't say which metadata database it uses, so Ferry refuses.",
            "Rename or delete the target's dataset, or promote the table under another dataset name (a virtual dataset).",
        ].joined(separator: " "))
    }

    /// "main.orders on connection 'Sales' (uuid)": a bundle dataset's table and connection.
    static func describe(_ dataset: Asset, in bundle: AssetBundle) -> String {
        let table = (dataset.string("schema").map { $0.isEmpty ? "" : $0 + "." } ?? "") + dataset.name
        let db = dataset.databaseUUID
        let name = db.flatMap { bundle.asset(.database, uuid: $0)?.name }
        return "\(table) on connection \(name.map { "'\($0)'" } ?? "?") (\(db ?? "no database"))"
    }

    /// "target dataset 12 (uuid) reading public.orders on connection 'Warehouse' (uuid)".
    static func describe(_ t: TargetState.Dataset) -> String {
        let table = (t.schema.map { $0.isEmpty ? "" : $0 + "." } ?? "") + t.table
        return "target dataset \(t.id) (\(t.uuid)) reading \(table) on connection \(t.databaseName.map { "'\($0)'" } ?? "?") (\(t.databaseUUID ?? "?"))"
    }

    /// Why a plan with these items may not be applied, or nil when it may: a blocking conflict,
    /// or a shared update the operator hasn't accepted. The API refuses before queuing; the
    /// apply plugin checks again, since a task can be started without the API's checks.
    public enum Refusal: Equatable, Sendable {
        case blocking(PlanItem, count: Int)
        case sharedNotAccepted
        /// Values a downgrade removes, not accepted: how many, over how many assets.
        case lossesNotAccepted(values: Int, assets: Int)

        public var message: String {
            switch self {
            case .blocking(let item, let count):
                return "The plan has \(count) blocking conflict(s), e.g. \(item.kind.rawValue) '\(item.name)': \(item.reasons.joined(separator: "; "))."
            case .sharedNotAccepted:
                return "The plan updates charts or datasets that other target dashboards use."
            case .lossesNotAccepted(let values, let assets):
                return "The target runs an older Superset: \(values) value(s) of \(assets) asset(s) can't be imported there and would be lost."
            }
        }
    }

    public static func refusal(_ items: [PlanItem], acceptShared: Bool, acceptLosses: Bool) -> Refusal? {
        let blocking = items.filter(\.blocking)
        if let first = blocking.first { return .blocking(first, count: blocking.count) }
        if !acceptShared, items.contains(where: { $0.action == .conflict }) { return .sharedNotAccepted }
        let losing = items.filter { !$0.writtenLosses.isEmpty }
        if !acceptLosses, !losing.isEmpty {
            return .lossesNotAccepted(values: losing.reduce(0) { $0 + $1.writtenLosses.count }, assets: losing.count)
        }
        return nil
    }

    /// A stable digest of the target facts a plan was judged on: if it differs at apply time,
    /// the target changed and the plan must be made again.
    public static func fingerprint(_ bundle: AssetBundle, target: TargetState) -> String {
        var lines: [String] = []
        for kind in AssetKind.allCases where kind != .database {
            for asset in bundle.all(kind) {
                let current = target.current.asset(kind, uuid: asset.uuid).map { CanonicalAsset.text(of: $0) } ?? "-"
                lines.append("\(kind.rawValue) \(asset.uuid) \(current)")
            }
        }
        for dashboard in bundle.dashboards {
            let slug = dashboard.string("slug") ?? ""
            let holders = target.dashboards.filter { !slug.isEmpty && $0.slug == slug }.map(\.uuid).sorted()
            lines.append("slug \(slug) \(holders.joined(separator: ","))")
        }
        for dataset in bundle.datasets {
            let holders = target.datasets.filter { sameTable($0, dataset) }.map(\.uuid).sorted()
            lines.append("table \(dataset.uuid) \(holders.joined(separator: ","))")
            let named = tableNameHolders(of: dataset, in: target.datasets).map(\.uuid).sorted()
            if !named.isEmpty { lines.append("name \(dataset.uuid) \(named.joined(separator: ","))\(target.repeatsTableNames ? " repeats" : "")") }
        }
        for (uuid, users) in target.chartDashboards.sorted(by: { $0.key < $1.key }) { lines.append("users \(uuid) \(users.sorted().joined(separator: ","))") }
        for (uuid, users) in target.datasetCharts.sorted(by: { $0.key < $1.key }) { lines.append("charts \(uuid) \(users.sorted().joined(separator: ","))") }
        return Checksum.sha256Hex(lines.joined(separator: "\n"))
    }
}
