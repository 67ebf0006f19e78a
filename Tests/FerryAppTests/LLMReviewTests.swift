import Crypto
import Foundation
import Testing

@testable import FerryApp

/// LLM reviews without a network: the answer's validation, the provider's validation, the
/// request sent (vision parts, bearer key), retries and what is final, the key never in an
/// error, and what a review adds to a check.
@Suite struct LLMReviewTests {
    static let endpoint = LLMEndpoint(id: UUID(), name: "vision", baseURL: "https://llm.example.com/v1", model: "vision-1", apiKey: "sk-test-KEY-123456")

    // MARK: The answer

    @Test func aValidAnswerIsParsed() throws {
        let v = try LLMVerdict.parse(#"{"verdict": "FAIL", "summary": "  A chart is broken.  ", "issues": [{"severity": "FAIL", "message": " Chart 'X' shows an error "}, {"severity": "warn", "message": "Legend cut off"}]}"#)
        #expect(v.verdict == .fail && v.summary == "A chart is broken.")
        #expect(v.issues == [.init(severity: .fail, message: "Chart 'X' shows an error"), .init(severity: .warn, message: "Legend cut off")])
        let pass = try LLMVerdict.parse(#"{"verdict": "PASS", "summary": "Fine."}"#)
        #expect(pass.verdict == .pass && pass.issues.isEmpty, "issues may be left out")
    }

    @Test func aFencedAnswerIsParsed() throws {
        let fenced = "```json\n{\"verdict\": \"WARN\", \"summary\": \"Odd\", \"issues\": [{\"severity\": \"WARN\", \"message\": \"Empty chart\"}]}\n```"
        #expect(try LLMVerdict.parse(fenced).verdict == .warn)
        let plain = "  ```\n{\"verdict\": \"PASS\", \"summary\": \"ok\", \"issues\": []}\n```  "
        #expect(try LLMVerdict.parse(plain).verdict == .pass)
    }

    @Test(arguments: [
        ("I think it's fine!", "not a JSON object"),
        ("", "empty"),
        ("[1, 2]", "not a JSON object"),
        (#"{"verdict": "MAYBE", "summary": "Hard to say.", "issues": []}"#, "MAYBE"),
        (#"{"summary": "no verdict"}"#, "no verdict"),
        (#"{"verdict": "FAIL", "issues": []}"#, "no summary"),
        (#"{"verdict": "FAIL", "summary": "x", "issues": "many"}"#, "not a list"),
        (#"{"verdict": "FAIL", "summary": "x", "issues": [{"severity": "PASS", "message": "fine"}]}"#, "severity"),
        (#"{"verdict": "FAIL", "summary": "x", "issues": [{"severity": "FAIL", "message": "  "}]}"#, "no message"),
    ])
    func anInvalidAnswerIsRefusedSayingWhy(content: String, reason: String) {
        do {
            _ = try LLMVerdict.parse(content)
            Issue.record("\(content) was accepted")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
        }
    }

    @Test func overlongTextIsCutAndExtraIssuesDropped() throws {
        let issues = (1...30).map { #"{"severity": "WARN", "message": "\#(String(repeating: "m", count: 900)) \#($0)"}"# }.joined(separator: ",")
        let content = #"{"verdict": "WARN", "summary": "\#(String(repeating: "s", count: 5000))", "issues": [\#(issues)]}"#
        let v = try LLMVerdict.parse(content)
        #expect(v.summary.count == LLMVerdict.maxSummary)
        #expect(v.issues.count == LLMVerdict.maxIssues)
        #expect(v.issues.allSatisfy { $0.message.count == LLMVerdict.maxMessage })
    }

    @Test func aVerdictBecomesIssuesWhereLLMReview() {
        let fail = LLMVerdict(verdict: .fail, summary: "Broken", issues: [.init(severity: .fail, message: "Chart 'X' shows an error")])
        #expect(fail.healthIssues() == [HealthIssue(.fail, .llmReview, "Chart 'X' shows an error", location: "LLM review")])
        // A WARN verdict: no issue worse than it; its summary stands in when no issue carries it.
        let warn = LLMVerdict(verdict: .warn, summary: "Looks odd", issues: [.init(severity: .fail, message: "Something")])
        #expect(warn.healthIssues().map(\.severity) == [.warn])
        let bare = LLMVerdict(verdict: .fail, summary: "Unreadable", issues: [])
        #expect(bare.healthIssues() == [HealthIssue(.fail, .llmReview, "Unreadable", location: "LLM review")])
        #expect(LLMVerdict(verdict: .pass, summary: "Fine", issues: [.init(severity: .warn, message: "x")]).healthIssues().isEmpty)
        // Stored with "where", read back the same.
        let json = String(decoding: try! JSONEncoder().encode(fail.healthIssues()), as: UTF8.self)
        #expect(json.contains(#""where":"LLM review""#))
        #expect(try! JSONDecoder().decode([HealthIssue].self, from: Data(json.utf8)) == fail.healthIssues())
        #expect(!String(decoding: try! JSONEncoder().encode(HealthIssue(.warn, .slowQuery, "slow")), as: UTF8.self).contains("where"))
    }

    // MARK: The provider

    @Test func aProviderIsValidatedFieldByField() throws {
        func fields(_ input: LLMProviderInput, existing: LLMProviderModel? = nil) -> [String] {
            do {
                _ = try LLMProviderService.validate(input, existing: existing)
                return []
            } catch let e as AppError {
                return e.fields.map(\.field)
            } catch {
                return ["?"]
            }
        }
        #expect(fields(LLMProviderInput(name: "vision", baseURL: "https://llm.example.com/v1/", model: "gpt-4o-mini", apiKey: "sk-1")) == [])
        let v = try LLMProviderService.validate(LLMProviderInput(name: " vision ", baseURL: "https://llm.example.com/v1/", model: "m", apiKey: "k"), existing: nil)
        #expect(v.name == "vision" && v.baseURL == "https://llm.example.com/v1" && v.key == "k")
        #expect(fields(LLMProviderInput(name: "", baseURL: "ftp://llm.example.com", model: "", apiKey: nil)) == ["name", "baseURL", "model", "apiKey"])
        #expect(fields(LLMProviderInput(name: String(repeating: "n", count: 101), baseURL: "https://", model: "a b", apiKey: "x")) == ["name", "baseURL", "model"])
        #expect(fields(LLMProviderInput(name: "v", baseURL: "llm.example.com/v1", model: "m", apiKey: "k")) == ["baseURL"], "a scheme and a host")
        #expect(fields(LLMProviderInput(name: "v", baseURL: "https://user:pw@llm.example.com", model: "m", apiKey: "k")) == ["baseURL"])
        #expect(fields(LLMProviderInput(name: "v", baseURL: "https://llm.example.com", model: "m", apiKey: "k\r\nX-Evil: 1")) == ["apiKey"], "one header line")
        // An update may leave the key out: the stored one is kept.
        let stored = LLMProviderModel()
        stored.apiKeySealed = "sealed"
        #expect(fields(LLMProviderInput(name: "v", baseURL: "http://127.0.0.1:8000/v1", model: "m"), existing: stored) == [])
        #expect(fields(LLMProviderInput(name: "v", baseURL: "http://127.0.0.1:8000/v1", model: "m", apiKey: "")) == ["apiKey"], "required when adding")
    }

    @Test func theDTONeverCarriesTheKey() throws {
        let box = SecretBox(key: SymmetricKey(size: .bits256))
        let m = LLMProviderModel()
        m.id = UUID()
        m.name = "vision"
        m.baseURL = "https://llm.example.com/v1"
        m.model = "vision-1"
        m.apiKeySealed = try box.seal("sk-very-secret-key")
        m.active = true
        m.createdAt = Date(timeIntervalSince1970: 0)
        m.updatedAt = Date(timeIntervalSince1970: 0)
        let dto = LLMProviderService.dto(m)
        #expect(dto.hasKey)
        let json = String(decoding: try JSONEncoder().encode(dto), as: UTF8.self)
        #expect(!json.contains("sk-very-secret-key") && !json.contains(m.apiKeySealed) && !json.lowercased().contains("apikey"))
        let endpoint = try LLMProviderService.endpoint(m, box: box)
        #expect(endpoint.apiKey == "sk-very-secret-key")
        #expect(!"\(endpoint)".contains("sk-very-secret-key"), "its description leaves the key out")
    }

    // MARK: The call

    /// A scripted provider: answers from `replies` in turn (the last one repeats), records calls.
    final class FakeProvider: @unchecked Sendable {
        struct Call { var url: String; var headers: [(String, String)]; var body: Data; var timeout: Double }
        let calls = LockedBox<[Call]>([])
        let replies: [Result<(Int, String), LLMFailure>]
        init(_ replies: [Result<(Int, String), LLMFailure>]) { self.replies = replies }

        var web: WebClient {
            WebClient { _, url, headers, body, timeout in
                let n = self.calls.update { $0.append(Call(url: url, headers: headers, body: body ?? Data(), timeout: timeout)); return $0.count }
                switch self.replies[min(n, self.replies.count) - 1] {
                case .success(let (status, text)): return WebClient.Response(status: status, body: Data(text.utf8))
                case .failure(let e): throw e
                }
            }
        }
    }

    static func completion(_ content: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: ["choices": [["message": ["role": "assistant", "content": content]]]]), as: UTF8.self)
    }

    final class Pauses: @unchecked Sendable {
        let list = LockedBox<[Double]>([])
        var sleep: @Sendable (Double) async throws -> Void { { [list] s in list.update { $0.append(s) } } }
    }

    @Test func theRequestIsAVisionChatCompletionWithTheKeyAsBearer() async throws {
        let provider = FakeProvider([.success((200, Self.completion(#"{"verdict": "PASS", "summary": "ok", "issues": []}"#)))])
        let client = LLMClient(web: provider.web)
        let findings = LLMFindings(title: "Sales", status: .warn, issues: [HealthIssue(.warn, .slowQuery, "took 12 s", chartID: 3, chart: "Revenue")],
                                   chartErrors: [ChartProbe(id: 4, name: "Costs", milliseconds: 5, error: "no such table")], noScreenshot: nil)
        let png = Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3])
        let content = try await client.complete(LLMReview.request(findings, screenshot: png, model: "vision-1"), endpoint: Self.endpoint, timeout: 7)
        #expect(content.contains("PASS"))
        let call = try #require(provider.calls.value.first)
        #expect(call.url == "https://llm.example.com/v1/chat/completions" && call.timeout == 7)
        #expect(call.headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer sk-test-KEY-123456" })
        let body = try #require(try JSONSerialization.jsonObject(with: call.body) as? [String: Any])
        #expect(body["model"] as? String == "vision-1" && String(decoding: call.body, as: UTF8.self).contains(#""temperature":0"#))
        #expect((body["response_format"] as? [String: Any])?["type"] as? String == "json_object")
        let messages = try #require(body["messages"] as? [[String: Any]])
        #expect(messages.first?["role"] as? String == "system" && (messages.first?["content"] as? String)?.contains("\"verdict\"") == true)
        let parts = try #require(messages.last?["content"] as? [[String: Any]])
        #expect(parts.first?["type"] as? String == "text")
        let text = try #require(parts.first?["text"] as? String)
        #expect(text.contains("Dashboard: Sales") && text.contains("WARN") && text.contains("took 12 s") && text.contains("no such table"))
        #expect(parts.last?["type"] as? String == "image_url")
        #expect((parts.last?["image_url"] as? [String: Any])?["url"] as? String == "data:image/png;base64," + png.base64EncodedString())
        #expect(!String(decoding: call.body, as: UTF8.self).contains("sk-test-KEY"), "the key is in the header only")

        // Without a screenshot: the findings only, saying why.
        var bare = findings
        bare.noScreenshot = "rendering is off"
        let request = try LLMReview.request(bare, screenshot: nil, model: "m").json()
        #expect(!String(decoding: request, as: UTF8.self).contains("image_url") && String(decoding: request, as: UTF8.self).contains("rendering is off"))
    }

    @Test func serverErrorsAreRetriedWithBackOffAndRefusalsAreNot() async throws {
        // 500 three times: tried three times, 1 s and 4 s apart.
        let failing = FakeProvider([.success((500, #"{"error": {"message": "overloaded"}}"#))])
        let pauses = Pauses()
        do {
            _ = try await LLMClient(web: failing.web, sleep: pauses.sleep).complete(LLMReview.request(.init(title: "t", status: .pass, issues: [], chartErrors: []), screenshot: nil, model: "m"),
                                                                                   endpoint: Self.endpoint)
            Issue.record("a 500 was taken for an answer")
        } catch {
            #expect("\(error)".contains("HTTP 500") && "\(error)".contains("overloaded") && "\(error)".contains("tried 3 times"), "\(error)")
        }
        #expect(failing.calls.value.count == 3 && pauses.list.value == [1, 4])

        // A 429, then an answer: the answer.
        let limited = FakeProvider([.success((429, "{}")), .success((200, Self.completion("{}")))])
        #expect(try await LLMClient(web: limited.web, sleep: { _ in }).complete(LLMReview.request(.init(title: "t", status: .pass, issues: [], chartErrors: []), screenshot: nil, model: "m"),
                                                                                endpoint: Self.endpoint) == "{}")
        #expect(limited.calls.value.count == 2)

        // A 401 (echoing the key, as some providers do) and a 400 are final at once; the key is cut out.
        for status in [401, 400] {
            let refusing = FakeProvider([.success((status, #"{"error": {"message": "Incorrect API key provided: sk-test-KEY-123456"}}"#))])
            do {
                _ = try await LLMClient(web: refusing.web, sleep: { _ in }).complete(LLMReview.request(.init(title: "t", status: .pass, issues: [], chartErrors: []), screenshot: nil, model: "m"),
                                                                                     endpoint: Self.endpoint)
                Issue.record("HTTP \(status) was taken for an answer")
            } catch {
                #expect("\(error)".contains("HTTP \(status)") && !"\(error)".contains("sk-test-KEY-123456") && "\(error)".contains("[key]"), "\(error)")
            }
            #expect(refusing.calls.value.count == 1)
        }

        // Unreachable: tried three times, saying so.
        let down = FakeProvider([.failure(LLMFailure(description: "connection refused (errno 111)"))])
        do {
            _ = try await LLMClient(web: down.web, sleep: { _ in }).complete(LLMReview.request(.init(title: "t", status: .pass, issues: [], chartErrors: []), screenshot: nil, model: "m"),
                                                                             endpoint: Self.endpoint)
            Issue.record("an unreachable provider answered")
        } catch {
            #expect("\(error)".contains("unreachable") && "\(error)".contains("connection refused"), "\(error)")
        }
        #expect(down.calls.value.count == 3)
    }

    @Test func aReviewAddsTheVerdictsIssuesOrOneWarnSayingWhyNot() async throws {
        let box = SecretBox(key: SymmetricKey(size: .bits256))
        let findings = LLMFindings(title: "Sales", status: .pass, issues: [], chartErrors: [], noScreenshot: nil)
        func review(_ replies: [Result<(Int, String), LLMFailure>]) async throws -> LLMReviewOutcome {
            let provider = FakeProvider(replies)
            let reviewer = LLMReview(client: LLMClient(web: provider.web, sleep: { _ in }), box: box, timeout: 5)
            return try await reviewer.review(findings, screenshot: Data([1, 2, 3]), target: .ready(Self.endpoint))
        }
        let fail = try await review([.success((200, Self.completion(#"{"verdict": "FAIL", "summary": "Broken", "issues": [{"severity": "FAIL", "message": "Chart 'X' shows an error"}]}"#)))])
        #expect(fail.issues == [HealthIssue(.fail, .llmReview, "Chart 'X' shows an error", location: "LLM review")])
        #expect(fail.record.verdict == .fail && fail.record.summary == "Broken" && fail.record.provider == "vision" && fail.record.model == "vision-1")
        #expect(fail.record.screenshot && fail.record.error == nil && fail.record.issues == 1)

        let pass = try await review([.success((200, Self.completion(#"{"verdict": "PASS", "summary": "Fine", "issues": []}"#)))])
        #expect(pass.issues.isEmpty && pass.record.verdict == .pass && pass.record.summary == "Fine")

        let failures: [(Result<(Int, String), LLMFailure>, String)] = [
            (.success((200, Self.completion("not json at all"))), "the answer is not valid"),
            (.success((200, Self.completion(#"{"verdict": "MAYBE", "summary": "?"}"#))), "MAYBE"),
            (.success((200, "<html>gateway</html>")), "the answer is not valid"),
            (.success((503, "busy")), "HTTP 503"),
            (.success((401, "bad key sk-test-KEY-123456")), "refused the API key"),
            (.failure(LLMFailure(description: "HTTPClientError.deadlineExceeded")), "no answer within"),
        ]
        for (reply, reason) in failures {
            let outcome = try await review([reply])
            #expect(outcome.issues.count == 1, "\(reason)")
            let issue = try #require(outcome.issues.first)
            #expect(issue.severity == .warn && issue.kind == .llmReview && issue.location == "LLM review")
            #expect(issue.message.hasPrefix("LLM review unavailable: ") && issue.message.contains(reason), "\(issue.message)")
            #expect(!issue.message.contains("sk-test-KEY") && outcome.record.verdict == nil && outcome.record.error?.contains(reason) == true)
        }

        // A provider whose key can't be opened: the WARN, and no call.
        let broken = try await LLMReview(client: LLMClient(web: FakeProvider([]).web), box: box)
            .review(findings, screenshot: nil, target: .broken(provider: "vision", model: "m", reason: "its API key can't be read"))
        #expect(broken.issues.map(\.message) == ["LLM review unavailable: its API key can't be read"])
    }

    @Test func aProviderThatKeepsFailingIsNotAskedAgainInTheSameCheck() async throws {
        let box = SecretBox(key: SymmetricKey(size: .bits256))
        let findings = LLMFindings(title: "Sales", status: .pass, issues: [], chartErrors: [], noScreenshot: nil)
        let ok = Self.completion(#"{"verdict": "PASS", "summary": "Fine", "issues": []}"#)
        // Down twice, up once (the count starts again), then down for good.
        let provider = FakeProvider([.success((503, "busy")), .success((503, "busy")), .success((200, ok)),
                                     .success((503, "busy")), .success((503, "busy")), .success((503, "busy"))])
        let reviewer = LLMReview(client: LLMClient(web: provider.web, attempts: 1, sleep: { _ in }), box: box, timeout: 5)
        let breaker = LLMBreaker(limit: 3)
        var outcomes: [LLMReviewOutcome] = []
        for _ in 0..<8 { outcomes.append(try await reviewer.review(findings, screenshot: nil, target: .ready(Self.endpoint), breaker: breaker)) }
        #expect(provider.calls.value.count == 6, "the sixth failure in a row is the third: the last two dashboards send nothing")
        #expect(outcomes[2].record.verdict == .pass && outcomes[5].record.error?.contains("HTTP 503") == true)
        for skipped in outcomes.suffix(2) {
            let message = try #require(skipped.issues.first?.message)
            #expect(skipped.issues.count == 1 && skipped.issues[0].severity == .warn)
            #expect(message.contains("after 3 reviews in a row in this check failed") && message.contains("HTTP 503"), "\(message)")
        }
    }

    /// The test command's fake provider, which answers its "slow" model after 10 s: a call
    /// with a 1 s timeout gives up and says so (the time itself is not asserted).
    @Test(.enabled(if: NotifyPeers.enabled, "needs the fake LLM provider of scripts/test"))
    func aSlowProviderTimesOut() async throws {
        let http = try #require(NotifyPeers.environment["FERRY_TEST_NOTIFY_HTTP"])
        let endpoint = LLMEndpoint(id: UUID(), name: "fake", baseURL: "\(http)/llm/v1", model: "slow", apiKey: "llm-secret")
        do {
            _ = try await LLMClient(web: .live, attempts: 1).complete(LLMReview.request(.init(title: "t", status: .pass, issues: [], chartErrors: []), screenshot: nil, model: "slow"),
                                                                      endpoint: endpoint, timeout: 1)
            Issue.record("the slow model answered within 1 s")
        } catch {
            #expect("\(error)".contains("no answer within 1 s"), "\(error)")
        }
    }
}
