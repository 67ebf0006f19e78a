import Foundation

/// One LLM provider's form (its key never shown) and the policies asking it for reviews.
enum LLMProviderPage {
    struct Model: Equatable {
        var provider: LLMProviderDTO
        var editor: LLMProviderForm.State
        /// The names of the health policies whose checks it reviews.
        var usedBy: [String] = []
    }

    /// Active or paused, as a badge.
    static func stateBadge(_ active: Bool, _ l: Localizer) -> HTMLNode {
        H.el("span", [("class", active ? "badge status-succeeded" : "badge"), ("data-testid", "llm-state"), ("data-active", active ? "true" : "false")],
             text: l.t(active ? "llm.active" : "llm.paused"))
    }

    /// The delete button, which asks first.
    static func deleteForm(_ p: LLMProviderDTO, _ l: Localizer) -> HTMLNode {
        H.el("form", [("method", "post"), ("action", SiteURL.llmProviderDeletePage(.value(p.id)).path), ("class", "inline"),
                      ("data-confirm", l.t("llm.delete_confirm", ["name": p.name]))], [
            H.el("button", [("type", "submit"), ("class", "button danger"), ("data-testid", "llm-delete")], text: l.t("environments.delete")),
        ])
    }
}
