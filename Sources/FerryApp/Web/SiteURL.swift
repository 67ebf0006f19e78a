import Foundation
import Vapor

/// A path parameter: `.key` when registering a route, `.value` when building a link.
enum Parameter<T: Sendable>: Sendable {
    case key
    case value(T)
}

/// Every route of Ferry, for registering handlers and for building links, so the two can't drift.
enum SiteURL: Sendable {
    case home
    case dashboards
    case dashboardPage(Parameter<UUID>)
    /// The charts and datasets hubs.
    case charts
    case datasets
    case environments
    case environmentNew
    case environmentEdit(Parameter<UUID>)
    case environmentUpdate(Parameter<UUID>)
    case environmentDelete(Parameter<UUID>)
    case environmentTest(Parameter<UUID>)
    case environmentSync(Parameter<UUID>)
    case tasksPage
    case activityPage
    case taskPage(Parameter<UUID>)
    case schedulesPage
    case scheduleTogglePage(Parameter<UUID>)
    case scheduleDeletePage(Parameter<UUID>)
    case taskCancelPage(Parameter<UUID>)
    case taskInputPage(Parameter<UUID>)
    case promotePage
    case planPage(Parameter<UUID>)
    case planApplyPage(Parameter<UUID>)
    /// Another database mapping for a plan's connections: saved, and the plan made again.
    case planRemapPage(Parameter<UUID>)
    case promotionsPage
    case promotionRollbackPage(Parameter<UUID>)
    case backupsPage
    case backupsEnvironmentPage(Parameter<UUID>)
    case backupRunPage(Parameter<UUID>)
    case backupUploadPage(Parameter<UUID>)
    case backupPolicyPage(Parameter<UUID>)
    case backupDiffPage
    case backupPage(Parameter<UUID>)
    case backupPinPage(Parameter<UUID>)
    case backupDeletePage(Parameter<UUID>)
    case backupVerifyPage(Parameter<UUID>)
    case backupRestorePage(Parameter<UUID>)
    case backupDownloadPage(Parameter<UUID>)
    case gitPage
    case gitHistoryPage
    case gitDiffPage
    case gitActionPage
    case gitDeployPage
    case gitRemotePage
    case healthPage
    case healthRunPage
    case healthCheckPage(Parameter<UUID>)
    case healthPoliciesPage
    case healthPolicyPage(Parameter<UUID>)
    case healthPolicyDeletePage(Parameter<UUID>)
    case healthPolicyRunPage(Parameter<UUID>)
    case wsTasks
    case wsTask(Parameter<UUID>)
    case login
    case logout
    case ssoStart
    case ssoCallback
    case profile
    case profilePassword
    case profileTokens
    case profileTokenRevoke(Parameter<UUID>)
    case usersPage
    case userPage(Parameter<UUID>)
    case rolesPage
    case rolePage(Parameter<UUID>)
    case roleDeletePage(Parameter<UUID>)
    case auditPage
    case ssoSettingsPage
    case ssoTestPage
    case channelsPage
    case channelPage(Parameter<UUID>)
    case channelDeletePage(Parameter<UUID>)
    case llmProvidersPage
    case llmProviderPage(Parameter<UUID>)
    case llmProviderDeletePage(Parameter<UUID>)
    case reportsPage
    case reportPage(Parameter<UUID>)
    case healthz
    case readyz
    case metrics
    case api(API)

    enum API: Sendable {
        case environments
        case environment(Parameter<UUID>)
        case environmentTest(Parameter<UUID>)
        case environmentTestUnsaved
        case environmentSync(Parameter<UUID>)
        case inventory(String)  // dashboards, charts, datasets, databases
        case openapi
        case version
        case plugins
        case tasks
        case task(Parameter<UUID>)
        case taskCancel(Parameter<UUID>)
        case taskInput(Parameter<UUID>)
        case taskLogs(Parameter<UUID>)
        case schedules
        case schedule(Parameter<UUID>)
        case promotionPlan
        case plan(Parameter<UUID>)
        case planApply(Parameter<UUID>)
        case promotions
        case promotion(Parameter<UUID>)
        case promotionRollback(Parameter<UUID>)
        case promotionHistory
        case mappings
        case mapping(Parameter<UUID>)
        case mappingSuggestions
        case backups
        case backup(Parameter<UUID>)
        case backupAssets(Parameter<UUID>)
        case backupDownload(Parameter<UUID>)
        case backupPin(Parameter<UUID>)
        case backupsUpload
        case backupsDiff
        case backupsVerify
        case backupPolicy
        case restores
        case gitDashboards
        case gitHistory
        case gitDiff
        case gitSnapshot
        case gitDrift
        case gitPush
        case gitPull
        case gitDeploy
        case gitRemote
        case healthChecks
        case healthCheck(Parameter<UUID>)
        case healthScreenshot(Parameter<UUID>)
        case healthPolicies
        case healthPolicy(Parameter<UUID>)
        case healthPolicyRun(Parameter<UUID>)
        case notificationChannels
        case notificationChannel(Parameter<UUID>)
        case llmProviders
        case llmProvider(Parameter<UUID>)
        case reports
        case report(Parameter<UUID>)
        case me
        case tokens
        case token(Parameter<UUID>)
        case users
        case user(Parameter<UUID>)
        case roles
        case role(Parameter<UUID>)
        case audit
        case ssoSettings
    }

    static let inventoryKinds = ["dashboards", "charts", "datasets", "databases"]

    var pathComponents: [PathComponent] {
        func id(_ p: Parameter<UUID>) -> PathComponent {
            switch p {
            case .key: return ":id"
            case .value(let v): return .constant(v.uuidString.lowercased())
            }
        }
        switch self {
        case .home: return []
        case .dashboards: return ["dashboards"]
        case .dashboardPage(let p): return ["dashboards", id(p)]
        case .charts: return ["charts"]
        case .datasets: return ["datasets"]
        case .environments: return ["environments"]
        case .environmentNew: return ["environments", "new"]
        case .environmentEdit(let p): return ["environments", id(p), "edit"]
        case .environmentUpdate(let p): return ["environments", id(p)]
        case .environmentDelete(let p): return ["environments", id(p), "delete"]
        case .environmentTest(let p): return ["environments", id(p), "test"]
        case .environmentSync(let p): return ["environments", id(p), "sync"]
        case .tasksPage: return ["tasks"]
        case .activityPage: return ["activity"]
        case .taskPage(let p): return ["tasks", id(p)]
        case .schedulesPage: return ["schedules"]
        case .scheduleTogglePage(let p): return ["schedules", id(p), "toggle"]
        case .scheduleDeletePage(let p): return ["schedules", id(p), "delete"]
        case .taskCancelPage(let p): return ["tasks", id(p), "cancel"]
        case .taskInputPage(let p): return ["tasks", id(p), "input"]
        case .promotePage: return ["promote"]
        case .planPage(let p): return ["promote", "plans", id(p)]
        case .planApplyPage(let p): return ["promote", "plans", id(p), "apply"]
        case .planRemapPage(let p): return ["promote", "plans", id(p), "remap"]
        case .promotionsPage: return ["promotions"]
        case .promotionRollbackPage(let p): return ["promotions", id(p), "rollback"]
        case .backupsPage: return ["backups"]
        case .backupsEnvironmentPage(let p): return ["backups", "environments", id(p)]
        case .backupRunPage(let p): return ["backups", "environments", id(p), "run"]
        case .backupUploadPage(let p): return ["backups", "environments", id(p), "upload"]
        case .backupPolicyPage(let p): return ["backups", "environments", id(p), "policy"]
        case .backupDiffPage: return ["backups", "diff"]
        case .backupPage(let p): return ["backups", id(p)]
        case .backupPinPage(let p): return ["backups", id(p), "pin"]
        case .backupDeletePage(let p): return ["backups", id(p), "delete"]
        case .backupVerifyPage(let p): return ["backups", id(p), "verify"]
        case .backupRestorePage(let p): return ["backups", id(p), "restore"]
        case .backupDownloadPage(let p): return ["backups", id(p), "download"]
        case .gitPage: return ["git"]
        case .gitHistoryPage: return ["git", "history"]
        case .gitDiffPage: return ["git", "diff"]
        case .gitActionPage: return ["git", "action"]
        case .gitDeployPage: return ["git", "deploy"]
        case .gitRemotePage: return ["git", "remote"]
        case .healthPage: return ["health"]
        case .healthRunPage: return ["health", "run"]
        case .healthCheckPage(let p): return ["health", "checks", id(p)]
        case .healthPoliciesPage: return ["health", "policies"]
        case .healthPolicyPage(let p): return ["health", "policies", id(p)]
        case .healthPolicyDeletePage(let p): return ["health", "policies", id(p), "delete"]
        case .healthPolicyRunPage(let p): return ["health", "policies", id(p), "run"]
        case .wsTasks: return ["ws", "tasks"]
        case .wsTask(let p): return ["ws", "tasks", id(p)]
        case .login: return ["login"]
        case .logout: return ["logout"]
        case .ssoStart: return ["sso", "start"]
        case .ssoCallback: return ["sso", "callback"]
        case .profile: return ["profile"]
        case .profilePassword: return ["profile", "password"]
        case .profileTokens: return ["profile", "tokens"]
        case .profileTokenRevoke(let p): return ["profile", "tokens", id(p), "revoke"]
        case .usersPage: return ["admin", "users"]
        case .userPage(let p): return ["admin", "users", id(p)]
        case .rolesPage: return ["admin", "roles"]
        case .rolePage(let p): return ["admin", "roles", id(p)]
        case .roleDeletePage(let p): return ["admin", "roles", id(p), "delete"]
        case .auditPage: return ["admin", "audit"]
        case .ssoSettingsPage: return ["admin", "sso"]
        case .ssoTestPage: return ["admin", "sso", "test"]
        case .channelsPage: return ["admin", "channels"]
        case .channelPage(let p): return ["admin", "channels", id(p)]
        case .channelDeletePage(let p): return ["admin", "channels", id(p), "delete"]
        case .llmProvidersPage: return ["admin", "llm"]
        case .llmProviderPage(let p): return ["admin", "llm", id(p)]
        case .llmProviderDeletePage(let p): return ["admin", "llm", id(p), "delete"]
        case .reportsPage: return ["reports"]
        case .reportPage(let p): return ["reports", id(p)]
        case .healthz: return ["healthz"]
        case .readyz: return ["readyz"]
        case .metrics: return ["metrics"]
        case .api(let api):
            switch api {
            case .environments: return ["api", "environments"]
            case .environment(let p): return ["api", "environments", id(p)]
            case .environmentTest(let p): return ["api", "environments", id(p), "test"]
            case .environmentTestUnsaved: return ["api", "environments", "test"]
            case .environmentSync(let p): return ["api", "environments", id(p), "sync"]
            case .inventory(let kind): return ["api", .constant(kind)]
            case .openapi: return ["api", "openapi.json"]
            case .version: return ["api", "version"]
            case .plugins: return ["api", "plugins"]
            case .tasks: return ["api", "tasks"]
            case .task(let p): return ["api", "tasks", id(p)]
            case .taskCancel(let p): return ["api", "tasks", id(p), "cancel"]
            case .taskInput(let p): return ["api", "tasks", id(p), "input"]
            case .taskLogs(let p): return ["api", "tasks", id(p), "logs"]
            case .schedules: return ["api", "schedules"]
            case .schedule(let p): return ["api", "schedules", id(p)]
            case .promotionPlan: return ["api", "promotions", "plan"]
            case .plan(let p): return ["api", "promotions", "plans", id(p)]
            case .planApply(let p): return ["api", "promotions", id(p), "apply"]
            case .promotions: return ["api", "promotions"]
            case .promotion(let p): return ["api", "promotions", id(p)]
            case .promotionRollback(let p): return ["api", "promotions", id(p), "rollback"]
            case .promotionHistory: return ["api", "promotions", "history"]
            case .mappings: return ["api", "mappings"]
            case .mapping(let p): return ["api", "mappings", id(p)]
            case .mappingSuggestions: return ["api", "mappings", "suggestions"]
            case .backups: return ["api", "backups"]
            case .backup(let p): return ["api", "backups", id(p)]
            case .backupAssets(let p): return ["api", "backups", id(p), "assets"]
            case .backupDownload(let p): return ["api", "backups", id(p), "download"]
            case .backupPin(let p): return ["api", "backups", id(p), "pin"]
            case .backupsUpload: return ["api", "backups", "upload"]
            case .backupsDiff: return ["api", "backups", "diff"]
            case .backupsVerify: return ["api", "backups", "verify"]
            case .backupPolicy: return ["api", "backups", "policy"]
            case .restores: return ["api", "restores"]
            case .gitDashboards: return ["api", "git", "dashboards"]
            case .gitHistory: return ["api", "git", "history"]
            case .gitDiff: return ["api", "git", "diff"]
            case .gitSnapshot: return ["api", "git", "snapshot"]
            case .gitDrift: return ["api", "git", "drift"]
            case .gitPush: return ["api", "git", "push"]
            case .gitPull: return ["api", "git", "pull"]
            case .gitDeploy: return ["api", "git", "deploy"]
            case .gitRemote: return ["api", "git", "remote"]
            case .healthChecks: return ["api", "health", "checks"]
            case .healthCheck(let p): return ["api", "health", "checks", id(p)]
            case .healthScreenshot(let p): return ["api", "health", "checks", id(p), "screenshot"]
            case .healthPolicies: return ["api", "health", "policies"]
            case .healthPolicy(let p): return ["api", "health", "policies", id(p)]
            case .healthPolicyRun(let p): return ["api", "health", "policies", id(p), "run"]
            case .notificationChannels: return ["api", "notifications", "channels"]
            case .notificationChannel(let p): return ["api", "notifications", "channels", id(p)]
            case .llmProviders: return ["api", "llm", "providers"]
            case .llmProvider(let p): return ["api", "llm", "providers", id(p)]
            case .reports: return ["api", "reports"]
            case .report(let p): return ["api", "reports", id(p)]
            case .me: return ["api", "me"]
            case .tokens: return ["api", "tokens"]
            case .token(let p): return ["api", "tokens", id(p)]
            case .users: return ["api", "users"]
            case .user(let p): return ["api", "users", id(p)]
            case .roles: return ["api", "roles"]
            case .role(let p): return ["api", "roles", id(p)]
            case .audit: return ["api", "audit"]
            case .ssoSettings: return ["api", "settings", "sso"]
            }
        }
    }

    /// The absolute path, for links.
    var path: String {
        "/" + pathComponents.map { component -> String in
            switch component {
            case .constant(let s): return s
            case .parameter(let s): return ":" + s
            case .anything: return "*"
            case .catchall: return "**"
            }
        }.joined(separator: "/")
    }

    /// The path with a query string: empty values left out, names sorted, and every byte but
    /// the unreserved ones (`A-Z a-z 0-9 - . _ ~`) and `/` percent-encoded, so a `+`, `&` or `=`
    /// in a value comes back as itself when the query is read as a form (and a return path reads
    /// as one: `/login?next=/environments`).
    func path(query: [String: String?]) -> String {
        let items = query.compactMap { k, v -> (String, String)? in
            guard let v, !v.isEmpty else { return nil }
            return (k, v)
        }.sorted { $0.0 < $1.0 }
        return Self.link(path: path, query: items)
    }

    /// `path` with `query` in the order given, names and values encoded as `path(query:)` says;
    /// no `?` when there is nothing to add.
    static func link(path: String, query: [(String, String)]) -> String {
        guard !query.isEmpty else { return path }
        var out = Array(path.utf8)
        for (i, (name, value)) in query.enumerated() {
            out.append(i == 0 ? 0x3F : 0x26) // ? or &
            PercentEncoding.encode(name, keepingSlash: true, into: &out)
            out.append(0x3D) // =
            PercentEncoding.encode(value, keepingSlash: true, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Every route is registered through these, which attach the route's entry of the access policy
/// (`SiteURL.access(_:)`); `AuthMiddleware` refuses a route that has none.
extension RoutesBuilder {
    @discardableResult
    func get<R: AsyncResponseEncodable>(_ url: SiteURL, use: @escaping @Sendable (Request) async throws -> R) -> Route {
        on(.GET, url.pathComponents, use: use).guarded(url, .GET)
    }

    @discardableResult
    func post<R: AsyncResponseEncodable>(_ url: SiteURL, body: HTTPBodyStreamStrategy = .collect, use: @escaping @Sendable (Request) async throws -> R) -> Route {
        let route = on(.POST, url.pathComponents, body: body, use: use).guarded(url, .POST)
        if case .collect(let max) = body, let max { route.userInfo[Route.bodyLimitKey] = max.value }
        return route
    }

    @discardableResult
    func put<R: AsyncResponseEncodable>(_ url: SiteURL, use: @escaping @Sendable (Request) async throws -> R) -> Route {
        on(.PUT, url.pathComponents, use: use).guarded(url, .PUT)
    }

    @discardableResult
    func delete<R: AsyncResponseEncodable>(_ url: SiteURL, use: @escaping @Sendable (Request) async throws -> R) -> Route {
        on(.DELETE, url.pathComponents, use: use).guarded(url, .DELETE)
    }
}

extension Route {
    /// The largest body the route collects, when it isn't the application's default.
    static let bodyLimitKey = "ferry.bodyLimit"

    /// Attaches the access policy's entry for `url` and `method`.
    @discardableResult
    func guarded(_ url: SiteURL, _ method: HTTPMethod) -> Route {
        userInfo[Access.userInfoKey] = url.access(method)
        return self
    }
}

extension Request {
    /// The `:id` path parameter as a UUID, or a 404 problem.
    func idParameter() throws -> UUID {
        guard let text = parameters.get("id"), let id = UUID(uuidString: text) else {
            throw AppError(.notFound, code: "not_found", key: "bad_id", ["id": parameters.get("id") ?? ""])
        }
        return id
    }
}
