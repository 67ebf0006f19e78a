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

/// One permission given by a role, optionally limited to some environments: by name or by stage
/// tag (dev, stage, prod). With both lists empty it covers every environment.
public struct Grant: Codable, Equatable, Hashable, Sendable {
    public var permission: Permission
    public var environments: [String]
    public var stages: [String]

    public init(_ permission: Permission, environments: [String] = [], stages: [String] = []) {
        self.permission = permission
        self.environments = environments
        self.stages = stages
    }

    public var isUnlimited: Bool { environments.isEmpty && stages.isEmpty }

    /// Whether this grant covers the environment `name` of stage `stage`.
    public func covers(environment name: String, stage: String?) -> Bool {
        isUnlimited || environments.contains(name) || (stage.map(stages.contains) ?? false)
    }

    /// The text form used in forms and the CLI: `promote:apply` or `promote:apply@stage:stage,name:qa`.
    public var text: String {
        if isUnlimited { return permission.rawValue }
        let parts = stages.map { "stage:\($0)" } + environments.map { "name:\($0)" }
        return permission.rawValue + "@" + parts.joined(separator: ",")
    }

    /// Parses `text`; nil when the permission is unknown or a limit is malformed.
    public init?(text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let halves = trimmed.split(separator: "@", maxSplits: 1).map(String.init)
        guard let first = halves.first, let permission = Permission(rawValue: first) else { return nil }
        var names: [String] = []
        var stages: [String] = []
        if halves.count == 2 {
            for part in halves[1].split(separator: ",") {
                let kv = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2, !kv[1].isEmpty else { return nil }
                switch kv[0] {
                case "stage": stages.append(kv[1])
                case "name": names.append(kv[1])
                default: return nil
                }
            }
            if names.isEmpty && stages.isEmpty { return nil }
        }
        self.init(permission, environments: names, stages: stages)
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
            .environmentsRead, .inventoryRead, .promotePlan, .promoteApply, .backupRun, .restoreRun, .gitWrite,
            .tasksRead, .tasksRun, .tasksCancel, .schedulesWrite,
        ].map { Grant($0) }),
        (analyst, "Finds assets and plans promotions, without applying them.", [
            .environmentsRead, .inventoryRead, .promotePlan, .tasksRead,
        ].map { Grant($0) }),
        (viewer, "Reads environments, inventory and tasks.", [.environmentsRead, .inventoryRead, .tasksRead].map { Grant($0) }),
    ]
}
