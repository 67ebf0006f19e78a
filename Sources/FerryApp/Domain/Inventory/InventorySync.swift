import Fluent
import Foundation
import Logging
import SupersetKit

/// Copies an environment's dashboards, charts, datasets and databases into the local store, so
/// search answers without calling Superset.
///
/// Guarantees: the environment's items are replaced in one transaction after all four lists were
/// read; a failure keeps the previous inventory and records the error on the sync row.
/// Side effects: Superset list calls; database writes. Runs as the `inventory.sync` task
/// (`InventorySyncPlugin`), which `SyncCoordinator` starts.
enum InventorySync {
    struct Outcome: Sendable {
        var counts: [String: Int]
    }

    /// Reads every list of the environment through `client` and replaces its inventory.
    /// `step` is told before each kind is listed (the task's progress and cancellation point);
    /// `note` receives what the operator should know (a warning that isn't a failure).
    static func run(
        environmentID: UUID, client: SupersetClient, on db: Database, now: @Sendable () -> Date, newID: @escaping @Sendable () -> UUID,
        logger: Logger, step: (AssetKind, Int) async throws -> Void = { _, _ in }, note: (String) -> Void = { _ in }
    ) async throws -> Outcome {
        let started = now()
        try await markStarted(environmentID, at: started, on: db)
        do {
            var all: [RemoteAsset] = []
            var counts: [String: Int] = [:]
            for (i, kind) in AssetKind.allCases.enumerated() {
                try await step(kind, i)
                let rows = try await client.list(kind)
                counts[kind.rawValue] = rows.count
                all += rows
            }
            let usernames: [Int: String]
            do {
                usernames = try await client.usernames()
            } catch {
                // Search still works; only "only my dashboards" finds nothing here.
                usernames = [:]
                let why = (error as? SupersetError)?.errorDescription ?? String(describing: error)
                note("Owners' usernames are unavailable (\(why)): 'only my dashboards' won't match on this environment until its Superset user may list users.")
                logger.warning("owners' usernames unavailable", metadata: ["error": .string(why)])
            }
            let finished = now()
            try await replace(environmentID, with: all, usernames: usernames, syncedAt: finished, idFactory: newID, on: db)
            try await markFinished(environmentID, at: finished, counts: counts, error: nil, on: db)
            logger.info("inventory synced", metadata: ["counts": .string(counts.description),
                                                       "ms": .stringConvertible(Int(finished.timeIntervalSince(started) * 1000))])
            return Outcome(counts: counts)
        } catch {
            let message = error is CancellationError ? "The sync was cancelled; the previous inventory is kept."
                : (error as? SupersetError)?.errorDescription ?? String(describing: error)
            logger.warning("inventory sync failed", metadata: ["error": .string(message)])
            try? await markFinished(environmentID, at: now(), counts: nil, error: message, on: db)
            throw error
        }
    }

    static func replace(
        _ environmentID: UUID, with assets: [RemoteAsset], usernames: [Int: String] = [:], syncedAt: Date, idFactory: @Sendable () -> UUID,
        on db: Database
    ) async throws {
        let models = assets.map { a -> InventoryItemModel in
            let m = InventoryItemModel()
            m.id = idFactory()
            m.environmentID = environmentID
            m.kind = a.kind.rawValue
            m.supersetID = a.id
            m.uuid = a.uuid
            m.name = a.name
            m.detail = a.detail
            m.parent = a.parent
            m.owners = a.owners.joined(separator: ", ")
            m.ownerUsernames = ownerUsernames(a.ownerIDs, usernames)
            m.changedOn = a.changedOn
            m.searchText = searchText(a)
            m.syncedAt = syncedAt
            return m
        }
        try await db.transaction { tx in
            try await InventoryItemModel.query(on: tx).filter(\.$environmentID == environmentID).delete()
            for chunk in stride(from: 0, to: models.count, by: 200) {
                try await Array(models[chunk..<min(chunk + 200, models.count)]).create(on: tx)
            }
        }
    }

    /// `,alice,bob,`: lower-cased, comma-delimited at both ends so a match is a whole name.
    static func ownerUsernames(_ ids: [Int], _ usernames: [Int: String]) -> String {
        let names = ids.compactMap { usernames[$0]?.lowercased() }
        return names.isEmpty ? "" : "," + names.joined(separator: ",") + ","
    }

    /// The form `ownerUsernames` matches against.
    static func ownerNeedle(_ username: String) -> [UInt8] {
        Array(",\(username.trimmingCharacters(in: .whitespaces).lowercased()),".utf8)
    }

    static func searchText(_ a: RemoteAsset) -> String {
        ([a.name, a.detail ?? "", a.parent ?? "", a.uuid ?? ""] + a.owners).joined(separator: " ").lowercased()
    }

    static func markStarted(_ id: UUID, at date: Date, on db: Database) async throws {
        let row = try await InventorySyncModel.find(id, on: db) ?? {
            let r = InventorySyncModel()
            r.id = id
            r.counts = "{}"
            return r
        }()
        row.status = "running"
        row.startedAt = date
        row.error = nil
        try await row.save(on: db)
    }

    static func markFinished(_ id: UUID, at date: Date, counts: [String: Int]?, error: String?, on db: Database) async throws {
        guard let row = try await InventorySyncModel.find(id, on: db) else { return }
        row.status = error == nil ? "succeeded" : "failed"
        row.finishedAt = date
        row.error = error
        if let counts {
            row.succeededAt = date
            row.counts = String(decoding: try JSONEncoder().encode(counts), as: UTF8.self)
        }
        try await row.save(on: db)
    }
}
