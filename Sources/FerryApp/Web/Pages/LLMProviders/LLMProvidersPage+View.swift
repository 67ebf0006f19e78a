import Foundation

extension LLMProvidersPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("llm.title") }
        var nav: NavItem? { .llm }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: l.t("llm.title")),
                H.el("p", [("class", "muted")], text: l.t("llm.lead")),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                model.error.map { Components.notice("error", title: l.t("llm.not_deleted"), detail: $0, testID: "llm-error") } ?? H.group([]),
                model.providers.isEmpty ? H.el("p", [("class", "empty"), ("data-testid", "llm-none")], text: l.t("llm.none")) : table(l),
                H.el("h2", [("id", "add-llm")], text: l.t("llm.add")),
                LLMProviderForm.view(model.editor, action: SiteURL.llmProvidersPage.path, l),
            ])
        }

        func table(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "llm-providers")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("llm.name")), H.el("th", text: l.t("llm.base_url")), H.el("th", text: l.t("llm.model")),
                    H.el("th", text: l.t("llm.col.state")), H.el("th", text: l.t("llm.col.key")), H.el("th", text: l.t("llm.col.updated")),
                    H.el("th", text: l.t("environments.col.actions")),
                ])]),
                H.el("tbody", [], model.providers.map { p -> HTMLNode in
                    let page = SiteURL.llmProviderPage(.value(p.id)).path
                    return H.el("tr", [("data-testid", "llm-row"), ("data-llm", p.name)], [
                        H.el("td", [], [H.a(page, p.name, [("data-testid", "llm-link")])]),
                        H.el("td", [], [H.el("code", [("data-testid", "llm-base-url")], text: p.baseURL)]),
                        H.el("td", [], [H.el("code", [("data-testid", "llm-model")], text: p.model)]),
                        H.el("td", [], [LLMProviderPage.stateBadge(p.active, l)]),
                        H.el("td", [("data-testid", "llm-key")], text: l.t(p.hasKey ? "llm.key_yes" : "llm.key_no")),
                        H.el("td", [], [Components.time(p.updatedAt, l)]),
                        H.el("td", [("class", "actions")], [
                            H.a(page, l.t("environments.edit"), [("class", "button"), ("data-testid", "llm-edit")]),
                            LLMProviderPage.deleteForm(p, l),
                        ]),
                    ])
                }),
            ])
        }
    }
}
