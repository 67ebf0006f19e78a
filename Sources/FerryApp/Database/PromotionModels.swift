import Fluent
import Foundation

/// A stored choice of target connection for one source database, per (source env, target env)
/// pair. Row of `database_mappings`; reused by every later promotion between the pair.
final class DatabaseMappingModel: Model, @unchecked Sendable {
    static let schema = "database_mappings"
    @ID(key: .id) var id: UUID?
    @Field(key: "source_env_id") var sourceEnvID: UUID
    @Field(key: "target_env_id") var targetEnvID: UUID
    @Field(key: "source_db_uuid") var sourceDatabaseUUID: String
    @Field(key: "source_db_name") var sourceDatabaseName: String
    @Field(key: "target_db_uuid") var targetDatabaseUUID: String
    @Field(key: "target_db_name") var targetDatabaseName: String
    @Field(key: "updated_at") var updatedAt: Date
    init() {}
}

/// A promotion plan: what was selected, the rewritten bundle it was judged on, and the verdict
/// per asset. Row of `promotion_plans`.
///
/// Status: `planning` -> `ready` | `failed`; `ready` -> `applied` (once) | `stale`.
final class PromotionPlanModel: Model, @unchecked Sendable {
    static let schema = "promotion_plans"
    @ID(key: .id) var id: UUID?
    @Field(key: "source_env_id") var sourceEnvID: UUID
    @Field(key: "target_env_id") var targetEnvID: UUID
    @Field(key: "scope") var scope: String
    /// JSON: the selection as given (ids, uuids, slugs, search).
    @Field(key: "selection") var selection: String
    /// JSON object: source schema -> target schema.
    @Field(key: "schema_mapping") var schemaMapping: String
    /// `status` as stored; read and set it through `status`.
    @Field(key: "status") var storedStatus: String
    /// A value this version doesn't know reads as `failed` (never applied).
    var status: PlanStatus {
        get { PlanStatus(rawValue: storedStatus) ?? .failed }
        set { storedStatus = newValue.rawValue }
    }
    /// JSON list of `PlanItem`.
    @OptionalField(key: "items") var items: String?
    /// JSON list of the database mappings used.
    @OptionalField(key: "mappings") var mappings: String?
    /// The rewritten bundle (ZIP) that apply imports: exactly what was reviewed.
    @OptionalField(key: "bundle") var bundle: Data?
    @OptionalField(key: "bundle_checksum") var bundleChecksum: String?
    @OptionalField(key: "target_fingerprint") var targetFingerprint: String?
    @OptionalField(key: "error") var error: String?
    @OptionalField(key: "task_id") var taskID: UUID?
    @Field(key: "created_by") var createdBy: String
    @Field(key: "created_at") var createdAt: Date
    /// Set for a restore: the backup the plan's bundle is read from (the source environment is
    /// then the backup's environment).
    @OptionalField(key: "source_backup_id") var sourceBackupID: UUID?
    /// Set for a deploy of a revision (M0011): the commit of Ferry's git history the plan's
    /// bundle is read from, out of the source environment's folder.
    @OptionalField(key: "source_revision") var sourceRevision: String?
    /// The Superset releases the plan read (M0015): "6.1.0", or "unknown".
    @OptionalField(key: "source_version") var sourceVersion: String?
    @OptionalField(key: "target_version") var targetVersion: String?
    /// Import into a release Ferry doesn't know, as is (M0015).
    @OptionalField(key: "accept_unknown_version") var acceptUnknownVersion: Bool?
    init() {}
}

/// One apply of a plan. Row of `promotions`. Holds the snapshot of the target taken before the
/// first write, which rollback restores.
final class PromotionModel: Model, @unchecked Sendable {
    static let schema = "promotions"
    @ID(key: .id) var id: UUID?
    @Field(key: "plan_id") var planID: UUID
    @OptionalField(key: "task_id") var taskID: UUID?
    @Field(key: "source_env_id") var sourceEnvID: UUID
    @Field(key: "target_env_id") var targetEnvID: UUID
    /// `status` as stored; read and set it through `status`.
    @Field(key: "status") var storedStatus: String
    /// A value this version doesn't know reads as `failed`.
    var status: PromotionStatus {
        get { PromotionStatus(rawValue: storedStatus) ?? .failed }
        set { storedStatus = newValue.rawValue }
    }
    @OptionalField(key: "snapshot") var snapshot: Data?
    /// JSON list of {kind, uuid} the promotion created on the target.
    @OptionalField(key: "created_assets") var createdAssets: String?
    /// JSON verification report.
    @OptionalField(key: "report") var report: String?
    @Field(key: "started_by") var startedBy: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "finished_at") var finishedAt: Date?
    @OptionalField(key: "rollback_task_id") var rollbackTaskID: UUID?
    init() {}
}

/// Where a target dashboard came from. Row of `dashboard_history`, appended per promotion.
final class DashboardHistoryModel: Model, @unchecked Sendable {
    static let schema = "dashboard_history"
    @ID(key: .id) var id: UUID?
    @Field(key: "target_env_id") var targetEnvID: UUID
    @Field(key: "dashboard_uuid") var dashboardUUID: String
    @Field(key: "dashboard_title") var dashboardTitle: String
    @Field(key: "source_env_id") var sourceEnvID: UUID
    @Field(key: "promotion_id") var promotionID: UUID
    @Field(key: "plan_id") var planID: UUID
    @Field(key: "promoted_by") var promotedBy: String
    @Field(key: "promoted_at") var promotedAt: Date
    @Field(key: "bundle_checksum") var bundleChecksum: String
    init() {}
}
