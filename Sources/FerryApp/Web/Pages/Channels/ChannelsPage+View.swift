import Foundation

extension ChannelsPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("channels.title") }
        var nav: NavItem? { .channels }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: l.t("channels.title")),
                H.el("p", [("class", "muted")], text: l.t("channels.lead")),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                model.error.map { Components.notice("error", title: l.t("channels.not_deleted"), detail: $0, testID: "channel-error") } ?? H.group([]),
                model.channels.isEmpty ? H.el("p", [("class", "empty"), ("data-testid", "channels-none")], text: l.t("channels.none")) : table(l),
                H.el("h2", [("id", "add-channel")], text: l.t("channels.add")),
                ChannelForm.view(model.editor, action: SiteURL.channelsPage.path, editing: false, l),
            ])
        }

        func table(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "channels")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("channels.name")), H.el("th", text: l.t("channels.kind")), H.el("th", text: l.t("channels.language")),
                    H.el("th", text: l.t("channels.col.state")), H.el("th", text: l.t("channels.col.secret")), H.el("th", text: l.t("channels.col.updated")),
                    H.el("th", text: l.t("environments.col.actions")),
                ])]),
                H.el("tbody", [], model.channels.map { c -> HTMLNode in
                    let page = SiteURL.channelPage(.value(c.id)).path
                    return H.el("tr", [("data-testid", "channel-row"), ("data-channel", c.name)], [
                        H.el("td", [], [H.a(page, c.name, [("data-testid", "channel-link")])]),
                        H.el("td", [], [H.el("span", [("class", "badge"), ("data-kind", c.kind.rawValue)], text: ChannelForm.kindText(c.kind, l))]),
                        H.el("td", text: l.t("language.\(c.language)")),
                        H.el("td", [], [
                            H.el("span", [("class", c.active ? "badge status-succeeded" : "badge"), ("data-testid", "channel-state")],
                                 text: l.t(c.active ? "channels.active" : "channels.paused")),
                        ]),
                        H.el("td", [("data-testid", "channel-secret")], text: l.t(c.hasSecret ? "channels.secret_yes" : "channels.secret_no")),
                        H.el("td", [], [Components.time(c.updatedAt, l)]),
                        H.el("td", [("class", "actions")], [
                            H.a(page, l.t("environments.edit"), [("class", "button"), ("data-testid", "channel-edit")]),
                            H.el("form", [("method", "post"), ("action", SiteURL.channelDeletePage(.value(c.id)).path), ("class", "inline"),
                                          ("data-confirm", l.t("channels.delete_confirm", ["name": c.name]))], [
                                H.el("button", [("type", "submit"), ("class", "button danger"), ("data-testid", "channel-delete")], text: l.t("environments.delete")),
                            ]),
                        ]),
                    ])
                }),
            ])
        }
    }
}
