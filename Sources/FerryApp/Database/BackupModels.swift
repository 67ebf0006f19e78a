import Fluent
import Foundation

/// One complete backup of an environment. Row of `backups`; its asset list is the manifest
/// file in the storage folder, whose checksum is `manifestChecksum`.
///
/// Invariant: a row exists only once its manifest and every blob it names were written (the row
/// is inserted last), so a backup cut short is never listed.
final class BackupModel: Model, @unchecked Sendable {
    static let schema = "backups"
    @ID(key: .id) var id: UUID?
    @Field(key: "environment_id") var environmentID: UUID
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "superset_version") var supersetVersion: String
    @Field(key: "full") var full: Bool
    /// `BackupOrigin`.
    @Field(key: "origin") var origin: String
    @Field(key: "dashboards") var dashboards: Int
    @Field(key: "charts") var charts: Int
    @Field(key: "datasets") var datasets: Int
    @Field(key: "databases") var databases: Int
    @Field(key: "total_bytes") var totalBytes: Int64
    @Field(key: "new_bytes") var newBytes: Int64
    @Field(key: "manifest_checksum") var manifestChecksum: String
    @Field(key: "pinned") var pinned: Bool
    /// `BackupVerifyStatus`.
    @Field(key: "verify_status") var verifyStatus: String
    @OptionalField(key: "verified_at") var verifiedAt: Date?
    /// JSON list of `BackupProblem` found by the last verify.
    @OptionalField(key: "verify_problems") var verifyProblems: String?
    @OptionalField(key: "task_id") var taskID: UUID?
    @Field(key: "created_by") var createdBy: String
    init() {}
}

/// Retention of one environment's backups. Row of `backup_policies`.
final class BackupPolicyModel: Model, @unchecked Sendable {
    static let schema = "backup_policies"
    @ID(key: .id) var id: UUID?
    @Field(key: "environment_id") var environmentID: UUID
    @Field(key: "keep_last") var keepLast: Int
    @Field(key: "keep_daily") var keepDaily: Int
    @Field(key: "keep_weekly") var keepWeekly: Int
    @Field(key: "keep_monthly") var keepMonthly: Int
    @Field(key: "updated_at") var updatedAt: Date
    init() {}
}
