import Foundation

extension RolesPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("roles.title") }
        var nav: NavItem? { .roles }

        func content(_ l: Localizer) -> HTMLNode {
            let action = model.editing.map { SiteURL.rolePage(.value($0.id)).path } ?? SiteURL.rolesPage.path
            return H.group([
                H.el("h1", text: l.t("roles.title")),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                H.el("table", [("class", "grid"), ("data-testid", "roles")], [
                    H.el("thead", [], [H.el("tr", [], [
                        H.el("th", text: l.t("roles.name")), H.el("th", text: l.t("roles.grants")), H.el("th", text: l.t("environments.col.actions")),
                    ])]),
                    H.el("tbody", [], model.roles.map { r in
                        H.el("tr", [("data-role", r.name)], [
                            H.el("td", [], [H.el("strong", text: r.name), H.void("br", []), H.el("small", text: r.description)]),
                            H.el("td", [], [H.el("small", [("data-field", "grants")], text: r.grants.joined(separator: " "))]),
                            H.el("td", [("class", "actions")], [
                                H.a(SiteURL.rolePage(.value(r.id)).path, l.t("environments.edit"), [("class", "button")]),
                                r.builtin ? H.group([]) : H.el("form", [("method", "post"), ("action", SiteURL.roleDeletePage(.value(r.id)).path),
                                                                        ("class", "inline"), ("data-confirm", l.t("roles.delete_confirm", ["name": r.name]))], [
                                    H.el("button", [("type", "submit"), ("class", "button danger")], text: l.t("environments.delete")),
                                ]),
                            ]),
                        ])
                    }),
                ]),
                H.el("h2", text: model.editing.map { l.t("roles.edit", ["name": $0.name]) } ?? l.t("roles.add")),
                H.el("form", [("method", "post"), ("action", action), ("class", "stacked"), ("data-testid", "role-form")], [
                    model.error.map { Components.notice("error", title: l.t("roles.not_saved"), detail: $0, testID: "form-error") } ?? H.group([]),
                    Components.field("name", label: l.t("roles.name"), value: model.form.name, required: true),
                    Components.field("description", label: l.t("roles.description"), value: model.form.description),
                    H.el("div", [("class", "field")], [
                        H.el("label", [("for", "f-grants")], text: l.t("roles.grants")),
                        H.el("textarea", [("id", "f-grants"), ("name", "grants"), ("rows", "8")], text: model.form.grants),
                        H.el("small", text: l.t("roles.grants_hint", ["all": model.permissions.joined(separator: " ")])),
                    ]),
                    H.el("div", [("class", "form-actions")], [H.el("button", [("type", "submit"), ("class", "button primary")], text: l.t("profile.save"))]),
                ]),
            ])
        }
    }
}
