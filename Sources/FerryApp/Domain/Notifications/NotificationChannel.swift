import Fluent
import Foundation

/// How a channel delivers: e-mail over SMTP, a Slack-compatible incoming webhook, or a Telegram bot.
public enum ChannelKind: String, Codable, Sendable, CaseIterable {
    case email, slack, telegram
}

/// SMTP's transport security.
public enum SMTPSecurity: String, Codable, Sendable, CaseIterable {
    case none, starttls, tls
}

/// A notification channel as written by the API and the settings page. Secrets (`password`,
/// `webhookURL`, `botToken`) are write-only: absent on an update keeps the stored one.
public struct ChannelInput: Codable, Sendable, Equatable {
    public var name: String
    public var kind: ChannelKind
    public var active: Bool?
    /// The language messages are written in (`en`, `ru`).
    public var language: String?
    public var host: String?
    public var port: Int?
    public var security: SMTPSecurity?
    public var username: String?
    public var password: String?
    public var from: String?
    public var to: [String]?
    public var verifyTLS: Bool?
    public var webhookURL: String?
    public var botToken: String?
    public var chatID: String?
    public var baseURL: String?

    public init(name: String, kind: ChannelKind) {
        self.name = name
        self.kind = kind
    }
}

/// A channel's stored, non-secret settings (JSON in `notification_channels.settings`).
struct ChannelSettings: Codable, Sendable, Equatable {
    var host: String?
    var port: Int?
    var security: SMTPSecurity?
    var username: String?
    var from: String?
    var to: [String]?
    var verifyTLS: Bool?
    var chatID: String?
    var baseURL: String?
}

/// A channel as the API shows it: never its secret, only whether one is stored.
public struct ChannelDTO: Codable, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var kind: ChannelKind
    public var active: Bool
    public var language: String
    public var host: String?
    public var port: Int?
    public var security: SMTPSecurity?
    public var username: String?
    public var from: String?
    public var to: [String]?
    public var verifyTLS: Bool?
    public var chatID: String?
    public var baseURL: String?
    public var hasSecret: Bool
    public var updatedAt: Date
}

/// A notification channel. Row of `notification_channels`.
///
/// Invariant: `secretSealed` is the channel's secret (SMTP password, webhook URL, bot token)
/// sealed by `SecretBox`, never plaintext; `settings` holds no secret.
final class NotificationChannelModel: Model, @unchecked Sendable {
    static let schema = "notification_channels"
    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    /// `ChannelKind`.
    @Field(key: "kind") var kind: String
    @Field(key: "active") var active: Bool
    @Field(key: "language") var language: String
    /// JSON `ChannelSettings`.
    @Field(key: "settings") var settings: String
    @OptionalField(key: "secret_sealed") var secretSealed: String?
    @Field(key: "updated_at") var updatedAt: Date
    init() {}
}
