import Foundation
import SupersetKit
import Vapor

/// What a client sends to plan a promotion.
public struct PlanInput: Content, Sendable {
    public var source: String?
    public var target: String?
    /// Dashboards by id, uuid or slug.
    public var dashboards: [String]?
    /// Also every source dashboard whose title or slug contains this text.
    public var search: String?
    /// `dashboards` (default) or `cascade`.
    public var scope: String?
    /// Source schema -> target schema.
    public var schemaMapping: [String: String]?
    /// Export batches requested from the source at once: at most, and by default, the source
    /// environment's `parallelRequests`.
    public var concurrency: Int?
    /// Import as is into a Superset release Ferry doesn't know (older than 4.1, newer than the
    /// newest it knows), without translating the bundle. Refused otherwise.
    public var acceptUnknownVersion: Bool?

    public init(source: String? = nil, target: String? = nil, dashboards: [String]? = nil, search: String? = nil, scope: String? = nil,
                schemaMapping: [String: String]? = nil, concurrency: Int? = nil, acceptUnknownVersion: Bool? = nil) {
        self.acceptUnknownVersion = acceptUnknownVersion
        self.source = source
        self.target = target
        self.dashboards = dashboards
        self.search = search
        self.scope = scope
        self.schemaMapping = schemaMapping
        self.concurrency = concurrency
    }
}

public struct ApplyInput: Content, Sendable {
    /// Confirms updates of charts or datasets that target dashboards outside the selection use.
    public var acceptShared: Bool?
    /// Confirms the values a downgrade removes (the plan items' `losses`).
    public var acceptLosses: Bool?
    /// Requests sent to the target at once (chart checks, filter remaps): at most, and by
    /// default, the target environment's `parallelRequests`.
    public var concurrency: Int?
    public init(acceptShared: Bool? = nil, acceptLosses: Bool? = nil, concurrency: Int? = nil) {
        self.acceptShared = acceptShared
        self.acceptLosses = acceptLosses
        self.concurrency = concurrency
    }
}

public struct RollbackInput: Content, Sendable {
    /// Also delete the dashboards, charts and datasets the promotion created.
    public var deleteCreated: Bool?
    public init(deleteCreated: Bool? = nil) { self.deleteCreated = deleteCreated }
}

/// The selection as stored with a plan. A restore's selection names uuids of the backup; all
/// three lists empty restores the whole backup.
struct PlanSelection: Codable, Sendable, Equatable {
    var dashboards: [String]
    var search: String?
    var charts: [String]? = nil
    var datasets: [String]? = nil
}

/// What a client sends to restore from a backup: a promotion whose source is the backup.
public struct RestoreInput: Content, Sendable {
    /// The backup's id.
    public var backup: String?
    /// The environment to restore into (id or name): the backup's own or another.
    public var target: String?
    /// Dashboards, charts and datasets by uuid; none at all restores the whole backup.
    public var dashboards: [String]?
    public var charts: [String]?
    public var datasets: [String]?
    /// Source schema -> target schema.
    public var schemaMapping: [String: String]?
    /// As `PlanInput.acceptUnknownVersion`.
    public var acceptUnknownVersion: Bool?

    public init(backup: String? = nil, target: String? = nil, dashboards: [String]? = nil, charts: [String]? = nil, datasets: [String]? = nil,
                schemaMapping: [String: String]? = nil, acceptUnknownVersion: Bool? = nil) {
        self.acceptUnknownVersion = acceptUnknownVersion
        self.backup = backup
        self.target = target
        self.dashboards = dashboards
        self.charts = charts
        self.datasets = datasets
        self.schemaMapping = schemaMapping
    }
}

/// One database mapping a plan used.
public struct UsedMapping: Codable, Sendable, Equatable {
    public var source: DatabaseRef
    public var target: DatabaseRef
}

public struct PlanSummary: Content, Sendable, Equatable {
    public var create: Int
    public var update: Int
    public var unchanged: Int
    public var conflict: Int
    public var blocking: Int
    /// Values a downgrade removes, over all the assets written: each must be accepted.
    public var lost: Int

    init(_ items: [PlanItem]) {
        lost = items.reduce(0) { $0 + $1.writtenLosses.count }
        create = items.filter { $0.action == .create }.count
        update = items.filter { $0.action == .update }.count
        unchanged = items.filter { $0.action == .unchanged }.count
        conflict = items.filter { $0.action == .conflict }.count
        blocking = items.filter(\.blocking).count
    }
}

public struct PlanDTO: Content, Sendable, Equatable {
    public var id: UUID
    public var sourceId: UUID
    public var targetId: UUID
    /// The environments' current names.
    public var source: String
    public var target: String
    public var scope: String
    public var dashboards: [String]
    public var search: String?
    public var schemaMapping: [String: String]
    public var status: PlanStatus
    public var items: [PlanItem]
    public var summary: PlanSummary
    public var mappings: [UsedMapping]
    public var bundleChecksum: String?
    public var error: String?
    public var taskId: UUID?
    public var createdBy: String
    public var createdAt: Date
    /// Set for a restore: the backup the plan reads from (`source` is its environment).
    public var sourceBackupId: UUID? = nil
    public var charts: [String]? = nil
    public var datasets: [String]? = nil
    /// Set for a deploy of a revision: the commit of Ferry's git history the plan reads from.
    public var sourceRevision: String? = nil
    /// The Superset releases the plan read ("6.1.0", "unknown"); nil for plans made before Ferry read them.
    public var sourceVersion: String? = nil
    public var targetVersion: String? = nil
    /// The plan imports into a release Ferry doesn't know, as is (asked for at planning).
    public var acceptUnknownVersion: Bool = false
    /// What the plan does across releases: downgrade, upgrade, same, unknown_source (a backup
    /// or revision that doesn't say), or as_is (an unknown target release, accepted); nil for
    /// plans made before Ferry read releases.
    public var versionChange: String? = nil
}

extension PlanDTO {
    init(_ m: PromotionPlanModel, names: EnvironmentDirectory) {
        let selection = (try? JSONDecoder().decode(PlanSelection.self, from: Data(m.selection.utf8))) ?? PlanSelection(dashboards: [])
        let items = m.items.flatMap { try? JSONDecoder().decode([PlanItem].self, from: Data($0.utf8)) } ?? []
        self.init(
            id: m.id!, sourceId: m.sourceEnvID, targetId: m.targetEnvID, source: names.name(m.sourceEnvID), target: names.name(m.targetEnvID),
            scope: m.scope, dashboards: selection.dashboards, search: selection.search,
            schemaMapping: (try? JSONDecoder().decode([String: String].self, from: Data(m.schemaMapping.utf8))) ?? [:],
            status: m.status, items: items, summary: PlanSummary(items),
            mappings: m.mappings.flatMap { try? JSONDecoder().decode([UsedMapping].self, from: Data($0.utf8)) } ?? [],
            bundleChecksum: m.bundleChecksum, error: m.error, taskId: m.taskID, createdBy: m.createdBy, createdAt: m.createdAt,
            sourceBackupId: m.sourceBackupID, charts: selection.charts, datasets: selection.datasets, sourceRevision: m.sourceRevision,
            sourceVersion: m.sourceVersion, targetVersion: m.targetVersion, acceptUnknownVersion: m.acceptUnknownVersion ?? false,
            versionChange: Self.versionChange(from: m.sourceVersion, to: m.targetVersion, acceptUnknown: m.acceptUnknownVersion ?? false))
    }

    static func versionChange(from source: String?, to target: String?, acceptUnknown: Bool) -> String? {
        guard let source, let target else { return nil }
        let to = SupersetVersion(target)
        if acceptUnknown, ImportSchema.resolve(to).schema == nil { return "as_is" }
        guard let from = SupersetVersion(source), let to else { return "unknown_source" }
        return from > to ? "downgrade" : from < to ? "upgrade" : "same"
    }
}

public struct PromotionDTO: Content, Sendable {
    public var id: UUID
    public var planId: UUID
    public var taskId: UUID?
    public var sourceId: UUID
    public var targetId: UUID
    /// The environments' current names.
    public var source: String
    public var target: String
    public var status: PromotionStatus
    public var report: BundleValue?
    public var created: [CreatedAsset]
    public var hasSnapshot: Bool
    public var startedBy: String
    public var createdAt: Date
    public var finishedAt: Date?
    public var rollbackTaskId: UUID?
}

public struct CreatedAsset: Codable, Sendable, Equatable {
    public var kind: AssetKind
    public var uuid: String
    public var name: String
}

extension PromotionDTO {
    init(_ m: PromotionModel, names: EnvironmentDirectory) {
        self.init(
            id: m.id!, planId: m.planID, taskId: m.taskID, sourceId: m.sourceEnvID, targetId: m.targetEnvID,
            source: names.name(m.sourceEnvID), target: names.name(m.targetEnvID), status: m.status,
            report: m.report.flatMap { try? BundleValue.parseJSON($0) },
            created: m.createdAssets.flatMap { try? JSONDecoder().decode([CreatedAsset].self, from: Data($0.utf8)) } ?? [],
            hasSnapshot: m.snapshot != nil, startedBy: m.startedBy, createdAt: m.createdAt, finishedAt: m.finishedAt,
            rollbackTaskId: m.rollbackTaskID)
    }
}

public struct MappingDTO: Content, Sendable, Equatable {
    public var id: UUID
    public var sourceId: UUID
    public var targetId: UUID
    public var source: String
    public var target: String
    public var sourceDatabaseUuid: String
    public var sourceDatabaseName: String
    public var targetDatabaseUuid: String
    public var targetDatabaseName: String
    public var updatedAt: Date
}

extension MappingDTO {
    init(_ m: DatabaseMappingModel, names: EnvironmentDirectory) {
        self.init(id: m.id!, sourceId: m.sourceEnvID, targetId: m.targetEnvID, source: names.name(m.sourceEnvID), target: names.name(m.targetEnvID),
                  sourceDatabaseUuid: m.sourceDatabaseUUID,
                  sourceDatabaseName: m.sourceDatabaseName, targetDatabaseUuid: m.targetDatabaseUUID,
                  targetDatabaseName: m.targetDatabaseName, updatedAt: m.updatedAt)
    }
}

public struct MappingInput: Content, Sendable {
    public var source: String?
    public var target: String?
    public var sourceDatabaseUuid: String?
    public var sourceDatabaseName: String?
    public var targetDatabaseUuid: String?
    public var targetDatabaseName: String?
    public init(source: String? = nil, target: String? = nil, sourceDatabaseUuid: String? = nil, sourceDatabaseName: String? = nil,
                targetDatabaseUuid: String? = nil, targetDatabaseName: String? = nil) {
        self.source = source
        self.target = target
        self.sourceDatabaseUuid = sourceDatabaseUuid
        self.sourceDatabaseName = sourceDatabaseName
        self.targetDatabaseUuid = targetDatabaseUuid
        self.targetDatabaseName = targetDatabaseName
    }
}

/// One source database with its stored mapping (if any) and ranked target suggestions.
public struct MappingSuggestionDTO: Content, Sendable {
    public var source: DatabaseRef
    public var mapped: DatabaseRef?
    public var suggestions: [DatabaseSuggestion]
}
