import Foundation

extension UsersPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("users.title") }
        var nav: NavItem? { .users }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: l.t("users.title")),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                H.el("table", [("class", "grid"), ("data-testid", "users")], [
                    H.el("thead", [], [H.el("tr", [], [
                        H.el("th", text: l.t("auth.username")), H.el("th", text: l.t("users.display_name")), H.el("th", text: l.t("users.roles")),
                        H.el("th", text: l.t("users.kind")), H.el("th", text: l.t("users.last_login")), H.el("th", text: l.t("environments.col.actions")),
                    ])]),
                    H.el("tbody", [], model.users.map { u in
                        H.el("tr", [("data-user", u.username)], [
                            H.el("td", [], [H.el("strong", text: u.username),
                                            u.disabled ? H.el("span", [("class", "badge")], text: l.t("users.disabled")) : H.group([]),
                                            u.locked ? H.el("span", [("class", "badge status-failed")], text: l.t("users.locked")) : H.group([])]),
                            H.el("td", text: u.displayName),
                            H.el("td", [("data-field", "roles")], text: u.roles.joined(separator: ", ")),
                            H.el("td", text: l.t(u.sso ? "users.sso" : "users.local")),
                            H.el("td", [], [Components.time(u.lastLoginAt, l)]),
                            H.el("td", [("class", "actions")], [H.a(SiteURL.userPage(.value(u.id)).path, l.t("environments.edit"), [("class", "button")])]),
                        ])
                    }),
                ]),
                H.el("h2", text: l.t("users.add")),
                H.el("form", [("method", "post"), ("action", SiteURL.usersPage.path), ("class", "stacked"), ("data-testid", "user-form")], [
                    model.error.map { Components.notice("error", title: l.t("users.not_saved"), detail: $0, testID: "form-error") } ?? H.group([]),
                    Components.field("username", label: l.t("auth.username"), value: model.form.username, required: true, autocomplete: "off"),
                    Components.field("displayName", label: l.t("users.display_name"), value: model.form.displayName),
                    Components.field("password", label: l.t("auth.password"), value: nil, type: "password", required: true,
                                     hint: l.t("profile.password_hint"), autocomplete: "new-password"),
                    RoleChoices.render(all: model.roles, chosen: model.form.roles, l),
                    H.el("div", [("class", "form-actions")], [H.el("button", [("type", "submit"), ("class", "button primary")], text: l.t("users.add"))]),
                ]),
            ])
        }
    }
}

/// Checkboxes for choosing roles.
enum RoleChoices {
    static func render(all: [String], chosen: [String], _ l: Localizer) -> HTMLNode {
        H.el("fieldset", [("class", "field"), ("data-testid", "role-choices")], [
            H.el("legend", text: l.t("users.roles")),
        ] + all.map { role in
            H.el("label", [("class", "checkbox")], [
                H.void("input", [("type", "checkbox"), ("name", "roles[]"), ("value", role), ("checked", H.flag(chosen.contains(role)))]),
                H.text(" " + role),
            ])
        })
    }
}
