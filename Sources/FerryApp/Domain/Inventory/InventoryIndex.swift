import Fluent
import Foundation
import SupersetKit
import Vapor

/// An in-memory copy of the inventory that searches answer from, so a search costs no store
/// round trip (see docs/benchmarks.md: the store-backed search was the bottleneck).
///
/// Freshness: this process marks the index stale after each sync and environment change
/// (`invalidate`), and the next search reloads it. Changes made by another Ferry process sharing
/// the store (PostgreSQL) are noticed within `revalidateAfter` seconds: a search after that reads
/// a small fingerprint of the environments and their syncs, and reloads only if it changed.
/// Invariants: a published snapshot is immutable; at most one reload or revalidation runs at a
/// time, and searches waiting for it share its result.
/// Side effects: store reads.
final class InventoryIndex: @unchecked Sendable {
    let revalidateAfter: TimeInterval
    private let lock = NSLock()
    private var snapshot: Snapshot?
    private var stale = true
    private var pending: Task<Snapshot, Error>?

    init(revalidateAfter: TimeInterval = 2) {
        self.revalidateAfter = revalidateAfter
    }

    /// The next search reloads from the store.
    func invalidate() { lock.withLock { stale = true } }

    /// A current snapshot: the published one, or a reloaded one when it is stale or too old.
    func current(on db: Database, now: Date) async throws -> Snapshot {
        enum Need { case none, revalidate, reload }
        let (published, need, running): (Snapshot?, Need, Task<Snapshot, Error>?) = lock.withLock {
            guard let snapshot, !stale else { return (nil, .reload, pending) }
            if now.timeIntervalSince(snapshot.checkedAt) > revalidateAfter { return (snapshot, .revalidate, pending) }
            return (snapshot, .none, nil)
        }
        if need == .none, let published { return published }
        if let running { return try await running.value }
        let task: Task<Snapshot, Error> = lock.withLock {
            if let pending { return pending }
            let previous = need == .revalidate ? published : nil
            let t = Task { try await Self.refresh(previous: previous, on: db, now: now) }
            pending = t
            stale = false
            return t
        }
        do {
            let fresh = try await task.value
            let replaced = lock.withLock {
                let changed = snapshot?.fingerprint != fresh.fingerprint
                snapshot = fresh
                if pending == task { pending = nil }
                return changed
            }
            if replaced { MemoryRelease.trim() }
            return fresh
        } catch {
            lock.withLock {
                if pending == task { pending = nil }
                stale = true
            }
            throw error
        }
    }

    /// Reuses `previous` when the fingerprint is unchanged, else loads everything.
    static func refresh(previous: Snapshot?, on db: Database, now: Date) async throws -> Snapshot {
        let envs = try await EnvironmentService.list(on: db)
        let fingerprint = Self.fingerprint(envs)
        if var previous, previous.fingerprint == fingerprint {
            previous.checkedAt = now
            return previous
        }
        let rows = try await InventoryItemModel.query(on: db).all()
        return Snapshot(environments: envs, items: rows, fingerprint: fingerprint, checkedAt: now)
    }

    static func fingerprint(_ envs: [(EnvironmentModel, InventorySyncModel?)]) -> String {
        envs.map { e, s in
            [e.id?.uuidString ?? "", e.name, e.url, e.stage, "\(e.updatedAt.timeIntervalSince1970)",
             "\(s?.succeededAt?.timeIntervalSince1970 ?? 0)", "\(s?.finishedAt?.timeIntervalSince1970 ?? 0)", s?.status ?? ""]
                .joined(separator: "|")
        }.sorted().joined(separator: "\n")
    }
}

extension InventoryIndex {
    /// One immutable generation of the index.
    struct Snapshot: Sendable {
        struct Entry: Sendable {
            /// The item as pages show it. Kept beside `json` (a page of 50 decoded from JSON per
            /// request was a tenth of a hub's time): its name, uuid and environment name share
            /// storage with the stored model and the environment; its url, owners, detail and
            /// parent are copies (some 150 bytes an entry). Its `changedOn` keeps sub-second
            /// precision, which `json` (ISO 8601, seconds) drops; pages show whole seconds.
            let item: InventoryItemDTO
            var environmentID: UUID { item.environmentId }
            /// The item's Superset id, uuid and name (what filters and lists read).
            var id: Int { item.id }
            var uuid: String? { item.uuid }
            var name: String { item.name }
            /// Lower-cased UTF-8 of everything searchable.
            let text: [UInt8]
            /// Lower-cased UTF-8 of the owners.
            let owners: [UInt8]
            /// The owners' Superset usernames as `,alice,bob,` (lower-cased UTF-8).
            let ownerUsernames: [UInt8]
            /// `item` encoded once as JSON, so API answers don't re-encode it per request.
            let json: [UInt8]
        }

        /// Per kind, sorted by name (case-insensitive), environment name, then Superset id.
        let byKind: [String: [Entry]]
        /// The dashboards by uuid (lower-case): one per environment it exists in.
        let dashboardsByUUID: [String: [Entry]]
        let environments: [InventoryEnvironmentDTO]
        /// `environments` encoded once as JSON.
        let environmentsJSON: [UInt8]
        let fingerprint: String
        var checkedAt: Date

        init(environments envs: [(EnvironmentModel, InventorySyncModel?)], items: [InventoryItemModel], fingerprint: String, checkedAt: Date) {
            let byID = Dictionary(envs.map { ($0.0.id!, $0.0) }, uniquingKeysWith: { a, _ in a })
            var byKind: [String: [(key: String, entry: Entry)]] = [:]
            let encoder = JSONEncoder.ferry
            for m in items {
                guard let env = byID[m.environmentID] else { continue }
                let dto = InventoryItemDTO(
                    environmentId: m.environmentID, environment: env.name, kind: m.kind, id: m.supersetID, uuid: m.uuid, name: m.name,
                    detail: m.detail, parent: m.parent, owners: m.owners.isEmpty ? [] : m.owners.components(separatedBy: ", "),
                    changedOn: m.changedOn, url: InventorySearch.supersetLink(base: env.url, kind: m.kind, id: m.supersetID))
                let key = m.name.lowercased() + "\u{0}" + env.name + "\u{0}" + String(format: "%012d", m.supersetID)
                byKind[m.kind, default: []].append((key, Entry(
                    item: dto, text: Array(m.searchText.lowercased().utf8),
                    owners: Array(m.owners.lowercased().utf8), ownerUsernames: Array(m.ownerUsernames.utf8), json: Array((try? encoder.encode(dto)) ?? Data("{}".utf8)))))
            }
            self.byKind = byKind.mapValues { $0.sorted { $0.key < $1.key }.map(\.entry) }
            var byUUID: [String: [Entry]] = [:]
            for entry in self.byKind[AssetKind.dashboard.rawValue] ?? [] {
                if let uuid = entry.uuid?.lowercased() { byUUID[uuid, default: []].append(entry) }
            }
            self.dashboardsByUUID = byUUID
            self.environments = envs.map { e, s in
                InventoryEnvironmentDTO(id: e.id!, name: e.name, stage: e.stage, lastSyncAt: s?.succeededAt, syncStatus: s?.status, syncError: s?.error)
            }
            self.environmentsJSON = Array((try? encoder.encode(self.environments)) ?? Data("[]".utf8))
            self.fingerprint = fingerprint
            self.checkedAt = checkedAt
        }
    }
}

extension Application {
    private struct InventoryIndexKey: StorageKey { typealias Value = InventoryIndex }

    var inventoryIndex: InventoryIndex {
        get { required(InventoryIndexKey.self, "InventoryIndex") }
        set { storage[InventoryIndexKey.self] = newValue }
    }
}
