import Foundation

extension GitRemotePage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("git_remote.title") }
        var nav: NavItem? { .git }

        func content(_ l: Localizer) -> HTMLNode {
            let f = model.form
            let auths = [
                (value: GitRemoteAuth.none.rawValue, label: l.t("git_remote.auth_none")),
                (value: GitRemoteAuth.token.rawValue, label: l.t("git_remote.auth_token")),
                (value: GitRemoteAuth.ssh.rawValue, label: l.t("git_remote.auth_ssh")),
            ]
            let secretHint = l.t(model.hasSecret ? "git_remote.secret_set" : "git_remote.secret_unset")
            return H.group([
                H.el("p", [], [H.a(SiteURL.gitPage.path, "← " + l.t("git.title"), [("data-testid", "git-back")])]),
                H.el("h1", text: l.t("git_remote.title")),
                H.el("p", [("class", "muted")], text: l.t("git_remote.lead")),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                H.el("form", [("method", "post"), ("action", SiteURL.gitRemotePage.path), ("class", "stacked"), ("data-testid", "git-remote-form")], [
                    model.error.map { Components.notice("error", title: l.t("git_remote.not_saved"), detail: $0, testID: "form-error") } ?? H.group([]),
                    Components.field("url", label: l.t("git_remote.url"), value: f.url, hint: l.t("git_remote.url_hint"), error: model.errors["url"],
                                     placeholder: "https://git.example.com/team/ferry.git", autocomplete: "off"),
                    Components.select("auth", label: l.t("git_remote.auth"), options: auths, selected: f.auth, error: model.errors["auth"]),
                    Components.field("username", label: l.t("git_remote.username"), value: f.username, hint: l.t("git_remote.username_hint"),
                                     error: model.errors["username"], autocomplete: "off"),
                    H.el("fieldset", [("class", model.errors["secret"] == nil ? "field" : "field invalid"), ("data-testid", "git-remote-secret")], [
                        H.el("legend", text: l.t("git_remote.secret")),
                        H.el("p", [("class", "muted"), ("data-testid", "git-remote-secret-state")], text: secretHint),
                        H.el("label", [("for", "f-secret")], text: l.t("git_remote.token")),
                        H.void("input", [("id", "f-secret"), ("name", "secret"), ("type", "password"), ("autocomplete", "new-password"),
                                         ("aria-invalid", model.errors["secret"] == nil ? nil : "true")]),
                        H.el("label", [("for", "f-secretKey")], text: l.t("git_remote.ssh_key")),
                        H.el("textarea", [("id", "f-secretKey"), ("name", "secretKey"), ("rows", "5"), ("autocomplete", "off"), ("spellcheck", "false"),
                                          ("placeholder", "-----BEGIN OPENSSH PRIVATE KEY-----")], text: ""),
                        H.el("small", text: l.t("git_remote.secret_hint")),
                        model.errors["secret"].map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
                    ]),
                    Components.field("branch", label: l.t("git_remote.branch"), value: f.branch, error: model.errors["branch"], placeholder: "main"),
                    Components.checkbox("pushAfterCommit", label: l.t("git_remote.push_after_commit"), checked: f.pushAfterCommit),
                    H.el("div", [("class", "form-actions")], [
                        H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "git-remote-save")], text: l.t("environment_form.save")),
                    ]),
                ]),
                model.configured ? H.el("form", [("method", "post"), ("action", SiteURL.gitRemotePage.path), ("class", "inline"),
                                                 ("data-confirm", l.t("git_remote.remove_confirm")), ("data-testid", "git-remote-remove-form")], [
                    H.void("input", [("type", "hidden"), ("name", "action"), ("value", "remove")]),
                    H.el("button", [("type", "submit"), ("class", "button danger"), ("data-testid", "git-remote-remove")], text: l.t("git_remote.remove")),
                ]) : H.group([]),
            ])
        }
    }
}
