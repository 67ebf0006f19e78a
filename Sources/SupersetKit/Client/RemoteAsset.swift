import Foundation

/// One row of a Superset list endpoint, reduced to what Ferry's inventory keeps.
public struct RemoteAsset: Sendable, Equatable, Codable {
    public var kind: AssetKind
    public var id: Int
    public var uuid: String?
    public var name: String
    /// Dashboards: the slug. Datasets: `schema.table`. Charts: the viz type. Databases: the backend.
    public var detail: String?
    public var owners: [String]
    /// Superset user ids of the owners, in the order of `owners`.
    public var ownerIDs: [Int]
    public var changedOn: Date?
    /// Datasets and charts: the database / dataset they hang on, by name, for display.
    public var parent: String?

    public init(
        kind: AssetKind, id: Int, uuid: String?, name: String, detail: String? = nil, owners: [String] = [],
        ownerIDs: [Int] = [], changedOn: Date? = nil, parent: String? = nil
    ) {
        self.ownerIDs = ownerIDs
        self.kind = kind
        self.id = id
        self.uuid = uuid
        self.name = name
        self.detail = detail
        self.owners = owners
        self.changedOn = changedOn
        self.parent = parent
    }

    init?(kind: AssetKind, row: BundleValue) {
        guard let id = row["id"]?.intValue else { return nil }
        let name: String
        var detail: String? = nil
        var parent: String? = nil
        switch kind {
        case .dashboard:
            name = row["dashboard_title"]?.stringValue ?? ""
            detail = row["slug"]?.stringValue
        case .chart:
            name = row["slice_name"]?.stringValue ?? ""
            detail = row["viz_type"]?.stringValue
            parent = row["datasource_name_text"]?.stringValue
        case .dataset:
            name = row["table_name"]?.stringValue ?? ""
            detail = row["schema"]?.stringValue
            parent = row["database"]?["database_name"]?.stringValue
        case .database:
            name = row["database_name"]?.stringValue ?? ""
            detail = row["backend"]?.stringValue
        }
        let owners = (row["owners"]?.listValue ?? []).compactMap { owner -> String? in
            let full = [owner["first_name"]?.stringValue, owner["last_name"]?.stringValue].compactMap { $0 }
                .joined(separator: " ").trimmingCharacters(in: .whitespaces)
            return full.isEmpty ? owner["email"]?.stringValue : full
        }
        let ownerIDs = (row["owners"]?.listValue ?? []).compactMap { $0["id"]?.intValue }
        let changed = row["changed_on_utc"]?.stringValue ?? row["changed_on"]?.stringValue
        self.init(
            kind: kind, id: id, uuid: row["uuid"]?.stringValue, name: name, detail: detail, owners: owners, ownerIDs: ownerIDs,
            changedOn: changed.flatMap(Self.parseDate), parent: parent)
    }

    public static func parseDate(_ text: String) -> Date? {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = iso.date(from: text) { return d }
        iso.formatOptions = [.withInternetDateTime]
        if let d = iso.date(from: text) { return d }
        // Superset's naive "2024-05-01T10:20:30.123456" (UTC)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm:ss.SSSSSS", "yyyy-MM-dd'T'HH:mm:ss"] {
            f.dateFormat = format
            if let d = f.date(from: text) { return d }
        }
        return nil
    }
}

/// What `probe()` found out about a Superset.
public struct SupersetProbe: Sendable, Equatable, Codable {
    public var version: String
    public var loginOK: Bool
    public var csrfOK: Bool
    /// Import endpoints Ferry found (dashboard, chart, dataset, assets).
    public var capabilities: [String]
    public var latencyMilliseconds: Int
}

/// The result of a chart's data query.
public struct ChartDataResult: Sendable, Equatable {
    public var rowCount: Int
    /// The first query's rows.
    public var rows: [[String: BundleValue]]
}
