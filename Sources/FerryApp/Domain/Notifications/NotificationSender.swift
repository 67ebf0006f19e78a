import Foundation
import NIOCore
import SupersetKit

/// One message to send: a subject (e-mail only) and a plain text body.
struct NotificationText: Sendable, Equatable {
    var subject: String
    var body: String
}

/// A channel with its secret opened, ready to send.
struct ResolvedChannel: Sendable {
    var id: UUID
    var name: String
    var kind: ChannelKind
    var language: String
    var settings: ChannelSettings
    var secret: String?

    init(_ m: NotificationChannelModel, box: SecretBox) throws {
        id = m.id!
        name = m.name
        kind = ChannelKind(rawValue: m.kind) ?? .email
        language = m.language
        settings = (try? JSONDecoder().decode(ChannelSettings.self, from: Data(m.settings.utf8))) ?? ChannelSettings()
        secret = try m.secretSealed.map { try box.open($0) }
    }
}

/// Why a send failed, in words for the task log and the channel's page. Never carries a secret
/// (a webhook address or bot token is named by the channel, not quoted).
struct NotificationFailure: Error, CustomStringConvertible, Sendable {
    var description: String
}

/// Delivers notification texts: e-mail through `SMTPClient`, Slack-compatible webhooks and
/// Telegram's Bot API through `WebClient`. Each send is tried `attempts` times with a growing
/// pause (1 s, 4 s, ...) before it counts as failed.
///
/// Side effects: network calls; `sleep` between attempts (injectable for tests).
struct NotificationSender: Sendable {
    var web: WebClient
    var group: any EventLoopGroup
    var attempts = 3
    var timeout: Double = 20
    var sleep: @Sendable (Double) async throws -> Void = { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) }

    /// Sends `text` through `channel`, to `recipients` when it is an e-mail channel (its own
    /// list when empty). Returns after the first success; throws the last failure.
    func send(_ text: NotificationText, via channel: ResolvedChannel, recipients: [String] = []) async throws {
        var last: (any Error)?
        for attempt in 1...max(1, attempts) {
            do {
                try await once(text, via: channel, recipients: recipients)
                return
            } catch let error as CancellationError {
                throw error
            } catch let error as NotificationFailure where error.description.hasPrefix("refused:") {
                throw Self.redacted(error, channel)  // the service said no for good (a bad token, a wrong chat): trying again won't help
            } catch let error as SMTPError where error.permanent {
                throw Self.redacted(error, channel)  // a 5xx, such as a wrong password: retrying could lock the account
            } catch {
                last = error
                if attempt < attempts { try await sleep(pow(4, Double(attempt - 1))) }
            }
        }
        throw Self.redacted(last ?? NotificationFailure(description: "not sent"), channel)
    }

    /// `error` in words with the channel's secret (a bot token in a path a receiver echoed, a
    /// webhook address) cut out, raw and percent-encoded: it goes to the task log and the
    /// delivery record, which more people read than the channel's settings.
    static func redacted(_ error: any Error, _ channel: ResolvedChannel) -> NotificationFailure {
        var text = String("\(error)".prefix(500))
        if let secret = channel.secret, secret.count >= 4 {
            var forms = [secret]
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) { forms.append(encoded) }
            if let url = URL(string: secret), url.path.count >= 4 { forms.append(url.path) }
            for form in forms where !form.isEmpty { text = text.replacingOccurrences(of: form, with: "[secret]") }
        }
        return NotificationFailure(description: text)
    }

    private func once(_ text: NotificationText, via channel: ResolvedChannel, recipients: [String]) async throws {
        let s = channel.settings
        switch channel.kind {
        case .email:
            let to = recipients.isEmpty ? (s.to ?? []) : recipients
            guard !to.isEmpty else { throw NotificationFailure(description: "refused: the channel '\(channel.name)' has no recipient") }
            let settings = SMTPSettings(host: s.host ?? "", port: s.port ?? 587, security: s.security ?? .starttls, username: s.username,
                                        password: channel.secret, from: s.from ?? "", verifyTLS: s.verifyTLS ?? true, timeout: timeout)
            try await SMTPClient.send(SMTPMessage(to: to, subject: text.subject, text: text.body), settings: settings, group: group)
        case .slack:
            guard let url = channel.secret else { throw NotificationFailure(description: "refused: the channel '\(channel.name)' has no webhook address") }
            // Slack's mrkdwn reads <…> as links and mentions (<!channel>): escape what titles carry.
            let escaped = (text.subject + "\n" + text.body).replacingOccurrences(of: "&", with: "&amp;")
                .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            let body = Data(BundleValue.map(["text": .string(escaped)]).jsonText().utf8)
            try await post(url, body, channel: channel)
        case .telegram:
            guard let token = channel.secret else { throw NotificationFailure(description: "refused: the channel '\(channel.name)' has no bot token") }
            guard let base = s.baseURL, !base.isEmpty else { throw NotificationFailure(description: "refused: the channel '\(channel.name)' has no Bot API address") }
            let url = base + "/bot" + token + "/sendMessage"
            // Telegram's limit is 4096 characters.
            let message = String((text.subject + "\n\n" + text.body).prefix(4000))
            let body = Data(BundleValue.map(["chat_id": .string(s.chatID ?? ""), "text": .string(message), "disable_web_page_preview": .bool(true)]).jsonText().utf8)
            try await post(url, body, channel: channel)
        }
    }

    private func post(_ url: String, _ body: Data, channel: ResolvedChannel) async throws {
        let response: WebClient.Response
        do {
            response = try await web.send("POST", url, [("Content-Type", "application/json")], body, timeout)
        } catch {
            throw NotificationFailure(description: "\(channel.kind.rawValue) channel '\(channel.name)' is unreachable (\(Self.describe(error)))")
        }
        switch response.status {
        case 200..<300: return
        case 400, 401, 403, 404:
            let said = String(decoding: response.body.prefix(300), as: UTF8.self)
            throw NotificationFailure(description: "refused: \(channel.kind.rawValue) channel '\(channel.name)' answered HTTP \(response.status): \(said)")
        default:
            throw NotificationFailure(description: "\(channel.kind.rawValue) channel '\(channel.name)' answered HTTP \(response.status)")
        }
    }

    /// An error's words, at most 200 characters (`send` cuts the secret out of them).
    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
