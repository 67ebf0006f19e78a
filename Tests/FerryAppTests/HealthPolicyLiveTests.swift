import Fluent
import Foundation
import SupersetKit
import Testing
import VaporTesting

@testable import FerryApp

/// What the test command's notification peers received (tests/harness/notify_servers.py).
enum NotifyPeers {
    static let environment = ProcessInfo.processInfo.environment
    static let enabled = environment["FERRY_TEST_SMTP_PORT"] != nil

    static func received(_ kind: String) -> [BundleValue] {
        guard let out = environment["FERRY_TEST_NOTIFY_OUT"] else { return [] }
        let dir = URL(fileURLWithPath: out).appendingPathComponent(kind)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.compactMap { try? BundleValue.parseJSON(Data(contentsOf: dir.appendingPathComponent($0))) }
    }

    /// A mail's text body (base64 in Ferry's messages).
    static func body(of mail: String) -> String {
        let parts = mail.components(separatedBy: "\r\n\r\n")
        guard parts.count >= 2 else { return mail }
        let b64 = parts.dropFirst().joined(separator: "\r\n\r\n").replacingOccurrences(of: "\r\n", with: "").replacingOccurrences(of: "\n", with: "")
        return Data(base64Encoded: b64).map { String(decoding: $0, as: UTF8.self) } ?? mail
    }
}

/// A health policy end to end: its schedule fires in its window, the check finds the broken
/// probe dashboard, and the real SMTP server (STARTTLS, AUTH), a Slack webhook and Telegram's
/// Bot API (the test command's receiver) get one message each, in the channel's language; the
/// dashboard's owner is mailed too; a failing channel is retried and recorded, and the check's
/// result stands.
@Suite(.serialized, .enabled(if: LiveSuperset.enabled && NotifyPeers.enabled, "needs the Superset and notification peers of scripts/test"))
struct HealthPolicyLiveTests {
    @Test(arguments: Store.available)
    func aPolicyFiresInItsWindowAndNotifiesChannelsAndOwners(store: Store) async throws {
        let devURL = try LiveSuperset.url("dev")
        let dev = PromotionLiveTests.client(devURL)
        let probe = try await BackupLiveTests.makeProbe(on: dev, manifest: try LiveSuperset.manifest("dev"))
        defer { Task { await BackupLiveTests.cleanUp(probe, on: dev) } }
        let dashboardID = try #require(try await dev.idsByUUID(.dashboard)[probe.dashboard])
        let datasetID = try #require(try await dev.idsByUUID(.dataset)[probe.dataset])
        _ = try await dev.sendJSON("PUT", "/api/v1/dataset/\(datasetID)", body: .map(["sql": .string("SELECT * FROM gone_\(probe.suffix)")]))
        let smtpPort = try #require(NotifyPeers.environment["FERRY_TEST_SMTP_PORT"].flatMap { Int($0) })
        let http = try #require(NotifyPeers.environment["FERRY_TEST_NOTIFY_HTTP"])
        let tag = probe.suffix

        try await withFerry(store, tasks: true, configure: { $0.interactiveTimeout = 30; $0.supersetTimeout = 60; $0.health.chromium = "/nonexistent/chromium" }) { t in
            _ = try await t.createEnvironment(sample("dev", password: "admin", url: devURL))

            // Channels: the secrets are sealed and never come back.
            var mail = ChannelInput(name: "ops mail \(tag)", kind: .email)
            mail.host = "127.0.0.1"; mail.port = smtpPort; mail.security = .starttls; mail.verifyTLS = false
            mail.username = "ferry"; mail.password = "mail-secret"; mail.from = "ferry@example.com"; mail.to = ["ops-\(tag)@example.com"]; mail.language = "ru"
            var slack = ChannelInput(name: "slack \(tag)", kind: .slack)
            slack.webhookURL = "\(http)/slack/\(tag)"
            var telegram = ChannelInput(name: "telegram \(tag)", kind: .telegram)
            telegram.botToken = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ_\(tag)"; telegram.chatID = "-100123"; telegram.baseURL = "\(http)/tg-\(tag)"
            var broken = ChannelInput(name: "broken \(tag)", kind: .slack)
            broken.webhookURL = "\(http)/fail/\(tag)"
            var ids: [String: UUID] = [:]
            for input in [mail, slack, telegram, broken] {
                let res = try await t.request(.POST, "/api/notifications/channels", json: input)
                #expect(res.status == .created, "\(res.body.string)")
                for secret in ["mail-secret", "/slack/\(tag)", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "/fail/\(tag)"] { #expect(!res.body.string.contains(secret)) }
                ids[input.name] = try res.content.decode(ChannelDTO.self, using: JSONDecoder.ferry).id
            }
            let listed = try await t.request(.GET, "/api/notifications/channels")
            #expect(!listed.body.string.contains("mail-secret") && !listed.body.string.contains("/slack/\(tag)"))
            var bad = ChannelInput(name: "bad", kind: .telegram)
            bad.botToken = "nope"
            let refused = try await t.request(.POST, "/api/notifications/channels", json: bad)
            #expect(refused.status == .unprocessableEntity && refused.body.string.contains("botToken") && refused.body.string.contains("chatID"))

            // A policy: the probe, one run an hour from 9 to 10 on every day, FAIL alerts.
            let input = HealthPolicyInput(name: "probe policy \(tag)", environment: "dev", dashboards: [dashboardID], search: nil, weekdays: [],
                                          windowStart: 9, windowEnd: 10, timeZone: "UTC", everyMinutes: 60, alert: .fail, notifyOwners: true,
                                          ownerChannel: ids[mail.name], channels: [ids[mail.name]!, ids[slack.name]!, ids[telegram.name]!, ids[broken.name]!],
                                          render: false, active: true)
            let created = try await t.request(.POST, "/api/health/policies", json: input)
            #expect(created.status == .created, "\(created.body.string)")
            let policy = try created.content.decode(HealthPolicyDTO.self, using: JSONDecoder.ferry)
            #expect(policy.cron == "0 9 * * *")
            let schedule = try #require(try await ScheduleModel.find(try #require(policy.scheduleId), on: t.app.db))
            let due = try #require(schedule.nextRunAt)
            var utc = Calendar(identifier: .gregorian); utc.timeZone = .gmt
            #expect(utc.component(.hour, from: due) == 9 && utc.component(.minute, from: due) == 0, "it fires in its window")

            // The window opens: the schedule fires.
            t.clock.advance(due.timeIntervalSince(t.clock.now()) + 1)
            var fired = try await ScheduleService.fireDue(now: t.clock.now(), engine: t.app.taskEngine, on: t.app.db).map { $0.id! }
            if fired.isEmpty {  // the scheduler's own loop may have won the due time
                fired = try await TaskModel.query(on: t.app.db).filter(\.$pluginID == HealthPolicyPlugin.pluginID).all().compactMap(\.id)
            }
            let taskID = try #require(fired.first)
            let task = try await t.waitFor(taskID, [.succeeded, .failed, .partial], seconds: 240)
            #expect(task.status == .succeeded, "\(task.error ?? "")")
            #expect(task.result?["checked"]?.intValue == 1 && task.result?["fail"]?.intValue == 1, "\(task.result?.jsonText() ?? "")")
            #expect(task.result?["notified"]?.intValue == 4 && task.result?["notificationsFailed"]?.intValue == 1, "\(task.result?.jsonText() ?? "")")

            // The mail: the channel's list in Russian, and the owner (Superset's admin).
            let mails = NotifyPeers.received("mail").filter { ($0["data"]?.stringValue ?? "").contains(probe.title) || NotifyPeers.body(of: $0["data"]?.stringValue ?? "").contains(probe.title) }
            let toOps = mails.first { $0["to"]?.listValue?.contains(.string("ops-\(tag)@example.com")) == true }
            let ops = try #require(toOps, "mail to the channel's list: \(mails)")
            let opsBody = NotifyPeers.body(of: ops["data"]?.stringValue ?? "")
            #expect(opsBody.contains("Ferry проверил") && opsBody.contains(probe.title) && opsBody.contains("/health/checks/"), "\(opsBody)")
            #expect(ops["data"]?.stringValue?.contains("Subject: [Ferry] dev: 1 FAIL, 0 WARN") == true)
            #expect(mails.contains { $0["to"]?.listValue?.contains(.string("admin@example.com")) == true }, "the owner is mailed")

            // Slack and Telegram got theirs; the failing webhook was tried three times.
            let posts = NotifyPeers.received("http")
            let slackPosts = posts.filter { $0["path"]?.stringValue == "/slack/\(tag)" }
            #expect(slackPosts.count == 1 && slackPosts.first?["body"]?.stringValue?.contains(probe.title) == true)
            let tg = posts.filter { $0["path"]?.stringValue?.hasPrefix("/tg-\(tag)/bot123456:") == true }
            #expect(tg.count == 1 && tg.first?["body"]?.stringValue?.contains("-100123") == true)
            #expect(posts.filter { $0["path"]?.stringValue == "/fail/\(tag)" }.count == 3)
            let deliveries = try await NotificationDeliveryModel.query(on: t.app.db).filter(\.$taskID == taskID).all()
            #expect(deliveries.filter { $0.status == "sent" }.count == 4)
            let failed = deliveries.filter { $0.status == "failed" }
            #expect(failed.count == 1 && failed.first?.error?.contains("HTTP 500") == true && failed.first?.error?.contains("/fail/") == false)

            // The check itself stands, FAIL, whatever the sends did.
            let checks = try await t.request(.GET, "/api/health/checks?task=\(taskID)").content.decode(HealthAPI.ChecksResponse.self, using: JSONDecoder.ferry)
            #expect(checks.items.map(\.status) == [.fail])

            // Deleting the policy takes its schedule with it; a used channel can't be deleted first.
            let inUse = try await t.request(.DELETE, "/api/notifications/channels/\(ids[mail.name]!)")
            #expect(inUse.status == .conflict)
            #expect(try await t.request(.DELETE, "/api/health/policies/\(policy.id)").status == .noContent)
            #expect(try await ScheduleModel.find(policy.scheduleId!, on: t.app.db) == nil)
        }
    }
}
