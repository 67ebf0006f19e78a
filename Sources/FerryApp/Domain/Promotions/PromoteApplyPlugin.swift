import Fluent
import Foundation
import SupersetKit

/// `promote.apply`: applies a ready plan, exactly as reviewed.
///
/// Order: refuse if the target changed since the plan (fingerprint); store a snapshot of the
/// target's current version of every asset the plan touches (committed before the first
/// write); import in dependency order and batches (cascade: datasets, then charts, then
/// dashboards); put dashboard metadata on the target's chart ids; verify every dashboard and
/// run every chart's query; record history. A promotion whose charts don't query ends
/// `partial`, never `succeeded`.
struct PromoteApplyPlugin: Plugin {
    let id = "promote.apply"
    let name = "Apply a promotion"
    let description = "Imports a reviewed plan into the target, remaps dashboard filters, and verifies that every chart queries."
    let version = "1.0.0"
    let permission = "promote:apply"
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "required": ["promotion"], "additionalProperties": false,
         "properties": {
           "promotion": {"type": "string", "minLength": 36, "maxLength": 36},
           "source": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The promotion's source environment (optional; must be the stored one)"},
           "target": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The promotion's target environment (optional; must be the stored one)"},
           "acceptShared": {"type": "boolean", "default": false},
           "acceptLosses": {"type": "boolean", "default": false, "description": "Confirms the values a downgrade to an older Superset removes"},
           "batchSize": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
           "concurrency": {"type": "integer", "minimum": 1, "maximum": 16,
                           "description": "Requests sent to the target at once (chart checks, filter remaps); at most, and by default, the target environment's parallel requests"}}}
        """#)

    var environmentParams: [String] { ["source", "target"] }
    /// Records the target's new state (a backup, committed to the git history) once applied.
    var recorder: BackupRunPlugin?
    /// Told the target's id once anything was written to it (Ferry queues an inventory sync, so
    /// the hub and the dashboard pages show the promoted dashboards without waiting for the next
    /// periodic sync).
    var afterWrite: (@Sendable (UUID) async -> Void)?

    /// Writes only to the stored promotion's target, but its log and report show the source's
    /// dashboards: it touches both (who may read it), and is judged on the target.
    func scope(of params: BundleValue, on db: any Database) async throws -> TaskScope {
        let promotion = try await PromotionTaskScope.promotion(params, on: db)
        return TaskScope(touches: [promotion.sourceEnvID, promotion.targetEnvID], authorizedOn: [promotion.targetEnvID],
                         permission: try await PromotionTaskScope.restorePermission(promotion, on: db))
    }

    /// Only the promotion `PromotionService.apply` just recorded, once.
    func admitsNewTask(_ params: BundleValue, on db: any Database) async throws {
        let promotion = try await PromotionTaskScope.promotion(params, on: db)
        guard promotion.status == .applying, promotion.taskID == nil else { throw PromotionTaskScope.notWaiting("promotion") }
    }

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        guard let promotionID = context.params["promotion"]?.stringValue.flatMap(UUID.init(uuidString:)),
              let promotion = try await PromotionModel.find(promotionID, on: context.db),
              let plan = try await PromotionPlanModel.find(promotion.planID, on: context.db) else {
            throw TaskFailure(key: "promotion_gone")
        }
        do {
            let outcome = try await apply(plan, promotion, context)
            return outcome
        } catch {
            promotion.status = .failed
            promotion.finishedAt = context.now()
            try? await promotion.save(on: context.db)
            throw error
        }
    }

    private func apply(_ plan: PromotionPlanModel, _ promotion: PromotionModel, _ context: TaskContext) async throws -> PluginOutcome {
        guard let zip = plan.bundle, let itemsText = plan.items else {
            throw TaskFailure(key: "plan_no_bundle")
        }
        let bundle = try BundleReader().read(zip)
        let items = try JSONDecoder().decode([PlanItem].self, from: Data(itemsText.utf8))
        let scope = PromotionScope(rawValue: plan.scope) ?? .dashboards
        let batchSize = context.params["batchSize"]?.intValue ?? 50
        if let refusal = PromotionPlanner.refusal(items, acceptShared: context.params["acceptShared"]?.boolValue == true,
                                                  acceptLosses: context.params["acceptLosses"]?.boolValue == true) {
            switch refusal {
            case .blocking:
                throw TaskFailure(refusal.message, nextKey: "apply_conflict")
            case .sharedNotAccepted:
                throw TaskFailure(refusal.message, nextKey: "shared_not_accepted")
            case .lossesNotAccepted:
                throw TaskFailure(refusal.message, nextKey: "losses_not_accepted")
            }
        }

        let names = try await EnvironmentDirectory.load(on: context.db)
        let targetName = names.name(plan.targetEnvID)
        try await context.step(key: "target_unchanged_check", ["target": targetName], progress: 5)
        let target = try await context.superset(plan.targetEnvID)
        let concurrency = target.parallelism(asked: context.params["concurrency"]?.intValue)
        // The bundle was translated for the release the plan read: an upgrade or downgrade since
        // makes it wrong (losses accepted for nothing, or fields the importer now refuses).
        if let planned = plan.targetVersion {
            let current = try await target.version()
            if ImportSchema.resolve(SupersetVersion(current)) != ImportSchema.resolve(SupersetVersion(planned)) {
                plan.status = .stale
                try await plan.save(on: context.db)
                throw TaskFailure(key: "version_changed", ["target": targetName, "current": "\(current)", "planned": "\(planned)"])
            }
        }
        let state = try await PromotionTargetReader.read(target, bundle: bundle, scope: scope, concurrency: concurrency)
        guard PromotionPlanner.fingerprint(bundle, target: state) == plan.targetFingerprint else {
            plan.status = .stale
            try await plan.save(on: context.db)
            throw TaskFailure(key: "target_changed", ["target": targetName])
        }

        try await context.step(key: "saving_snapshot", ["count": String(state.current.count)], progress: 12)
        promotion.snapshot = try BundleWriter().write(state.current)
        let created = items.filter { $0.action == .create }.map { CreatedAsset(kind: $0.kind, uuid: $0.uuid, name: $0.name) }
        promotion.createdAssets = String(decoding: try JSONEncoder().encode(created), as: UTF8.self)
        try await promotion.save(on: context.db)
        context.log(.info, "snapshot stored (\(state.current.count) assets); rollback restores it", source: "storage")

        let writes = Set(items.filter(\.writes).map(\.uuid))
        if scope == .cascade {
            // The dashboard import creates the charts and datasets its dashboards use that the
            // target lacks; only updates (which it leaves alone) and creates no imported dashboard
            // uses need imports of their own.
            let creates = Set(items.filter { $0.action == .create }.map(\.uuid))
            let dashboardsToImport = bundle.dashboards.map(\.uuid).filter(writes.contains)
            let covered = bundle.closure(.dashboard, uuids: dashboardsToImport)
            for kind in [AssetKind.dataset, .chart] {
                let uuids = bundle.all(kind).map(\.uuid).filter { writes.contains($0) && !(creates.contains($0) && covered.asset(kind, uuid: $0) != nil) }
                try await importBatches(kind, uuids: uuids, bundle: bundle, client: target, batchSize: batchSize, context: context, progress: kind == .dataset ? 20 : 35)
            }
        }
        // A dashboard is imported when it changed, or (dashboards scope) when a chart it shows is
        // new on the target: the dashboard import is what creates it.
        let createdUUIDs = Set(created.map(\.uuid))
        let imported = bundle.dashboards.map(\.uuid).filter { uuid in
            writes.contains(uuid) || (scope == .dashboards && bundle.closure(.dashboard, uuids: [uuid]).charts.contains { createdUUIDs.contains($0.uuid) })
        }
        try await importBatches(.dashboard, uuids: imported, bundle: bundle, client: target, batchSize: batchSize, context: context, progress: 50)

        try await context.step(key: "pointing_filters", ["target": targetName], progress: 65)
        // The target's ids after the import, read at once (three paged lists).
        async let chartList = target.idsByUUID(.chart)
        async let dashboardList = target.idsByUUID(.dashboard)
        async let datasetList = target.idsByUUID(.dataset)
        let (chartIDs, dashboardIDs, datasetIDs) = try await (chartList, dashboardList, datasetList)
        let remapped = try await Self.remapFilters(imported, bundle: bundle, target: target, dashboardIDs: dashboardIDs, chartIDs: chartIDs,
                                                   datasetIDs: datasetIDs, concurrency: concurrency)
        context.log(.info, "put filter and cross-filter chart ids on \(targetName)'s charts for \(remapped) dashboard(s)",
                    source: "superset_api")

        try await context.step(key: "verifying_promotion", ["dashboards": String(bundle.dashboards.count), "charts": String(bundle.charts.count)], progress: 75)
        let report = try await PromotionVerifier.verify(bundle: bundle, client: target, dashboardIDs: dashboardIDs, chartIDs: chartIDs,
                                                         datasetIDs: datasetIDs, concurrency: concurrency, context: context)

        try await context.step(key: "recording_history", progress: 95)
        let now = context.now()
        try await context.db.transaction { tx in
            for uuid in imported {
                guard let d = bundle.asset(.dashboard, uuid: uuid) else { continue }
                let h = DashboardHistoryModel()
                h.id = context.newID()
                h.targetEnvID = plan.targetEnvID
                h.dashboardUUID = uuid
                h.dashboardTitle = d.name
                h.sourceEnvID = plan.sourceEnvID
                h.promotionID = promotion.id!
                h.planID = plan.id!
                h.promotedBy = promotion.startedBy
                h.promotedAt = now
                h.bundleChecksum = plan.bundleChecksum ?? ""
                try await h.create(on: tx)
            }
            promotion.report = report.value.jsonText()
            promotion.status = report.passed ? .succeeded : .partial
            promotion.finishedAt = now
            try await promotion.save(on: tx)
        }
        var fields: [String: BundleValue] = [
            "promotion": .string(promotion.id!.uuidString.lowercased()), "imported": .int(imported.count),
            "report": report.value,
        ]
        await afterWrite?(plan.targetEnvID)
        if let recorder, let env = try await EnvironmentModel.find(plan.targetEnvID, on: context.db) {
            try await context.step(key: "recording_git_state", ["target": targetName], progress: 97)
            if let git = await recorder.recordState(of: env.ref, context) { fields["git"] = git }
        }
        try await context.step(key: report.passed ? "promotion_verified" : "promotion_unverified", progress: 100)
        let summary = BundleValue.map(fields)
        return report.passed ? .succeeded(summary) : .partial(summary)
    }

    /// Points the imported dashboards' filters and cross-filters at the target's chart ids, at
    /// most `concurrency` dashboards at a time (each request on its own connection when above 1).
    /// Built from the source and written without reading the target first (one PUT per
    /// dashboard); dashboards with legacy filter keys are read back and fixed instead.
    /// Returns how many dashboards were written.
    private static func remapFilters(_ imported: [String], bundle: AssetBundle, target: SupersetClient, dashboardIDs: [String: Int],
                                     chartIDs: [String: Int], datasetIDs: [String: Int], concurrency: Int) async throws -> Int {
        let dashboards = imported.compactMap { uuid in dashboardIDs[uuid].map { (uuid, $0) } }
        let written = try await SupersetClient.spreading(concurrency) {
            try await dashboards.concurrentMap(limit: concurrency) { uuid, id -> Bool in
                guard let source = bundle.asset(.dashboard, uuid: uuid) else { return false }
                let metadata = source["metadata"] ?? .map([:])
                // Nothing the importer leaves pointing at the source: no write at all.
                if DashboardMetadata.referencedChartIDs(metadata).isEmpty { return false }
                let sourceIDs = CanonicalAsset.chartUUIDs(in: source)
                if let rebuilt = DashboardCheck.rebuilt(source: metadata, sourceUUIDByID: sourceIDs, targetIDByUUID: chartIDs, targetDatasetIDByUUID: datasetIDs) {
                    try await target.updateDashboardMetadata(id: id, metadata: rebuilt)
                    return true
                }
                let detail = try await target.dashboardDetail(id: id)
                let fixed = DashboardCheck.remapped(target: detail.metadata, source: metadata, sourceUUIDByID: sourceIDs, targetIDByUUID: chartIDs)
                guard fixed != detail.metadata else { return false }
                try await target.updateDashboardMetadata(id: id, metadata: fixed)
                return true
            }
        }
        return written.filter { $0 }.count
    }

    private func importBatches(_ kind: AssetKind, uuids: [String], bundle: AssetBundle, client: SupersetClient, batchSize: Int,
                               context: TaskContext, progress: Int) async throws {
        guard !uuids.isEmpty else { return }
        for start in stride(from: 0, to: uuids.count, by: batchSize) {
            let batch = Array(uuids[start..<min(start + batchSize, uuids.count)])
            try await context.step(key: "importing_batch", ["kinds": kind.rawValue + "s", "first": String(start + 1), "last": String(start + batch.count), "total": String(uuids.count)], progress: progress)
            do {
                try await client.importBundle(bundle.closure(kind, uuids: batch), as: kind.importType, overwrite: true)
            } catch let error as SupersetError {
                if case .importFailed(let problems) = error {
                    for p in problems { context.log(.error, "\(p.path ?? "import"): \(p.message)", source: "superset_api") }
                }
                // Superset's HTTP 500 says no more than "failed for an unknown reason": read the target back and name the likely culprit.
                if ImportDiagnosis.isUnexplained(error) {
                    let findings = (try? await client.diagnoseImportFailure(of: bundle.closure(kind, uuids: batch))) ?? []
                    for f in findings { context.log(.error, "likely cause: \(f.message)", source: "superset_api") }
                    if !findings.isEmpty { throw TaskFailure(ImportDiagnosis.failureMessage(error, findings: findings), next: ImportDiagnosis.nextStep) }
                }
                throw error
            }
            context.log(.info, "imported \(batch.count) \(kind.rawValue)(s)", source: "superset_api")
        }
    }
}
