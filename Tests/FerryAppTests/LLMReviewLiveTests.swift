import Fluent
import Foundation
import SupersetKit
import Testing
import VaporTesting

@testable import FerryApp

/// LLM reviews end to end: the real dev Superset of scripts/test, Debian's chromium, and the
/// test command's fake OpenAI-compatible provider (tests/harness/notify_servers.py, which
/// answers by model name and records every request in llm-requests.jsonl).
///
/// A check that names no provider sends nothing; one reviewed by "verdict-fail" is FAIL with the
/// model's issue (where "LLM review") and sent the screenshot with the bearer key, which appears
/// in no detail and no log line; an invalid answer and an unreachable provider are one WARN
/// saying why, the check's own findings kept.
@Suite(.serialized, .enabled(if: LiveSuperset.enabled && NotifyPeers.enabled, "needs the Superset and the fake LLM provider of scripts/test"))
struct LLMReviewLiveTests {
    /// What the fake provider received so far (every test's requests: filter by dashboard title).
    static func requests() -> [BundleValue] {
        guard let out = NotifyPeers.environment["FERRY_TEST_NOTIFY_OUT"],
              let text = try? String(contentsOfFile: URL(fileURLWithPath: out).appendingPathComponent("llm-requests.jsonl").path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? BundleValue.parseJSON(Data($0.utf8)) }
    }

    /// The requests whose findings name `title`.
    static func requests(about title: String) -> [BundleValue] {
        requests().filter { $0["text"]?.stringValue?.contains(title) == true }
    }

    @Test(arguments: Store.available)
    func aReviewJoinsTheCheckOrSaysWhyNot(store: Store) async throws {
        let devURL = try LiveSuperset.url("dev")
        let dev = PromotionLiveTests.client(devURL)
        let probe = try await BackupLiveTests.makeProbe(on: dev, manifest: try LiveSuperset.manifest("dev"))
        defer { Task { await BackupLiveTests.cleanUp(probe, on: dev) } }
        let dashboardID = try #require(try await dev.idsByUUID(.dashboard)[probe.dashboard])
        let charts = try await dev.idsByUUID(.chart)
        let probeCharts = Set(probe.charts.compactMap { charts[$0] })
        let http = try #require(NotifyPeers.environment["FERRY_TEST_NOTIFY_HTTP"])

        try await withFerry(store, tasks: true, configure: { $0.interactiveTimeout = 30; $0.supersetTimeout = 60; $0.health.llmTimeout = 5 }) { t in
            _ = try await t.createEnvironment(sample("dev", password: "admin", url: devURL))
            func provider(_ name: String, base: String, model: String) async throws -> UUID {
                let res = try await t.request(.POST, "/api/llm/providers", json: LLMProviderInput(name: name, baseURL: base, model: model, apiKey: "llm-secret"))
                #expect(res.status == .created, "\(res.body.string)")
                #expect(!res.body.string.contains("llm-secret"))
                return try res.content.decode(LLMProviderDTO.self, using: JSONDecoder.ferry).id
            }
            let failing = try await provider("failing", base: "\(http)/llm/v1", model: "verdict-fail")
            let garbage = try await provider("garbage", base: "\(http)/llm/v1", model: "garbage")
            // Port 9 (discard) on loopback: nothing listens there in the test machine.
            let closed = try await provider("closed", base: "http://127.0.0.1:9/v1", model: "verdict-pass")

            // 1. No provider asked: nothing is sent anywhere, and the check has no review.
            let plain = try #require(try await t.check("dev", dashboards: [dashboardID], render: false).first)
            #expect(plain.status == .pass, "\(plain.issues)")
            #expect(!plain.issues.contains { $0.kind == .llmReview })
            #expect(Self.requests(about: probe.title).isEmpty, "no provider asked: no request")
            let plainDetail = try await t.request(.GET, "/api/health/checks/\(plain.id)").content.decode(DashboardCheckDTO.self, using: JSONDecoder.ferry)
            #expect(plainDetail.details?.llmReview == nil)

            // 2. Rendered and reviewed by "verdict-fail": FAIL, the model's issue where "LLM review".
            let reviewed = try #require(try await t.reviewedCheck(dashboardID, provider: failing, render: true).first)
            #expect(reviewed.status == .fail, "\(reviewed.issues)")
            let issue = try #require(reviewed.issues.first { $0.kind == .llmReview }, "\(reviewed.issues)")
            #expect(issue.severity == .fail && issue.location == "LLM review" && issue.message == "Chart 'X' shows an error")
            #expect(reviewed.screenshots.count >= 1 && reviewed.chartsFailed == 0, "its own findings: a healthy, rendered dashboard")
            let sent = Self.requests(about: probe.title)
            #expect(sent.count == 1, "one review, one request: \(sent.count)")
            let request = try #require(sent.first)
            #expect(request["model"]?.stringValue == "verdict-fail" && request["path"]?.stringValue == "/llm/v1/chat/completions")
            #expect(request["image"]?.boolValue == true, "the screenshot went with the findings")
            #expect(request["authorized"]?.boolValue == true, "the key went as a bearer token")
            #expect(request["responseFormat"]?["type"]?.stringValue == "json_object")
            let detailResponse = try await t.request(.GET, "/api/health/checks/\(reviewed.id)")
            #expect(!detailResponse.body.string.contains("llm-secret"), "the key is in no detail")
            let detail = try detailResponse.content.decode(DashboardCheckDTO.self, using: JSONDecoder.ferry)
            let record = try #require(detail.details?.llmReview)
            #expect(record.provider == "failing" && record.model == "verdict-fail" && record.verdict == .fail && record.screenshot && record.error == nil)
            #expect(record.summary == "A chart shows an error box.")
            let log = try await t.request(.GET, "/api/tasks/\(reviewed.taskId)/logs?limit=5000")
            #expect(log.body.string.contains("LLM review by 'failing' (verdict-fail)") && !log.body.string.contains("llm-secret"), "\(log.body.string.suffix(2000))")

            // 3. An answer that isn't the JSON asked for: one WARN saying so; the check's own findings stand.
            let invalid = try #require(try await t.reviewedCheck(dashboardID, provider: garbage, render: false).first)
            #expect(invalid.status == .warn, "\(invalid.issues)")
            let warn = invalid.issues.filter { $0.kind == .llmReview }
            #expect(warn.count == 1 && warn.first?.severity == .warn && warn.first?.location == "LLM review")
            #expect(warn.first?.message.hasPrefix("LLM review unavailable: the answer is not valid") == true, "\(warn)")
            #expect(invalid.charts == probeCharts.count && invalid.issues.count == 1, "no other finding: \(invalid.issues)")
            let findingsOnly = Self.requests(about: probe.title).filter { $0["model"]?.stringValue == "garbage" }
            #expect(findingsOnly.count == 1 && findingsOnly.first?["image"]?.boolValue == false, "not rendered: the findings only")

            // 4. A provider nothing answers for: one WARN with the reason; the queries were still checked.
            let down = try #require(try await t.reviewedCheck(dashboardID, provider: closed, render: false).first)
            #expect(down.status == .warn, "\(down.issues)")
            let reason = try #require(down.issues.first { $0.kind == .llmReview }?.message)
            #expect(reason.hasPrefix("LLM review unavailable: ") && (reason.contains("unreachable") || reason.contains("no answer within")), "\(reason)")
            let downDetail = try await t.request(.GET, "/api/health/checks/\(down.id)").content.decode(DashboardCheckDTO.self, using: JSONDecoder.ferry)
            #expect(Set(downDetail.details?.charts.map(\.id) ?? []) == probeCharts, "every chart's query still ran")
            #expect(downDetail.details?.llmReview?.error != nil && downDetail.details?.llmReview?.verdict == nil)
        }
    }
}

extension TestHarness {
    /// Runs `dashboard.check` of dev's `dashboard` through the API with `provider` reviewing,
    /// waits for it, and returns its checks.
    func reviewedCheck(_ dashboard: Int, provider: UUID, render: Bool) async throws -> [DashboardCheckDTO] {
        let res = try await request(.POST, "/api/health/checks", json: HealthAPI.StartInput(environment: "dev", dashboards: [dashboard], render: render, llmProvider: provider))
        #expect(res.status == .accepted, "\(res.body.string)")
        let id = try #require(try res.json()["taskId"]?.stringValue.flatMap(UUID.init(uuidString:)))
        let task = try await waitFor(id, [.succeeded, .failed, .partial], seconds: 240)
        #expect(task.status == .succeeded, "\(task.error ?? "") \(task.step)")
        return try await request(.GET, "/api/health/checks?task=\(id)&per_page=200").content.decode(HealthAPI.ChecksResponse.self, using: JSONDecoder.ferry).items
    }
}
