import Foundation

/// A model's review of one dashboard check, as validated from its answer:
/// `{"verdict": "PASS"|"WARN"|"FAIL", "summary": string, "issues": [{"severity": "WARN"|"FAIL", "message": string}]}`.
///
/// Invariants (enforced by `parse`): the summary is trimmed and at most `maxSummary`
/// characters; at most `maxIssues` issues, each message trimmed, non-empty and at most
/// `maxMessage` characters.
struct LLMVerdict: Sendable, Equatable {
    struct Issue: Sendable, Equatable {
        var severity: HealthStatus
        var message: String
    }
    var verdict: HealthStatus
    var summary: String
    var issues: [Issue]

    static let maxSummary = 2000
    static let maxIssues = 20
    static let maxMessage = 500

    /// Why an answer was refused, in words that follow "the answer is not valid: ".
    struct Invalid: Error, Equatable, CustomStringConvertible, Sendable {
        var description: String
    }

    /// The verdict in a message content: a JSON object, bare or in a ``` fence (```json or
    /// plain). Refuses anything else: not JSON, a verdict other than PASS/WARN/FAIL, no summary,
    /// issues that aren't objects with a WARN/FAIL severity and a message. Overlong text is cut,
    /// issues past `maxIssues` are dropped.
    static func parse(_ content: String) throws -> LLMVerdict {
        let text = unfenced(content)
        guard !text.isEmpty else { throw Invalid(description: "it is empty") }
        guard let data = text.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data),
              let json = object as? [String: Any] else {
            throw Invalid(description: "it is not a JSON object")
        }
        guard let verdictText = json["verdict"] as? String else { throw Invalid(description: "it has no verdict") }
        guard let verdict = status(verdictText, allowPass: true) else {
            throw Invalid(description: "the verdict '\(verdictText.prefix(20))' is not PASS, WARN or FAIL")
        }
        guard let summaryText = json["summary"] as? String else { throw Invalid(description: "it has no summary") }
        let summary = String(summaryText.trimmingCharacters(in: .whitespacesAndNewlines).prefix(maxSummary))
        var issues: [Issue] = []
        if let raw = json["issues"], !(raw is NSNull) {
            guard let list = raw as? [Any] else { throw Invalid(description: "its issues are not a list") }
            for (n, item) in list.prefix(maxIssues).enumerated() {
                guard let issue = item as? [String: Any], let severityText = issue["severity"] as? String,
                      let severity = status(severityText, allowPass: false) else {
                    throw Invalid(description: "issue \(n + 1) has no severity WARN or FAIL")
                }
                let message = ((issue["message"] as? String) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                guard !message.isEmpty else { throw Invalid(description: "issue \(n + 1) has no message") }
                issues.append(Issue(severity: severity, message: String(message.prefix(maxMessage))))
            }
        }
        return LLMVerdict(verdict: verdict, summary: summary, issues: issues)
    }

    /// `content` trimmed, without the ``` fence around it when there is one.
    static func unfenced(_ content: String) -> String {
        var text = content.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("```") else { return text }
        // The opening fence and its info string ("```json") end at the first line break.
        guard let lineEnd = text.firstIndex(where: \.isNewline) else { return String(text.dropFirst(3)).trimmingCharacters(in: .whitespacesAndNewlines) }
        text = String(text[text.index(after: lineEnd)...])
        if let close = text.range(of: "```", options: .backwards) { text = String(text[..<close.lowerBound]) }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func status(_ text: String, allowPass: Bool) -> HealthStatus? {
        switch text.trimmingCharacters(in: .whitespaces).uppercased() {
        case "PASS": return allowPass ? .pass : nil
        case "WARN": return .warn
        case "FAIL": return .fail
        default: return nil
        }
    }

    /// What the verdict adds to the check's issues (each `where` "LLM review"): nothing for a
    /// PASS; for WARN or FAIL the model's issues, none worse than its verdict, and the summary
    /// as an issue of the verdict's severity when no issue carries it, so the check's status
    /// becomes the worst of its own and the model's.
    func healthIssues() -> [HealthIssue] {
        guard verdict != .pass else { return [] }
        var out = issues.map { HealthIssue(min($0.severity, verdict), .llmReview, $0.message, location: LLMReview.location) }
        if !out.contains(where: { $0.severity == verdict }) {
            let words = summary.isEmpty ? "the model's verdict is \(verdict.rawValue.uppercased())" : String(summary.prefix(Self.maxMessage))
            out.insert(HealthIssue(verdict, .llmReview, words, location: LLMReview.location), at: 0)
        }
        return out
    }
}
