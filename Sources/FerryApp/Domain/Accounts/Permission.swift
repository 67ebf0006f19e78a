import Foundation

/// What a user may do, as `resource:action`. Roles hold grants of these; routes, pages,
/// WebSockets and plugin runs each name the one they need (see `SiteURL+Access.swift`).
public enum Permission: String, CaseIterable, Codable, Sendable {
    case environmentsRead = "environments:read"
    case environmentsWrite = "environments:write"
    case inventoryRead = "inventory:read"
    case promotePlan = "promote:plan"
    case promoteApply = "promote:apply"
    case backupRun = "backup:run"
    case restoreRun = "restore:run"
    case gitWrite = "git:write"
    /// Runs dashboard checks (`dashboard.check`); their results are read with `inventory:read`.
    case healthRun = "health:run"
    case tasksRead = "tasks:read"
    case tasksRun = "tasks:run"
    case tasksCancel = "tasks:cancel"
    case tasksAdmin = "tasks:admin"
    case schedulesWrite = "schedules:write"
    case usersAdmin = "users:admin"
    case settingsAdmin = "settings:admin"
    case auditRead = "audit:read"
    case metricsRead = "metrics:read"
}

extension Permission {
    /// Permissions that concern Ferry itself, not a Superset environment: a grant of one can't
    /// be limited to environments (such a limit would silently count as unlimited). `tasks:admin`
    /// runs maintenance over every environment's tasks (retention), so it is one of them.
    public static let global: Set<Permission> = [.usersAdmin, .settingsAdmin, .auditRead, .metricsRead, .tasksAdmin]

    public var isGlobal: Bool { Self.global.contains(self) }
}

/// One permission given by a role, optionally limited to some environments: by identity (the
/// environment's id, so a rename keeps the grant) or by stage tag (dev, stage, prod). With both
/// lists empty it covers every environment.
///
/// Invariant: a grant of a global permission (`Permission.global`) is never limited.
public struct Grant: Codable, Equatable, Hashable, Sendable {
    public var permission: Permission
    /// Environment ids.
    public var environments: [UUID]
    public var stages: [String]

    public init(_ permission: Permission, environments: [UUID] = [], stages: [String] = []) {
        self.permission = permission
        self.environments = environments
        self.stages = stages
    }

    public var isUnlimited: Bool { environments.isEmpty && stages.isEmpty }

    /// Whether this grant covers the environment `id` of stage `stage`.
    public func covers(environmentID id: UUID, stage: String?) -> Bool {
        isUnlimited || environments.contains(id) || (stage.map(stages.contains) ?? false)
    }

    public func covers(_ env: EnvironmentRef) -> Bool { covers(environmentID: env.id, stage: env.stage) }

    /// The text form used in forms, the CLI and the API: `promote:apply` or
    /// `promote:apply@stage:stage,name:qa`; environments are named by their current `names`
    /// (an environment deleted since shows as `id:<uuid>`).
    public func text(names: [UUID: String]) -> String {
        if isUnlimited { return permission.rawValue }
        let parts = stages.map { "stage:\($0)" } + environments.map { id in names[id].map { "name:\($0)" } ?? "id:\(id.key)" }
        return permission.rawValue + "@" + parts.joined(separator: ",")
    }

    /// Why a grant's text was refused.
    public enum ParseError: Error, Equatable, Sendable {
        case malformed
        case unknownEnvironment(String)
        case globalLimited(Permission)
    }

    /// Parses `text`, naming environments by `name:` (resolved through `ids`, a name -> id map)
    /// or `id:`.
    public static func parse(_ text: String, ids: [String: UUID]) -> Result<Grant, ParseError> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let halves = trimmed.split(separator: "@", maxSplits: 1).map(String.init)
        guard let first = halves.first, let permission = Permission(rawValue: first) else { return .failure(.malformed) }
        var envs: [UUID] = []
        var stages: [String] = []
        if halves.count == 2 {
            for part in halves[1].split(separator: ",") {
                let kv = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2, !kv[1].isEmpty else { return .failure(.malformed) }
                switch kv[0] {
                case "stage": stages.append(kv[1])
                case "name":
                    guard let id = ids[kv[1]] else { return .failure(.unknownEnvironment(kv[1])) }
                    envs.append(id)
                case "id":
                    guard let id = UUID(uuidString: kv[1]) else { return .failure(.malformed) }
                    envs.append(id)
                default: return .failure(.malformed)
                }
            }
            if envs.isEmpty && stages.isEmpty { return .failure(.malformed) }
            if permission.isGlobal { return .failure(.globalLimited(permission)) }
        }
        return .success(Grant(permission, environments: envs, stages: stages))
    }
}

/// The roles every Ferry starts with. They can be edited afterwards; this is only the seed.
public enum BuiltInRoles {
    public static let admin = "admin"
    public static let operator_ = "operator"
    public static let analyst = "analyst"
    public static let viewer = "viewer"

    public static let all: [(name: String, description: String, grants: [Grant])] = [
        (admin, "Everything, including users, roles, settings and the audit log.", Permission.allCases.map { Grant($0) }),
        (operator_, "Runs promotions, backups, restores and schedules.", [
            .environmentsRead, .inventoryRead, .promotePlan, .promoteApply, .backupRun, .restoreRun, .gitWrite, .healthRun,
            .tasksRead, .tasksRun, .tasksCancel, .schedulesWrite,
        ].map { Grant($0) }),
        (analyst, "Finds assets and plans promotions, without applying them.", [
            .environmentsRead, .inventoryRead, .promotePlan, .tasksRead,
        ].map { Grant($0) }),
        (viewer, "Reads environments, inventory and tasks.", [.environmentsRead, .inventoryRead, .tasksRead].map { Grant($0) }),
    ]
}
