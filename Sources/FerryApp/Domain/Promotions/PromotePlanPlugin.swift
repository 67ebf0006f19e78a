import Fluent
import Foundation
import SupersetKit

/// `promote.plan`: the dry run. Exports the selection from the source, maps every database to
/// a target connection (asking the operator for the ones without a stored mapping), rewrites
/// the bundle, diffs it against the target by uuid and stores the plan. Writes nothing to
/// either Superset.
struct PromotePlanPlugin: Plugin {
    let id = "promote.plan"
    let name = "Plan a promotion"
    let description = "Exports dashboards from the source, maps databases, and diffs the rewritten bundle against the target (a dry run)."
    let version = "1.0.0"
    let permission = "promote:plan"
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "required": ["plan"], "additionalProperties": false,
         "properties": {
           "plan": {"type": "string", "minLength": 36, "maxLength": 36, "description": "The plan's id"},
           "source": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The plan's source environment (optional; must be the stored plan's)"},
           "target": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The plan's target environment (optional; must be the stored plan's)"},
           "concurrency": {"type": "integer", "minimum": 1, "maximum": 16,
                           "description": "Export batches requested from the source at once; at most, and by default, the source environment's parallel requests"}}}
        """#)

    var environmentParams: [String] { ["source", "target"] }
    /// Where a restore's backup is read from.
    var storage: BackupStorage?
    /// Where a deploy's revision is read from.
    var git: GitHistory?

    /// Touches both environments of the stored plan, and needs `promote:plan` on both; a
    /// restore's plan (its source a backup) needs `restore:run` on its target.
    func scope(of params: BundleValue, on db: any Database) async throws -> TaskScope {
        let plan = try await PromotionTaskScope.plan(params, on: db)
        if plan.sourceBackupID != nil {
            return TaskScope(touches: [plan.sourceEnvID, plan.targetEnvID], authorizedOn: [plan.targetEnvID], permission: Permission.restoreRun.rawValue)
        }
        return TaskScope(touches: [plan.sourceEnvID, plan.targetEnvID])
    }

    /// Only the plan `PromotionService.plan` just recorded, once.
    func admitsNewTask(_ params: BundleValue, on db: any Database) async throws {
        let plan = try await PromotionTaskScope.plan(params, on: db)
        guard plan.status == .planning, plan.taskID == nil else { throw PromotionTaskScope.notWaiting("plan") }
    }

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        guard let planID = context.params["plan"]?.stringValue.flatMap(UUID.init(uuidString:)),
              let plan = try await PromotionPlanModel.find(planID, on: context.db) else {
            throw TaskFailure(key: "plan_gone")
        }
        do {
            return try await makePlan(plan, context)
        } catch {
            plan.status = .failed
            plan.error = TaskEngine.describe(error).0
            try? await plan.save(on: context.db)
            throw error
        }
    }

    private func makePlan(_ plan: PromotionPlanModel, _ context: TaskContext) async throws -> PluginOutcome {
        let selection = try JSONDecoder().decode(PlanSelection.self, from: Data(plan.selection.utf8))
        let schemas = (try? JSONDecoder().decode([String: String].self, from: Data(plan.schemaMapping.utf8))) ?? [:]
        let scope = PromotionScope(rawValue: plan.scope) ?? .dashboards

        let names = try await EnvironmentDirectory.load(on: context.db)
        let sourceName = names.name(plan.sourceEnvID), targetName = names.name(plan.targetEnvID)
        // The target's release first: one Ferry can't translate for fails before any export.
        try await context.step(key: "reading_release", ["target": targetName], progress: 2)
        let target = try await context.superset(plan.targetEnvID)
        let targetVersion = try await target.version()
        let schema = try Self.admit(targetVersion: targetVersion, targetName: targetName, acceptUnknown: plan.acceptUnknownVersion == true, context: context)
        let exported: AssetBundle
        // The release that wrote the bundle: a backup's manifest says; a revision doesn't.
        var sourceVersion = "unknown"
        if let backupID = plan.sourceBackupID {
            (exported, sourceVersion) = try await readBackup(backupID, selection: selection, context: context)
        } else if let revision = plan.sourceRevision {
            exported = try await readRevision(revision, environment: plan.sourceEnvID, name: sourceName, selection: selection, context: context)
        } else {
            try await context.step(key: "resolving_selection", ["source": sourceName], progress: 5)
            let source = try await context.superset(plan.sourceEnvID)
            sourceVersion = (try? await source.version()) ?? "unknown"
            let ids = try await Self.resolve(selection, on: source, environment: sourceName)
            context.log(.info, "\(ids.count) dashboard(s) selected", source: "superset_api", metadata: ["ids": ids.map(String.init).joined(separator: ",")])

            try await context.step(key: "exporting_dashboards", ["count": String(ids.count), "source": sourceName], progress: 15)
            exported = try await source.export(.dashboard, ids: ids, concurrency: source.parallelism(asked: context.params["concurrency"]?.intValue))
        }
        context.log(.info, "exported \(exported.dashboards.count) dashboards, \(exported.charts.count) charts, \(exported.datasets.count) datasets, \(exported.databases.count) databases",
                    source: "bundle")
        // Over the content, not the ZIP: the same source gives the same checksum at any time.
        let checksum = Checksum.sha256Hex(AssetKind.allCases.flatMap { kind in
            exported.all(kind).map { "\(kind.rawValue) \($0.uuid) \(BundleValue.map($0.fields).jsonText())" }
        }.joined(separator: "\n"))

        try await context.step(key: "mapping_databases", ["target": targetName], progress: 30)
        let mapping = try await Self.mapDatabases(of: exported, source: plan.sourceEnvID, target: (plan.targetEnvID, targetName), targetClient: target, context: context)

        try await context.step(key: "rewriting_bundle", ["target": targetName], progress: 40)
        let translation = Self.translate(try BundleRewriter(databases: mapping, schemas: schemas).rewrite(exported), to: schema,
                                         sourceVersion: sourceVersion, targetVersion: targetVersion, context: context)
        context.log(.info, "Superset \(translation.summary) in \(translation.milliseconds) ms", source: "bundle",
                    metadata: ["source_version": sourceVersion, "target_version": targetVersion, "translate_ms": String(translation.milliseconds)])
        let rewritten = translation.bundle
        let unresolved = rewritten.unresolvedReferences()
        if !unresolved.isEmpty {
            for u in unresolved { context.log(.error, "unresolved reference: \(u)", source: "bundle") }
            throw TaskFailure(key: "bundle_not_closed", ["count": String(unresolved.count), "first": unresolved[0]])
        }

        try await context.step(key: "reading_target", ["target": targetName], progress: 55)
        let state = try await PromotionTargetReader.read(target, bundle: rewritten, scope: scope, concurrency: target.parallelism(asked: context.params["concurrency"]?.intValue))

        try await context.step(key: "diffing", ["target": targetName], progress: 85)
        var items = PromotionPlanner.plan(rewritten, target: state, scope: scope)
        PlanItem.attach(translation.assets, to: &items)
        for item in items {
            let level: LogLevel = item.action == .conflict ? .warning : .info
            context.log(level, "\(item.action.rawValue) \(item.kind.rawValue) '\(item.name)'\(item.reasons.isEmpty ? "" : ": " + item.reasons.joined(separator: "; "))",
                        source: "bundle", metadata: ["uuid": item.uuid])
            if let losses = item.losses {
                let shown = losses.prefix(20).map { "\($0.field) = \($0.value)" }.joined(separator: "; ")
                context.log(.warning, "\(item.kind.rawValue) '\(item.name)' loses on \(targetName)'s older Superset: " + shown
                                + (losses.count > 20 ? "; and \(losses.count - 20) more (the plan lists them all)" : ""),
                            source: "bundle", metadata: ["uuid": item.uuid])
            }
            if let defaulted = item.defaulted {
                context.log(.info, "\(item.kind.rawValue) '\(item.name)' takes \(targetName)'s defaults for \(defaulted.joined(separator: ", "))",
                            source: "bundle", metadata: ["uuid": item.uuid])
            }
        }
        let used = BundleRewriter.sourceDatabases(of: exported).compactMap { src in mapping[src.uuid].map { UsedMapping(source: src, target: $0) } }
        plan.items = String(decoding: try JSONEncoder().encode(items), as: UTF8.self)
        plan.mappings = String(decoding: try JSONEncoder().encode(used), as: UTF8.self)
        plan.bundle = try BundleWriter().write(rewritten)
        plan.bundleChecksum = checksum
        plan.targetFingerprint = PromotionPlanner.fingerprint(rewritten, target: state)
        plan.sourceVersion = String(sourceVersion.prefix(64))
        plan.targetVersion = String(targetVersion.prefix(64))
        plan.status = .ready
        try await plan.save(on: context.db)
        let summary = PlanSummary(items)
        try await context.step(key: "plan_ready", progress: 100)
        return .succeeded(.map([
            "plan": .string(plan.id!.uuidString.lowercased()), "create": .int(summary.create), "update": .int(summary.update),
            "unchanged": .int(summary.unchanged), "conflict": .int(summary.conflict), "blocking": .int(summary.blocking),
            "lost": .int(summary.lost), "versions": .string(translation.summary),
        ]))
    }

    /// A restore's source: the selection's closure read from the backup, every blob checked
    /// against its hash (a missing or corrupt one fails the plan, naming the asset), and the
    /// Superset release the backup was taken of.
    private func readBackup(_ id: UUID, selection: PlanSelection, context: TaskContext) async throws -> (AssetBundle, version: String) {
        guard let storage, let row = try await BackupModel.find(id, on: context.db) else {
            throw TaskFailure(key: "backup_gone")
        }
        try await context.step(key: "reading_backup", ["backup": id.key, "date": row.createdAt.formatted(.iso8601)], progress: 10)
        do {
            let manifest = try BackupService.manifest(of: row, storage: storage)
            let (entries, missing) = manifest.closure(dashboards: selection.dashboards, charts: selection.charts ?? [], datasets: selection.datasets ?? [])
            if !missing.isEmpty {
                throw TaskFailure(key: "backup_lacks_assets", ["assets": missing.prefix(5).joined(separator: ", ")])
            }
            let bundle = try storage.bundle(entries)
            context.log(.info, "read \(bundle.dashboards.count) dashboards, \(bundle.charts.count) charts, \(bundle.datasets.count) datasets, \(bundle.databases.count) databases from the backup",
                        source: "storage", metadata: ["backup": id.key])
            return (bundle, row.supersetVersion)
        } catch let f as BackupStorage.Failure {
            throw TaskFailure(f.message, next: f.next)
        }
    }

    /// A deploy's source: the selected dashboards as the revision holds them in the source
    /// environment's folder of the git history, made importable again.
    private func readRevision(_ sha: String, environment: UUID, name: String, selection: PlanSelection, context: TaskContext) async throws -> AssetBundle {
        guard let git else { throw TaskFailure(key: "git_unavailable") }
        try await context.step(key: "reading_revision", ["revision": String(sha.prefix(12)), "environment": name], progress: 10)
        do {
            let bundle = try await git.bundle(environment: environment, dashboards: selection.dashboards, at: sha, on: context.db)
            context.log(.info, "read \(bundle.dashboards.count) dashboards, \(bundle.charts.count) charts, \(bundle.datasets.count) datasets, \(bundle.databases.count) databases from revision \(sha.prefix(12))",
                        source: "git", metadata: ["revision": sha])
            return bundle
        } catch let f as GitHistory.ReadFailure {
            throw TaskFailure(f.message, nextKey: "pick_revision")
        } catch let f as GitFailure {
            throw f.taskFailure
        }
    }

    /// Source dashboard ids for a selection: each entry an id, a uuid or a slug; plus a search.
    static func resolve(_ selection: PlanSelection, on client: SupersetClient, environment: String) async throws -> [Int] {
        let all = try await client.dashboardRefs()
        var ids: [Int] = []
        var missing: [String] = []
        for entry in selection.dashboards {
            let e = entry.trimmingCharacters(in: .whitespaces)
            let match = all.first { String($0.id) == e || $0.uuid.lowercased() == e.lowercased() || $0.slug == e }
            if let match { ids.append(match.id) } else { missing.append(e) }
        }
        if !missing.isEmpty {
            throw TaskFailure(key: "dashboards_missing", ["names": missing.map { "'\($0)'" }.joined(separator: ", "), "environment": environment])
        }
        if let search = selection.search?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
            let needle = search.lowercased()
            ids += all.filter { $0.title.lowercased().contains(needle) || ($0.slug ?? "").lowercased().contains(needle) }.map(\.id)
        }
        var seen = Set<Int>()
        ids = ids.filter { seen.insert($0).inserted }
        if ids.isEmpty {
            throw TaskFailure(key: "selection_empty", ["environment": environment])
        }
        return ids
    }

    /// source database uuid -> target connection, from stored mappings still valid on the
    /// target, and otherwise from the operator (asked with ranked suggestions; the answer is
    /// stored unless they say not to).
    static func mapDatabases(of bundle: AssetBundle, source: UUID, target targetEnv: (id: UUID, name: String), targetClient: SupersetClient,
                             context: TaskContext) async throws -> [String: DatabaseRef]
    {
        let target = targetEnv.name
        let targets = try await targetClient.databaseRefs()
        let stored = try await MappingService.stored(source: source, target: targetEnv.id, on: context.db)
        var out: [String: DatabaseRef] = [:]
        for src in BundleRewriter.sourceDatabases(of: bundle) {
            // Into its own environment (a restore), a connection maps to itself while it exists.
            if source == targetEnv.id, let same = targets.first(where: { $0.uuid == src.uuid }) {
                out[src.uuid] = same
                context.log(.info, "database '\(src.name)' -> '\(same.name)' (the same connection)", source: "bundle")
                continue
            }
            if let m = stored[src.uuid], let t = targets.first(where: { $0.uuid == m.targetDatabaseUUID }) {
                out[src.uuid] = t
                context.log(.info, "database '\(src.name)' -> '\(t.name)' (stored mapping)", source: "bundle")
                continue
            }
            if let m = stored[src.uuid] {
                context.log(.warning, "stored mapping of '\(src.name)' points at '\(m.targetDatabaseName)', which no longer exists on \(target)", source: "bundle")
            }
            guard !targets.isEmpty else {
                throw TaskFailure(key: "no_target_connection", ["target": target, "database": src.name])
            }
            let ranked = DatabaseMatcher.suggestions(for: src, among: targets)
            let listing = ranked.prefix(5).map { "\($0.target.name) (\($0.target.backend), \($0.confidence)%)" }.joined(separator: ", ")
            let schema = JSONSchema(.map([
                "type": .string("object"), "required": .list([.string("targetDatabase")]), "additionalProperties": .bool(false),
                "properties": .map([
                    "targetDatabase": .map(["type": .string("string"), "title": .string(TaskText.text("input.map_database.target", ["target": target])),
                                            "enum": .list(ranked.map { .string($0.target.uuid) }),
                                            "x-enumLabels": .list(ranked.map { .string("\($0.target.name) (\($0.target.backend), \($0.confidence)%)") }),
                                            "description": .string(TaskText.text("input.map_database.target_hint", ["target": target]))]),
                    "remember": .map(["type": .string("boolean"), "default": .bool(true), "title": .string(TaskText.text("input.map_database.remember")),
                                      "description": .string(TaskText.text("input.map_database.remember_hint"))]),
                ]),
                "x-suggestions": .list(ranked.map { .map(["uuid": .string($0.target.uuid), "name": .string($0.target.name),
                                                           "backend": .string($0.target.backend), "confidence": .int($0.confidence)]) }),
            ]))
            let answer = try await context.awaitInput(
                prompt: TaskText.text("input.map_database.prompt", ["database": src.name, "backend": src.backend, "target": target, "suggestions": listing]),
                schema: schema)
            guard let chosen = answer["targetDatabase"]?.stringValue, let t = targets.first(where: { $0.uuid == chosen }) else {
                throw TaskFailure(key: "no_connection_chosen", ["database": src.name])
            }
            out[src.uuid] = t
            context.log(.info, "database '\(src.name)' -> '\(t.name)' (chosen by the operator)", source: "bundle")
            if answer["remember"]?.boolValue ?? true {
                _ = try await MappingService.record(source: source, target: targetEnv.id, sourceDB: src, targetDB: t, now: context.now(), newID: context.newID(), on: context.db)
            }
        }
        return out
    }
}
