import Fluent
import Foundation
import SQLKit
import SupersetKit
import Vapor

/// What a client sends to create or change a schedule (every field optional on update).
public struct ScheduleInput: Content, Sendable {
    public var name: String?
    public var plugin: String?
    public var params: BundleValue?
    public var cron: String?
    /// An IANA zone such as Europe/Berlin; UTC when omitted.
    public var timeZone: String?
    public var enabled: Bool?
    /// Run once at start when a due time passed while Ferry was down (default true).
    public var catchUp: Bool?

    public init(name: String? = nil, plugin: String? = nil, params: BundleValue? = nil, cron: String? = nil, timeZone: String? = nil,
                enabled: Bool? = nil, catchUp: Bool? = nil) {
        self.name = name
        self.plugin = plugin
        self.params = params
        self.cron = cron
        self.timeZone = timeZone
        self.enabled = enabled
        self.catchUp = catchUp
    }
}

public struct ScheduleDTO: Content, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var plugin: String
    public var params: BundleValue
    public var cron: String
    public var timeZone: String
    public var enabled: Bool
    public var catchUp: Bool
    public var nextRunAt: Date?
    public var lastRunAt: Date?
}

extension ScheduleDTO {
    init(_ m: ScheduleModel) {
        self.init(id: m.id!, name: m.name, plugin: m.pluginID, params: (try? BundleValue.parseJSON(Data(m.params.utf8))) ?? .map([:]),
                  cron: m.cron, timeZone: m.timeZone, enabled: m.enabled, catchUp: m.catchUp, nextRunAt: m.nextRunAt, lastRunAt: m.lastRunAt)
    }
}

/// Schedules: validation, storage and firing.
///
/// Guarantee: each due time fires at most once across all nodes: firing is a compare-and-set
/// of `next_run_at` from the due time to the next one, in the same transaction as the task
/// insert, so exactly one node wins and its task exists if and only if the advance committed.
enum ScheduleService {
    static func validate(_ input: ScheduleInput, existing: ScheduleModel?, registry: PluginRegistry) throws
        -> (name: String, plugin: any Plugin, params: BundleValue, cron: CronExpression, zone: TimeZone)
    {
        var errors: [FieldError] = []
        let name = (input.name ?? existing?.name ?? "").trimmingCharacters(in: .whitespaces)
        if name.isEmpty { errors.append(FieldError(field: "name", code: "required", key: "name_required")) }
        let pluginID = input.plugin ?? existing?.pluginID ?? ""
        let plugin = registry.plugin(pluginID)
        if plugin == nil { errors.append(FieldError(field: "plugin", code: "unknown", key: "no_plugin", ["id": pluginID])) }
        let params = input.params ?? existing.flatMap { try? BundleValue.parseJSON(Data($0.params.utf8)) } ?? .map([:])
        if let plugin {
            errors += plugin.paramsSchema.validate(params, at: "params")
            for secret in plugin.paramsSchema.secretProperties.sorted() where params[secret] != nil {
                errors.append(FieldError(field: "params.\(secret)", code: "secret", key: "schedule_secret"))
            }
        }
        var cron: CronExpression?
        do { cron = try CronExpression(input.cron ?? existing?.cron ?? "") } catch let e as CronExpression.ParseError {
            errors.append(FieldError(field: "cron", code: "invalid", message: e.message))
        }
        let zoneName = input.timeZone ?? existing?.timeZone ?? "UTC"
        let zone = TimeZone(identifier: zoneName)
        if zone == nil { errors.append(FieldError(field: "timeZone", code: "invalid", key: "not_time_zone", ["zone": zoneName])) }
        guard errors.isEmpty, let plugin, let cron, let zone else { throw AppError.validation(errors) }
        return (name, plugin, params, cron, zone)
    }

    /// Creates (`id` nil) or changes a schedule. `authorize` judges the schedule as it will be
    /// after the change (plugin and params merged from the input and the stored schedule) and
    /// returns the params to store (environments resolved to ids); nothing is written unless
    /// it passes. The caller checks the stored schedule before calling (see `scope(of:)`).
    static func save(_ input: ScheduleInput, id: UUID?, registry: PluginRegistry, now: Date, newID: UUID, on db: any Database,
                     authorize: (_ plugin: String, _ params: BundleValue) async throws -> BundleValue) async throws -> ScheduleModel {
        let existing = try await id.asyncMap { try await find($0, on: db) }
        var v = try validate(input, existing: existing, registry: registry)
        v.params = try await authorize(v.plugin.id, v.params)
        let m = existing ?? ScheduleModel()
        if existing == nil {
            m.id = newID
            m.createdAt = now
        }
        m.name = v.name
        m.pluginID = v.plugin.id
        m.params = v.params.jsonText()
        m.cron = v.cron.text
        m.timeZone = v.zone.identifier
        m.enabled = input.enabled ?? existing?.enabled ?? true
        m.catchUp = input.catchUp ?? existing?.catchUp ?? true
        m.nextRunAt = m.enabled ? v.cron.next(after: now, in: v.zone) : nil
        m.updatedAt = now
        try await db.writeTransaction { tx in
            if try await ScheduleModel.query(on: tx).filter(\.$name == m.name).all().contains(where: { $0.id != m.id }) {
                throw AppError(.conflict, code: "name_taken", key: "schedule_taken", ["name": m.name],
                               fields: [FieldError(field: "name", code: "taken", key: "taken")])
            }
            if existing == nil { try await m.create(on: tx) } else { try await m.update(on: tx) }
        }
        return m
    }

    /// Deletes a schedule; the tasks it started stay.
    static func delete(_ id: UUID, on db: any Database) async throws {
        try await find(id, on: db).delete(on: db)
    }

    /// The environments a stored schedule's tasks would touch and be authorised on; nil when its
    /// params no longer name a resource that exists (only unlimited grants reach it then).
    static func scope(of m: ScheduleModel, registry: PluginRegistry, on db: any Database) async -> TaskScope? {
        guard let plugin = registry.plugin(m.pluginID), let params = try? BundleValue.parseJSON(Data(m.params.utf8)) else { return nil }
        return try? await plugin.scope(of: params, on: db)
    }

    static func find(_ id: UUID, on db: any Database) async throws -> ScheduleModel {
        guard let m = try await ScheduleModel.find(id, on: db) else { throw AppError.notFound(.schedule, "\(id)") }
        return m
    }

    /// Fires every schedule due at `now`, once, however many due times were missed. A due time
    /// older than `grace` is skipped (not run) when the schedule doesn't catch up.
    /// Returns the tasks this node queued.
    @discardableResult
    static func fireDue(now: Date, grace: TimeInterval = 60, engine: TaskEngine, on db: any Database) async throws -> [TaskModel] {
        let due = try await ScheduleModel.query(on: db).filter(\.$enabled == true).filter(\.$nextRunAt <= now).all()
        var queued: [TaskModel] = []
        for s in due {
            guard let id = s.id, let dueAt = s.nextRunAt, let cron = try? CronExpression(s.cron),
                  let zone = TimeZone(identifier: s.timeZone) else { continue }
            let next = cron.next(after: now, in: zone)
            let run = s.catchUp || now.timeIntervalSince(dueAt) <= grace
            let prepared: TaskModel?
            do {
                prepared = try await engine.makeTask(
                    pluginID: s.pluginID, params: (try? BundleValue.parseJSON(Data(s.params.utf8))) ?? .map([:]),
                    user: "scheduler:\(s.name)", scheduleID: id, on: db)
            } catch {
                // This schedule can't make its task (its environment was deleted, say): it
                // skips this due time, logged, and never holds up the schedules after it.
                engine.logger.warning("a schedule could not start its task", metadata: [
                    "schedule": .string(s.name), "error": .string(TaskEngine.describe(error).0)])
                prepared = nil
            }
            let task: TaskModel? = try await db.writeTransaction { tx in
                let won = try await TaskStore.sql(tx).update("schedules")
                    .set("next_run_at", to: next).set("last_run_at", to: run ? dueAt : s.lastRunAt)
                    .where("id", .equal, id).where("next_run_at", .equal, dueAt)
                    .returning("id").all()
                guard !won.isEmpty, run, let prepared else { return nil }
                try await prepared.create(on: tx)
                return prepared
            }
            if let task {
                engine.announceQueued(task)
                queued.append(task)
            }
        }
        return queued
    }
}

extension Optional {
    func asyncMap<T>(_ body: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await body(self)
    }
}
