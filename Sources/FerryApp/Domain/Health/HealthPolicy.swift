import Fluent
import Foundation
import SupersetKit

/// When a policy's run notifies: on FAIL only, on WARN or FAIL, or after every run.
public enum HealthAlert: String, Codable, Sendable, CaseIterable {
    case fail, warn, always

    func fires(_ status: HealthStatus) -> Bool {
        switch self {
        case .fail: return status == .fail
        case .warn: return status != .pass
        case .always: return true
        }
    }
}

/// A health policy as the API and the page write it.
public struct HealthPolicyInput: Codable, Sendable, Equatable {
    public var name: String
    /// The environment, by id or name.
    public var environment: String
    /// Superset dashboard ids; with `search` unset and this empty, every dashboard.
    public var dashboards: [Int]?
    public var search: String?
    /// Days of the week it runs on, 0 (Sunday) to 6; every day when empty.
    public var weekdays: [Int]?
    /// The window, whole hours in `timeZone`: it runs from `windowStart`:00 to `windowEnd`:00.
    public var windowStart: Int
    public var windowEnd: Int
    public var timeZone: String?
    /// Minutes between runs inside the window (5-240); the dashboards are spread over the runs.
    public var everyMinutes: Int?
    public var alert: HealthAlert?
    /// Mail each failing dashboard's owners (their Superset e-mail) through `ownerChannel`.
    public var notifyOwners: Bool?
    public var ownerChannel: UUID?
    public var channels: [UUID]?
    public var render: Bool?
    public var active: Bool?
    /// The LLM provider that reviews each check (an active one); none when absent.
    public var llmProvider: UUID?
}

public struct HealthPolicyDTO: Codable, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var environmentId: UUID
    public var environment: String
    public var dashboards: [Int]
    public var search: String?
    public var weekdays: [Int]
    public var windowStart: Int
    public var windowEnd: Int
    public var timeZone: String
    public var everyMinutes: Int
    public var alert: HealthAlert
    public var notifyOwners: Bool
    public var ownerChannel: UUID?
    public var channels: [UUID]
    public var render: Bool
    public var active: Bool
    public var scheduleId: UUID?
    public var cron: String
    /// The LLM provider that reviews each check; none when absent.
    public var llmProvider: UUID?
}

/// A health policy. Row of `health_policies`; its runs are a schedule of `health.policy`.
///
/// Invariant: `schedule_id` names the schedule that runs it, whose cron is `cron(for:)` of this
/// row (rewritten on every save) and whose only param is this policy's id.
final class HealthPolicyModel: Model, @unchecked Sendable {
    static let schema = "health_policies"
    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "environment_id") var environmentID: UUID
    /// JSON list of dashboard ids.
    @Field(key: "dashboards") var dashboards: String
    @OptionalField(key: "search") var search: String?
    /// JSON list of weekdays 0-6.
    @Field(key: "weekdays") var weekdays: String
    @Field(key: "window_start") var windowStart: Int
    @Field(key: "window_end") var windowEnd: Int
    @Field(key: "time_zone") var timeZone: String
    @Field(key: "every_minutes") var everyMinutes: Int
    /// `HealthAlert`.
    @Field(key: "alert") var alert: String
    @Field(key: "notify_owners") var notifyOwners: Bool
    @OptionalField(key: "owner_channel_id") var ownerChannelID: UUID?
    /// JSON list of channel ids.
    @Field(key: "channels") var channels: String
    @Field(key: "render") var render: Bool
    @Field(key: "active") var active: Bool
    @OptionalField(key: "schedule_id") var scheduleID: UUID?
    /// The `llm_providers` row that reviews each check (M0013); nil: no review.
    @OptionalField(key: "llm_provider_id") var llmProviderID: UUID?
    @Field(key: "created_by") var createdBy: String
    @Field(key: "updated_at") var updatedAt: Date
    init() {}

    var dashboardIDs: [Int] { (try? JSONDecoder().decode([Int].self, from: Data(dashboards.utf8))) ?? [] }
    var weekdayList: [Int] { (try? JSONDecoder().decode([Int].self, from: Data(weekdays.utf8))) ?? [] }
    var channelIDs: [UUID] { (try? JSONDecoder().decode([UUID].self, from: Data(channels.utf8))) ?? [] }
}

/// Health policies: validation, the schedule each one runs on, and how a run picks its share of
/// the dashboards (spread evenly over the window's runs).
enum HealthPolicyService {
    static let maxDashboards = 1000
    static let maxChannels = 20

    /// The cron of a policy: every `every` minutes from `start`:00 to before `end`:00 on `weekdays`.
    static func cron(start: Int, end: Int, every: Int, weekdays: [Int]) -> String {
        let days = weekdays.isEmpty ? "*" : weekdays.sorted().map(String.init).joined(separator: ",")
        let minutes = every >= 60 ? "0" : "*/\(every)"
        let hourStep = every > 60 ? "/\(every / 60)" : ""
        let hours = end - 1 == start ? "\(start)" : "\(start)-\(end - 1)\(hourStep)"
        return "\(minutes) \(hours) * * \(days)"
    }

    /// How many runs a window has, and which one fires at `date` (in `zone`).
    static func slot(at date: Date, start: Int, end: Int, every: Int, zone: TimeZone) -> (index: Int, count: Int) {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone
        let c = cal.dateComponents([.hour, .minute], from: date)
        // As cron fires: at start, then every `every` minutes before `end` (rounded up).
        let count = max(1, ((end - start) * 60 + every - 1) / every)
        let minutes = ((c.hour ?? start) - start) * 60 + (c.minute ?? 0)
        return (min(max(0, minutes / every), count - 1), count)
    }

    /// This run's share of `dashboards` (sorted by id): every `count`-th from `index`, so each
    /// dashboard is checked once per window.
    static func share(_ dashboards: [HealthInventory.Dashboard], slot: (index: Int, count: Int)) -> [HealthInventory.Dashboard] {
        dashboards.sorted { $0.id < $1.id }.enumerated().filter { $0.offset % slot.count == slot.index }.map(\.element)
    }

    static func dto(_ m: HealthPolicyModel, names: EnvironmentDirectory) -> HealthPolicyDTO {
        HealthPolicyDTO(id: m.id!, name: m.name, environmentId: m.environmentID, environment: names.name(m.environmentID), dashboards: m.dashboardIDs,
                        search: m.search, weekdays: m.weekdayList, windowStart: m.windowStart, windowEnd: m.windowEnd, timeZone: m.timeZone,
                        everyMinutes: m.everyMinutes, alert: HealthAlert(rawValue: m.alert) ?? .fail, notifyOwners: m.notifyOwners,
                        ownerChannel: m.ownerChannelID, channels: m.channelIDs, render: m.render, active: m.active, scheduleId: m.scheduleID,
                        cron: cron(start: m.windowStart, end: m.windowEnd, every: m.everyMinutes, weekdays: m.weekdayList), llmProvider: m.llmProviderID)
    }

    static func find(_ id: UUID, on db: any Database) async throws -> HealthPolicyModel {
        guard let m = try await HealthPolicyModel.find(id, on: db) else {
            throw AppError(.notFound, code: "not_found", key: "policy_not_found", ["id": id.key])
        }
        return m
    }

    /// Checks `input` (the environment already resolved) and names every wrong field (422).
    /// `providers`: the LLM providers by id; a provider named must be active, unless it is
    /// `storedProvider` (the one the policy has now, kept while paused).
    static func validate(_ input: HealthPolicyInput, channels: [UUID: NotificationChannelModel], providers: [UUID: LLMProviderModel] = [:],
                         storedProvider: UUID? = nil) throws -> TimeZone {
        var errors: [FieldError] = []
        func fail(_ field: String, _ key: String, _ values: [String: String] = [:]) { errors.append(FieldError(field: field, code: "invalid", key: key, values)) }
        let name = input.name.trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.count > 100 { fail("name", "name_1_100") }
        if (input.dashboards?.count ?? 0) > maxDashboards { fail("dashboards", "at_most_dashboards", ["max": String(maxDashboards)]) }
        if (input.dashboards ?? []).contains(where: { $0 < 1 }) { fail("dashboards", "dashboard_ids") }
        if (input.search?.count ?? 0) > 200 { fail("search", "at_most_chars", ["max": "200"]) }
        let days = input.weekdays ?? []
        if days.contains(where: { !(0...6).contains($0) }) || Set(days).count != days.count { fail("weekdays", "weekdays") }
        if !(0...23).contains(input.windowStart) { fail("windowStart", "window_start") }
        if !(1...24).contains(input.windowEnd) || input.windowEnd <= input.windowStart { fail("windowEnd", "window_end") }
        let every = input.everyMinutes ?? 15
        if !(5...240).contains(every) || (every < 60 ? 60 % every != 0 : every % 60 != 0) {
            fail("everyMinutes", "every_minutes")
        }
        let zone = TimeZone(identifier: input.timeZone ?? "UTC")
        if zone == nil { fail("timeZone", "time_zone") }
        let listed = input.channels ?? []
        if listed.count > maxChannels { fail("channels", "at_most_channels", ["max": String(maxChannels)]) }
        for id in listed where channels[id] == nil { fail("channels", "no_channel", ["id": id.key]) }
        if let id = input.llmProvider {
            if let p = providers[id] {
                if !p.active && id != storedProvider { fail("llmProvider", "llm_paused", ["name": p.name]) }
            } else {
                fail("llmProvider", "no_llm", ["id": id.key])
            }
        }
        if input.notifyOwners == true {
            guard let id = input.ownerChannel, let c = channels[id] else {
                fail("ownerChannel", "owner_channel_pick")
                throw AppError.validation(errors)
            }
            if c.kind != ChannelKind.email.rawValue { fail("ownerChannel", "owner_channel") }
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
        return zone!
    }
}

extension HealthPolicyService {
    /// Saves a policy and the schedule it runs on, in one transaction (a failed save leaves
    /// neither). `env` is the environment the caller was authorised on.
    static func save(_ input: HealthPolicyInput, environment env: EnvironmentRef, id: UUID?, user: String, registry: PluginRegistry,
                     now: Date, newID: @Sendable () -> UUID, on db: any Database) async throws -> HealthPolicyModel {
        let existing = try await id.asyncMap { try await find($0, on: db) }
        let channels = Dictionary(try await NotificationChannelModel.query(on: db).all().map { ($0.id!, $0) }, uniquingKeysWith: { a, _ in a })
        let providers = Dictionary(try await LLMProviderModel.query(on: db).all().map { ($0.id!, $0) }, uniquingKeysWith: { a, _ in a })
        let zone = try validate(input, channels: channels, providers: providers, storedProvider: existing?.llmProviderID)
        let name = input.name.trimmingCharacters(in: .whitespaces)
        if let clash = try await HealthPolicyModel.query(on: db).filter(\.$name == name).first(), clash.id != existing?.id {
            throw AppError(.conflict, code: "name_taken", key: "policy_taken", ["name": name],
                           fields: [FieldError(field: "name", code: "taken", key: "taken")])
        }
        let m = existing ?? HealthPolicyModel()
        if existing == nil { m.id = newID(); m.createdBy = user }
        m.name = name
        m.environmentID = env.id
        m.dashboards = String(decoding: try JSONEncoder().encode(Array(Set(input.dashboards ?? [])).sorted()), as: UTF8.self)
        m.search = input.search?.trimmingCharacters(in: .whitespaces).nonEmpty
        m.weekdays = String(decoding: try JSONEncoder().encode((input.weekdays ?? []).sorted()), as: UTF8.self)
        m.windowStart = input.windowStart
        m.windowEnd = input.windowEnd
        m.timeZone = zone.identifier
        m.everyMinutes = input.everyMinutes ?? 15
        m.alert = (input.alert ?? .fail).rawValue
        m.notifyOwners = input.notifyOwners ?? false
        m.ownerChannelID = m.notifyOwners ? input.ownerChannel : nil
        m.channels = String(decoding: try JSONEncoder().encode(Array(Set(input.channels ?? [])).sorted { $0.uuidString < $1.uuidString }), as: UTF8.self)
        m.render = input.render ?? true
        m.active = input.active ?? true
        m.llmProviderID = input.llmProvider
        m.updatedAt = now
        let schedule = ScheduleInput(name: "Health policy: \(name)", plugin: HealthPolicyPlugin.pluginID, params: .map(["policy": .string(m.id!.key)]),
                                     cron: cron(start: m.windowStart, end: m.windowEnd, every: m.everyMinutes, weekdays: m.weekdayList),
                                     timeZone: zone.identifier, enabled: m.active, catchUp: false)
        // The schedule's own save takes the write transaction, so the two are written in turn:
        // a new policy whose schedule is refused is removed again, leaving neither.
        if existing == nil {
            try await m.create(on: db)
            do {
                let saved = try await ScheduleService.save(schedule, id: nil, registry: registry, now: now, newID: newID(), on: db, authorize: { _, params in params })
                m.scheduleID = saved.id
                try await m.update(on: db)
            } catch {
                try? await m.delete(on: db)
                throw error
            }
        } else {
            var scheduleID: UUID?
            if let id = m.scheduleID { scheduleID = try await ScheduleModel.find(id, on: db)?.id }
            let saved = try await ScheduleService.save(schedule, id: scheduleID, registry: registry, now: now, newID: newID(), on: db, authorize: { _, params in params })
            m.scheduleID = saved.id
            try await m.update(on: db)
        }
        return m
    }

    /// Deletes a policy and its schedule (its checks and their results stay).
    static func delete(_ m: HealthPolicyModel, on db: any Database) async throws {
        try await db.writeTransaction { tx in
            if let s = m.scheduleID, let schedule = try await ScheduleModel.find(s, on: tx) { try await schedule.delete(on: tx) }
            try await m.delete(on: tx)
        }
    }
}
