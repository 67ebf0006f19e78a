import Fluent
import Foundation
import SupersetKit
import Vapor

/// A search over the local inventory.
public struct InventoryQuery: Sendable, Equatable {
    public var kind: AssetKind
    /// An environment id or name; nil for all.
    public var environment: String?
    /// Words that must all appear in name, slug/detail, parent, uuid or owners (case-insensitive).
    public var search: String?
    public var owner: String?
    /// A Superset username that must be among the owners, exactly ("only my dashboards").
    public var ownerUsername: String?
    public var page: Int = 1
    public var perPage: Int = 50
    /// The `inventory:read` grants of the caller when some are limited to environments: only
    /// environments they cover are searched and listed. nil: every environment.
    public var scope: [Grant]?
    /// Only these Superset ids (with `environment`: a picked selection shown again).
    public var ids: Set<Int>?

    public init(kind: AssetKind, environment: String? = nil, search: String? = nil, owner: String? = nil, page: Int = 1, perPage: Int = 50,
                ownerUsername: String? = nil, scope: [Grant]? = nil) {
        self.ownerUsername = ownerUsername
        self.kind = kind
        self.environment = environment
        self.search = search
        self.owner = owner
        self.page = page
        self.perPage = perPage
        self.scope = scope
    }

    /// Whether the caller may see the environment `env`.
    func sees(_ env: InventoryEnvironmentDTO) -> Bool {
        scope.map { $0.contains { $0.covers(environmentID: env.id, stage: env.stage) } } ?? true
    }
}

/// One inventory row as the API returns it.
public struct InventoryItemDTO: Content, Sendable, Equatable {
    public var environmentId: UUID
    public var environment: String
    public var kind: String
    public var id: Int
    public var uuid: String?
    public var name: String
    public var detail: String?
    public var parent: String?
    public var owners: [String]
    public var changedOn: Date?
    /// A link into the Superset UI.
    public var url: String
}

public struct InventoryPage: Content, Sendable {
    public var items: [InventoryItemDTO]
    public var page: Int
    public var perPage: Int
    public var total: Int
    /// Every environment with the time its inventory was last refreshed.
    public var environments: [InventoryEnvironmentDTO]
}

public struct InventoryEnvironmentDTO: Content, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var stage: String
    public var lastSyncAt: Date?
    public var syncStatus: String?
    public var syncError: String?
}

enum InventorySearch {
    /// Answers a query from the in-memory index (fresh as `InventoryIndex` describes).
    static func run(_ q: InventoryQuery, index: InventoryIndex, on db: Database, now: Date) async throws -> InventoryPage {
        try search(q, in: try await index.current(on: db, now: now))
    }

    static func runJSON(_ q: InventoryQuery, index: InventoryIndex, on db: Database, now: Date) async throws -> [UInt8] {
        try json(q, in: try await index.current(on: db, now: now))
    }

    /// The entries of one page and the number of matches.
    struct Hits {
        var entries: [InventoryIndex.Snapshot.Entry]
        var total: Int
    }

    /// Pure: filters one snapshot. Every word must appear (case-insensitive) in the name,
    /// slug/detail, parent, uuid or owners; `owner` must appear in the owners.
    static func hits(_ q: InventoryQuery, in snapshot: InventoryIndex.Snapshot) throws -> Hits {
        var environmentID: UUID?
        if let e = q.environment, !e.isEmpty {
            guard let env = snapshot.environments.first(where: { $0.id.uuidString.lowercased() == e.lowercased() || $0.name == e }) else {
                throw AppError(.unprocessableEntity, code: "validation", detail: "environment: no environment '\(e)'",
                               fields: [FieldError(field: "environment", code: "unknown", key: "no_environment_short", ["name": e])])
            }
            guard q.sees(env) else { throw AuthErrors.forbidden(.inventoryRead, environment: env.name) }
            environmentID = env.id
        }
        // With a limited scope, the environments the caller may see (nil: all of them).
        let visible = q.scope == nil ? nil : Set(snapshot.environments.filter(q.sees).map(\.id))
        let words = (q.search ?? "").lowercased().split(whereSeparator: \.isWhitespace).prefix(8).map { Array($0.utf8) }
        let owner = q.owner.map { Array($0.lowercased().trimmingCharacters(in: .whitespaces).utf8) } ?? []
        let username = q.ownerUsername.map(InventorySync.ownerNeedle)
        let first = (q.page - 1) * q.perPage
        let last = first + q.perPage
        var hits = Hits(entries: [], total: 0)
        for entry in snapshot.byKind[q.kind.rawValue] ?? [] {
            if let environmentID, entry.environmentID != environmentID { continue }
            if let visible, !visible.contains(entry.environmentID) { continue }
            if let ids = q.ids, !ids.contains(entry.id) { continue }
            if !owner.isEmpty, !contains(entry.owners, owner) { continue }
            if let username, !contains(entry.ownerUsernames, username) { continue }
            if !words.allSatisfy({ contains(entry.text, $0) }) { continue }
            if hits.total >= first, hits.total < last { hits.entries.append(entry) }
            hits.total += 1
        }
        return hits
    }

    /// One dashboard (uuid, any case) in every environment `scope` lets the caller read (nil:
    /// every one), by environment name: a lookup, not a search.
    static func dashboard(uuid: String, scope: [Grant]?, in snapshot: InventoryIndex.Snapshot) -> [InventoryItemDTO] {
        let q = InventoryQuery(kind: .dashboard, scope: scope)
        let visible = Set(snapshot.environments.filter(q.sees).map(\.id))
        return (snapshot.dashboardsByUUID[uuid.lowercased()] ?? []).filter { visible.contains($0.environmentID) }.map(\.item)
            .sorted { ($0.environment, $0.id) < ($1.environment, $1.id) }
    }

    /// The schemas of an environment's datasets as the inventory knows them (each once, sorted,
    /// at most `limit`), when `scope` lets the caller read that environment's inventory.
    static func schemas(environment: UUID, scope: [Grant]?, limit: Int, in snapshot: InventoryIndex.Snapshot) -> [String] {
        let q = InventoryQuery(kind: .dataset, scope: scope)
        guard snapshot.environments.contains(where: { $0.id == environment && q.sees($0) }) else { return [] }
        var found = Set<String>()
        for entry in snapshot.byKind[AssetKind.dataset.rawValue] ?? [] where entry.environmentID == environment {
            if let schema = entry.item.detail, !schema.isEmpty { found.insert(schema) }
        }
        return Array(found.sorted().prefix(limit))
    }

    static func search(_ q: InventoryQuery, in snapshot: InventoryIndex.Snapshot) throws -> InventoryPage {
        let h = try hits(q, in: snapshot)
        return InventoryPage(items: h.entries.map(\.item), page: q.page, perPage: q.perPage, total: h.total,
                             environments: snapshot.environments.filter(q.sees))
    }

    /// The API's JSON for a query, assembled from the entries' pre-encoded JSON: the same
    /// document as encoding `search(q, in:)` (a test holds it to that).
    static func json(_ q: InventoryQuery, in snapshot: InventoryIndex.Snapshot) throws -> [UInt8] {
        let h = try hits(q, in: snapshot)
        var out: [UInt8] = []
        out.reserveCapacity(h.entries.reduce(256 + snapshot.environmentsJSON.count) { $0 + $1.json.count + 1 })
        out += Array(#"{"environments":"#.utf8)
        if q.scope == nil {
            out += snapshot.environmentsJSON
        } else {
            out += Array(try JSONEncoder.ferry.encode(snapshot.environments.filter(q.sees)))
        }
        out += Array(#","items":["#.utf8)
        for (i, e) in h.entries.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += e.json
        }
        out += Array(#"],"page":\#(q.page),"perPage":\#(q.perPage),"total":\#(h.total)}"#.utf8)
        return out
    }

    /// Byte substring search. On UTF-8 a byte match is a character-sequence match, since no
    /// character's encoding starts inside another's.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        let n = needle.count
        guard haystack.count >= n else { return false }
        return haystack.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { p in
                let first = p[0]
                var i = 0
                let end = h.count - n
                while i <= end {
                    if h[i] == first {
                        var j = 1
                        while j < n && h[i + j] == p[j] { j += 1 }
                        if j == n { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }

    static func supersetLink(base: String, kind: String, id: Int) -> String {
        switch kind {
        case "dashboard": return "\(base)/superset/dashboard/\(id)/"
        case "chart": return "\(base)/explore/?slice_id=\(id)"
        case "dataset": return "\(base)/explore/?datasource_type=table&datasource_id=\(id)"
        default: return "\(base)/databaseview/list/"
        }
    }
}
