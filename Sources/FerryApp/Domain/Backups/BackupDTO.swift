import Fluent
import Foundation
import SupersetKit

/// A backup as the API and pages show it.
public struct BackupDTO: Codable, Sendable, Equatable {
    public struct Counts: Codable, Sendable, Equatable {
        public var dashboards: Int
        public var charts: Int
        public var datasets: Int
        public var databases: Int
        public var total: Int { dashboards + charts + datasets + databases }
    }
    public var id: UUID
    public var environmentId: UUID
    /// The environment's current name.
    public var environment: String
    public var createdAt: Date
    public var supersetVersion: String
    public var full: Bool
    /// task or upload
    public var origin: String
    public var counts: Counts
    public var totalBytes: Int64
    public var newBytes: Int64
    public var checksum: String
    public var pinned: Bool
    /// unverified, verified or corrupt
    public var verifyStatus: String
    public var verifiedAt: Date?
    /// What the last verify found missing or corrupt (empty when intact).
    public var problems: [BackupProblemDTO]
    public var taskId: UUID?
    public var createdBy: String
}

public struct BackupProblemDTO: Codable, Sendable, Equatable {
    public var kind: String?
    public var uuid: String?
    public var name: String
    public var problem: String
}

extension BackupDTO {
    init(_ m: BackupModel, names: EnvironmentDirectory) {
        let problems = m.verifyProblems.flatMap { try? JSONDecoder().decode([BackupProblem].self, from: Data($0.utf8)) } ?? []
        self.init(id: m.id!, environmentId: m.environmentID, environment: names.name(m.environmentID), createdAt: m.createdAt,
                  supersetVersion: m.supersetVersion, full: m.full, origin: m.origin,
                  counts: Counts(dashboards: m.dashboards, charts: m.charts, datasets: m.datasets, databases: m.databases),
                  totalBytes: m.totalBytes, newBytes: m.newBytes, checksum: m.manifestChecksum, pinned: m.pinned, verifyStatus: m.verifyStatus,
                  verifiedAt: m.verifiedAt,
                  problems: problems.map { BackupProblemDTO(kind: $0.kind?.rawValue, uuid: $0.uuid, name: $0.name, problem: $0.problem) },
                  taskId: m.taskID, createdBy: m.createdBy)
    }
}

/// One asset of a backup.
public struct BackupAssetDTO: Codable, Sendable, Equatable {
    public var kind: AssetKind
    public var uuid: String
    public var name: String
    public var hash: String
    public var size: Int
    public var changedOn: Date?
    /// What it references (uuids).
    public var refs: [String]
}

extension BackupAssetDTO {
    init(_ e: BackupManifest.Entry) {
        self.init(kind: e.kind, uuid: e.uuid, name: e.name, hash: e.hash, size: e.size, changedOn: e.changedOn, refs: e.refs)
    }

    /// A manifest's assets of `kind` (all when nil) whose name or uuid contains `search`
    /// (case-insensitive), dashboards first, then by name.
    static func search(_ manifest: BackupManifest, kind: AssetKind?, search: String?) -> [BackupAssetDTO] {
        let needle = (search ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        return manifest.assets
            .filter { kind == nil || $0.kind == kind }
            .filter { needle.isEmpty || $0.name.lowercased().contains(needle) || $0.uuid.contains(needle) }
            .sorted { ($1.kind, $0.name.lowercased()) < ($0.kind, $1.name.lowercased()) }
            .map(BackupAssetDTO.init)
    }
}

/// An environment's backup schedule as a client sets it.
public struct BackupScheduleInput: Codable, Sendable, Equatable {
    public var cron: String
    public var timeZone: String?
    public var enabled: Bool?
    public init(cron: String, timeZone: String? = nil, enabled: Bool? = nil) {
        self.cron = cron
        self.timeZone = timeZone
        self.enabled = enabled
    }
}

/// What a client sends to set an environment's retention and backup schedule (each optional).
struct BackupPolicyInput: Codable, Sendable {
    var environment: String?
    var retention: RetentionPolicy?
    var schedule: BackupScheduleInput?
}

/// An environment's retention and backup schedule.
struct BackupPolicyDTO: Codable, Sendable, Equatable {
    var environmentId: UUID
    var environment: String
    var retention: RetentionPolicy
    /// The schedule that runs `backup.run` for it, if any.
    var schedule: ScheduleSummary?

    public struct ScheduleSummary: Codable, Sendable, Equatable {
        public var id: UUID
        public var cron: String
        public var timeZone: String
        public var enabled: Bool
        public var nextRunAt: Date?
    }

    static func load(_ env: EnvironmentRef, on db: any Database) async throws -> BackupPolicyDTO {
        let schedule = try await BackupSchedule.find(environment: env.id, on: db)
        return BackupPolicyDTO(environmentId: env.id, environment: env.name, retention: try await BackupService.policy(environment: env.id, on: db),
                               schedule: schedule.map { ScheduleSummary(id: $0.id!, cron: $0.cron, timeZone: $0.timeZone, enabled: $0.enabled, nextRunAt: $0.nextRunAt) })
    }
}

/// An environment's backup schedule: a schedule of the existing scheduler running `backup.run`
/// with that environment's id.
enum BackupSchedule {
    static func find(environment: UUID, on db: any Database) async throws -> ScheduleModel? {
        try await ScheduleModel.query(on: db).filter(\.$pluginID == "backup.run").all().first { row in
            (try? BundleValue.parseJSON(row.params))?["environment"]?.stringValue?.lowercased() == environment.key
        }
    }

    /// Creates or changes the environment's backup schedule (cron and time zone validated by the
    /// scheduler; invalid ones are a 422 naming the field).
    static func save(_ input: BackupScheduleInput, environment: EnvironmentRef, registry: PluginRegistry, now: Date, newID: UUID,
                     on db: any Database) async throws {
        let existing = try await find(environment: environment.id, on: db)
        var name = existing?.name ?? "Back up \(environment.name)"
        if existing == nil, try await ScheduleModel.query(on: db).filter(\.$name == name).first() != nil {
            name += " (\(environment.id.key.prefix(8)))"
        }
        _ = try await ScheduleService.save(
            ScheduleInput(name: name, plugin: "backup.run", params: .map(["environment": .string(environment.id.key)]), cron: input.cron,
                          timeZone: input.timeZone ?? "UTC", enabled: input.enabled ?? true, catchUp: true),
            id: existing?.id, registry: registry, now: now, newID: newID, on: db, authorize: { _, params in params })
    }
}
