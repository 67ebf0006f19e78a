import Foundation

extension ProfilePage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("profile.title") }
        var nav: NavItem? { nil }

        func content(_ l: Localizer) -> HTMLNode {
            let u = model.user
            return H.group([
                H.el("h1", text: l.t("profile.title")),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                model.error.map { Components.notice("error", title: l.t("profile.not_saved"), detail: $0, testID: "form-error") } ?? H.group([]),
                H.el("p", [("data-testid", "profile-roles")], text: l.t("profile.roles", ["roles": u.roles.isEmpty ? "-" : u.roles.joined(separator: ", ")])),
                H.el("form", [("method", "post"), ("action", SiteURL.profile.path), ("class", "stacked"), ("data-testid", "profile-form")], [
                    Components.field("displayName", label: l.t("users.display_name"), value: u.displayName),
                    Components.select("language", label: l.t("profile.language"),
                                      options: [("", l.t("profile.language_auto"))] + Localizer.languages.map { ($0, l.t("language.\($0)")) },
                                      selected: u.language ?? ""),
                    Components.field("supersetUsername", label: l.t("profile.superset_username"), value: u.supersetUsername,
                                     hint: l.t("profile.superset_username_hint")),
                    H.el("div", [("class", "form-actions")], [H.el("button", [("type", "submit"), ("class", "button primary")], text: l.t("profile.save"))]),
                ]),
                u.sso ? H.el("p", [("class", "muted")], text: l.t("profile.sso_password")) : H.group([
                    H.el("h2", text: l.t("profile.password")),
                    H.el("form", [("method", "post"), ("action", SiteURL.profilePassword.path), ("class", "stacked"), ("data-testid", "password-form")], [
                        Components.field("current", label: l.t("profile.current_password"), value: nil, type: "password", required: true,
                                         autocomplete: "current-password"),
                        Components.field("new", label: l.t("profile.new_password"), value: nil, type: "password", required: true,
                                         hint: l.t("profile.password_hint"), autocomplete: "new-password"),
                        H.el("div", [("class", "form-actions")], [H.el("button", [("type", "submit"), ("class", "button")], text: l.t("profile.change_password"))]),
                    ]),
                ]),
                H.el("h2", text: l.t("tokens.title")),
                model.newToken.map { token in
                    H.el("div", [("class", "notice success"), ("role", "status")], [
                        H.el("strong", text: l.t("tokens.created")),
                        H.el("p", [], [H.el("code", [("data-testid", "new-token")], text: token)]),
                    ])
                } ?? H.group([]),
                model.tokens.isEmpty ? H.el("p", [("class", "empty")], text: l.t("tokens.none")) : tokenTable(l),
                H.el("form", [("method", "post"), ("action", SiteURL.profileTokens.path), ("class", "stacked"), ("data-testid", "token-form")], [
                    Components.field("name", label: l.t("tokens.name"), value: nil, required: true, placeholder: "ci-promote"),
                    Components.field("scopes", label: l.t("tokens.scopes"), value: nil, hint: l.t("tokens.scopes_hint", ["all": model.permissions.joined(separator: " ")])),
                    Components.field("expiresInDays", label: l.t("tokens.expires_days"), value: String(model.tokenPolicy.defaultDays), type: "number",
                                     hint: l.t("tokens.expires_hint", ["days": String(model.tokenPolicy.defaultDays), "max": String(model.tokenPolicy.maxDays)])),
                    H.el("div", [("class", "form-actions")], [H.el("button", [("type", "submit"), ("class", "button")], text: l.t("tokens.create"))]),
                ]),
            ])
        }

        func tokenTable(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "tokens")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("tokens.name")), H.el("th", text: l.t("tokens.prefix")), H.el("th", text: l.t("tokens.scopes")),
                    H.el("th", text: l.t("tokens.expires")), H.el("th", text: l.t("tokens.last_used")), H.el("th", text: l.t("environments.col.actions")),
                ])]),
                H.el("tbody", [], model.tokens.map { t in
                    H.el("tr", [("data-token", t.name)], [
                        H.el("td", text: t.name), H.el("td", [], [H.el("code", text: t.prefix + "…")]),
                        H.el("td", [], [H.el("small", text: t.scopes.joined(separator: " "))]),
                        H.el("td", [], [Components.time(t.expiresAt, l)]), H.el("td", [], [Components.time(t.lastUsedAt, l)]),
                        H.el("td", [("class", "actions")], [
                            t.revokedAt != nil ? H.el("span", [("class", "badge")], text: l.t("tokens.revoked")) :
                                H.el("form", [("method", "post"), ("action", SiteURL.profileTokenRevoke(.value(t.id)).path), ("class", "inline"),
                                              ("data-confirm", l.t("tokens.revoke_confirm", ["name": t.name]))], [
                                    H.el("button", [("type", "submit"), ("class", "button danger")], text: l.t("tokens.revoke")),
                                ]),
                        ]),
                    ])
                }),
            ])
        }
    }
}
