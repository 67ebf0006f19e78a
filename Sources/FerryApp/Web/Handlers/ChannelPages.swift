import Fluent
import Foundation
import Vapor

/// The notification channels' pages (`settings:admin`, as their API): the list with the form
/// that adds one, a channel's form, and delete (refused while a policy sends through it).
/// Saving goes through `HealthPoliciesAPI.storeChannel`, as the API's does; secrets are never
/// shown, and an empty secret field keeps the stored one.
enum ChannelPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.channelsPage, use: list)
        routes.post(.channelsPage, use: create)
        routes.get(.channelPage(.key), use: edit)
        routes.post(.channelPage(.key), use: update)
        routes.post(.channelDeletePage(.key), use: delete)
    }

    static func listModel(_ req: Request, editor: ChannelForm.State? = nil, flash: String? = nil, error: String? = nil) async throws -> ChannelsPage.Model {
        var fresh = ChannelForm.State()
        fresh.form.language = req.application.ferryConfiguration.defaultLanguage
        return ChannelsPage.Model(channels: try await ChannelService.list(on: req.db).map(ChannelService.dto), editor: editor ?? fresh, flash: flash, error: error)
    }

    static func channelModel(_ req: Request, _ m: NotificationChannelModel, editor: ChannelForm.State? = nil) async throws -> ChannelPage.Model {
        let dto = ChannelService.dto(m)
        let usedBy = try await HealthPoliciesAPI.policies(sendingThrough: dto.id, on: req.db).map(\.name)
        return ChannelPage.Model(channel: dto, editor: editor ?? ChannelForm.State(form: ChannelForm.Model(dto)), usedBy: usedBy)
    }

    @Sendable static func list(req: Request) async throws -> Response {
        let done = try? req.query.get(String.self, at: "done")
        let flash = done.flatMap { ["created", "saved", "deleted"].contains($0) ? req.localizer.t("channels.flash.\($0)") : nil }
        return req.secretFormPage(ChannelsPage.View(model: try await listModel(req, flash: flash), localizer: req.localizer))
    }

    @Sendable static func edit(req: Request) async throws -> Response {
        let m = try await ChannelService.find(try req.idParameter(), on: req.db)
        return req.secretFormPage(ChannelPage.View(model: try await channelModel(req, m), localizer: req.localizer))
    }

    // MARK: - Saving

    /// The form as sent: checkboxes come as a hidden "false" and "true" when ticked.
    struct Form: Decodable {
        var name: String?
        var kind: String?
        var active: [String]?
        var language: String?
        var host: String?
        var port: String?
        var security: String?
        var username: String?
        var password: String?
        var from: String?
        var to: String?
        var verifyTLS: [String]?
        var webhookURL: String?
        var botToken: String?
        var chatID: String?
        var baseURL: String?
    }

    /// The channel `f` asks for (only the fields of its kind; `fixed`: the stored channel's
    /// kind, which can't change), the form to show it again (without secrets), and the values
    /// that aren't what the form offers.
    static func parse(_ f: Form, fixed: ChannelKind?, defaultLanguage: String) -> (ChannelInput, ChannelForm.Model, [FieldError]) {
        var errors: [FieldError] = []
        let kind = fixed ?? f.kind.flatMap { ChannelKind(rawValue: $0) }
        if kind == nil { errors.append(FieldError(field: "kind", code: "invalid", key: "one_of", ["values": ChannelKind.allCases.map(\.rawValue).joined(separator: ", ")])) }
        var security: SMTPSecurity?
        if let text = f.security, !text.isEmpty {
            security = SMTPSecurity(rawValue: text)
            if security == nil { errors.append(FieldError(field: "security", code: "invalid", key: "one_of", ["values": SMTPSecurity.allCases.map(\.rawValue).joined(separator: ", ")])) }
        }
        func ticked(_ values: [String]?, default value: Bool) -> Bool { values.map { $0.contains("true") } ?? value }
        let portText = (f.port ?? "").trimmingCharacters(in: .whitespaces)
        let recipients = (f.to ?? "").split(whereSeparator: { $0 == "," || $0 == ";" || $0.isWhitespace }).map(String.init).filter { !$0.isEmpty }
        var input = ChannelInput(name: f.name ?? "", kind: kind ?? .email)
        input.active = ticked(f.active, default: true)
        input.language = f.language?.nonEmpty ?? defaultLanguage
        switch kind ?? .email {
        case .email:
            input.host = f.host ?? ""
            // Not a number: 0, which validation refuses with the range allowed.
            input.port = portText.isEmpty ? nil : (Int(portText) ?? 0)
            input.security = security
            input.username = f.username ?? ""
            input.password = f.password?.nonEmpty
            input.from = f.from ?? ""
            input.to = recipients
            input.verifyTLS = ticked(f.verifyTLS, default: true)
        case .slack:
            input.webhookURL = f.webhookURL?.trimmingCharacters(in: .whitespaces).nonEmpty
        case .telegram:
            input.botToken = f.botToken?.trimmingCharacters(in: .whitespaces).nonEmpty
            input.chatID = f.chatID ?? ""
            input.baseURL = f.baseURL ?? ""
        }
        let typed = ChannelForm.Model(
            name: input.name, kind: kind ?? .email, active: input.active ?? true, language: input.language ?? defaultLanguage, host: f.host ?? "",
            port: portText, security: security ?? .starttls, username: f.username ?? "", from: f.from ?? "", to: recipients.joined(separator: ", "),
            verifyTLS: ticked(f.verifyTLS, default: true), chatID: f.chatID ?? "", baseURL: f.baseURL ?? "", hasSecret: false)
        return (input, typed, errors)
    }

    @Sendable static func create(req: Request) async throws -> Response {
        try await save(req, id: nil)
    }

    @Sendable static func update(req: Request) async throws -> Response {
        try await save(req, id: try req.idParameter())
    }

    /// Saves the form as channel `id` (nil: a new one) and opens the list; a form refused
    /// (422, 409) is shown again with why.
    static func save(_ req: Request, id: UUID?) async throws -> Response {
        let stored = try await id.asyncMap { try await ChannelService.find($0, on: req.db) }
        let f = (try? req.content.decode(Form.self)) ?? Form()
        let language = req.application.ferryConfiguration.defaultLanguage
        let (input, typed, invalid) = parse(f, fixed: stored.map { ChannelKind(rawValue: $0.kind) ?? .email }, defaultLanguage: language)
        req.audit.action = id == nil ? "channel.create" : "channel.update"
        req.audit.target = input.name.trimmingCharacters(in: .whitespaces).nonEmpty
        do {
            if !invalid.isEmpty { throw AppError.validation(invalid) }
            let m = try await HealthPoliciesAPI.storeChannel(req, input, id: id)
            req.audit.target = m.name
            return req.redirect(to: SiteURL.channelsPage.path(query: ["done": id == nil ? "created" : "saved"]), redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            let errors = req.localizer.fieldMessages(e)
            var shown = typed
            shown.hasSecret = stored?.secretSealed != nil
            let editor = ChannelForm.State(form: shown, errors: errors, formError: e.fields.isEmpty ? req.localizer.problemText(e) : nil)
            if let stored {
                return req.secretFormPage(ChannelPage.View(model: try await channelModel(req, stored, editor: editor), localizer: req.localizer), status: e.status)
            }
            return req.secretFormPage(ChannelsPage.View(model: try await listModel(req, editor: editor), localizer: req.localizer), status: e.status)
        }
    }

    /// Deletes a channel; while a policy sends through it, the list says which (409).
    @Sendable static func delete(req: Request) async throws -> Response {
        let m = try await ChannelService.find(try req.idParameter(), on: req.db)
        req.audit.action = "channel.delete"
        req.audit.target = m.name
        do {
            try await HealthPoliciesAPI.removeChannel(m, on: req.db)
        } catch let e as AppError where e.status == .conflict {
            return req.secretFormPage(ChannelsPage.View(model: try await listModel(req, error: req.localizer.problemText(e)), localizer: req.localizer), status: e.status)
        }
        return req.redirect(to: SiteURL.channelsPage.path(query: ["done": "deleted"]), redirectType: .normal)
    }
}
