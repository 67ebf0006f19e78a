import Foundation

/// A dashboard as the target shows it after an import: its layout, metadata and members.
public struct DashboardDetail: Sendable {
    public var id: Int
    public var uuid: String?
    public var title: String
    public var slug: String?
    public var position: BundleValue
    public var metadata: BundleValue

    /// Chart ids placed in the layout.
    public var layoutChartIDs: Set<Int> {
        Set((position.mapValue ?? [:]).values.compactMap { node in
            node["type"]?.stringValue == "CHART" ? node["meta"]?["chartId"]?.intValue : nil
        })
    }
}

extension SupersetClient {
    /// Every database connection with its masked URI (one call per connection: the list
    /// endpoint does not show URIs).
    public func databaseRefs() async throws -> [DatabaseRef] {
        let rows = try await listRows(.database, columns: ["id", "uuid", "database_name", "backend"])
        var out: [DatabaseRef] = []
        for row in rows {
            guard let id = row["id"]?.intValue else { continue }
            let detail = try await getJSON("/api/v1/database/\(id)/connection")["result"]
            out.append(DatabaseRef(
                id: id, uuid: detail?["uuid"]?.stringValue ?? row["uuid"]?.stringValue ?? "",
                name: detail?["database_name"]?.stringValue ?? row["database_name"]?.stringValue ?? "",
                backend: detail?["backend"]?.stringValue ?? row["backend"]?.stringValue,
                uri: detail?["sqlalchemy_uri"]?.stringValue ?? ""))
        }
        return out.sorted { $0.name < $1.name }
    }

    /// Dashboards (id, uuid, slug, title) for conflict checks.
    public func dashboardRefs() async throws -> [TargetState.Dashboard] {
        try await listRows(.dashboard, columns: ["id", "uuid", "slug", "dashboard_title"]).compactMap { row in
            guard let id = row["id"]?.intValue, let uuid = row["uuid"]?.stringValue else { return nil }
            return .init(id: id, uuid: uuid, slug: row["slug"]?.stringValue, title: row["dashboard_title"]?.stringValue ?? "")
        }
    }

    /// Datasets with their physical table and connection, for same-table and table-name conflict checks.
    public func datasetRefs() async throws -> [TargetState.Dataset] {
        try await listRows(.dataset, columns: ["id", "uuid", "table_name", "schema", "catalog", "database.uuid", "database.database_name"]).compactMap { row in
            guard let id = row["id"]?.intValue, let uuid = row["uuid"]?.stringValue else { return nil }
            return .init(id: id, uuid: uuid, databaseUUID: row["database"]?["uuid"]?.stringValue, catalog: row["catalog"]?.stringValue,
                         schema: row["schema"]?.stringValue, table: row["table_name"]?.stringValue ?? "",
                         databaseName: row["database"]?["database_name"]?.stringValue)
        }
    }

    /// After an import failed without a reason (`ImportDiagnosis.isUnexplained`): reads this
    /// Superset's datasets and dashboards back and names the assets of `bundle` (what was
    /// posted) most likely to blame, most likely first. Reads only.
    public func diagnoseImportFailure(of bundle: AssetBundle) async throws -> [ImportDiagnosis.Finding] {
        let datasets = try await datasetRefs()
        let dashboards = try await dashboardRefs()
        return ImportDiagnosis.diagnose(bundle, datasets: datasets, dashboards: dashboards)
    }

    /// uuid -> id of every asset of a kind.
    public func idsByUUID(_ kind: AssetKind) async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try await listRows(kind, columns: ["id", "uuid"]) {
            if let id = row["id"]?.intValue, let uuid = row["uuid"]?.stringValue { out[uuid] = id }
        }
        return out
    }

    /// Ids of the dashboards showing a chart.
    public func dashboardIDs(ofChart id: Int) async throws -> [Int] {
        (try await getJSON("/api/v1/chart/\(id)")["result"]?["dashboards"]?.listValue ?? []).compactMap { $0["id"]?.intValue }
    }

    /// Ids of the charts built on a dataset.
    public func chartIDs(ofDataset id: Int) async throws -> [Int] {
        (try await getJSON("/api/v1/dataset/\(id)/related_objects")["charts"]?["result"]?.listValue ?? []).compactMap { $0["id"]?.intValue }
    }

    public func dashboardDetail(id: Int) async throws -> DashboardDetail {
        guard let r = try await getJSON("/api/v1/dashboard/\(id)")["result"] else {
            throw SupersetError.invalidResponse("dashboard \(id): no result")
        }
        func parse(_ text: String?) -> BundleValue { text.flatMap { try? BundleValue.parseJSON($0) } ?? .map([:]) }
        return DashboardDetail(
            id: id, uuid: r["uuid"]?.stringValue, title: r["dashboard_title"]?.stringValue ?? "", slug: r["slug"]?.stringValue,
            position: parse(r["position_json"]?.stringValue), metadata: parse(r["json_metadata"]?.stringValue))
    }

    /// Ids of the charts that are members of a dashboard (the dashboard_slices relation).
    public func memberChartIDs(ofDashboard id: Int) async throws -> Set<Int> {
        Set((try await getJSON("/api/v1/dashboard/\(id)/charts")["result"]?.listValue ?? []).compactMap { $0["id"]?.intValue })
    }

    /// Dashboard id -> ids of its member charts, for every dashboard, from one paged chart list.
    public func membersByDashboard() async throws -> [Int: Set<Int>] {
        var out: [Int: Set<Int>] = [:]
        for row in try await listRows(.chart, columns: ["id", "dashboards.id"]) {
            guard let chart = row["id"]?.intValue else { continue }
            for d in row["dashboards"]?.listValue ?? [] { if let id = d["id"]?.intValue { out[id, default: []].insert(chart) } }
        }
        return out
    }

    /// Replaces a dashboard's json_metadata.
    public func updateDashboardMetadata(id: Int, metadata: BundleValue) async throws {
        try await sendJSON("PUT", "/api/v1/dashboard/\(id)", body: .map(["json_metadata": .string(metadata.jsonText())]))
    }

    /// Deletes one asset.
    public func delete(_ kind: AssetKind, id: Int) async throws {
        try await sendJSON("DELETE", "/api/v1/\(kind.resource)/\(id)", body: nil)
    }
}
