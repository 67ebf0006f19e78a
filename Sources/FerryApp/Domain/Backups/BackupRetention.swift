import Fluent
import Foundation
import SupersetKit

/// Retention and collection of the backup storage.
///
/// `apply` deletes an environment's backups its policy no longer keeps (audited, one event
/// each); `collect` removes what no listed backup needs: manifests without a row (a backup cut
/// short between its manifest and its row) and blobs no manifest names, both only once older
/// than `grace` on the storage's own clock, so a backup still writing keeps its files.
enum BackupRetention {
    struct Result: Sendable {
        var deleted: [UUID] = []
        var blobsRemoved = 0
        var bytesFreed = 0
        var manifestsRemoved = 0
        /// A backup or upload held the storage: nothing was collected this time.
        var collectionSkipped = false
        /// A listed backup whose manifest can't be read: no blob was collected (its are unknown).
        var blockedBy: UUID?
    }

    /// Applies `environment`'s policy, then, when it deleted a backup and `collect` is true,
    /// collects (what a killed backup left waits for the daily "Backup retention"). Returns what went.
    static func apply(environment: UUID, storage: BackupStorage, now: Date, newID: @Sendable () -> UUID, grace: TimeInterval = defaultGrace,
                      collect collecting: Bool = true, on db: any Database) async throws -> Result {
        let policy = try await BackupService.policy(environment: environment, on: db)
        let rows = try await BackupModel.query(on: db).filter(\.$environmentID == environment).all()
        let keep = policy.kept(rows.map { ($0.id!, $0.createdAt, $0.pinned) })
        let names = try await EnvironmentDirectory.load(on: db)
        var result = Result()
        for row in rows where !keep.contains(row.id!) {
            try await BackupService.delete(row, storage: storage, on: db)
            try await AuditLog.append(AuditEntry(
                at: now, actorID: nil, actor: "ferry", address: nil, action: "backup.delete", target: row.id!.key, environment: names.name(row.environmentID),
                environmentID: row.environmentID, outcome: .success,
                detail: "retention (last \(policy.keepLast), daily \(policy.daily), weekly \(policy.weekly), monthly \(policy.monthly)): \(BackupService.describe(row))"),
                id: newID(), on: db)
            result.deleted.append(row.id!)
        }
        guard collecting, !result.deleted.isEmpty else { return result }
        let collected = try await collect(storage: storage, grace: grace, on: db)
        result.blobsRemoved = collected.blobsRemoved
        result.bytesFreed = collected.bytesFreed
        result.manifestsRemoved = collected.manifestsRemoved
        result.collectionSkipped = collected.collectionSkipped
        result.blockedBy = collected.blockedBy
        return result
    }

    /// Six hours: no backup takes that long between writing a blob and its manifest's row.
    static let defaultGrace: TimeInterval = 6 * 3600

    /// Removes orphan manifests, unreferenced blobs and stale temporaries older than `grace`.
    /// If any listed backup's manifest can't be read, no blob is removed (its blobs are unknown).
    /// Runs only while no backup or upload writes (the storage lock, taken exclusively without
    /// waiting: when it is busy, collection is skipped and runs next time).
    static func collect(storage: BackupStorage, grace: TimeInterval, on db: any Database) async throws -> Result {
        guard (try? storage.prepare()) != nil else { return Result() }
        guard let lock = try await storage.lock(exclusive: true, wait: false) else {
            var skipped = Result()
            skipped.collectionSkipped = true
            return skipped
        }
        defer { lock.release() }
        let rows = Set(try await BackupModel.query(on: db).all().compactMap(\.id))
        return try await storage.offload {
            var result = Result()
            let cutoff = storage.fileSystemNow().addingTimeInterval(-grace)
            var referenced = Set<String>()
            let cache = BackupManifest.ChunkCache()
            for m in storage.manifests() {
                if rows.contains(m.backup) {
                    guard let data = try? storage.manifestData(environment: m.environment, backup: m.backup),
                          let manifest = try? BackupManifest.load(data, expected: nil, storage: storage, cache: cache) else { result.blockedBy = m.backup; continue }
                    referenced.formUnion(manifest.chunks)
                    referenced.formUnion(manifest.assets.map(\.hash))
                } else if m.modified < cutoff {
                    storage.removeManifest(environment: m.environment, backup: m.backup)
                    result.manifestsRemoved += 1
                }
            }
            // A row whose manifest file is gone is corrupt, not a reason to keep blobs: verify says so.
            if result.blockedBy == nil {
                for blob in storage.blobs() where !referenced.contains(blob.hash) && blob.modified < cutoff {
                    guard storage.removeBlob(blob.hash, unchangedSince: cutoff) else { continue }
                    result.blobsRemoved += 1
                    result.bytesFreed += blob.size
                }
            }
            storage.removeTemporaries(before: cutoff)
            return result
        }
    }
}

extension BackupStorage {
    /// The storage filesystem's current time (a marker file's modification time): file times are
    /// compared with it, so the grace doesn't depend on the process clock agreeing with the disk.
    func fileSystemNow() -> Date {
        let marker = root.appendingPathComponent("tmp/.clock")
        FileManager.default.createFile(atPath: marker.path, contents: Data(), attributes: [.posixPermissions: 0o600])
        let date = (try? FileManager.default.attributesOfItem(atPath: marker.path)[.modificationDate] as? Date) ?? nil
        return date ?? Date()
    }
}

/// `backup.retention`: applies every environment's retention and collects the storage. Ferry
/// schedules it daily ("Backup retention").
struct BackupRetentionPlugin: Plugin {
    let id = "backup.retention"
    let name = "Apply backup retention"
    let description = "Deletes backups each environment's retention no longer keeps, and blobs no backup needs."
    let version = "1.0.0"
    let permission = "tasks:admin"
    let resumable = true
    let paramsSchema = JSONSchema(json: #"{"type": "object", "additionalProperties": false, "properties": {}}"#)
    let storage: BackupStorage
    let grace: TimeInterval
    var environmentParams: [String] { [] }

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        try await context.step(key: "applying_retention", progress: 10)
        // Every environment with backups, deleted ones included (their backups keep their policy's defaults).
        let environments = Set(try await BackupModel.query(on: context.db).all().map(\.environmentID))
        var deleted = 0
        for env in environments.sorted(by: { $0.uuidString < $1.uuidString }) {
            deleted += try await BackupRetention.apply(environment: env, storage: storage, now: context.now(), newID: context.newID, grace: grace,
                                                       collect: false, on: context.db).deleted.count
        }
        try await context.step(key: "collecting_blobs", progress: 60)
        let last = try await BackupRetention.collect(storage: storage, grace: grace, on: context.db)
        if last.collectionSkipped { context.log(.warning, "a backup or upload is writing: collection skipped, it runs next time", source: "storage") }
        if let blocked = last.blockedBy {
            context.log(.error, "backup \(blocked.key)'s manifest can't be read: no blob was collected; verify it, and delete it if it is lost", source: "storage")
        }
        context.log(.info, "deleted \(deleted) backup(s); removed \(last.blobsRemoved) unreferenced blob(s) (\(last.bytesFreed) bytes) and \(last.manifestsRemoved) orphan manifest(s)",
                    source: "storage")
        try await context.step(key: "done", progress: 100)
        return .succeeded(.map(["deleted": .int(deleted), "blobsRemoved": .int(last.blobsRemoved), "bytesFreed": .int(last.bytesFreed),
                                "manifestsRemoved": .int(last.manifestsRemoved)]))
    }
}

/// `backup.verify`: re-hashes every blob of one backup, or of all, and records per backup
/// whether it is intact; a corrupt backup is marked and refused for restore. Ferry schedules
/// it weekly ("Verify backups").
struct BackupVerifyPlugin: Plugin {
    let id = "backup.verify"
    let name = "Verify backups"
    let description = "Re-hashes every stored asset of one backup or of all, and reports missing or corrupt ones by asset."
    let version = "1.0.0"
    let permission = "backup:run"
    let resumable = true
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "additionalProperties": false,
         "properties": {"backup": {"type": "string", "minLength": 36, "maxLength": 36, "description": "One backup's id; all backups when omitted"}}}
        """#)
    let storage: BackupStorage
    var environmentParams: [String] { [] }

    /// One backup: its environment. All: every environment that has a backup.
    func scope(of params: BundleValue, on db: any Database) async throws -> TaskScope {
        if let text = params["backup"]?.stringValue {
            guard let id = UUID(uuidString: text), let row = try await BackupModel.find(id, on: db) else {
                throw AppError.validation([FieldError(field: "params.backup", code: "unknown", key: "no_backup_named", ["name": text])])
            }
            return TaskScope(touches: [], authorizedOn: [row.environmentID])
        }
        // It never talks to a Superset, so it holds no environment's task slot.
        let envs = Set(try await BackupModel.query(on: db).all().map(\.environmentID))
        return TaskScope(touches: [], authorizedOn: envs.sorted { $0.uuidString < $1.uuidString })
    }

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        var rows: [BackupModel]
        if let text = context.params["backup"]?.stringValue {
            guard let id = UUID(uuidString: text), let row = try await BackupModel.find(id, on: context.db) else {
                throw TaskFailure(key: "backup_missing", ["backup": text])
            }
            rows = [row]
        } else {
            rows = try await BackupModel.query(on: context.db).sort(\.$createdAt, .descending).all()
        }
        var checked: [String: BackupStorage.BlobState] = [:]
        var reports: [BundleValue] = []
        var corrupt = 0, missing = 0, blobsChecked = 0
        for (i, row) in rows.enumerated() {
            try await context.step(key: "verifying_backup", ["n": String(i + 1), "total": String(rows.count)], progress: 5 + 90 * i / max(1, rows.count))
            var problems: [BackupProblem] = []
            do {
                let manifest = try BackupService.manifest(of: row, storage: storage)
                for e in manifest.assets {
                    let state: BackupStorage.BlobState
                    if let known = checked[e.hash] { state = known } else {
                        state = storage.check(e.hash)
                        checked[e.hash] = state
                        blobsChecked += 1
                    }
                    if state != .ok { problems.append(BackupProblem(kind: e.kind, uuid: e.uuid, name: e.name, problem: state.rawValue)) }
                }
            } catch {
                problems.append(BackupProblem(kind: nil, uuid: nil, name: "manifest", problem: "manifest: \(error)"))
            }
            for p in problems {
                context.log(.error, "backup \(row.id!.key): \(p.kind?.rawValue ?? "") '\(p.name)' \(p.uuid ?? "") is \(p.problem)", source: "storage",
                            metadata: ["backup": row.id!.key])
            }
            missing += problems.filter { $0.problem == "missing" }.count
            row.verifyStatus = (problems.isEmpty ? BackupVerifyStatus.verified : .corrupt).rawValue
            row.verifiedAt = context.now()
            row.verifyProblems = problems.isEmpty ? nil : String(decoding: try JSONEncoder().encode(Array(problems.prefix(200))), as: UTF8.self)
            try await row.save(on: context.db)
            if !problems.isEmpty { corrupt += 1 }
            reports.append(.map([
                "backup": .string(row.id!.key), "status": .string(row.verifyStatus),
                "problems": .list(problems.prefix(200).map { p in
                    .map(["kind": p.kind.map { .string($0.rawValue) } ?? .null, "uuid": p.uuid.map(BundleValue.string) ?? .null,
                          "name": .string(p.name), "problem": .string(p.problem)])
                }),
            ]))
        }
        context.log(corrupt == 0 ? .info : .error, "\(rows.count) backup(s) verified, \(blobsChecked) blob(s) re-hashed, \(corrupt) corrupt", source: "storage")
        try await context.step(key: corrupt == 0 ? "backups_intact" : "backups_corrupt", ["count": String(corrupt)], progress: 100)
        let summary = BundleValue.map(["checked": .int(rows.count), "blobs": .int(blobsChecked), "corrupt": .int(corrupt), "missing": .int(missing),
                                       "backups": .list(Array(reports.prefix(500)))])
        return corrupt == 0 ? .succeeded(summary) : .partial(summary)
    }
}

extension BuiltInSchedules {
    /// Daily retention and weekly verification of backups, unless schedules by those names
    /// exist (an operator may have changed or disabled them).
    static func ensureBackupSchedules(registry: PluginRegistry, now: Date, newID: @Sendable () -> UUID, on db: any Database) async throws {
        for (name, plugin, cron) in [("Backup retention", "backup.retention", "43 3 * * *"), ("Verify backups", "backup.verify", "29 4 * * 0")] {
            guard try await ScheduleModel.query(on: db).filter(\.$name == name).first() == nil else { continue }
            do {
                _ = try await ScheduleService.save(
                    ScheduleInput(name: name, plugin: plugin, params: .map([:]), cron: cron, timeZone: "UTC", enabled: true, catchUp: true),
                    id: nil, registry: registry, now: now, newID: newID(), on: db, authorize: { _, params in params })
            } catch let e as AppError where e.code == "name_taken" {}
        }
    }
}
