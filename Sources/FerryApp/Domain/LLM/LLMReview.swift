import Fluent
import Foundation

/// A check's LLM review as stored in its details (`DashboardCheckDetails.llmReview`) and shown
/// on its page: who reviewed, what they said, or why there was no review. Never the key.
struct LLMReviewRecord: Codable, Sendable, Equatable {
    var provider: String
    var model: String
    /// The model's verdict; nil when there was no valid answer (`error` says why).
    var verdict: HealthStatus?
    var summary: String?
    /// How many issues the review added to the check.
    var issues: Int = 0
    /// Whether the dashboard's screenshot was sent (else the findings only).
    var screenshot: Bool
    var milliseconds: Int
    var error: String?
}

/// What one check tells the model: the dashboard, the verdict and issues of Ferry's own checks,
/// the charts whose query failed, and why no screenshot comes with it (when none does).
struct LLMFindings: Sendable, Equatable {
    var title: String
    var status: HealthStatus
    var issues: [HealthIssue]
    var chartErrors: [ChartProbe]
    /// Why no screenshot is sent (rendering off, failed, or too large); nil when one is.
    var noScreenshot: String?

    /// The findings as the user message's text (bounded: at most 50 issues and 50 chart errors,
    /// each cut to 300 characters).
    var text: String {
        func cut(_ s: String) -> String { s.count > 300 ? String(s.prefix(300)) + "…" : s }
        var lines = ["Dashboard: \(cut(title))", "Status from Ferry's own checks: \(status.rawValue.uppercased())"]
        lines.append(issues.isEmpty ? "Issues found by Ferry's own checks: none" : "Issues found by Ferry's own checks (\(issues.count)):")
        for i in issues.prefix(50) {
            let place = [i.chart.map { "chart '\($0)'" }, i.tab.map { "tab '\($0)'" }].compactMap { $0 }.joined(separator: ", ")
            lines.append("- \(i.severity.rawValue.uppercased()) [\(i.kind.rawValue)]\(place.isEmpty ? "" : " \(cut(place))"): \(cut(i.message))")
        }
        if issues.count > 50 { lines.append("- … and \(issues.count - 50) more") }
        if !chartErrors.isEmpty {
            lines.append("Chart queries that failed (\(chartErrors.count)):")
            for c in chartErrors.prefix(50) { lines.append("- '\(cut(c.name))' (id \(c.id)): \(cut(c.error ?? ""))") }
        }
        lines.append(noScreenshot.map { "No screenshot is attached: \($0)." } ?? "Attached: a screenshot of the dashboard's first tab, 1920 px wide.")
        return lines.joined(separator: "\n")
    }
}

/// The provider a check was asked to review with: ready to call, or why it can't be.
enum LLMTarget: Sendable {
    case ready(LLMEndpoint)
    /// Asked for, but not callable (its key can't be opened): every check gets the WARN.
    case broken(provider: String, model: String, reason: String)
}

/// What a review adds to one check: issues (each `where` "LLM review") and the record.
struct LLMReviewOutcome: Sendable, Equatable {
    var issues: [HealthIssue]
    var record: LLMReviewRecord
}

/// Asks an OpenAI-compatible model to review a dashboard check: its first screenshot (PNG, as
/// an OpenAI vision data URL) and its findings go to the provider a policy or a task named, and
/// a valid verdict adds the model's issues to the check. A review that fails in any way (no
/// answer in time, unreachable, a 5xx after retries, a refused key, an invalid answer) is one
/// WARN issue "LLM review unavailable: <reason>": it never fails a check, and the check's own
/// findings stand.
///
/// Nothing is sent unless a check asks for a provider (`DashboardCheckPlugin`'s `llmProvider`
/// param, or a policy's provider), and only to that provider.
///
/// Side effects: one chat completion call per reviewed dashboard (retried by `LLMClient`).
struct LLMReview: Sendable {
    /// The `where` of the issues a review adds.
    static let location = "LLM review"
    /// Screenshots larger than this are not sent (the findings are).
    static let maxImageBytes = 8 << 20

    var client: LLMClient
    var box: SecretBox
    /// Seconds one attempt may take (`HealthConfiguration.llmTimeout`).
    var timeout: Double = 60

    static let systemPrompt = """
        You review the health of an Apache Superset dashboard. You get the findings of automatic checks \
        (every chart's query, the dashboard's structure, its rendering in a browser) and, when available, \
        a screenshot of the dashboard's first tab. Judge whether the dashboard looks usable to its readers: \
        error messages or empty charts in the screenshot, charts that look broken or cut off, and the \
        findings listed. Answer with one JSON object and nothing else: \
        {"verdict": "PASS" | "WARN" | "FAIL", "summary": "<one or two sentences>", \
        "issues": [{"severity": "WARN" | "FAIL", "message": "<what is wrong, naming the chart>"}]}. \
        Use FAIL for something readers cannot use, WARN for something that looks wrong but usable, \
        PASS with no issues when the dashboard looks fine.
        """

    /// The provider `id` as a target, or nil when it was deleted or is paused (said in `log`:
    /// such a check sends nothing).
    func target(_ id: UUID, on db: any Database, log: (String) -> Void) async throws -> LLMTarget? {
        guard let m = try await LLMProviderModel.find(id, on: db) else {
            log("LLM review skipped: the LLM provider \(id.key) was deleted")
            return nil
        }
        guard m.active else {
            log("LLM review skipped: the LLM provider '\(m.name)' is paused")
            return nil
        }
        do {
            return .ready(try LLMProviderService.endpoint(m, box: box))
        } catch {
            return .broken(provider: m.name, model: m.model, reason: "its API key can't be read (\(error))")
        }
    }

    /// The chat completion request for `findings` and `screenshot` (a PNG; nil: the findings only).
    static func request(_ findings: LLMFindings, screenshot: Data?, model: String) -> LLMChatRequest {
        var parts = [LLMChatRequest.Part.textPart(findings.text)]
        if let screenshot { parts.append(.pngPart(screenshot)) }
        return LLMChatRequest(model: model, messages: [
            .init(role: "system", content: .text(systemPrompt)),
            .init(role: "user", content: .parts(parts)),
        ])
    }

    /// Reviews one check. Throws only `CancellationError`; every other failure is the outcome's
    /// WARN issue and `record.error`. With `breaker`, a provider that failed its last reviews in
    /// a row is not called again in this task: the WARN comes at once.
    func review(_ findings: LLMFindings, screenshot: Data?, target: LLMTarget, breaker: LLMBreaker? = nil) async throws -> LLMReviewOutcome {
        let endpoint: LLMEndpoint
        switch target {
        case .broken(let provider, let model, let reason):
            return Self.unavailable(reason, provider: provider, model: model, screenshot: false, milliseconds: 0)
        case .ready(let e):
            endpoint = e
        }
        if let breaker, let reason = breaker.openReason {
            return Self.unavailable("not asked, after \(breaker.limit) reviews in a row in this check failed (the last: \(reason))",
                                    provider: endpoint.name, model: endpoint.model, screenshot: false, milliseconds: 0)
        }
        let outcome = try await call(findings, screenshot: screenshot, endpoint: endpoint)
        breaker?.record(outcome)
        return outcome
    }

    private func call(_ findings: LLMFindings, screenshot: Data?, endpoint: LLMEndpoint) async throws -> LLMReviewOutcome {
        var findings = findings
        var image = screenshot
        if let png = image, png.count > Self.maxImageBytes {
            image = nil
            findings.noScreenshot = "the screenshot is larger than \(Self.maxImageBytes >> 20) MiB"
        }
        let sent = image != nil
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Int { ChartProbes.milliseconds(clock.now - start) }
        let content: String
        do {
            content = try await client.complete(Self.request(findings, screenshot: image, model: endpoint.model), endpoint: endpoint, timeout: timeout)
        } catch let error as CancellationError {
            throw error
        } catch {
            let reason = LLMClient.redact(String(describing: error), key: endpoint.apiKey)
            return Self.unavailable(reason, provider: endpoint.name, model: endpoint.model, screenshot: sent, milliseconds: elapsed())
        }
        let verdict: LLMVerdict
        do {
            verdict = try LLMVerdict.parse(content)
        } catch {
            let reason = LLMClient.redact("the answer is not valid: \(error)", key: endpoint.apiKey)
            return Self.unavailable(reason, provider: endpoint.name, model: endpoint.model, screenshot: sent, milliseconds: elapsed())
        }
        let issues = verdict.healthIssues().map { issue -> HealthIssue in
            var i = issue
            i.message = LLMClient.redact(i.message, key: endpoint.apiKey)
            return i
        }
        let record = LLMReviewRecord(provider: endpoint.name, model: endpoint.model, verdict: verdict.verdict,
                                     summary: LLMClient.redact(verdict.summary, key: endpoint.apiKey, limit: LLMVerdict.maxSummary), issues: issues.count, screenshot: sent,
                                     milliseconds: elapsed(), error: nil)
        return LLMReviewOutcome(issues: issues, record: record)
    }

    /// The WARN of a review that didn't happen, and its record.
    static func unavailable(_ reason: String, provider: String, model: String, screenshot: Bool, milliseconds: Int) -> LLMReviewOutcome {
        LLMReviewOutcome(issues: [HealthIssue(.warn, .llmReview, "LLM review unavailable: \(reason)", location: location)],
                         record: LLMReviewRecord(provider: provider, model: model, verdict: nil, summary: nil, issues: 1, screenshot: screenshot,
                                                 milliseconds: milliseconds, error: reason))
    }
}

/// Stops calling a provider that keeps failing within one check task: once `limit` reviews in
/// a row came back unavailable, the task's remaining dashboards get their WARN at once instead
/// of each waiting through the timeouts and retries. A valid answer closes it again.
final class LLMBreaker: @unchecked Sendable {
    let limit: Int
    private let lock = NSLock()
    private var failures = 0
    private var last: String?

    init(limit: Int = 3) { self.limit = limit }

    /// The last failure's reason once `limit` failed in a row; nil while calls go ahead.
    var openReason: String? { lock.withLock { failures >= limit ? last : nil } }

    func record(_ outcome: LLMReviewOutcome) {
        lock.withLock {
            if let error = outcome.record.error {
                failures += 1
                last = error
            } else {
                failures = 0
            }
        }
    }
}
