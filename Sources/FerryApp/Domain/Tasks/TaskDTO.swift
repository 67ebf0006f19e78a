import Fluent
import Foundation
import SupersetKit
import Vapor

/// A task as the API returns it. Sealed (secret) params show as "***".
public struct TaskDTO: Content, Sendable, Equatable {
    public var id: UUID
    public var plugin: String
    public var params: BundleValue
    public var createdBy: String
    /// The ids of the environments the task touches.
    public var environmentIds: [UUID]
    /// Their current names, in the same order.
    public var environments: [String]
    public var status: TaskStatus
    public var progress: Int
    public var step: String
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var result: BundleValue?
    public var error: String?
    public var nextAction: String?
    /// While awaiting input: `{prompt, schema}`.
    public var inputRequest: BundleValue?
    public var inputDeadline: Date?
    public var node: String?
    public var logLines: Int
}

extension TaskDTO {
    init(_ m: TaskModel, names: EnvironmentDirectory) {
        var params = (try? BundleValue.parseJSON(Data(m.params.utf8))) ?? .map([:])
        if var object = params.mapValue {
            for (k, v) in object where v["$sealed"] != nil { object[k] = .string("***") }
            params = .map(object)
        }
        self.init(
            id: m.id!, plugin: m.pluginID, params: params, createdBy: m.createdBy,
            environmentIds: m.environmentIDs, environments: m.environmentIDs.map(names.name), status: TaskStatus(rawValue: m.status) ?? .failed,
            progress: m.progress, step: m.step, createdAt: m.createdAt, startedAt: m.startedAt, finishedAt: m.finishedAt,
            result: m.result.flatMap { try? BundleValue.parseJSON(Data($0.utf8)) }, error: m.error, nextAction: m.nextAction,
            inputRequest: m.inputRequest.flatMap { try? BundleValue.parseJSON(Data($0.utf8)) }, inputDeadline: m.inputDeadline,
            node: m.claimedBy, logLines: m.logCount)
    }
}

public struct PluginDTO: Content, Sendable {
    public var id: String
    public var name: String
    public var description: String
    public var version: String
    public var permission: String
    public var resumable: Bool
    public var paramsSchema: BundleValue
}

extension PluginDTO {
    init(_ p: any Plugin) {
        self.init(id: p.id, name: p.name, description: p.description, version: p.version, permission: p.permission, resumable: p.resumable,
                  paramsSchema: p.paramsSchema.document)
    }
}

/// Task queries for the list API and page.
enum TaskQueries {
    struct Filter: Sendable {
        var status: String?
        var plugin: String?
        /// Only tasks touching this environment.
        var environment: UUID?
        var user: String?
        var page = 1
        var perPage = 50
        /// The caller's `tasks:read` grants when some are limited to environments: only tasks
        /// whose every environment they cover are listed. nil: all tasks.
        var readGrants: [Grant]?
    }

    static func list(_ f: Filter, on db: any Database) async throws -> (items: [TaskModel], total: Int) {
        var q = TaskModel.query(on: db)
        if let s = f.status, !s.isEmpty {
            guard TaskStatus(rawValue: s) != nil else {
                throw AppError.validation([FieldError(field: "status", code: "invalid",
                                                      message: "must be one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", "))")])
            }
            q = q.filter(\.$status == s)
        }
        if let p = f.plugin, !p.isEmpty { q = q.filter(\.$pluginID == p) }
        if let u = f.user, !u.isEmpty { q = q.filter(\.$createdBy == u) }
        if let e = f.environment?.key {
            // environments is a comma list: match it whole, first, last or in the middle.
            q = q.group(.or) { g in
                g.filter(\.$environments == e).filter(\.$environments, .contains(inverse: false, .prefix), "\(e),")
                    .filter(\.$environments, .contains(inverse: false, .suffix), ",\(e)").filter(\.$environments, .contains(inverse: false, .anywhere), ",\(e),")
            }
        }
        if let grants = f.readGrants {
            // Tasks are grouped by their environment list (few distinct values): keep the lists
            // whose every environment a grant covers.
            let stages = try await EnvironmentDirectory.load(on: db).byID.mapValues(\.stage)
            struct Row: Decodable { var environment_ids: String }
            let lists = try await TaskStore.sql(db).select().distinct().column("environment_ids").from("tasks").all(decoding: Row.self).map(\.environment_ids)
            let visible = lists.filter { list in
                list.split(separator: ",").allSatisfy { key in
                    guard let id = UUID(uuidString: String(key)) else { return false }
                    return grants.contains { $0.covers(environmentID: id, stage: stages[id]) }
                } && (!list.isEmpty || !grants.isEmpty)
            }
            q = q.filter(\.$environments ~~ visible)
        }
        let total = try await q.count()
        let items = try await q.sort(\.$createdAt, .descending).sort(\.$id).range(try Paging(page: f.page, perPage: f.perPage).range).all()
        return (items, total)
    }
}
