import Foundation
import Vapor

/// What every page gives the layout.
protocol PageView {
    var title: String { get }
    var nav: NavItem? { get }
    func content(_ l: Localizer) -> HTMLNode
}

enum NavItem: String, CaseIterable {
    case dashboards, environments, promotions, backups, git, health, reports, tasks, schedules, users, roles, audit, sso, channels, llm

    var url: SiteURL {
        switch self {
        case .dashboards: return .dashboards
        case .environments: return .environments
        case .promotions: return .promotionsPage
        case .backups: return .backupsPage
        case .git: return .gitPage
        case .health: return .healthPage
        case .tasks: return .tasksPage
        case .schedules: return .schedulesPage
        case .users: return .usersPage
        case .roles: return .rolesPage
        case .audit: return .auditPage
        case .sso: return .ssoSettingsPage
        case .channels: return .channelsPage
        case .reports: return .reportsPage
        case .llm: return .llmProvidersPage
        }
    }

    /// Shown only to users whom the page's route would let in.
    var permission: Permission? {
        if case .permission(let p) = url.access(.GET) { return p }
        return nil
    }
}

/// Who is signed in, as the layout shows them: name and what they may open.
struct PageUser: Sendable, Equatable {
    var name: String
    var permissions: Set<Permission>
    /// Dashboards whose latest check FAILed in the environments the user may read: the red
    /// count beside "Health".
    var healthFailures: Int = 0
    /// The user's unfinished tasks, and those of them waiting for input: the activity count.
    var activeTasks: Int = 0
    var awaitingInput: Int = 0
}

/// Where the page is shown: language, path (for the language switcher) and who is signed in.
struct PageContext: Sendable {
    var localizer: Localizer
    var path: String
    var query: [String: String]
    /// nil on the sign-in page and other pages seen before signing in.
    var user: PageUser?
    /// The token every POST form carries: the session's, or the sign-in form's own.
    var csrf: String?
}

/// The shared shell: head, navigation, the user's place and the language switcher.
/// A pure function of the page and its context.
enum Layout {
    static func render(_ page: PageView, context: PageContext) -> String {
        String(decoding: document(page, context: context), as: UTF8.self)
    }

    /// The document as UTF-8; every POST form's hidden field carries the context's token.
    static func document(_ page: PageView, context: PageContext) -> [UInt8] {
        var writer = HTMLWriter(csrfToken: context.csrf ?? "")
        let l = context.localizer
        // The title may carry a Superset name (a dashboard's history): escaped, quotes too, as
        // it is also an attribute value.
        let title = H.escape("\(page.title) · Ferry")
        writer.writeMarkup("<!DOCTYPE html><html lang=\"\(l.language)\"><head><meta charset=\"UTF-8\"/><title>\(title)</title>")
        writer.writeMarkup("<meta name=\"twitter:title\" content=\"\(title)\"/><meta property=\"og:title\" content=\"\(title)\"/>")
        writer.writeMarkup("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>")
        writer.writeMarkup("<link rel=\"stylesheet\" href=\"/css/ferry.css\" type=\"text/css\"/><link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"/>")
        writer.writeMarkup("<script type=\"module\" src=\"/js/ferry.js\"></script></head>")
        writer.write(H.el("body", [], [
            H.a("#main", l.t("layout.skip"), [("class", "skip-link")]),
            header(page, context: context),
            H.el("main", [("id", "main")], [page.content(l)]),
            H.el("footer", [], [H.text(l.t("layout.footer"))]),
        ]))
        writer.writeMarkup("</html>")
        return writer.bytes
    }

    static func header(_ page: PageView, context: PageContext) -> HTMLNode {
        let l = context.localizer
        let visible = NavItem.allCases.filter { item in item.permission.map { context.user?.permissions.contains($0) ?? false } ?? false }
        let links = visible.map { item -> HTMLNode in
            let attributes = [("class", item == page.nav ? "active" : nil), ("aria-current", item == page.nav ? "page" : nil)]
            if item == .health, let failures = context.user?.healthFailures, failures > 0 {
                let label = l.t("nav.health_failures", ["count": String(failures)])
                return H.el("a", [("href", item.url.path)] + attributes + [("aria-label", "\(l.t("nav.health")), \(label)")], [
                    H.text(l.t("nav.health")),
                    H.el("span", [("class", "nav-count"), ("data-testid", "nav-health-failures"), ("title", label)], text: String(failures)),
                ])
            }
            return H.a(item.url.path, l.t("nav.\(item.rawValue)"), attributes)
        }
        let languages = Localizer.languages.map { lang -> HTMLNode in
            var query = context.query
            query["lang"] = lang
            // The path as asked for, with one leading slash (`//host/x` would be a link off-site).
            let link = SiteURL.link(path: "/" + context.path.drop(while: { $0 == "/" }),
                                    query: query.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            return H.a(link, l.t("language.\(lang)"), [("lang", lang), ("class", lang == l.language ? "active" : nil), ("data-lang", lang)])
        }
        return H.el("header", [("class", "topbar")], [
            H.a("/", "Ferry", [("class", "brand")]),
            H.el("nav", [("aria-label", l.t("nav.label"))], links),
            H.el("div", [("class", "user"), ("data-testid", "user")], context.user.map { user in [
                activity(user, l),
                H.a(SiteURL.profile.path, user.name, [("data-testid", "profile-link")]),
                H.el("form", [("method", "post"), ("action", SiteURL.logout.path), ("class", "inline")], [
                    H.el("button", [("type", "submit"), ("class", "link"), ("data-testid", "logout")], text: l.t("auth.sign_out")),
                ]),
            ] } ?? [H.a(SiteURL.login.path, l.t("auth.sign_in"))]),
            H.el("div", [("class", "languages"), ("aria-label", l.t("language.label"))], languages),
        ])
    }

    /// The activity button (the count of the user's unfinished tasks, amber when one waits for
    /// input) and its drawer, filled by ferry.js from `/activity`. Without JavaScript the button
    /// is a link to the tasks page.
    static func activity(_ user: PageUser, _ l: Localizer) -> HTMLNode {
        guard user.permissions.contains(.tasksRead) else { return H.group([]) }
        let label = l.t("activity.label", ["count": String(user.activeTasks)])
        return H.group([
            H.el("a", [("href", SiteURL.tasksPage.path), ("class", "activity-toggle"), ("data-activity-toggle", SiteURL.activityPage.path),
                       ("aria-controls", "activity-drawer"), ("aria-expanded", "false"), ("aria-label", label), ("data-testid", "activity-toggle")], [
                H.text(l.t("activity.title")),
                H.el("span", [("class", user.awaitingInput > 0 ? "nav-count awaiting" : "nav-count"), ("data-testid", "activity-count"),
                              ("hidden", user.activeTasks > 0 ? nil : "")], text: String(user.activeTasks)),
            ]),
            H.el("aside", [("id", "activity-drawer"), ("class", "drawer"), ("hidden", ""), ("aria-label", l.t("activity.title")),
                           ("data-testid", "activity-drawer")], [
                H.el("div", [("class", "drawer-head")], [
                    H.el("h2", text: l.t("activity.title")),
                    H.el("button", [("type", "button"), ("class", "link"), ("data-activity-close", ""), ("data-testid", "activity-close")], text: l.t("activity.close")),
                ]),
                H.el("div", [("data-activity-body", ""), ("aria-live", "polite")], [H.el("p", [("class", "muted")], text: l.t("activity.loading"))]),
            ]),
        ])
    }

    /// A complete HTML response for a request.
    static func response(_ page: PageView, request: Request) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .html
        let bytes = document(page, context: request.pageContext)
        return Response(status: .ok, headers: headers, body: .init(buffer: request.byteBufferAllocator.buffer(bytes: bytes)))
    }
}

extension Request {
    /// `view` as a complete HTML response with `status`.
    func page(_ view: PageView, status: HTTPResponseStatus = .ok) -> Response {
        let response = Layout.response(view, request: self)
        response.status = status
        return response
    }

    /// `page` for forms that name where secrets go (channels, LLM providers): never cached.
    func secretFormPage(_ view: PageView, status: HTTPResponseStatus = .ok) -> Response {
        let response = page(view, status: status)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    var pageContext: PageContext {
        // Form-encoded, as a GET form sends it: "+" is a space (URLComponents would keep it a
        // plus, and the language links would then search for "a+b").
        var query: [String: String] = [:]
        for pair in (url.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            let name = decode(parts[0])
            guard name != "lang", !name.isEmpty else { continue }
            query[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        var csrf = storage[FormTokenKey.self]
        if case .session(_, let token)? = principal?.credential { csrf = token }
        let user = principal.map { PageUser(name: $0.displayName, permissions: Set($0.grants.map(\.permission)), healthFailures: storage[HealthFailuresKey.self] ?? 0,
                                              activeTasks: storage[ActiveTasksKey.self]?.active ?? 0, awaitingInput: storage[ActiveTasksKey.self]?.awaiting ?? 0) }
        return PageContext(localizer: localizer, path: url.path, query: query, user: user, csrf: csrf)
    }
}

/// The CSRF token of a form shown before signing in (the sign-in form), kept in a cookie too.
struct FormTokenKey: StorageKey { typealias Value = String }
