import Foundation

extension LLMProviderPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("llm.edit_title", ["name": model.provider.name]) }
        var nav: NavItem? { .llm }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("div", [("class", "page-head")], [
                    H.el("h1", [], [H.text(title + " "), LLMProviderPage.stateBadge(model.provider.active, l)]),
                    H.a(SiteURL.llmProvidersPage.path, l.t("llm.all"), [("class", "button"), ("data-testid", "llm-back")]),
                ]),
                H.el("p", [("class", "muted"), ("data-testid", "llm-used-by")],
                     text: model.usedBy.isEmpty ? l.t("llm.unused") : l.t("llm.used_by", ["policies": model.usedBy.joined(separator: ", ")])),
                LLMProviderForm.view(model.editor, action: SiteURL.llmProviderPage(.value(model.provider.id)).path, l),
                H.el("div", [("class", "form-actions")], [LLMProviderPage.deleteForm(model.provider, l)]),
            ])
        }
    }
}
