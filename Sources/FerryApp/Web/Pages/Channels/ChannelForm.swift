import Foundation

/// The add / edit form of a notification channel, shared by the channels page (add) and a
/// channel's page (edit). Each kind has its own section of fields; adding, every section is
/// rendered and ferry.js shows only the one of the kind picked (without JavaScript all show,
/// and only the picked kind's fields are used). A channel's kind can't change, so editing
/// shows its section alone.
///
/// Secrets (the SMTP password, the webhook address, the bot token) are password fields that
/// are never filled in: left empty, the stored secret is kept.
enum ChannelForm {
    /// What the form holds: a stored channel's settings, the defaults, or what was sent
    /// (never a secret).
    struct Model: Equatable {
        var name = ""
        var kind = ChannelKind.email
        var active = true
        var language = "en"
        var host = ""
        /// As typed, so a refused value is shown back (empty: the security's default port).
        var port = ""
        var security = SMTPSecurity.starttls
        var username = ""
        var from = ""
        /// The recipients, comma-separated.
        var to = ""
        var verifyTLS = true
        var chatID = ""
        var baseURL = ""
        /// The stored channel has a secret; an empty secret field keeps it.
        var hasSecret = false
    }

    struct State: Equatable {
        var form = Model()
        /// Field name to message.
        var errors: [String: String] = [:]
        /// Why it wasn't saved, when no field is to blame.
        var formError: String?
    }

    /// The form posting to `action`; `editing` a stored channel, whose kind is fixed.
    static func view(_ s: State, action: String, editing: Bool, _ l: Localizer) -> HTMLNode {
        let f = s.form
        let e = s.errors
        let languages = Localizer.languages.map { (value: $0, label: l.t("language.\($0)")) }
        let notice: HTMLNode = s.formError.map { Components.notice("error", title: l.t("channels.not_saved"), detail: $0, testID: "form-error") }
            ?? (e.isEmpty ? H.group([]) : Components.notice("error", title: l.t("channels.not_saved"), detail: l.t("environment_form.fix_fields"), testID: "form-error"))
        let kinds = editing ? [f.kind] : ChannelKind.allCases
        return H.el("form", [("method", "post"), ("action", action), ("class", "stacked"), ("data-testid", "channel-form")], [
            notice,
            Components.field("name", label: l.t("channels.name"), value: f.name, required: true, error: e["name"]),
            kindField(s, editing: editing, l),
            Components.select("language", label: l.t("channels.language"), options: languages, selected: f.language, error: e["language"]),
            Components.checkbox("active", label: l.t("channels.active_label"), checked: f.active),
            H.group(kinds.map { section($0, s, l) }),
            H.el("div", [("class", "form-actions")], [
                H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "save-channel")], text: l.t("environment_form.save")),
                H.a(SiteURL.channelsPage.path, l.t("environment_form.cancel"), [("class", "button")]),
            ]),
        ])
    }

    /// Adding: the kind to pick (it switches the sections shown). Editing: the kind, fixed.
    static func kindField(_ s: State, editing: Bool, _ l: Localizer) -> HTMLNode {
        let error = s.errors["kind"]
        if editing {
            return H.el("div", [("class", error == nil ? "field" : "field invalid")], [
                H.void("input", [("type", "hidden"), ("name", "kind"), ("value", s.form.kind.rawValue)]),
                H.el("p", [], [H.text(l.t("channels.kind") + ": "), H.el("strong", [("data-testid", "channel-kind")], text: kindText(s.form.kind, l))]),
                H.el("small", text: l.t("channels.kind_fixed")),
                error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
            ])
        }
        return H.el("div", [("class", error == nil ? "field" : "field invalid")], [
            H.el("label", [("for", "f-kind")], text: l.t("channels.kind")),
            H.el("select", [("id", "f-kind"), ("name", "kind"), ("data-kind-switch", ""), ("data-testid", "channel-kind-select")], ChannelKind.allCases.map { k in
                H.el("option", [("value", k.rawValue), ("selected", H.flag(k == s.form.kind))], text: kindText(k, l))
            }),
            H.el("small", text: l.t("channels.kind_hint")),
            error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
        ])
    }

    static func kindText(_ kind: ChannelKind, _ l: Localizer) -> String {
        l.t("channels.kind.\(kind.rawValue)")
    }

    /// The fields of one kind (a `div` ferry.js hides when another kind is picked).
    static func section(_ kind: ChannelKind, _ s: State, _ l: Localizer) -> HTMLNode {
        H.el("div", [("data-kind-section", kind.rawValue), ("data-testid", "channel-section-\(kind.rawValue)")], [
            H.el("fieldset", [("class", "field")], [H.el("legend", text: l.t("channels.section.\(kind.rawValue)"))] + fields(kind, s, l)),
        ])
    }

    static func fields(_ kind: ChannelKind, _ s: State, _ l: Localizer) -> [HTMLNode] {
        let f = s.form
        let e = s.errors
        // The secret stored belongs to the stored channel's kind.
        let kept = f.hasSecret && kind == f.kind
        switch kind {
        case .email:
            let securities = SMTPSecurity.allCases.map { (value: $0.rawValue, label: l.t("channels.security.\($0.rawValue)")) }
            return [
                Components.field("host", label: l.t("channels.host"), value: f.host, hint: l.t("channels.host_hint"), error: e["host"],
                                 placeholder: "smtp.example.com"),
                Components.select("security", label: l.t("channels.security"), options: securities, selected: f.security.rawValue, error: e["security"]),
                Components.field("port", label: l.t("channels.port"), value: f.port, type: "number", hint: l.t("channels.port_hint"), error: e["port"]),
                Components.field("username", label: l.t("channels.username"), value: f.username, hint: l.t("channels.username_hint"),
                                 error: e["username"], autocomplete: "off"),
                Components.field("password", label: l.t("channels.password"), value: nil, type: "password",
                                 hint: l.t(kept ? "channels.password_kept" : "channels.password_hint"), error: e["password"], autocomplete: "new-password"),
                Components.field("from", label: l.t("channels.from"), value: f.from, hint: l.t("channels.from_hint"), error: e["from"],
                                 placeholder: "ferry@example.com"),
                Components.field("to", label: l.t("channels.to"), value: f.to, hint: l.t("channels.to_hint"), error: e["to"],
                                 placeholder: "ops@example.com, oncall@example.com"),
                Components.checkbox("verifyTLS", label: l.t("channels.verify_tls"), checked: f.verifyTLS),
            ]
        case .slack:
            return [
                Components.field("webhookURL", label: l.t("channels.webhook_url"), value: nil, type: "password",
                                 hint: l.t(kept ? "channels.webhook_kept" : "channels.webhook_hint"), error: e["webhookURL"], autocomplete: "off"),
            ]
        case .telegram:
            return [
                Components.field("botToken", label: l.t("channels.bot_token"), value: nil, type: "password",
                                 hint: l.t(kept ? "channels.bot_token_kept" : "channels.bot_token_hint"), error: e["botToken"], autocomplete: "off"),
                Components.field("chatID", label: l.t("channels.chat_id"), value: f.chatID, hint: l.t("channels.chat_id_hint"), error: e["chatID"],
                                 placeholder: "-1001234567890"),
                Components.field("baseURL", label: l.t("channels.base_url"), value: f.baseURL, type: "url", hint: l.t("channels.base_url_hint"),
                                 error: e["baseURL"], placeholder: "https://telegram-bot-api.example.com"),
            ]
        }
    }
}

extension ChannelForm.Model {
    /// A stored channel's settings (its secret only as "one is stored").
    init(_ c: ChannelDTO) {
        self.init(name: c.name, kind: c.kind, active: c.active, language: c.language, host: c.host ?? "", port: c.port.map(String.init) ?? "",
                  security: c.security ?? .starttls, username: c.username ?? "", from: c.from ?? "", to: (c.to ?? []).joined(separator: ", "),
                  verifyTLS: c.verifyTLS ?? true, chatID: c.chatID ?? "", baseURL: c.baseURL ?? "", hasSecret: c.hasSecret)
    }
}
