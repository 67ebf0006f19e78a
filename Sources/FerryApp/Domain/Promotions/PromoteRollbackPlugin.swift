import Fluent
import Foundation
import SupersetKit

/// `promote.rollback`: restores the snapshot a promotion took before its first write
/// (datasets, then charts, then dashboards, each overwritten), and on request deletes what the
/// promotion created (dashboards, then charts, then datasets).
struct PromoteRollbackPlugin: Plugin {
    let id = "promote.rollback"
    let name = "Roll back a promotion"
    let description = "Restores the target's assets as they were before a promotion, and optionally deletes what it created."
    let version = "1.0.0"
    let permission = "promote:apply"
    /// Records the target's state after the rollback (a backup, committed to the git history).
    var recorder: BackupRunPlugin?
    /// Told the target's id once the rollback wrote to it (an inventory sync is queued).
    var afterWrite: (@Sendable (UUID) async -> Void)?
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "required": ["promotion"], "additionalProperties": false,
         "properties": {
           "promotion": {"type": "string", "minLength": 36, "maxLength": 36},
           "target": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The promotion's target environment (optional; must be the stored one)"},
           "deleteCreated": {"type": "boolean", "default": false}}}
        """#)

    var environmentParams: [String] { ["target"] }

    /// Writes only to the stored promotion's target, and is judged there.
    func scope(of params: BundleValue, on db: any Database) async throws -> TaskScope {
        let promotion = try await PromotionTaskScope.promotion(params, on: db)
        return TaskScope(touches: [promotion.targetEnvID], permission: try await PromotionTaskScope.restorePermission(promotion, on: db))
    }

    /// Only the rollback `PromotionService.rollback` just claimed, once.
    func admitsNewTask(_ params: BundleValue, on db: any Database) async throws {
        let promotion = try await PromotionTaskScope.promotion(params, on: db)
        guard promotion.status == .rollingBack, promotion.rollbackTaskID == nil else { throw PromotionTaskScope.notWaiting("promotion") }
    }

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        guard let id = context.params["promotion"]?.stringValue.flatMap(UUID.init(uuidString:)),
              let promotion = try await PromotionModel.find(id, on: context.db) else {
            throw TaskFailure(key: "rollback_promotion_gone")
        }
        guard let zip = promotion.snapshot else {
            throw TaskFailure(key: "rollback_no_snapshot")
        }
        let snapshot = try BundleReader().read(zip)
        let deleteCreated = context.params["deleteCreated"]?.boolValue ?? false
        let target = try await context.superset(promotion.targetEnvID)
        let targetName = try await EnvironmentDirectory.load(on: context.db).name(promotion.targetEnvID)
        do {
            try await context.step(key: "restoring_snapshot", ["count": String(snapshot.count), "target": targetName], progress: 10)
            for kind in [AssetKind.dataset, .chart, .dashboard] {
                let uuids = snapshot.all(kind).map(\.uuid)
                guard !uuids.isEmpty else { continue }
                try await target.importBundle(snapshot.closure(kind, uuids: uuids), as: kind.importType, overwrite: true)
                context.log(.info, "restored \(uuids.count) \(kind.rawValue)(s)", source: "superset_api")
            }
            var deleted = 0
            if deleteCreated {
                try await context.step(key: "deleting_created", progress: 60)
                let created = promotion.createdAssets.flatMap { try? JSONDecoder().decode([CreatedAsset].self, from: Data($0.utf8)) } ?? []
                for kind in [AssetKind.dashboard, .chart, .dataset] {
                    let ids = try await target.idsByUUID(kind)
                    for asset in created where asset.kind == kind {
                        guard let assetID = ids[asset.uuid] else { continue }
                        try await target.delete(kind, id: assetID)
                        deleted += 1
                        context.log(.info, "deleted \(kind.rawValue) '\(asset.name)' (\(assetID))", source: "superset_api")
                    }
                }
            }
            promotion.status = .rolledBack
            try await promotion.save(on: context.db)
            await afterWrite?(promotion.targetEnvID)
            if let recorder, let env = try await EnvironmentModel.find(promotion.targetEnvID, on: context.db) {
                _ = await recorder.recordState(of: env.ref, context)
            }
            try await context.step(key: "rolled_back", progress: 100)
            return .succeeded(.map(["restored": .int(snapshot.count), "deleted": .int(deleted)]))
        } catch {
            promotion.status = .rollbackFailed
            try? await promotion.save(on: context.db)
            throw error
        }
    }
}
