extension ErrorPage {
    struct View: PageView {
        let model: Model
        var title: String { model.title }
        var nav: NavItem? { nil }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: model.title),
                Components.notice("error", title: "\(model.status) · \(model.title)", detail: model.detail, testID: "error"),
                H.a("/", l.t("error.back_home")),
            ])
        }
    }
}
