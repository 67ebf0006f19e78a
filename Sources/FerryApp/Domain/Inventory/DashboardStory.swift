import Fluent
import Foundation
import SQLKit

/// The reads of one dashboard's page (its promotions, checks and its environments' backups),
/// newest first, each one plain statement of the columns shown: the page makes several, and a
/// Fluent read of whole models (every column aliased, each row reflected, a promotion found per
/// history row) cost more than the rest of the page.
///
/// Callers have decided which environments the viewer may read; these reads filter on them.
/// Each returns at most `limit` rows (at least one is asked for).
enum DashboardStory {
    struct Promotion: Decodable, Equatable {
        var promotionID: UUID, sourceEnvID: UUID, targetEnvID: UUID, promotedBy: String, promotedAt: Date, taskID: UUID?, status: String
        enum CodingKeys: String, CodingKey {
            case promotionID = "promotion_id", sourceEnvID = "source_env_id", targetEnvID = "target_env_id", promotedBy = "promoted_by",
                 promotedAt = "promoted_at", taskID = "task_id", status
        }
    }

    /// The dashboard's promotions (uuid, lower-case) with their task and status, both ends in
    /// `visible` (nil: any environment).
    static func promotions(dashboard uuid: String, visible: Set<UUID>?, limit: Int, on db: any Database) async throws -> [Promotion] {
        if visible?.isEmpty == true { return [] }
        var where_: SQLQueryString = "h.dashboard_uuid = \(bind: uuid)"
        if let visible {
            let ids = Array(visible).map { $0 as any Encodable & Sendable }
            where_ = "\(where_) AND h.source_env_id IN (\(binds: ids)) AND h.target_env_id IN (\(binds: ids))"
        }
        return try await TaskStore.sql(db).raw("""
            SELECT h.promotion_id, h.source_env_id, h.target_env_id, h.promoted_by, h.promoted_at, p.task_id, p.status
            FROM \(ident: DashboardHistoryModel.schema) AS h JOIN \(ident: PromotionModel.schema) AS p ON p.id = h.promotion_id
            WHERE \(where_) ORDER BY h.promoted_at DESC, h.id LIMIT \(literal: max(1, limit))
            """).all(decoding: Promotion.self)
    }

    struct Check: Decodable, Equatable {
        var id: UUID, environmentID: UUID, status: String, checkedAt: Date
        enum CodingKeys: String, CodingKey { case id, environmentID = "environment_id", status, checkedAt = "checked_at" }
    }

    /// The dashboard's health checks (uuid, lower-case) in `environments`.
    static func checks(dashboard uuid: String, environments: [UUID], limit: Int, on db: any Database) async throws -> [Check] {
        guard !environments.isEmpty else { return [] }
        return try await TaskStore.sql(db).select().column("id").column("environment_id").column("status").column("checked_at")
            .from(DashboardCheckModel.schema)
            .where("environment_id", .in, SQLBind.group(Array(Set(environments))))
            .where("dashboard_uuid", .equal, SQLBind(uuid))
            .orderBy("checked_at", .descending).orderBy("id")
            .limit(max(1, limit))
            .all(decoding: Check.self)
    }

    struct Backup: Decodable, Equatable {
        var id: UUID, environmentID: UUID, createdAt: Date, full: Bool, dashboards: Int, taskID: UUID?
        enum CodingKeys: String, CodingKey { case id, environmentID = "environment_id", createdAt = "created_at", full, dashboards, taskID = "task_id" }
    }

    /// The backups of `environments` (each holds the dashboard as it was, when it existed then).
    static func backups(environments: [UUID], limit: Int, on db: any Database) async throws -> [Backup] {
        guard !environments.isEmpty else { return [] }
        return try await TaskStore.sql(db).select().column("id").column("environment_id").column("created_at").column("full").column("dashboards")
            .column("task_id")
            .from(BackupModel.schema)
            .where("environment_id", .in, SQLBind.group(Array(Set(environments))))
            .orderBy("created_at", .descending)
            .limit(max(1, limit))
            .all(decoding: Backup.self)
    }
}
