import Foundation
import Plot
import Vapor

/// What every page gives the layout.
protocol PageView {
    var title: String { get }
    var nav: NavItem? { get }
    func content(_ l: Localizer) -> HTMLNode
}

enum NavItem: String, CaseIterable {
    case dashboards, environments, promotions, tasks, schedules

    var url: SiteURL {
        switch self {
        case .dashboards: return .dashboards
        case .environments: return .environments
        case .promotions: return .promotionsPage
        case .tasks: return .tasksPage
        case .schedules: return .schedulesPage
        }
    }
}

/// Where the page is shown: language, path (for the language switcher) and who is signed in.
struct PageContext: Sendable {
    var localizer: Localizer
    var path: String
    var query: [String: String]
    /// nil until accounts exist (the accounts issue adds sign-in).
    var user: String?
}

/// The shared shell: head, navigation, the user's place and the language switcher.
/// A pure function of the page and its context.
enum Layout {
    static func render(_ page: PageView, context: PageContext) -> String {
        let l = context.localizer
        let html = HTML(
            .lang(Language(rawValue: l.language) ?? .english),
            .head(
                .encoding(.utf8),
                .title("\(page.title) · Ferry"),
                .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
                .stylesheet("/css/ferry.css"),
                .link(.rel(.icon), .href("/favicon.svg"), .type("image/svg+xml")),
                .element(named: "script", nodes: [.attribute(named: "type", value: "module"), .attribute(named: "src", value: "/js/ferry.js")])
            ),
            .body(
                header(page, context: context),
                H.el("main", [("id", "main")], [page.content(l)]),
                H.el("footer", [], [.text(l.t("layout.footer"))])
            )
        )
        return html.render()
    }

    static func header(_ page: PageView, context: PageContext) -> HTMLNode {
        let l = context.localizer
        let links = NavItem.allCases.map { item in
            H.a(item.url.path, l.t("nav.\(item.rawValue)"), [("class", item == page.nav ? "active" : nil), ("aria-current", item == page.nav ? "page" : nil)])
        }
        let languages = Localizer.languages.map { lang -> HTMLNode in
            var query = context.query
            query["lang"] = lang
            let href = context.path + "?" + query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? "")" }.joined(separator: "&")
            return H.a(href, l.t("language.\(lang)"), [("lang", lang), ("class", lang == l.language ? "active" : nil), ("data-lang", lang)])
        }
        return H.el("header", [("class", "topbar")], [
            H.a("/", "Ferry", [("class", "brand")]),
            H.el("nav", [("aria-label", l.t("nav.label"))], links),
            H.el("div", [("class", "user"), ("data-testid", "user")], [.text(context.user ?? l.t("layout.anonymous"))]),
            H.el("div", [("class", "languages"), ("aria-label", l.t("language.label"))], languages),
        ])
    }

    /// A complete HTML response for a request.
    static func response(_ page: PageView, request: Request) -> Response {
        let body = render(page, context: request.pageContext)
        var headers = HTTPHeaders()
        headers.contentType = .html
        return Response(status: .ok, headers: headers, body: .init(string: body))
    }
}

extension Request {
    var pageContext: PageContext {
        var query: [String: String] = [:]
        for item in URLComponents(string: url.string)?.queryItems ?? [] where item.name != "lang" {
            query[item.name] = item.value ?? ""
        }
        return PageContext(localizer: localizer, path: url.path, query: query, user: nil)
    }
}
