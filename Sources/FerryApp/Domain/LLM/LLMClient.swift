import Foundation

/// Why a call to an LLM provider gave no answer, in words for the check's issue and the task
/// log. Never carries the API key (`LLMClient` cuts it out of everything it puts here).
struct LLMFailure: Error, CustomStringConvertible, Sendable, Equatable {
    var description: String
}

/// One OpenAI-compatible chat completion request (`POST <base>/chat/completions`): the model,
/// temperature 0, a JSON object asked for, and the messages, whose content is text or (for a
/// vision request) text and image parts.
struct LLMChatRequest: Encodable, Sendable {
    struct ResponseFormat: Encodable, Sendable { var type = "json_object" }
    struct ImageURL: Encodable, Sendable { var url: String }
    /// A content part: `{"type": "text", "text": …}` or `{"type": "image_url", "image_url": {"url": …}}`.
    struct Part: Encodable, Sendable {
        var type: String
        var text: String?
        var imageURL: ImageURL?
        enum CodingKeys: String, CodingKey { case type, text, imageURL = "image_url" }

        static func textPart(_ s: String) -> Part { Part(type: "text", text: s) }
        /// A PNG as a data URL.
        static func pngPart(_ data: Data) -> Part { Part(type: "image_url", imageURL: ImageURL(url: "data:image/png;base64," + data.base64EncodedString())) }
    }
    enum Content: Encodable, Sendable {
        case text(String)
        case parts([Part])
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .text(let s): try c.encode(s)
            case .parts(let p): try c.encode(p)
            }
        }
    }
    struct Message: Encodable, Sendable {
        var role: String
        var content: Content
    }

    var model: String
    var temperature = 0
    var responseFormat = ResponseFormat()
    var messages: [Message]
    enum CodingKeys: String, CodingKey { case model, temperature, responseFormat = "response_format", messages }

    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// Calls OpenAI-compatible chat completion APIs through `WebClient`.
///
/// Each call waits at most its timeout (60 s by default) per attempt and is tried `attempts`
/// times, pausing 1 s, 4 s, … between tries; an answer of 4xx other than 408 (timeout) and 429
/// (rate limited) is final at once (a 401 is a wrong key: trying again won't help).
///
/// Side effects: network calls; `sleep` between attempts (injectable for tests). The API key
/// travels only in the Authorization header and is cut out of every error.
struct LLMClient: Sendable {
    var web: WebClient
    var attempts = 3
    var sleep: @Sendable (Double) async throws -> Void = { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) }

    /// The pause before attempt `n + 1` (after attempt `n`, from 1): 1 s, 4 s, 16 s…
    static func pause(after attempt: Int) -> Double { pow(4, Double(attempt - 1)) }

    /// Posts `request` to `endpoint` and returns the first choice's message content (a string).
    /// Throws `LLMFailure` (the key cut out) when no attempt gets an answer, or the answer has no
    /// content; `CancellationError` when the task is cancelled.
    func complete(_ request: LLMChatRequest, endpoint: LLMEndpoint, timeout: Double = 60) async throws -> String {
        let body = try request.json()
        let url = endpoint.baseURL + "/chat/completions"
        let headers = [("Content-Type", "application/json"), ("Accept", "application/json"), ("Authorization", "Bearer " + endpoint.apiKey)]
        var last = LLMFailure(description: "no attempt was made")
        let tries = max(1, attempts)
        for attempt in 1...tries {
            try Task.checkCancellation()
            let response: WebClient.Response
            do {
                response = try await web.send("POST", url, headers, body, timeout)
            } catch let error as CancellationError {
                throw error
            } catch {
                last = LLMFailure(description: Self.transportReason(error, timeout: timeout))
                if attempt < tries { try await sleep(Self.pause(after: attempt)) }
                continue
            }
            switch response.status {
            case 200..<300:
                return try Self.content(of: response.body, endpoint: endpoint)
            case 401, 403:
                throw Self.redacted(LLMFailure(description: "the provider refused the API key (HTTP \(response.status)\(Self.said(response.body)))"), endpoint)
            case 408, 429, 500...:
                last = LLMFailure(description: "the provider answered HTTP \(response.status)\(Self.said(response.body))")
                if attempt < tries { try await sleep(Self.pause(after: attempt)) }
            default:
                throw Self.redacted(LLMFailure(description: "the provider refused the request (HTTP \(response.status)\(Self.said(response.body)))"), endpoint)
            }
        }
        throw Self.redacted(tries > 1 ? LLMFailure(description: last.description + " (tried \(tries) times)") : last, endpoint)
    }

    /// A transport error in words: a timeout, or the provider unreachable.
    static func transportReason(_ error: any Error, timeout: Double) -> String {
        let text = "\(error)"
        let lower = text.lowercased()
        if lower.contains("deadline") || lower.contains("timeout") || lower.contains("timed out") {
            return "no answer within \(Self.seconds(timeout)) s"
        }
        return "the provider is unreachable (\(text.count > 200 ? String(text.prefix(200)) + "…" : text))"
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? String(Int(s)) : String(format: "%.1f", s)
    }

    /// ": <what the provider said>", at most 200 characters of it (nothing when empty).
    static func said(_ body: Data) -> String {
        var text = String(decoding: body.prefix(2000), as: UTF8.self)
        if let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            // OpenAI's {"error": {"message": …}}, or a plain {"error": …} / {"message": …}.
            if let nested = (json["error"] as? [String: Any])?["message"] as? String {
                text = nested
            } else if let flat = json["error"] as? String {
                text = flat
            } else if let flat = json["message"] as? String {
                text = flat
            }
        }
        text = text.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return "" }
        return ": " + (text.count > 200 ? String(text.prefix(200)) + "…" : text)
    }

    /// The first choice's message content of a chat completion.
    static func content(of body: Data, endpoint: LLMEndpoint) throws -> String {
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw redacted(LLMFailure(description: "the answer is not valid: the provider's reply is not a JSON object"), endpoint)
        }
        guard let choices = json["choices"] as? [Any], let first = choices.first as? [String: Any],
              let message = first["message"] as? [String: Any], let content = message["content"] as? String else {
            throw redacted(LLMFailure(description: "the answer is not valid: the reply has no choices[0].message.content"), endpoint)
        }
        return content
    }

    /// `failure` with the endpoint's key cut out (raw and percent-encoded), at most 500 characters.
    static func redacted(_ failure: LLMFailure, _ endpoint: LLMEndpoint) -> LLMFailure {
        LLMFailure(description: redact(failure.description, key: endpoint.apiKey))
    }

    /// `text` with `key` cut out (raw and percent-encoded), at most `limit` characters.
    static func redact(_ text: String, key: String, limit: Int = 500) -> String {
        var out = text
        if key.count >= 4 {
            var forms = [key]
            if let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != key { forms.append(encoded) }
            for form in forms { out = out.replacingOccurrences(of: form, with: "[key]") }
        }
        return out.count > limit ? String(out.prefix(limit)) + "…" : out
    }
}
