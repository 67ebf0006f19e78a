import Foundation

/// Why Superset most likely refused an import that it answered only with HTTP 500 "Import …
/// failed for an unknown reason".
///
/// Superset logs the real cause (an `IntegrityError` of its metadata database) and answers
/// nothing more. Judged here from the bundle that was posted and the target read back after
/// the failure: the unique constraints an import of Ferry's bundles can break, most likely first.
///  1. a dataset table name another target dataset already uses, on any connection (a Superset
///     with SQLite metadata keeps `tables.table_name` unique; skipped when the target already
///     repeats a table name, which proves it doesn't);
///  2. an update of a dataset onto the very table another target dataset reads (unique per
///     connection, catalog, schema and table on any metadata database);
///  3. two datasets of the bundle, both new, under one table name (SQLite again);
///  4. a dashboard slug another target dashboard uses, or two dashboards of the bundle with one slug.
/// A dataset the target adopts (new uuid, same table) is not a failure and is not reported.
public enum ImportDiagnosis {
    public struct Finding: Sendable, Equatable, Codable {
        public var kind: AssetKind
        public var uuid: String
        public var name: String
        public var reason: String

        public init(kind: AssetKind, uuid: String, name: String, reason: String) {
            self.kind = kind
            self.uuid = uuid
            self.name = name
            self.reason = reason
        }

        public var message: String { "\(kind.rawValue) '\(name)' (\(uuid)): \(reason)" }
    }

    /// Whether `error` is an import's unexplained failure (HTTP 500), worth diagnosing.
    public static func isUnexplained(_ error: any Error) -> Bool {
        guard case SupersetError.http(let status, _) = error else { return false }
        return status == 500
    }

    /// The likely causes, most likely first; empty when none of the known ones applies.
    public static func diagnose(_ bundle: AssetBundle, datasets: [TargetState.Dataset], dashboards: [TargetState.Dashboard]) -> [Finding] {
        var findings: [Finding] = []
        let state = TargetState(dashboards: dashboards, datasets: datasets, chartIDs: [:], current: AssetBundle())
        let repeats = state.repeatsTableNames
        let onTarget = Set(datasets.map(\.uuid))
        for dataset in bundle.datasets {
            let holders = PromotionPlanner.tableNameHolders(of: dataset, in: datasets)
            let mine = PromotionPlanner.describe(dataset, in: bundle)
            for holder in holders {
                if PromotionPlanner.sameTable(holder, dataset) {
                    // A new uuid on the same table is adopted; only an existing dataset moved onto it fails.
                    guard onTarget.contains(dataset.uuid) else { continue }
                    findings.append(Finding(kind: .dataset, uuid: dataset.uuid, name: dataset.name, reason:
                        "it would move to \(mine), which \(PromotionPlanner.describe(holder)) already reads; Superset allows one dataset per connection, catalog, schema and table"))
                } else if !repeats {
                    findings.append(Finding(kind: .dataset, uuid: dataset.uuid, name: dataset.name, reason:
                        "its table name '\(dataset.name)' (\(mine)) is already used by \(PromotionPlanner.describe(holder)); a Superset whose metadata is SQLite allows each table name once across all connections (UNIQUE constraint failed: tables.table_name)"))
                }
            }
        }
        if !repeats {
            let fresh = bundle.datasets.filter { !onTarget.contains($0.uuid) }
            for (name, group) in Dictionary(grouping: fresh, by: \.name).sorted(by: { $0.key < $1.key }) where group.count > 1 && !name.isEmpty {
                let first = group[0]
                findings.append(Finding(kind: .dataset, uuid: first.uuid, name: name, reason:
                    "\(group.count) new datasets of this import share the table name '\(name)' (\(group.map { PromotionPlanner.describe($0, in: bundle) }.joined(separator: "; "))); a Superset whose metadata is SQLite allows each table name once"))
            }
        }
        for dashboard in bundle.dashboards {
            guard let slug = dashboard.string("slug"), !slug.isEmpty else { continue }
            for other in dashboards where other.slug == slug && other.uuid != dashboard.uuid {
                findings.append(Finding(kind: .dashboard, uuid: dashboard.uuid, name: dashboard.name, reason:
                    "its slug '\(slug)' is used by target dashboard \(other.id) '\(other.title)' (\(other.uuid)); slugs are unique"))
            }
        }
        let slugged = bundle.dashboards.filter { !($0.string("slug") ?? "").isEmpty }
        for (slug, group) in Dictionary(grouping: slugged, by: { $0.string("slug") ?? "" }).sorted(by: { $0.key < $1.key }) where group.count > 1 {
            findings.append(Finding(kind: .dashboard, uuid: group[0].uuid, name: group[0].name, reason:
                "\(group.count) dashboards of this import share the slug '\(slug)' (\(group.map { "'\($0.name)' (\($0.uuid))" }.joined(separator: ", "))); slugs are unique"))
        }
        return findings
    }

    /// The task failure message: Superset's answer and the most likely cause.
    public static func failureMessage(_ error: any Error, findings: [Finding]) -> String {
        let said = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
        guard let first = findings.first else { return said }
        let more = findings.count > 1 ? " (\(findings.count - 1) more possible cause(s) in the log)" : ""
        return "\(said). Most likely cause: \(first.message)\(more)."
    }

    /// What the operator does about a diagnosed failure.
    public static let nextStep =
        "Rename or delete the clashing asset on the target (or rename it in the source), then make a new plan and apply it."
}
