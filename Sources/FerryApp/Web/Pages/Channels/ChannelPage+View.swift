import Foundation

extension ChannelPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("channels.edit_title", ["name": model.channel.name]) }
        var nav: NavItem? { .channels }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("div", [("class", "page-head")], [
                    H.el("h1", text: title),
                    H.a(SiteURL.channelsPage.path, l.t("channels.all"), [("class", "button"), ("data-testid", "channel-back")]),
                ]),
                H.el("p", [("class", "muted"), ("data-testid", "channel-used-by")],
                     text: model.usedBy.isEmpty ? l.t("channels.unused") : l.t("channels.used_by", ["policies": model.usedBy.joined(separator: ", ")])),
                ChannelForm.view(model.editor, action: SiteURL.channelPage(.value(model.channel.id)).path, editing: true, l),
            ])
        }
    }
}
