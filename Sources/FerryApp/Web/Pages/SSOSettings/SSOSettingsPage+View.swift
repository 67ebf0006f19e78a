import Foundation
import SupersetKit

extension SSOSettingsPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("sso.title") }
        var nav: NavItem? { .sso }

        func content(_ l: Localizer) -> HTMLNode {
            let s = model.settings
            let groupLines = s.groupRoles.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value.joined(separator: ", "))" }.joined(separator: "\n")
            return H.group([
                H.el("h1", text: l.t("sso.title")),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                model.test.map { t in
                    H.el("div", [("class", "notice info"), ("data-testid", "sso-test-result")], [
                        H.el("strong", text: l.t("sso.test_result", ["user": t.username])),
                        H.el("p", text: l.t("sso.test_groups", ["groups": t.groups.isEmpty ? "-" : t.groups.joined(separator: ", ")])),
                        H.el("p", [("data-testid", "sso-test-roles")], text: t.roles.isEmpty ? l.t("sso.test_refused") : l.t("sso.test_roles", ["roles": t.roles.joined(separator: ", ")])),
                        H.el("pre", text: BundleValue.map(t.claims).jsonText()),
                    ])
                } ?? H.group([]),
                H.el("p", [], [H.text(l.t("sso.redirect_uri") + " "), H.el("code", [("data-testid", "redirect-uri")], text: s.redirectURI ?? "")]),
                H.el("form", [("method", "post"), ("action", SiteURL.ssoSettingsPage.path), ("class", "stacked"), ("data-testid", "sso-form")], [
                    model.error.map { Components.notice("error", title: l.t("sso.not_saved"), detail: $0, testID: "form-error") } ?? H.group([]),
                    Components.checkbox("enabled", label: l.t("sso.enabled"), checked: s.enabled),
                    Components.field("label", label: l.t("sso.label"), value: s.label),
                    Components.field("issuer", label: l.t("sso.issuer"), value: s.issuer, hint: l.t("sso.issuer_hint"), placeholder: "https://adfs.example.com/adfs"),
                    Components.field("clientID", label: l.t("sso.client_id"), value: s.clientID),
                    Components.field("clientSecret", label: l.t("sso.client_secret"), value: nil, type: "password",
                                     hint: l.t(s.hasClientSecret ? "sso.secret_set" : "sso.secret_unset"), autocomplete: "off"),
                    Components.field("scopes", label: l.t("sso.scopes"), value: s.scopes),
                    Components.field("usernameClaims", label: l.t("sso.username_claims"), value: s.usernameClaims.joined(separator: ", ")),
                    Components.field("emailClaim", label: l.t("sso.email_claim"), value: s.emailClaim),
                    Components.field("nameClaim", label: l.t("sso.name_claim"), value: s.nameClaim),
                    Components.field("groupsClaims", label: l.t("sso.groups_claims"), value: s.groupsClaims.joined(separator: ", ")),
                    H.el("div", [("class", "field")], [
                        H.el("label", [("for", "f-groupRoles")], text: l.t("sso.group_roles")),
                        H.el("textarea", [("id", "f-groupRoles"), ("name", "groupRoles"), ("rows", "5")], text: groupLines),
                        H.el("small", text: l.t("sso.group_roles_hint")),
                    ]),
                    Components.field("clockSkew", label: l.t("sso.clock_skew"), value: "\(s.clockSkew)", type: "number"),
                    H.el("div", [("class", "form-actions")], [
                        H.el("button", [("type", "submit"), ("class", "button primary")], text: l.t("profile.save")),
                        s.enabled ? H.a(SiteURL.ssoTestPage.path, l.t("sso.test"), [("class", "button"), ("data-testid", "sso-test")]) : H.group([]),
                    ]),
                ]),
            ])
        }
    }
}
