import Fluent
import Foundation
import SupersetKit

/// One notification sent (or tried) for one run. Row of `notification_deliveries`.
///
/// Invariant: (task, channel, recipient) is unique, and a row with status `sent` is written only
/// after the send succeeded, so a run that is resumed never sends the same thing twice.
final class NotificationDeliveryModel: Model, @unchecked Sendable {
    static let schema = "notification_deliveries"
    @ID(key: .id) var id: UUID?
    @Field(key: "task_id") var taskID: UUID
    @Field(key: "channel_id") var channelID: UUID
    /// The e-mail address, or "" for the channel itself (its own list, a webhook, a chat).
    @Field(key: "recipient") var recipient: String
    /// `DeliveryStatus`.
    @Field(key: "status") var status: String
    @OptionalField(key: "error") var error: String?
    @Field(key: "at") var at: Date
    init() {}
}

enum DeliveryStatus: String, Codable, Sendable { case sent, failed }

/// `health.policy`: one run of a health policy. Checks this run's share of the policy's
/// dashboards (`HealthPolicyService.share`; all of them with `now`), then, when the policy's
/// alert condition holds for any of them, notifies its channels and (through its e-mail channel)
/// the owners of the dashboards concerned, each once per run, in the channel's language.
///
/// Access is decided on the stored policy: its environment is what the task touches.
/// Side effects: those of `DashboardCheckPlugin.checks` (a review by the policy's LLM provider,
/// when it names one), Superset reads of owners and users, and sends through
/// `NotificationSender`, each recorded in `notification_deliveries`.
struct HealthPolicyPlugin: Plugin {
    static let pluginID = "health.policy"
    let id = HealthPolicyPlugin.pluginID
    let name = "Run a health policy"
    let description = "Checks the policy's share of dashboards for this point of its window and notifies its channels and owners."
    let version = "1.0.0"
    let permission = Permission.healthRun.rawValue
    let resumable = true
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "required": ["policy"], "additionalProperties": false,
         "properties": {
           "policy": {"type": "string", "pattern": "^[0-9A-Fa-f-]{36}$", "description": "The health policy's id"},
           "now": {"type": "boolean", "default": false, "description": "Check all of the policy's dashboards now, whatever the window"}}}
        """#)
    var environmentParams: [String] { [] }

    let checker: DashboardCheckPlugin
    let sender: NotificationSender
    let box: SecretBox
    /// Ferry's address for links in messages (`FERRY_PUBLIC_URL`); paths alone when unset.
    let publicURL: String?

    func scope(of params: BundleValue, on db: any Database) async throws -> TaskScope {
        guard let id = params["policy"]?.stringValue.flatMap(UUID.init(uuidString:)), let policy = try await HealthPolicyModel.find(id, on: db) else {
            throw AppError.validation([FieldError(field: "params.policy", code: "unknown", key: "no_health_policy")])
        }
        return TaskScope(touches: [policy.environmentID])
    }

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        guard let id = context.params["policy"]?.stringValue.flatMap(UUID.init(uuidString:)), let policy = try await HealthPolicyModel.find(id, on: context.db) else {
            context.log(.warning, "the policy was deleted: nothing to do", source: "health")
            return .succeeded(.map(["checked": .int(0)]))
        }
        let now = context.params["now"]?.boolValue ?? false
        guard policy.active || now else {
            context.log(.info, "policy '\(policy.name)' is paused", source: "health")
            return .succeeded(.map(["checked": .int(0)]))
        }
        guard let envModel = try await EnvironmentModel.find(policy.environmentID, on: context.db) else {
            throw TaskFailure(key: "policy_environment_deleted")
        }
        let env = envModel.ref
        try await context.step(key: "reading_dashboards", ["environment": env.name], progress: 5)
        let client = try await context.superset(env.id)
        let inventory = try await HealthInventory.read(client)
        var chosen = inventory.dashboards
        let ids = Set(policy.dashboardIDs)
        if !ids.isEmpty { chosen = chosen.filter { ids.contains($0.id) } }
        if let search = policy.search, !search.isEmpty { chosen = chosen.filter { $0.title.localizedCaseInsensitiveContains(search) } }
        let zone = TimeZone(identifier: policy.timeZone) ?? .gmt
        // The slot of the time the schedule queued this run, not of when a worker got to it (or a
        // restart resumed it): each dashboard is checked once per window.
        let due = try await TaskModel.find(context.taskID, on: context.db)?.createdAt ?? context.now()
        let slot = now ? (index: 0, count: 1)
            : HealthPolicyService.slot(at: due, start: policy.windowStart, end: policy.windowEnd, every: policy.everyMinutes, zone: zone)
        let share = HealthPolicyService.share(chosen, slot: slot)
        context.log(.info, "policy '\(policy.name)': run \(slot.index + 1) of \(slot.count) in its window checks \(share.count) of \(chosen.count) dashboard(s)",
                    source: "health")
        guard !share.isEmpty else { return .succeeded(.map(["checked": .int(0)])) }
        let rows = try await checker.checks(of: share, environment: env, client: client, inventory: inventory, render: policy.render,
                                            slow: 10000, threshold: 30, parallel: 2, llmProvider: policy.llmProviderID, context: context)
        let alert = HealthAlert(rawValue: policy.alert) ?? .fail
        let fired = rows.filter { alert.fires(HealthStatus(rawValue: $0.status) ?? .fail) }
        var sent = 0, failed = 0
        if !fired.isEmpty {
            try await context.step(key: "notifying", progress: 96)
            (sent, failed) = try await notify(policy: policy, env: env, rows: fired, client: client, context: context)
        }
        let statuses = rows.map(\.status)
        return .succeeded(.map([
            "policy": .string(policy.id!.key), "checked": .int(rows.count), "fail": .int(statuses.filter { $0 == "fail" }.count),
            "warn": .int(statuses.filter { $0 == "warn" }.count), "notified": .int(sent), "notificationsFailed": .int(failed),
        ]))
    }

    /// Sends each channel, and each owner through the owner channel, one message for `rows`.
    private func notify(policy: HealthPolicyModel, env: EnvironmentRef, rows: [DashboardCheckModel], client: SupersetClient,
                        context: TaskContext) async throws -> (sent: Int, failed: Int) {
        var targets: [(channel: NotificationChannelModel, recipients: [String], label: String, rows: [DashboardCheckModel])] = []
        for id in policy.channelIDs {
            guard let c = try await NotificationChannelModel.find(id, on: context.db) else { continue }
            guard c.active else { context.log(.info, "channel '\(c.name)' is paused: skipped", source: "notify"); continue }
            targets.append((c, [], "", rows))
        }
        if policy.notifyOwners, let ownerChannel = policy.ownerChannelID, let c = try await NotificationChannelModel.find(ownerChannel, on: context.db), c.active {
            let owners = await ownerEmails(of: rows.map(\.dashboardID), client: client, context: context)
            for address in Set(owners.values.flatMap { $0 }).sorted() {
                let theirs = rows.filter { owners[$0.dashboardID]?.contains(address) == true }
                guard !theirs.isEmpty else { continue }
                targets.append((c, [address], address, theirs))
            }
        }
        var sent = 0, failed = 0
        for target in targets {
            let recipient = target.label
            if try await NotificationDeliveryModel.query(on: context.db).filter(\.$taskID == context.taskID).filter(\.$channelID == target.channel.id!)
                .filter(\.$recipient == recipient).filter(\.$status == DeliveryStatus.sent.rawValue).first() != nil {
                context.log(.info, "already sent to '\(target.channel.name)'\(recipient.isEmpty ? "" : " for \(recipient)") in this run", source: "notify")
                continue
            }
            let text = HealthMessages.text(rows: target.rows, environment: env.name, language: target.channel.language, publicURL: publicURL)
            var error: String?
            do {
                try await sender.send(text, via: try ResolvedChannel(target.channel, box: box), recipients: target.recipients)
                sent += 1
                context.log(.info, "sent to '\(target.channel.name)'\(recipient.isEmpty ? "" : " for \(recipient)")", source: "notify",
                            metadata: ["channel": target.channel.id!.key])
            } catch let e as CancellationError {
                throw e
            } catch let e {
                failed += 1
                error = String("\(e)".prefix(500))
                context.log(.error, "couldn't send to '\(target.channel.name)'\(recipient.isEmpty ? "" : " for \(recipient)"): \(e)", source: "notify",
                            metadata: ["channel": target.channel.id!.key])
            }
            try await record(task: context.taskID, channel: target.channel.id!, recipient: recipient, error: error, context: context)
        }
        return (sent, failed)
    }

    private func record(task: UUID, channel: UUID, recipient: String, error: String?, context: TaskContext) async throws {
        let existing = try await NotificationDeliveryModel.query(on: context.db).filter(\.$taskID == task).filter(\.$channelID == channel)
            .filter(\.$recipient == recipient).first()
        let row = existing ?? NotificationDeliveryModel()
        if existing == nil {
            row.id = context.newID()
            row.taskID = task
            row.channelID = channel
            row.recipient = recipient
        }
        row.status = (error == nil ? DeliveryStatus.sent : .failed).rawValue
        row.error = error
        row.at = context.now()
        try await row.save(on: context.db)
    }

    /// Each dashboard's owners' e-mail addresses, from Superset (its users API needs an account
    /// that may read users). Empty, with a warning in the log, when Superset won't say.
    private func ownerEmails(of dashboards: [Int], client: SupersetClient, context: TaskContext) async -> [Int: [String]] {
        do {
            var emails: [Int: String] = [:]
            var page = 0
            while page < 100 {
                let json = try await client.getJSON("/api/v1/security/users/", query: "q=(page:\(page),page_size:100)")
                let rows = json["result"]?.listValue ?? []
                for r in rows { if let id = r["id"]?.intValue, let e = r["email"]?.stringValue, ChannelService.isAddress(e) { emails[id] = e } }
                if rows.count < 100 { break }
                page += 1
            }
            var out: [Int: [String]] = [:]
            for d in Set(dashboards) {
                let owners = try await client.getJSON("/api/v1/dashboard/\(d)")["result"]?["owners"]?.listValue ?? []
                out[d] = owners.compactMap { $0["id"]?.intValue.flatMap { emails[$0] } }
            }
            return out
        } catch {
            context.log(.warning, "the dashboards' owners can't be read from Superset (\(TaskEngine.describe(error).0)); only the channels are notified", source: "notify")
            return [:]
        }
    }
}

/// The words of a notification, in a channel's language: the environment, how many dashboards
/// are FAIL and WARN, and per dashboard its status, issue count, first issue and the report's link.
enum HealthMessages {
    static func text(rows: [DashboardCheckModel], environment: String, language: String, publicURL: String?) -> NotificationText {
        let l = Localizer(language: language)
        let fail = rows.filter { $0.status == HealthStatus.fail.rawValue }.count
        let warn = rows.filter { $0.status == HealthStatus.warn.rawValue }.count
        let subject = l.t("notify.subject", ["environment": environment, "fail": String(fail), "warn": String(warn)])
        var lines: [String] = [l.t("notify.lead", ["environment": environment, "count": String(rows.count)]), ""]
        for r in rows.sorted(by: { ($0.status == "fail" ? 0 : 1, $0.title) < ($1.status == "fail" ? 0 : 1, $1.title) }).prefix(50) {
            let issues = (try? JSONDecoder().decode([HealthIssue].self, from: Data(r.issues.utf8))) ?? []
            let status = l.t("health.status.\(r.status)")
            lines.append("\(status) · \(r.title) · " + l.t("notify.issues", ["count": String(issues.count)]))
            if let first = issues.first { lines.append("  " + (first.chart.map { "\($0): " } ?? "") + String(first.message.prefix(300))) }
            lines.append("  " + (publicURL ?? "") + "/health/checks/" + r.id!.key)
        }
        if rows.count > 50 { lines.append(l.t("notify.more", ["count": String(rows.count - 50)])) }
        return NotificationText(subject: subject, body: lines.joined(separator: "\n"))
    }
}
