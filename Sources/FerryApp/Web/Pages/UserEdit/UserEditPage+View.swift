import Foundation

extension UserEditPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { model.user.username }
        var nav: NavItem? { .users }

        func content(_ l: Localizer) -> HTMLNode {
            let u = model.user
            return H.group([
                H.el("h1", text: u.username),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                model.error.map { Components.notice("error", title: l.t("users.not_saved"), detail: $0, testID: "form-error") } ?? H.group([]),
                H.el("p", [("class", "muted")], text: l.t(u.sso ? "users.sso" : "users.local")),
                H.el("form", [("method", "post"), ("action", SiteURL.userPage(.value(u.id)).path), ("class", "stacked"), ("data-testid", "user-edit-form")], [
                    Components.field("displayName", label: l.t("users.display_name"), value: u.displayName),
                    Components.field("supersetUsername", label: l.t("profile.superset_username"), value: u.supersetUsername),
                    RoleChoices.render(all: model.roles, chosen: u.roles, l),
                    u.sso ? H.el("p", [("class", "muted")], text: l.t("users.sso_roles_hint")) : H.group([]),
                    Components.checkbox("disabled", label: l.t("users.disabled"), checked: u.disabled),
                    u.sso ? H.group([]) : Components.field("password", label: l.t("profile.new_password"), value: nil, type: "password",
                                                           hint: l.t("users.password_hint"), autocomplete: "new-password"),
                    H.el("div", [("class", "form-actions")], [H.el("button", [("type", "submit"), ("class", "button primary")], text: l.t("profile.save"))]),
                ]),
            ])
        }
    }
}
