import Foundation

extension HealthPolicyPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("health_policies.edit_title", ["name": model.name]) }
        var nav: NavItem? { .health }

        func content(_ l: Localizer) -> HTMLNode {
            let page = SiteURL.healthPolicyPage(.value(model.id)).path
            return H.group([
                H.el("div", [("class", "page-head")], [
                    H.el("h1", text: title),
                    H.a(SiteURL.healthPoliciesPage.path, l.t("health_policies.all"), [("class", "button"), ("data-testid", "policy-back")]),
                ]),
                HealthPolicyForm.view(model.editor, action: page, picker: page, canSave: model.canSave, l),
            ])
        }
    }
}
