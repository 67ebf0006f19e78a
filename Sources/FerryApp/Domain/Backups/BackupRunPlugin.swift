import Fluent
import Foundation
import SupersetKit

/// `backup.run`: backs one environment up into the content-addressed storage.
///
/// Reads the environment's dashboards, charts, datasets and connections with their
/// `changed_on`; exports only those that changed since the last backup (or everything, on a
/// full backup: when asked, when there is none yet, or when the last full one is older than
/// `FERRY_BACKUP_FULL_EVERY_DAYS`), in batches of the client's export size; stores each asset's
/// file once under its SHA-256; writes the manifest, then the row. Applies the environment's
/// retention afterwards.
/// Side effects: blobs and one manifest in the storage, one `backups` row, retention deletes
/// (audited). A run cut short leaves only unreferenced blobs, which collection removes.
struct BackupRunPlugin: Plugin {
    let id = "backup.run"
    let name = "Back up an environment"
    let description = "Stores the environment's dashboards, charts, datasets and connections (never passwords); only what changed since the last backup is exported."
    let version = "1.0.0"
    let permission = "backup:run"
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "required": ["environment"], "additionalProperties": false,
         "properties": {
           "environment": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The environment to back up"},
           "full": {"type": "boolean", "default": false, "description": "Export everything, not only what changed"}}}
        """#)
    let storage: BackupStorage
    let fullEveryDays: Int
    /// Collection's grace (`FERRY_BACKUP_COLLECT_GRACE`).
    var grace: TimeInterval = BackupRetention.defaultGrace

    /// Commits each backup to the git history (nil: git isn't available).
    var git: GitHistory?

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        let env = try await context.environment("environment")
        let (row, manifest, newAssets, toExport) = try await backUp(env, context)
        var result: [String: BundleValue] = [
            "backup": .string(row.id!.key), "environment": .string(env.id.key), "full": .bool(manifest.full),
            "assets": .int(manifest.counts.total), "newAssets": .int(newAssets), "exported": .int(toExport),
            "totalBytes": .int(Int(manifest.totalBytes)), "newBytes": .int(Int(manifest.newBytes)),
        ]
        if let commit = try await commitToGit(env, manifest: manifest, context, required: false) { result["git"] = commit }
        try await context.step(key: "backup_stored", progress: 100)
        return .succeeded(.map(result))
    }

    /// Backs `env` up (as `backup.run` does) and commits the result to the git history: what
    /// a promotion, restore or rollback ends with, so the history shows the target's new state.
    /// Never fails the caller: a problem is logged as a warning (the change itself is done).
    func recordState(of env: EnvironmentRef, _ context: TaskContext) async -> BundleValue? {
        do {
            let (_, manifest, _, _) = try await backUp(env, context)
            return try await commitToGit(env, manifest: manifest, context, required: false)
        } catch is CancellationError {
            return nil
        } catch {
            context.log(.warning, "couldn't record \(env.name)'s new state (backup and git history): \(TaskEngine.describe(error).0); the next backup will",
                        source: "git")
            return nil
        }
    }

    /// Captures and stores a backup of `env`, then applies its retention.
    func backUp(_ env: EnvironmentRef, _ context: TaskContext) async throws
        -> (row: BackupModel, manifest: BackupManifest, newAssets: Int, exported: Int)
    {
        do { try storage.prepare() } catch let f as BackupStorage.Failure { throw f.taskFailure }
        // Shared with other writers, exclusive of collection, until the row is in.
        let lock = try await storage.lock(exclusive: false, wait: true)
        let captured: (row: BackupModel, manifest: BackupManifest, newAssets: Int, exported: Int)
        do {
            defer { lock?.release() }
            captured = try await capture(env, context)
        }

        try await context.step(key: "applying_environment_retention", ["environment": env.name], progress: 95)
        do {
            let retention = try await BackupRetention.apply(environment: env.id, storage: storage, now: context.now(), newID: context.newID, grace: grace, on: context.db)
            if !retention.deleted.isEmpty || retention.blobsRemoved > 0 {
                context.log(.info, "retention deleted \(retention.deleted.count) backup(s) and \(retention.blobsRemoved) unreferenced blob(s)", source: "storage")
            }
        } catch {
            // The backup is stored and listed; retention runs again daily.
            context.log(.warning, "retention failed: \(TaskEngine.describe(error).0); it runs again with the daily \"Backup retention\"", source: "storage")
        }
        return captured
    }

    /// Commits a backup's state to the git history and pushes when the remote asks for it.
    /// `required`: a failure fails the task (a snapshot); otherwise it is a warning (a backup
    /// is stored whatever git says).
    func commitToGit(_ env: EnvironmentRef, manifest: BackupManifest, _ context: TaskContext, required: Bool) async throws -> BundleValue? {
        guard let git else {
            if required { throw TaskFailure(key: "git_not_installed") }
            return nil
        }
        try await context.step(key: "committing_environment", ["environment": env.name], progress: 97)
        do {
            let commit = try await git.commit(environment: env, assets: manifest.assets, author: GitAuthor(startedBy: context.startedBy),
                                              taskID: context.taskID, now: context.now(), on: context.db) { context.log(.info, $0, source: "git") }
            var out: [String: BundleValue] = [
                "commit": commit.sha.map(BundleValue.string) ?? .null, "changed": .int(commit.changed.count),
                "added": .int(commit.added.count), "removed": .int(commit.removed.count),
            ]
            if commit.sha != nil, let remote = git.remote {
                let settings = try await remote.load(on: context.db)
                if settings.isConfigured && settings.pushAfterCommit {
                    do {
                        try await git.repository.exclusive { try await remote.push(git.repository, settings: settings) }
                        context.log(.info, "pushed to \(settings.url) (\(settings.branch))", source: "git")
                        out["pushed"] = .bool(true)
                    } catch let f as GitFailure {
                        context.log(.error, "push failed: \(f.message) \(f.next)", source: "git")
                        out["pushed"] = .bool(false)
                        out["pushError"] = .string(f.message)
                    }
                }
            }
            return .map(out)
        } catch let f as GitFailure {
            if required { throw f.taskFailure }
            context.log(.error, "git history not updated: \(f.message) \(f.next)", source: "git")
        } catch let f as BackupStorage.Failure {
            if required { throw f.taskFailure }
            context.log(.error, "git history not updated: \(f.message) \(f.next)", source: "git")
        } catch {
            if required { throw error }
            context.log(.error, "git history not updated: \(TaskEngine.describe(error).0)", source: "git")
        }
        return nil
    }

    /// Reads, exports and stores; writes the manifest, then the row.
    private func capture(_ env: EnvironmentRef, _ context: TaskContext) async throws
        -> (row: BackupModel, manifest: BackupManifest, newAssets: Int, exported: Int)
    {
        try await context.step(key: "reading_assets", ["environment": env.name], progress: 3)
        let client = try await context.superset(env.id)
        let version = (try? await client.probe().version) ?? "unknown"
        let listed = try await Self.list(client)
        context.log(.info, "\(env.name) has " + AssetKind.allCases.reversed().map { "\(listed[$0]?.count ?? 0) \($0.rawValue)s" }.joined(separator: ", "),
                    source: "superset_api", metadata: ["superset_version": version])

        let previous = try await BackupService.latest(environment: env.id, origin: .task, on: context.db)
        let lastFull = try await BackupService.latestFull(environment: env.id, on: context.db)
        var base: BackupManifest?
        var reason = "asked for"
        let askedFull = context.params["full"]?.boolValue == true
        if !askedFull {
            if previous == nil { reason = "no earlier backup" }
            else if let lastFull, context.now().timeIntervalSince(lastFull.createdAt) < Double(fullEveryDays) * 86_400, let previous {
                do { base = try BackupService.manifest(of: previous, storage: storage) } catch {
                    reason = "the last backup's manifest can't be read (\(error))"
                }
                if previous.verifyStatus == BackupVerifyStatus.corrupt.rawValue { base = nil; reason = "the last backup is corrupt" }
            } else { reason = "the last full backup is older than \(fullEveryDays) day(s)" }
        }
        let full = base == nil
        context.log(.info, full ? "full backup (\(reason))" : "incremental backup, based on \(base!.backup.key)", source: "storage")

        // What can be reused: same uuid, same changed_on, blob still present.
        let baseIndex = base?.index
        var entries: [String: BackupManifest.Entry] = [:]  // "kind uuid" -> entry
        var export: [AssetKind: [Int]] = [:]
        for kind in AssetKind.allCases {
            for row in listed[kind] ?? [] {
                if kind != .database, let old = baseIndex?[kind, row.uuid], let changed = row.changedOn, changed == old.changedOnText,
                   storage.renew(old.hash) {
                    entries["\(kind.rawValue) \(row.uuid)"] = old
                } else {
                    export[kind, default: []].append(row.id)
                }
            }
        }
        let changedOn = Dictionary(AssetKind.allCases.flatMap { kind in (listed[kind] ?? []).map { ("\(kind.rawValue) \($0.uuid)", $0.changedOn) } },
                                   uniquingKeysWith: { a, _ in a })
        let toExport = export.values.reduce(0) { $0 + $1.count }
        context.log(.info, "\(entries.count) asset(s) unchanged since the last backup, \(toExport) to export ("
                    + AssetKind.allCases.reversed().map { "\(export[$0]?.count ?? 0) \($0.rawValue)s" }.joined(separator: ", ") + ")", source: "storage")

        // Dashboards first: their export carries their charts and datasets, so those need no
        // export of their own. Connections always come from their own (small) export.
        var newBytes: Int64 = 0
        var newAssets = 0
        let batchSize = max(1, await client.configuration.exportBatchSize)
        let parallel = client.parallelism(asked: nil)
        for kind in [AssetKind.dashboard, .chart, .dataset, .database] {
            let uuidByID = Dictionary((listed[kind] ?? []).map { ($0.id, $0.uuid) }, uniquingKeysWith: { a, _ in a })
            let ids = (export[kind] ?? []).filter { id in
                guard let uuid = uuidByID[id] else { return true }
                return entries["\(kind.rawValue) \(uuid)"] == nil
            }
            guard !ids.isEmpty else { continue }
            let batches = stride(from: 0, to: ids.count, by: batchSize).map { Array(ids[$0..<min($0 + batchSize, ids.count)]) }
            // A pipeline: while one group of archives is parsed and stored (on the thread pool),
            // the next group downloads.
            var storing: Task<[(BackupManifest.Entry, Bool)], any Error>?
            defer { storing?.cancel() }
            func collect() async throws {
                guard let task = storing else { return }
                storing = nil
                for (entry, isNew) in try await task.value {
                    if isNew { newBytes += Int64(entry.size); newAssets += 1 }
                    entries["\(entry.kind.rawValue) \(entry.uuid)"] = entry
                }
            }
            for group in stride(from: 0, to: batches.count, by: parallel) {
                let slice = Array(batches[group..<min(group + parallel, batches.count)])
                let first = group * batchSize + 1, last = min((group + slice.count) * batchSize, ids.count)
                try await context.step(key: "exporting_batch", ["kinds": kind.rawValue + "s", "first": String(first), "last": String(last), "total": String(ids.count)], progress: progress(kind, done: first, of: ids.count))
                let exported = try await SupersetClient.spreading(parallel) {
                    try await slice.concurrentMap(limit: parallel) { batch in try await client.exportArchivesSkippingVanished(kind, ids: batch) }
                }
                let archives = exported.flatMap(\.archives)
                let vanished = exported.flatMap(\.vanished)
                if !vanished.isEmpty {
                    context.log(.warning, "\(vanished.count) \(kind.rawValue)(s) deleted in Superset since they were listed, not in this backup (ids \(vanished.map(String.init).joined(separator: ", ")))",
                                source: "superset")
                }
                try await collect()
                storing = Task { [storage, full, changedOn] in
                    try await storage.offload {
                        // Connections only from their own export: the copy a dashboard's export
                        // carries is worded differently, and would be stored anew each time.
                        let kinds = kind == .database ? [AssetKind.database] : [.dataset, .chart, .dashboard]
                        var out: [(BackupManifest.Entry, Bool)] = []
                        for archive in archives {
                            let bundle = try BundleReader().read(archive)
                            let assets = kinds.flatMap { bundle.all($0) }.map(\.withoutSecrets)
                            let results = try storage.putAll(try assets.map { try $0.fileData() }, repair: full)
                            for (asset, r) in zip(assets, results) {
                                let changed = changedOn["\(asset.kind.rawValue) \(asset.uuid)"] ?? nil
                                out.append((BackupManifest.Entry(kind: asset.kind, uuid: asset.uuid, name: asset.name, hash: r.hash, size: r.size,
                                                                 changedOn: changed.flatMap(RemoteAsset.parseDate), changedOnText: changed,
                                                                 refs: asset.references), r.isNew))
                            }
                        }
                        return out
                    }
                }
            }
            try await collect()
        }

        try await context.step(key: "writing_manifest", progress: 90)
        let names = try await EnvironmentDirectory.load(on: context.db)
        var manifest = BackupManifest(backup: context.newID(), environment: env.id, environmentName: names.name(env.id), createdAt: context.now(),
                                      supersetVersion: version, full: full, origin: .task, basedOn: base?.backup,
                                      assets: Array(entries.values), newBytes: newBytes)
        let row = try await BackupService.record(&manifest, storage: storage, taskID: context.taskID, createdBy: context.startedBy, on: context.db)
        context.log(.info, "backup \(row.id!.key) stored: \(manifest.counts.total) assets, \(manifest.totalBytes) bytes, \(newAssets) new asset file(s), \(newBytes) new bytes",
                    source: "storage", metadata: ["backup": row.id!.key])
        return (row, manifest, newAssets, toExport)
    }

    /// Every asset of the environment with its `changed_on` as Superset sends it (connections
    /// have none): the listing a backup and a drift check compare.
    static func list(_ client: SupersetClient) async throws -> [AssetKind: [(id: Int, uuid: String, changedOn: String?)]] {
        var listed: [AssetKind: [(id: Int, uuid: String, changedOn: String?)]] = [:]
        for kind in AssetKind.allCases {
            let columns = kind == .database ? ["id", "uuid"] : ["id", "uuid", "changed_on_utc"]
            listed[kind] = try await client.listRows(kind, columns: columns).compactMap { row in
                guard let id = row["id"]?.intValue, let uuid = row["uuid"]?.stringValue else { return nil }
                return (id, uuid, row["changed_on_utc"]?.stringValue)
            }
        }
        return listed
    }

    private func progress(_ kind: AssetKind, done: Int, of total: Int) -> Int {
        let (start, span): (Int, Int) = switch kind {
        case .dashboard: (10, 50)
        case .chart: (60, 15)
        case .dataset: (75, 10)
        case .database: (85, 4)
        }
        return start + span * max(0, done - 1) / max(1, total)
    }
}
