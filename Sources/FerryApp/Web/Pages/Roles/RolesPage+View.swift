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
                    H.void("input", [("type", "hidden"), ("name", "matrix"), ("value", "1")]),
                    // What the text form showed: the matrix's Save keeps a change made there alone.
                    H.void("input", [("type", "hidden"), ("name", "original"), ("value", model.form.grants)]),
                    matrix(l),
                    H.el("div", [("class", "form-actions")], [
                        H.el("button", [("type", "submit"), ("name", "source"), ("value", "matrix"), ("class", "button primary"), ("data-testid", "save-matrix")],
                             text: l.t("profile.save")),
                    ]),
                    H.el("details", [("class", "grants-text"), ("data-testid", "grants-text")], [
                        H.el("summary", text: l.t("roles.as_text")),
                        H.el("div", [("class", "field")], [
                            H.el("label", [("for", "f-grants")], text: l.t("roles.grants")),
                            H.el("textarea", [("id", "f-grants"), ("name", "grants"), ("rows", "8")], text: model.form.grants),
                            H.el("small", text: l.t("roles.grants_hint", ["all": model.permissions.joined(separator: " ")])),
                        ]),
                        H.el("button", [("type", "submit"), ("name", "source"), ("value", "text"), ("class", "button"), ("data-testid", "save-text")],
                             text: l.t("roles.save_text")),
                    ]),
                ]),
            ])
        }

        /// A checkbox per permission; beside each one that may be limited, its scope: stages
        /// and environments picked from lists (none picked: every environment).
        func matrix(_ l: Localizer) -> HTMLNode {
            let stages = model.stages
            let scopeEnvironments = model.scopeEnvironments
            return H.el("table", [("class", "grid matrix"), ("data-testid", "role-matrix")], [
                H.el("caption", [("class", "muted")], text: l.t("roles.matrix_caption")),
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", [("scope", "col")], text: l.t("roles.permission")), H.el("th", [("scope", "col")], text: l.t("roles.scope")),
                ])]),
                H.el("tbody", [], model.matrix.enumerated().map { i, row in
                    let p = row.permission.rawValue
                    return H.el("tr", [("data-permission", p)], [
                        H.el("th", [("scope", "row")], [
                            H.el("label", [("class", "checkbox")], [
                                H.void("input", [("type", "checkbox"), ("name", "g\(i)"), ("value", "on"), ("checked", H.flag(row.granted)),
                                                 ("data-testid", "grant-\(p)")]),
                                H.text(" "), H.el("code", text: p),
                            ]),
                            H.el("small", [("class", "muted")], text: l.t("permission.\(p)")),
                        ]),
                        H.el("td", [], row.permission.isGlobal
                            ? [H.el("span", [("class", "muted")], text: l.t("roles.scope_global"))]
                            : [
                                H.el("fieldset", [("class", "scope")], [
                                    H.el("legend", [("class", "visually-hidden")], text: l.t("roles.scope_of", ["permission": p])),
                                    H.el("span", [("class", "muted")], text: l.t("roles.scope_stages") + " "),
                                    H.group(stages.map { stage in
                                        H.el("label", [("class", "checkbox")], [
                                            H.void("input", [("type", "checkbox"), ("name", "s\(i)"), ("value", stage), ("checked", H.flag(row.stages.contains(stage))),
                                                             ("data-testid", "stage-\(p)-\(stage)")]),
                                            H.text(" " + stage),
                                        ])
                                    }),
                                    scopeEnvironments.isEmpty ? H.group([]) : H.group([
                                        H.el("span", [("class", "muted")], text: " " + l.t("roles.scope_environments") + " "),
                                        H.group(scopeEnvironments.map { env in
                                            H.el("label", [("class", env.missing ? "checkbox missing" : "checkbox")], [
                                                H.void("input", [("type", "checkbox"), ("name", "e\(i)"), ("value", env.id.uuidString.lowercased()),
                                                                 ("checked", H.flag(row.environments.contains(env.id))), ("data-testid", "env-\(p)-\(env.name)")]),
                                                H.text(" " + (env.missing ? l.t("roles.missing_environment", ["id": env.name]) : env.name)),
                                            ])
                                        }),
                                    ]),
                                    row.granted && !row.limited ? H.el("small", [("class", "muted")], text: " " + l.t("roles.scope_all")) : H.group([]),
                                ]),
                            ]),
                    ])
                }),
            ])
        }
    }
}
