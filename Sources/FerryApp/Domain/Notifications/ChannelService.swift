import Fluent
import Foundation

/// Notification channels: validation, storage with the secret sealed, and their API form.
///
/// Invariants: a stored channel is valid for its kind (an e-mail channel has a host, a port and
/// a sender; a Slack one a webhook address; a Telegram one a bot token and a chat); names are
/// unique; a secret is never returned.
enum ChannelService {
    static let maxRecipients = 50

    static func dto(_ m: NotificationChannelModel) -> ChannelDTO {
        let s = (try? JSONDecoder().decode(ChannelSettings.self, from: Data(m.settings.utf8))) ?? ChannelSettings()
        return ChannelDTO(id: m.id!, name: m.name, kind: ChannelKind(rawValue: m.kind) ?? .email, active: m.active, language: m.language,
                          host: s.host, port: s.port, security: s.security, username: s.username, from: s.from, to: s.to, verifyTLS: s.verifyTLS,
                          chatID: s.chatID, baseURL: s.baseURL, hasSecret: m.secretSealed != nil, updatedAt: m.updatedAt)
    }

    static func list(on db: any Database) async throws -> [NotificationChannelModel] {
        try await NotificationChannelModel.query(on: db).sort(\.$name).all()
    }

    static func find(_ id: UUID, on db: any Database) async throws -> NotificationChannelModel {
        guard let m = try await NotificationChannelModel.find(id, on: db) else {
            throw AppError(.notFound, code: "not_found", key: "channel_not_found", ["id": id.key])
        }
        return m
    }

    /// Whether `text` looks like one e-mail address (no display name, no spaces or brackets).
    /// The SMTP client's own check, so a channel that saves can send.
    static func isAddress(_ text: String) -> Bool {
        (try? SMTPFormat.checkAddress(text, role: "recipient")) != nil
    }

    /// The settings and secret `input` gives, checked for its kind (`existing`: the secret kept
    /// when none is given). Throws a 422 naming every wrong field.
    static func validate(_ input: ChannelInput, existing: NotificationChannelModel?) throws -> (ChannelSettings, secret: String?) {
        var errors: [FieldError] = []
        func fail(_ field: String, _ key: String, _ values: [String: String] = [:]) { errors.append(FieldError(field: field, code: "invalid", key: key, values)) }
        let name = input.name.trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.count > 100 { fail("name", "name_1_100") }
        if let l = input.language, !Localizer.languages.contains(l) { fail("language", "one_of", ["values": Localizer.languages.joined(separator: ", ")]) }
        if let existing, existing.kind != input.kind.rawValue { fail("kind", "channel_kind_fixed") }
        var s = ChannelSettings()
        var secret: String?
        switch input.kind {
        case .email:
            let host = input.host?.trimmingCharacters(in: .whitespaces) ?? ""
            if host.isEmpty || host.count > 253 || host.rangeOfCharacter(from: CharacterSet(charactersIn: " /@:\r\n")) != nil {
                fail("host", "smtp_host")
            }
            let security = input.security ?? .starttls
            let port = input.port ?? (security == .tls ? 465 : security == .starttls ? 587 : 25)
            if !(1...65535).contains(port) { fail("port", "port") }
            let from = input.from?.trimmingCharacters(in: .whitespaces) ?? ""
            if !isAddress(from) { fail("from", "sender") }
            let to = (input.to ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if to.count > maxRecipients { fail("to", "at_most_recipients", ["max": String(maxRecipients)]) }
            for a in to where !isAddress(a) { fail("to", "not_email", ["value": String(a.prefix(100))]) }
            if let u = input.username, u.count > 200 || u.rangeOfCharacter(from: .newlines) != nil { fail("username", "one_line_at_most", ["max": "200"]) }
            if let p = input.password, p.count > 1000 || p.rangeOfCharacter(from: .newlines) != nil { fail("password", "one_line_at_most", ["max": "1000"]) }
            s = ChannelSettings(host: host, port: port, security: security, username: input.username.flatMap { $0.isEmpty ? nil : $0 }, from: from, to: to,
                                verifyTLS: input.verifyTLS ?? true)
            secret = input.password.flatMap { $0.isEmpty ? nil : $0 }
        case .slack:
            if let url = input.webhookURL, !url.isEmpty {
                if !isHTTPAddress(url) { fail("webhookURL", "webhook_url") }
                secret = url
            } else if existing?.secretSealed == nil {
                fail("webhookURL", "webhook_url")
            }
        case .telegram:
            if let token = input.botToken, !token.isEmpty {
                if token.range(of: #"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$"#, options: .regularExpression) == nil { fail("botToken", "bot_token_example") }
                secret = token
            } else if existing?.secretSealed == nil {
                fail("botToken", "bot_token")
            }
            let chat = input.chatID?.trimmingCharacters(in: .whitespaces) ?? ""
            if chat.range(of: #"^(-?[0-9]{1,20}|@[A-Za-z0-9_]{4,64})$"#, options: .regularExpression) == nil { fail("chatID", "chat_id") }
            // No default: Ferry contacts nothing an operator didn't name (air-gapped networks run
            // a local Bot API server, or none).
            let base = input.baseURL?.trimmingCharacters(in: .whitespaces) ?? ""
            if !isHTTPAddress(base) { fail("baseURL", "bot_api_url") }
            s = ChannelSettings(chatID: chat, baseURL: base.hasSuffix("/") ? String(base.dropLast()) : base)
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
        return (s, secret)
    }

    static func save(_ input: ChannelInput, id: UUID?, box: SecretBox, defaultLanguage: String, now: Date, newID: UUID, on db: any Database) async throws -> NotificationChannelModel {
        let existing = try await id.asyncMap { try await find($0, on: db) }
        let (settings, secret) = try validate(input, existing: existing)
        let name = input.name.trimmingCharacters(in: .whitespaces)
        if let clash = try await NotificationChannelModel.query(on: db).filter(\.$name == name).first(), clash.id != existing?.id {
            throw AppError(.conflict, code: "name_taken", key: "channel_taken", ["name": name])
        }
        let m = existing ?? NotificationChannelModel()
        if existing == nil { m.id = newID }
        m.name = name
        m.kind = input.kind.rawValue
        m.active = input.active ?? existing?.active ?? true
        m.language = input.language ?? existing?.language ?? defaultLanguage
        m.settings = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        if let secret { m.secretSealed = try box.seal(secret) }
        m.updatedAt = now
        try await m.save(on: db)
        return m
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
