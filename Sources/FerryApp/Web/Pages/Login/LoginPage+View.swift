import Foundation

extension LoginPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("auth.sign_in") }
        var nav: NavItem? { nil }

        func content(_ l: Localizer) -> HTMLNode {
            H.el("section", [("class", "login")], [
                H.el("h1", text: l.t("auth.sign_in")),
                model.noAccounts ? Components.notice("info", title: l.t("auth.no_accounts"), detail: l.t("auth.no_accounts_hint"), testID: "no-accounts") : H.group([]),
                model.error.map { Components.notice("error", title: l.t("auth.failed"), detail: $0, testID: "login-error") } ?? H.group([]),
                H.el("form", [("method", "post"), ("action", SiteURL.login.path), ("class", "stacked"), ("data-testid", "login-form")], [
                    H.void("input", [("type", "hidden"), ("name", "next"), ("value", model.next)]),
                    Components.field("username", label: l.t("auth.username"), value: model.username, required: true, autocomplete: "username"),
                    Components.field("password", label: l.t("auth.password"), value: nil, type: "password", required: true, autocomplete: "current-password"),
                    H.el("div", [("class", "form-actions")], [
                        H.el("button", [("type", "submit"), ("class", "button primary")], text: l.t("auth.sign_in")),
                    ]),
                ]),
                model.sso.map { label in
                    H.el("p", [("class", "sso")], [
                        H.a(SiteURL.ssoStart.path(query: ["next": model.next]), l.t("auth.sso_with", ["provider": label]),
                            [("class", "button"), ("data-testid", "sso-login")]),
                    ])
                } ?? H.group([]),
            ])
        }
    }
}
