import Fluent
import Foundation
import Vapor

/// The LLM providers' pages (`settings:admin`, as their API): the list with the form that adds
/// one, a provider's form, and delete (refused while a policy asks the provider for reviews).
/// Saving goes through `LLMProvidersAPI.store`, as the API's does; keys are never shown, and an
/// empty key field keeps the stored one. A refused form is shown again with why, in the page's
/// language.
enum LLMProviderPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.llmProvidersPage, use: list)
        routes.post(.llmProvidersPage, use: create)
        routes.get(.llmProviderPage(.key), use: edit)
        routes.post(.llmProviderPage(.key), use: update)
        routes.post(.llmProviderDeletePage(.key), use: delete)
    }

    static func listModel(_ req: Request, editor: LLMProviderForm.State? = nil, flash: String? = nil, error: String? = nil) async throws -> LLMProvidersPage.Model {
        LLMProvidersPage.Model(providers: try await LLMProviderService.list(on: req.db).map(LLMProviderService.dto), editor: editor ?? LLMProviderForm.State(),
                               flash: flash, error: error)
    }

    static func providerModel(_ req: Request, _ m: LLMProviderModel, editor: LLMProviderForm.State? = nil) async throws -> LLMProviderPage.Model {
        let dto = LLMProviderService.dto(m)
        let usedBy = try await LLMProviderService.policies(using: dto.id, on: req.db).map(\.name)
        return LLMProviderPage.Model(provider: dto, editor: editor ?? LLMProviderForm.State(form: LLMProviderForm.Model(dto)), usedBy: usedBy)
    }

    @Sendable static func list(req: Request) async throws -> Response {
        let done = try? req.query.get(String.self, at: "done")
        let flash = done.flatMap { ["created", "saved", "deleted"].contains($0) ? req.localizer.t("llm.flash.\($0)") : nil }
        return req.secretFormPage(LLMProvidersPage.View(model: try await listModel(req, flash: flash), localizer: req.localizer))
    }

    @Sendable static func edit(req: Request) async throws -> Response {
        let m = try await LLMProviderService.find(try req.idParameter(), on: req.db)
        return req.secretFormPage(LLMProviderPage.View(model: try await providerModel(req, m), localizer: req.localizer))
    }

    // MARK: - Saving

    /// The form as sent: the checkbox comes as a hidden "false" and "true" when ticked.
    struct Form: Decodable {
        var name: String?
        var baseURL: String?
        var model: String?
        var apiKey: String?
        var active: [String]?
    }

    /// The provider `f` asks for, and the form to show it again (without the key).
    static func parse(_ f: Form) -> (LLMProviderInput, LLMProviderForm.Model) {
        let active = f.active.map { $0.contains("true") } ?? true
        let input = LLMProviderInput(name: f.name ?? "", baseURL: f.baseURL ?? "", model: f.model ?? "",
                                     apiKey: f.apiKey?.trimmingCharacters(in: .whitespaces).nonEmpty, active: active)
        return (input, LLMProviderForm.Model(name: input.name, baseURL: input.baseURL, model: input.model, active: active, hasKey: false))
    }

    @Sendable static func create(req: Request) async throws -> Response {
        try await save(req, id: nil)
    }

    @Sendable static func update(req: Request) async throws -> Response {
        try await save(req, id: try req.idParameter())
    }

    /// Saves the form as provider `id` (nil: a new one) and opens the list; a form refused
    /// (422, 409) is shown again with why.
    static func save(_ req: Request, id: UUID?) async throws -> Response {
        let stored = try await id.asyncMap { try await LLMProviderService.find($0, on: req.db) }
        let f = (try? req.content.decode(Form.self)) ?? Form()
        let (input, typed) = parse(f)
        req.audit.action = id == nil ? "llm_provider.create" : "llm_provider.update"
        req.audit.target = input.name.trimmingCharacters(in: .whitespaces).nonEmpty
        do {
            let m = try await LLMProvidersAPI.store(req, input, id: id)
            req.audit.target = m.name
            return req.redirect(to: SiteURL.llmProvidersPage.path(query: ["done": id == nil ? "created" : "saved"]), redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            let l = req.localizer
            var errors: [String: String] = [:]
            for field in e.fields {
                let text = LLMProviderForm.message(field, l)
                errors[field.field] = [errors[field.field], text].compactMap { $0 }.joined(separator: "; ")
            }
            var shown = typed
            shown.hasKey = stored.map { !$0.apiKeySealed.isEmpty } ?? false
            let editor = LLMProviderForm.State(form: shown, errors: errors, formError: e.fields.isEmpty ? req.localizer.problemText(e) : nil)
            if let stored {
                return req.secretFormPage(LLMProviderPage.View(model: try await providerModel(req, stored, editor: editor), localizer: l), status: e.status)
            }
            return req.secretFormPage(LLMProvidersPage.View(model: try await listModel(req, editor: editor), localizer: l), status: e.status)
        }
    }

    /// Deletes a provider; while policies ask it for reviews, the list names them (409).
    @Sendable static func delete(req: Request) async throws -> Response {
        let m = try await LLMProviderService.find(try req.idParameter(), on: req.db)
        req.audit.action = "llm_provider.delete"
        req.audit.target = m.name
        do {
            try await LLMProviderService.delete(m, on: req.db)
        } catch let e as AppError where e.status == .conflict {
            let names = try await LLMProviderService.policies(using: m.id!, on: req.db).map(\.name)
            let l = req.localizer
            let why = names.isEmpty ? l.problemText(e) : l.t("llm.in_use", ["policies": names.joined(separator: ", ")])
            return req.secretFormPage(LLMProvidersPage.View(model: try await listModel(req, error: why), localizer: l), status: e.status)
        }
        return req.redirect(to: SiteURL.llmProvidersPage.path(query: ["done": "deleted"]), redirectType: .normal)
    }
}
