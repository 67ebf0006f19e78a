import Foundation

extension EnvironmentFormPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t(model.id == nil ? "environment_form.add_title" : "environment_form.edit_title") }
        var nav: NavItem? { .environments }

        func content(_ l: Localizer) -> HTMLNode {
            let action = model.id.map { SiteURL.environmentUpdate(.value($0)).path } ?? SiteURL.environments.path
            let stages = Stage.allCases.map { (value: $0.rawValue, label: l.t("stage.\($0.rawValue)")) }
            let providers = [(value: "db", label: l.t("environment_form.provider.db")), (value: "ldap", label: l.t("environment_form.provider.ldap"))]
            return H.group([
                H.el("h1", text: title),
                model.formError.map { Components.notice("error", title: l.t("environment_form.not_saved"), detail: $0, testID: "form-error") }
                    ?? (model.errors.isEmpty ? H.group([]) : Components.notice("error", title: l.t("environment_form.not_saved"), detail: l.t("environment_form.fix_fields"), testID: "form-error")),
                H.el("form", [("method", "post"), ("action", action), ("class", "stacked"), ("data-testid", "environment-form")], [
                    Components.field("name", label: l.t("environment_form.name"), value: model.name, required: true, error: model.errors["name"]),
                    Components.field("url", label: l.t("environment_form.url"), value: model.url, type: "url", required: true,
                                     hint: l.t("environment_form.url_hint"), error: model.errors["url"], placeholder: "https://superset.example.com"),
                    Components.select("stage", label: l.t("environment_form.stage"), options: stages, selected: model.stage, error: model.errors["stage"]),
                    Components.select("authProvider", label: l.t("environment_form.provider"), options: providers, selected: model.authProvider,
                                      error: model.errors["authProvider"]),
                    Components.field("username", label: l.t("environment_form.username"), value: model.username, required: true,
                                     error: model.errors["username"], autocomplete: "off"),
                    Components.field("password", label: l.t("environment_form.password"), value: nil, type: "password", required: model.id == nil,
                                     hint: l.t(model.id == nil ? "environment_form.password_hint_new" : "environment_form.password_hint_edit"),
                                     error: model.errors["password"], autocomplete: "new-password"),
                    Components.checkbox("verifyTLS", label: l.t("environment_form.verify_tls"), checked: model.verifyTLS),
                    Components.field("parallelRequests", label: l.t("environment_form.parallel_requests"), value: model.parallelRequests, type: "number",
                                     required: true, hint: l.t("environment_form.parallel_requests_hint"), error: model.errors["parallelRequests"]),
                    Components.checkbox("isDefault", label: l.t("environment_form.is_default"), checked: model.isDefault),
                    H.el("div", [("class", "form-actions")], [
                        H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "save")], text: l.t("environment_form.save")),
                        H.a(SiteURL.environments.path, l.t("environment_form.cancel"), [("class", "button")]),
                    ]),
                ]),
            ])
        }
    }
}
