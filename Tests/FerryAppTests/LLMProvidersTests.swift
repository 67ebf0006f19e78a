import Fluent
import Foundation
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

/// Hand-built models for the LLM providers' views and a check's review.
enum LLMPageFixtures {
    static let fixed = ViewSnapshotTests.fixed
    static let visionID = UUID(uuidString: "00000000-0000-4000-8000-0000000000b7")!
    static let localID = UUID(uuidString: "00000000-0000-4000-8000-0000000000b8")!
    /// A name that would break out of text and attributes if it weren't escaped.
    static let hostile = "Vision <script>alert(1)</script>\" onmouseover=\"alert(1)"

    static var providers: [LLMProviderDTO] {
        [
            LLMProviderDTO(id: visionID, name: hostile, baseURL: "https://llm.example.com/v1", model: "gpt-4o-mini", active: true, hasKey: true,
                           createdAt: fixed, updatedAt: fixed.addingTimeInterval(60)),
            LLMProviderDTO(id: localID, name: "local", baseURL: "http://127.0.0.1:8000/v1", model: "llava", active: false, hasKey: true,
                           createdAt: fixed, updatedAt: fixed.addingTimeInterval(120)),
        ]
    }

    /// The list, a delete refused, and the add form refused (no key, a bad address).
    static var listModel: LLMProvidersPage.Model {
        let l = Localizer(language: "en")
        let editor = LLMProviderForm.State(form: .init(name: "new <i>", baseURL: "llm.example.com", model: "m", active: true, hasKey: false),
                                           errors: ["baseURL": l.t("llm.error.base_url"), "apiKey": l.t("llm.error.api_key_required")])
        return LLMProvidersPage.Model(providers: providers, editor: editor, flash: nil,
                                      error: l.t("llm.in_use", ["policies": "Morning"]))
    }

    /// A provider's form: its key stored, never shown; a policy uses it.
    static var providerModel: LLMProviderPage.Model {
        let dto = providers[0]
        return LLMProviderPage.Model(provider: dto, editor: LLMProviderForm.State(form: LLMProviderForm.Model(dto)), usedBy: ["Morning", "Nightly"])
    }

    /// A check reviewed by a model that found what the queries didn't.
    static var reviewedCheck: HealthCheckPage.Model {
        var model = HealthPageFixtures.checkModel
        model.check.status = .fail
        model.check.issues.append(HealthIssue(.fail, .llmReview, "Chart 'Orders' shows an error <b>box</b>", location: "LLM review"))
        model.check.details?.llmReview = LLMReviewRecord(provider: hostile, model: "gpt-4o-mini", verdict: .fail, summary: "One chart shows an error <b>.",
                                                         issues: 1, screenshot: true, milliseconds: 2345, error: nil)
        return model
    }
}

extension ViewSnapshotTests {
    @Test func llmProviders() throws {
        let f = LLMPageFixtures.self
        let model = f.listModel
        for lang in ["en", "ru"] {
            let html = Layout.render(LLMProvidersPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/admin/llm"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("onmouseover=\"alert(1)\"") && !html.contains("<i>"))
            #expect(html.contains(#"href="/admin/llm" class="active""#), "the LLM navigation item is current")
            try assertSnapshot(html, named: "llm-providers-\(lang)")
        }
        let html = Layout.render(LLMProvidersPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/admin/llm"))
        #expect(occurrences(#"data-testid="llm-row""#, in: html) == 2)
        #expect(html.contains(#"<code data-testid="llm-base-url">https://llm.example.com/v1</code>"#) && html.contains(#"<code data-testid="llm-model">llava</code>"#))
        #expect(html.contains(#"data-active="true">active<"#) && html.contains(#"data-active="false">paused<"#))
        #expect(occurrences(#"<td data-testid="llm-key">yes</td>"#, in: html) == 2)
        #expect(html.contains("action=\"/admin/llm/\(f.localID.key)/delete\" class=\"inline\" data-confirm=\"Delete the LLM provider"))
        #expect(html.contains(#"data-testid="llm-error""#) && html.contains("These policies ask this provider for reviews: Morning."))
        // The add form as refused: what was typed, the errors by their fields, the key field empty.
        #expect(html.contains(#"value="new &lt;i&gt;""#) && html.contains(#"value="llm.example.com""#))
        #expect(html.contains(#"<input id="f-apiKey" name="apiKey" type="password" required autocomplete="new-password" aria-invalid="true"/>"#))
        #expect(html.contains("A new provider needs its API key.") && html.contains(#"data-testid="form-error""#))
        let ru = Layout.render(LLMProvidersPage.View(model: .init(), localizer: Localizer(language: "ru")), context: context("ru", path: "/admin/llm"))
        #expect(ru.contains(#"data-testid="llm-none""#) && ru.contains("LLM-провайдеров пока нет"))
    }

    @Test func anLLMProvider() throws {
        let f = LLMPageFixtures.self
        let model = f.providerModel
        for lang in ["en", "ru"] {
            let html = Layout.render(LLMProviderPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/admin/llm"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("onmouseover=\"alert(1)\""))
            try assertSnapshot(html, named: "llm-provider-\(lang)")
        }
        let html = Layout.render(LLMProviderPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(html.contains("<form method=\"post\" action=\"/admin/llm/\(f.visionID.key)\" class=\"stacked\" data-testid=\"llm-form\">"))
        #expect(html.contains(#"value="https://llm.example.com/v1""#) && html.contains(#"value="gpt-4o-mini""#))
        // The key: a password field never filled in, not required (the stored one is kept).
        #expect(html.contains(#"<input id="f-apiKey" name="apiKey" type="password" autocomplete="new-password"/>"#))
        #expect(html.contains("A key is stored. Leave this empty to keep it."))
        #expect(html.contains("Policies asking it for reviews: Morning, Nightly"))
        #expect(html.contains("action=\"/admin/llm/\(f.visionID.key)/delete\""))
    }

    @Test func aCheckWithItsLLMReview() throws {
        let model = LLMPageFixtures.reviewedCheck
        for lang in ["en", "ru"] {
            let html = Layout.render(HealthCheckPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/health"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("<b>"))
            try assertSnapshot(html, named: "health-check-llm-\(lang)")
        }
        let html = Layout.render(HealthCheckPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/health"))
        #expect(html.contains(#"data-testid="health-llm" data-verdict="fail""#))
        #expect(html.contains("gpt-4o-mini") && html.contains("2345 ms") && html.contains("screenshot and findings sent"))
        #expect(html.contains(#"<p data-testid="health-llm-summary">One chart shows an error &lt;b&gt;.</p>"#))
        // The model's issue, where "LLM review".
        #expect(html.contains(#"data-kind="llm_review" data-severity="fail""#) && html.contains("<td>LLM review</td>"))

        // A review that didn't happen: "unavailable" and why.
        var failed = model
        failed.check.details?.llmReview = LLMReviewRecord(provider: "vision", model: "m", verdict: nil, summary: nil, issues: 1, screenshot: false,
                                                          milliseconds: 12, error: "no answer within 60 s")
        let ru = Layout.render(HealthCheckPage.View(model: failed, localizer: Localizer(language: "ru")), context: context("ru", path: "/health"))
        #expect(ru.contains(#"data-testid="health-llm-unavailable""#) && ru.contains("Оценки нет: no answer within 60 s"))
        #expect(ru.contains("отправлены только находки, без скриншота"))
        // None asked: no section.
        let plain = Layout.render(HealthCheckPage.View(model: HealthPageFixtures.checkModel, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(!plain.contains(#"data-testid="health-llm""#))
    }

    @Test func aPolicyFormOffersActiveProviders() throws {
        var model = HealthPolicyPageFixtures.policyModel
        model.editor.options.llmProviders = [
            .init(id: LLMPageFixtures.visionID, name: "vision", model: "gpt-4o-mini", active: true),
            .init(id: LLMPageFixtures.localID, name: "local", model: "llava", active: false),
        ]
        // Someone without settings:admin sees the provider, disabled; it travels hidden.
        let reader = Layout.render(HealthPolicyPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/health/policies"))
        #expect(reader.contains(#"<select id="f-llmProvider" name="llmProvider" data-testid="policy-llm-provider" disabled>"#))
        #expect(!reader.contains(#"type="hidden" name="llmProvider""#) && reader.contains("settings:admin"), "none picked: nothing to carry")
        var readerPicked = model
        readerPicked.editor.form.llmProvider = LLMPageFixtures.visionID
        let carried = Layout.render(HealthPolicyPage.View(model: readerPicked, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(carried.contains("<input type=\"hidden\" name=\"llmProvider\" value=\"\(LLMPageFixtures.visionID.key)\"/>"))
        model.editor.options.canNameChannels = true
        let html = Layout.render(HealthPolicyPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/health/policies"))
        #expect(cspViolations(html).isEmpty)
        #expect(html.contains(#"<select id="f-llmProvider" name="llmProvider" data-testid="policy-llm-provider">"#))
        #expect(!html.contains(#"type="hidden" name="llmProvider""#))
        #expect(html.contains(#"<option value selected>No LLM review</option>"#))
        #expect(html.contains("<option value=\"\(LLMPageFixtures.visionID.key)\">vision (gpt-4o-mini)</option>"))
        #expect(!html.contains(LLMPageFixtures.localID.key), "a paused provider is not offered")
        // The policy's own provider stays shown (and picked) while paused.
        model.editor.form.llmProvider = LLMPageFixtures.localID
        let paused = Layout.render(HealthPolicyPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(paused.contains("<option value=\"\(LLMPageFixtures.localID.key)\" selected>local (llava), paused</option>"))
        // No provider at all: no field.
        let none = Layout.render(HealthPolicyPage.View(model: HealthPolicyPageFixtures.policyModel, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(!none.contains("llmProvider"))
    }

    /// Keys built from values have their text in every language.
    @Test func everyLLMKeyIsNamedInEveryLanguage() throws {
        for lang in Localizer.languages {
            let table = try #require(Catalogue.shared.tables[lang])
            for done in ["created", "saved", "deleted"] { #expect(table["llm.flash.\(done)"] != nil, "\(lang): \(done)") }
            for key in ["llm.error.name", "llm.error.name_taken", "llm.error.base_url", "llm.error.model", "llm.error.api_key", "llm.error.api_key_required",
                        "llm.error.active", "health.kind.llm_review", "nav.llm", "llm.api_key_kept", "llm.api_key_hint"] {
                #expect(table[key] != nil, "\(lang): \(key)")
            }
        }
    }
}

/// LLM providers through HTTP: the API as an administrator (keys write-only, validation,
/// names unique), refused to others; policies picking one, and deletes refused while they do;
/// the pages' forms.
@Suite struct LLMProvidersAPITests {
    static func occurrences(_ needle: String, in html: String) -> Int { html.components(separatedBy: needle).count - 1 }

    @Test(arguments: Store.available)
    func providersAreManagedByAdministratorsAndTheirKeysNeverComeBack(store: Store) async throws {
        try await withFerry(store) { t in
            // Made: the key sealed, never returned.
            let input = LLMProviderInput(name: "vision", baseURL: "https://llm.example.com/v1/", model: "gpt-4o-mini", apiKey: "sk-secret-key-1")
            let created = try await t.request(.POST, "/api/llm/providers", json: input)
            #expect(created.status == .created, "\(created.body.string)")
            #expect(!created.body.string.contains("sk-secret-key-1"))
            let dto = try created.content.decode(LLMProviderDTO.self, using: JSONDecoder.ferry)
            #expect(dto.name == "vision" && dto.baseURL == "https://llm.example.com/v1" && dto.model == "gpt-4o-mini" && dto.active && dto.hasKey)
            let row = try #require(try await LLMProviderModel.find(dto.id, on: t.db))
            #expect(row.apiKeySealed != "sk-secret-key-1" && !row.apiKeySealed.contains("sk-secret"))
            #expect(try t.app.secretBox.open(row.apiKeySealed) == "sk-secret-key-1")
            for path in ["/api/llm/providers", "/api/llm/providers/\(dto.id)"] {
                let res = try await t.request(.GET, path)
                #expect(res.status == .ok && !res.body.string.contains("sk-secret-key-1") && !res.body.string.contains(row.apiKeySealed))
            }

            // Refused: invalid fields, each named; a name taken; nothing stored.
            let bad = try await t.request(.POST, "/api/llm/providers", json: LLMProviderInput(name: "", baseURL: "ftp://x", model: "", apiKey: nil))
            #expect(bad.status == .unprocessableEntity)
            let fields = Set((try bad.json()["errors"]?.listValue ?? []).compactMap { $0["field"]?.stringValue })
            #expect(fields == ["name", "baseURL", "model", "apiKey"], "\(bad.body.string)")
            let taken = try await t.request(.POST, "/api/llm/providers", json: LLMProviderInput(name: "vision", baseURL: "https://llm.example.com", model: "m", apiKey: "k"))
            #expect(taken.status == .conflict)
            #expect(try await LLMProviderModel.query(on: t.db).count() == 1)

            // An update without a key keeps it; with one, replaces it.
            let kept = try await t.request(.PUT, "/api/llm/providers/\(dto.id)", json: LLMProviderInput(name: "vision", baseURL: "https://llm.example.com/v2", model: "m2", active: false))
            #expect(kept.status == .ok, "\(kept.body.string)")
            let after = try #require(try await LLMProviderModel.find(dto.id, on: t.db))
            #expect(after.apiKeySealed == row.apiKeySealed && after.baseURL == "https://llm.example.com/v2" && after.model == "m2" && !after.active)
            _ = try await t.request(.PUT, "/api/llm/providers/\(dto.id)", json: LLMProviderInput(name: "vision", baseURL: "https://llm.example.com/v1", model: "m", apiKey: "sk-new", active: true))
            let replaced = try #require(try await LLMProviderModel.find(dto.id, on: t.db))
            #expect(try t.app.secretBox.open(replaced.apiKeySealed) == "sk-new")

            // Others: refused, whatever they hold.
            for role in [BuiltInRoles.viewer, BuiltInRoles.operator_] {
                let (_, token) = try await t.user("u-\(role)", roles: [role])
                #expect(try await t.request(.GET, "/api/llm/providers", headers: bearer(token)).status == .forbidden)
                #expect(try await t.request(.POST, "/api/llm/providers", json: input, headers: bearer(token)).status == .forbidden)
                #expect(try await t.request(.DELETE, "/api/llm/providers/\(dto.id)", headers: bearer(token)).status == .forbidden)
            }

            // A policy asks it for reviews; a paused provider or an unknown one can't be picked.
            let env = try await t.createEnvironment(sample("dev"))
            await t.app.syncCoordinator.wait(env.id)  // its first sync (of a closed port) ends first
            var policy = HealthPolicyInput(name: "Morning", environment: "dev", windowStart: 6, windowEnd: 9)
            policy.llmProvider = UUID()
            let unknown = try await t.request(.POST, "/api/health/policies", json: policy)
            #expect(unknown.status == .unprocessableEntity && unknown.body.string.contains("llmProvider"))
            policy.llmProvider = dto.id
            let made = try await t.request(.POST, "/api/health/policies", json: policy)
            #expect(made.status == .created, "\(made.body.string)")
            let policyDTO = try made.content.decode(HealthPolicyDTO.self, using: JSONDecoder.ferry)
            #expect(policyDTO.llmProvider == dto.id)

            // Where screenshots go is an administrator's choice: an operator (health:run, no
            // settings:admin) may not name the provider in a check, a task or a new policy, but
            // may save the policy that already has it.
            let (_, operatorToken) = try await t.user("op-llm", roles: [BuiltInRoles.operator_])
            let asOperator = bearer(operatorToken)
            let opCheck = try await t.request(.POST, "/api/health/checks", json: HealthAPI.StartInput(environment: "dev", render: false, llmProvider: dto.id), headers: asOperator)
            #expect(opCheck.status == .forbidden && opCheck.body.string.contains("settings:admin"), "\(opCheck.body.string)")
            let opTask = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: DashboardCheckPlugin.pluginID, params: .map([
                "environment": .string(env.id.key), "render": .bool(false), "llmProvider": .string(dto.id.key)])), headers: asOperator)
            #expect(opTask.status == .forbidden, "\(opTask.body.string)")
            var other = HealthPolicyInput(name: "Evening", environment: "dev", windowStart: 18, windowEnd: 20)
            other.llmProvider = dto.id
            #expect(try await t.request(.POST, "/api/health/policies", json: other, headers: asOperator).status == .forbidden)
            #expect(try await t.request(.PUT, "/api/health/policies/\(policyDTO.id)", json: policy, headers: asOperator).status == .ok)
            #expect(try await HealthPolicyModel.query(on: t.db).count() == 1)

            // Deleting it: refused while the policy uses it, naming the policy; then allowed.
            let inUse = try await t.request(.DELETE, "/api/llm/providers/\(dto.id)")
            #expect(inUse.status == .conflict && inUse.body.string.contains("Morning"), "\(inUse.body.string)")
            #expect(try await LLMProviderModel.find(dto.id, on: t.db) != nil)
            policy.llmProvider = nil
            #expect(try await t.request(.PUT, "/api/health/policies/\(policyDTO.id)", json: policy).status == .ok)
            #expect(try await t.request(.DELETE, "/api/llm/providers/\(dto.id)").status == .noContent)
            #expect(try await t.request(.GET, "/api/llm/providers/\(dto.id)").status == .notFound)

            // A check may name an active provider only.
            let check = try await t.request(.POST, "/api/health/checks", json: HealthAPI.StartInput(environment: "dev", render: false, llmProvider: dto.id))
            #expect(check.status == .unprocessableEntity && check.body.string.contains("llmProvider"))
        }
    }

    @Test(arguments: Store.available)
    func providersThroughTheForms(store: Store) async throws {
        try await withFerry(store) { t in
            var html = HTTPHeaders()
            html.replaceOrAdd(name: .accept, value: "text/html")
            let empty = try await t.request(.GET, "/admin/llm", headers: html)
            #expect(empty.status == .ok && empty.body.string.contains(#"data-testid="llm-none""#) && cspViolations(empty.body.string).isEmpty)

            // Added: the key never shown again.
            let made = try await t.request(.POST, "/admin/llm", headers: formHeaders(), body: formBody([
                ("name", "vision"), ("baseURL", "https://llm.example.com/v1"), ("model", "gpt-4o-mini"), ("apiKey", "sk-form-secret"),
                ("active", "false"), ("active", "true"),
            ]))
            #expect(made.status == .seeOther, "\(made.body.string)")
            #expect(made.headers.first(name: .location) == "/admin/llm?done=created")
            let row = try #require(try await LLMProviderModel.query(on: t.db).filter(\.$name == "vision").first())
            #expect(row.active && row.model == "gpt-4o-mini")
            let list = try await t.request(.GET, "/admin/llm?done=created", headers: html)
            #expect(Self.occurrences(#"data-testid="llm-row""#, in: list.body.string) == 1 && list.body.string.contains(#"data-testid="flash""#))
            #expect(!list.body.string.contains("sk-form-secret"))

            // Refused in the page's language: no key, a bad address; what was typed stays, no key echoed.
            var ru = formHeaders()
            ru.replaceOrAdd(name: .cookie, value: "ferry_lang=ru")
            let bad = try await t.request(.POST, "/admin/llm?lang=ru", headers: ru, body: formBody([
                ("name", "other"), ("baseURL", "llm.example.com"), ("model", "m"), ("apiKey", ""),
            ]))
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.body.string.contains("Новому провайдеру нужен API-ключ.") && bad.body.string.contains(#"value="llm.example.com""#), "\(bad.body.string)")
            #expect(try await LLMProviderModel.query(on: t.db).count() == 1)

            // Edited with the key left empty: kept.
            let sealed = row.apiKeySealed
            let page = try await t.request(.GET, "/admin/llm/\(row.id!.key)", headers: html)
            #expect(page.status == .ok && !page.body.string.contains("sk-form-secret") && page.body.string.contains(#"value="gpt-4o-mini""#))
            let edited = try await t.request(.POST, "/admin/llm/\(row.id!.key)", headers: formHeaders(), body: formBody([
                ("name", "vision"), ("baseURL", "https://llm.example.com/v2"), ("model", "gpt-4o"), ("apiKey", ""), ("active", "false"),
            ]))
            #expect(edited.status == .seeOther, "\(edited.body.string)")
            let after = try #require(try await LLMProviderModel.find(row.id, on: t.db))
            #expect(after.apiKeySealed == sealed && after.model == "gpt-4o" && !after.active)

            // A policy picks it in its form (when active); deleting the provider is refused then.
            _ = try await t.request(.PUT, "/api/llm/providers/\(row.id!.key)", json: LLMProviderInput(name: "vision", baseURL: "https://llm.example.com/v2", model: "gpt-4o", active: true))
            let env = try await t.createEnvironment(sample("dev"))
            await t.app.syncCoordinator.wait(env.id)
            let form = try await t.request(.GET, "/health/policies", headers: html)
            #expect(form.body.string.contains("<option value=\"\(row.id!.key)\">vision (gpt-4o)</option>"))
            let policy = try await t.request(.POST, "/health/policies", headers: formHeaders(), body: formBody([
                ("name", "Morning"), ("environment", env.id.key), ("windowStart", "6"), ("windowEnd", "9"), ("timeZone", "UTC"), ("everyMinutes", "15"),
                ("alert", "fail"), ("notifyOwners", "false"), ("render", "false"), ("active", "false"), ("active", "true"), ("llmProvider", row.id!.key),
            ]))
            #expect(policy.status == .seeOther, "\(policy.body.string)")
            let stored = try #require(try await HealthPolicyModel.query(on: t.db).filter(\.$name == "Morning").first())
            #expect(stored.llmProviderID == row.id)
            let refused = try await t.request(.POST, "/admin/llm/\(row.id!.key)/delete", headers: formHeaders())
            #expect(refused.status == .conflict && refused.body.string.contains(#"data-testid="llm-error""#) && refused.body.string.contains("Morning"))
            let usedBy = try await t.request(.GET, "/admin/llm/\(row.id!.key)", headers: html)
            #expect(usedBy.body.string.contains("Policies asking it for reviews: Morning"))
            try await HealthPolicyService.delete(stored, on: t.db)
            let deleted = try await t.request(.POST, "/admin/llm/\(row.id!.key)/delete", headers: formHeaders())
            #expect(deleted.status == .seeOther && deleted.headers.first(name: .location) == "/admin/llm?done=deleted")
            #expect(try await LLMProviderModel.find(row.id, on: t.db) == nil)
        }
    }
}
