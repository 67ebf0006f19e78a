import Fluent
import Foundation

/// A task: one run of a plugin. Row of `tasks`. Never serialised to clients: map it to `TaskDTO`.
///
/// Invariant: `status` only changes along `TaskStatus.allowed`, and every change is committed
/// before anyone is told of it.
final class TaskModel: Model, @unchecked Sendable {
    static let schema = "tasks"

    @ID(key: .id) var id: UUID?
    @Field(key: "plugin_id") var pluginID: String
    /// JSON object. Secret inputs are never in it.
    @Field(key: "params") var params: String
    @Field(key: "created_by") var createdBy: String
    /// Ids of the environments the task touches, lower-case and comma-separated (for filters,
    /// access and the per-environment limit).
    @Field(key: "environment_ids") var environments: String

    /// `environments` as a list.
    var environmentIDs: [UUID] { Self.environmentIDs(environments) }

    /// The ids of an `environment_ids` column (comma-separated).
    static func environmentIDs(_ stored: String) -> [UUID] { stored.split(separator: ",").compactMap { UUID(uuidString: String($0)) } }
    /// `environments` as the keys of the per-environment limit.
    var environmentKeys: [String] { environments.split(separator: ",").map(String.init) }
    @Field(key: "status") var status: String
    @Field(key: "progress") var progress: Int
    @Field(key: "step") var step: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "started_at") var startedAt: Date?
    @OptionalField(key: "finished_at") var finishedAt: Date?
    /// JSON summary of what the task did.
    @OptionalField(key: "result") var result: String?
    @OptionalField(key: "error") var error: String?
    /// What the operator should do about `error`.
    @OptionalField(key: "next_action") var nextAction: String?
    /// JSON: the pending input request (prompt and JSON Schema) while awaiting input.
    @OptionalField(key: "input_request") var inputRequest: String?
    @OptionalField(key: "input_deadline") var inputDeadline: Date?
    /// The node running it, and until when that claim holds without a heartbeat.
    @OptionalField(key: "claimed_by") var claimedBy: String?
    @OptionalField(key: "lease_until") var leaseUntil: Date?
    @Field(key: "cancel_requested") var cancelRequested: Bool
    @OptionalField(key: "schedule_id") var scheduleID: UUID?
    /// Number of log lines persisted so far (the next line's sequence number).
    @Field(key: "log_count") var logCount: Int

    init() {}
}

/// One persisted log line of a task. Row of `task_logs`, keyed by (task, seq).
struct TaskLogRow: Sendable {
    var taskID: UUID
    var seq: Int
    var at: Date
    var level: String
    var source: String
    var message: String
    /// JSON object.
    var metadata: String
}

/// A recurring task. Row of `schedules`.
final class ScheduleModel: Model, @unchecked Sendable {
    static let schema = "schedules"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "plugin_id") var pluginID: String
    @Field(key: "params") var params: String
    @Field(key: "cron") var cron: String
    @Field(key: "time_zone") var timeZone: String
    @Field(key: "enabled") var enabled: Bool
    /// Run once at start when a due time passed while Ferry was down.
    @Field(key: "catch_up") var catchUp: Bool
    @OptionalField(key: "next_run_at") var nextRunAt: Date?
    @OptionalField(key: "last_run_at") var lastRunAt: Date?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}
