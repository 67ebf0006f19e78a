import Foundation

/// The add / edit form of an LLM provider, shared by the providers page (add) and a provider's
/// page (edit). The API key is a password field that is never filled in: left empty on an
/// edit, the stored key is kept.
enum LLMProviderForm {
    /// What the form holds: a stored provider, the defaults, or what was sent (never a key).
    struct Model: Equatable {
        var name = ""
        var baseURL = ""
        var model = ""
        var active = true
        /// The stored provider has a key; an empty key field keeps it.
        var hasKey = false
    }

    struct State: Equatable {
        var form = Model()
        /// Field name to message (in the page's language).
        var errors: [String: String] = [:]
        /// Why it wasn't saved, when no field is to blame.
        var formError: String?
    }

    /// The form posting to `action`.
    static func view(_ s: State, action: String, _ l: Localizer) -> HTMLNode {
        let f = s.form
        let e = s.errors
        let notice: HTMLNode = s.formError.map { Components.notice("error", title: l.t("llm.not_saved"), detail: $0, testID: "form-error") }
            ?? (e.isEmpty ? H.group([]) : Components.notice("error", title: l.t("llm.not_saved"), detail: l.t("environment_form.fix_fields"), testID: "form-error"))
        return H.el("form", [("method", "post"), ("action", action), ("class", "stacked"), ("data-testid", "llm-form")], [
            notice,
            Components.field("name", label: l.t("llm.name"), value: f.name, required: true, error: e["name"]),
            Components.field("baseURL", label: l.t("llm.base_url"), value: f.baseURL, type: "url", required: true, hint: l.t("llm.base_url_hint"),
                             error: e["baseURL"], placeholder: "https://llm.example.com/v1"),
            Components.field("model", label: l.t("llm.model"), value: f.model, required: true, hint: l.t("llm.model_hint"), error: e["model"],
                             placeholder: "gpt-4o-mini"),
            Components.field("apiKey", label: l.t("llm.api_key"), value: nil, type: "password", required: !f.hasKey,
                             hint: l.t(f.hasKey ? "llm.api_key_kept" : "llm.api_key_hint"), error: e["apiKey"], autocomplete: "new-password"),
            Components.checkbox("active", label: l.t("llm.active_label"), checked: f.active),
            H.el("div", [("class", "form-actions")], [
                H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "save-llm")], text: l.t("environment_form.save")),
                H.a(SiteURL.llmProvidersPage.path, l.t("environment_form.cancel"), [("class", "button")]),
            ]),
        ])
    }

    /// A field error from the domain in the page's language (its own words when unknown).
    static func message(_ e: FieldError, _ l: Localizer) -> String {
        switch (e.field, e.code) {
        case ("name", "taken"): return l.t("llm.error.name_taken")
        case ("name", _): return l.t("llm.error.name")
        case ("baseURL", _): return l.t("llm.error.base_url")
        case ("model", _): return l.t("llm.error.model")
        case ("apiKey", "required"): return l.t("llm.error.api_key_required")
        case ("apiKey", _): return l.t("llm.error.api_key")
        case ("active", _): return l.t("llm.error.active")
        default: return l.fieldText(e)
        }
    }
}

extension LLMProviderForm.Model {
    /// A stored provider (its key only as "one is stored").
    init(_ p: LLMProviderDTO) {
        self.init(name: p.name, baseURL: p.baseURL, model: p.model, active: p.active, hasKey: p.hasKey)
    }
}
