import Fluent
import Foundation
import SupersetKit
import Vapor

/// The git history's pages: every environment's dashboards by drift (snapshot, drift check,
/// push, pull), one dashboard's history (compare, deploy a revision), a comparison, and the
/// remote's settings. Every check is made on the environments named, as in `GitAPI`; forms
/// post and redirect, and a refused form is shown again with why.
enum GitPages {
    static func register(_ app: Application) {
        app.get(.gitPage, use: overview)
        app.get(.gitHistoryPage, use: history)
        app.get(.gitDiffPage, use: diff)
        app.post(.gitActionPage, use: action)
        app.post(.gitDeployPage, use: deploy)
        app.get(.gitRemotePage, use: remote)
        app.post(.gitRemotePage, use: saveRemote)
    }

    // MARK: - Every environment

    /// The start page's model: counts by drift for every environment the viewer may read, the
    /// dashboards of `environment` (id or name; by default the first one) filtered and paged,
    /// and the remote.
    static func overviewModel(_ req: Request, environment: String?, drift: String, search: String, page: Int) async throws -> GitPage.Model {
        let (readable, selected) = try await req.readableEnvironments(selecting: environment)
        let filter = GitDriftStatus(rawValue: drift)
        var model = GitPage.Model(selected: selected?.id, drift: filter?.rawValue ?? "", search: search, page: page)
        let app = req.application
        let inventory = try await app.inventoryIndex.current(on: req.db, now: app.ferry.now())
        let counts = try await GitService.driftCounts(environments: readable.map(\.id), inventory: inventory, on: req.db)
        for env in readable {
            var row = GitPage.Model.EnvironmentRow(id: env.id, name: env.name, stage: env.stage)
            row.inSync = counts[env.id]?[.inSync] ?? 0
            row.changed = counts[env.id]?[.changed] ?? 0
            row.uncommitted = counts[env.id]?[.uncommitted] ?? 0
            row.canWrite = req.permits(.gitWrite, environment: env)
            model.environments.append(row)
        }
        if let selected {
            let first = (page - 1) * GitPage.Model.perPage
            let listed = try await GitService.dashboards(environment: selected, drift: filter, search: search, inventory: inventory,
                                                         range: first..<(first + GitPage.Model.perPage), on: req.db)
            model.total = listed.total
            model.dashboards = listed.items
        }
        let remote = try await req.application.gitHistory.remote!.load(on: req.db)
        model.remote = remote.isConfigured ? GitRemoteDTO(remote) : nil
        model.canPushPull = await req.permits(.gitWrite, environmentIDs: Array(try await req.environmentDirectory().byID.keys))
        model.canAdminRemote = req.principal?.can(.settingsAdmin) ?? false
        return model
    }

    @Sendable static func overview(req: Request) async throws -> Response {
        struct Q: Decodable { var environment: String?; var drift: String?; var search: String?; var page: Int? }
        let q = try req.decodeQuery(Q.self)
        let paging = try Paging(page: q.page, perPage: GitPage.Model.perPage)
        let search = String((q.search ?? "").prefix(255))
        let model = try await overviewModel(req, environment: q.environment, drift: q.drift ?? "", search: search, page: paging.page)
        return req.page(GitPage.View(model: model, localizer: req.localizer))
    }

    /// Queues a snapshot or drift check of one environment (`git:write` on it), or a push or
    /// pull (`git:write` on every environment), and opens its task.
    @Sendable static func action(req: Request) async throws -> Response {
        struct Form: Decodable { var action: String?; var environment: String? }
        let f = try req.content.decode(Form.self)
        let action = f.action ?? ""
        var params: [String: BundleValue] = [:]
        var env: EnvironmentRef?
        switch action {
        case "snapshot", "drift":
            let named = try await req.environmentNamed(f.environment, field: "environment")
            try req.authorize(.gitWrite, environment: named)
            params["environment"] = .string(named.id.key)
            env = named
        case "push", "pull":
            try await req.authorizeEveryEnvironment(.gitWrite)
        default:
            throw AppError.validation([FieldError(field: "action", code: "invalid", message: req.localizer.t("git.action_invalid"))])
        }
        let plugin = "git.\(action)"
        req.audit.action = plugin
        do {
            let task = try await req.application.taskEngine.submit(pluginID: plugin, params: .map(params), user: req.userName, on: req.db)
            return req.redirect(to: SiteURL.taskPage(.value(task.id!)).path, redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict || e.status == .tooManyRequests
            || e.status == .serviceUnavailable {
            var model = try await overviewModel(req, environment: env?.id.key, drift: "", search: "", page: 1)
            model.actionError = req.localizer.problemText(e)
            return req.page(GitPage.View(model: model, localizer: req.localizer), status: e.status)
        }
    }

    // MARK: - One dashboard

    /// The history page's model: a page of revisions (one more is read to know whether older
    /// ones follow), the environments to compare with, and where a revision may be deployed.
    static func historyModel(_ req: Request, env: EnvironmentRef, row: GitDashboardModel, page: Int) async throws -> GitHistoryPage.Model {
        let perPage = GitHistoryPage.Model.perPage
        var model = GitHistoryPage.Model(environmentID: env.id, environment: env.name, dashboard: GitDashboardDTO(row, environment: env.name), page: page)
        do {
            let revisions = try await req.application.gitHistory.history(of: row, limit: perPage + 1, skip: (page - 1) * perPage)
            model.revisions = revisions.prefix(perPage).map { GitRevisionDTO($0) }
            model.hasMore = revisions.count > perPage
        } catch let f as GitFailure {
            model.historyError = req.localizer.failureText(f)
        }
        let directory = try await req.environmentDirectory()
        model.others = req.environments(.inventoryRead, in: directory).filter { $0.id != env.id }.map { .init(id: $0.id, name: $0.name) }
        model.canDeploy = req.permits(.promotePlan, environment: env)
        if model.canDeploy {
            model.deployTargets = req.environments(.promotePlan, in: directory).map { .init(id: $0.id, name: $0.name) }
        }
        return model
    }

    @Sendable static func history(req: Request) async throws -> Response {
        struct Q: Decodable { var environment: String?; var dashboard: String?; var page: Int?; var revision: String? }
        let q = try req.decodeQuery(Q.self)
        let env = try await req.environmentNamed(q.environment, field: "environment")
        try req.authorize(.inventoryRead, environment: env)
        let paging = try Paging(page: q.page, perPage: GitHistoryPage.Model.perPage)
        let row = try await GitService.committed(q.dashboard ?? "", in: env, on: req.db)
        var model = try await historyModel(req, env: env, row: row, page: paging.page)
        if let revision = q.revision?.trimmingCharacters(in: .whitespaces), GitRepository.isRevision(revision) { model.deploy.revision = revision }
        return req.page(GitHistoryPage.View(model: model, localizer: req.localizer))
    }

    /// Plans a promotion whose source is the picked revision of the dashboard (`promote:plan`
    /// on the source and the target) and opens the plan to review and apply. A refused form is
    /// shown again on the dashboard's history page with why.
    @Sendable static func deploy(req: Request) async throws -> Response {
        struct Form: Decodable { var revision: String?; var source: String?; var target: String?; var dashboards: [String]?; var acceptUnknownVersion: String? }
        let f = try req.content.decode(Form.self)
        let app = req.application
        let input = DeployInput(revision: f.revision, source: f.source, target: f.target, dashboards: f.dashboards,
                                acceptUnknownVersion: f.acceptUnknownVersion == "true")
        do {
            let plan = try await PromotionService.deploy(input, git: app.gitHistory, user: req.userName, engine: app.taskEngine, now: app.ferry.now(),
                                                         newID: app.ferry.uuid(), on: req.db, authorize: req.authorizePlan)
            return req.redirect(to: SiteURL.planPage(.value(plan.id!)).path, redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict || e.status == .tooManyRequests
            || e.status == .serviceUnavailable {
            // Shown on the history page when the form names a readable, committed dashboard; else the error page.
            guard let source = f.source, let dashboard = f.dashboards?.first,
                  let env = try? await req.environmentNamed(source, field: "source"), req.permits(.inventoryRead, environment: env),
                  let row = try? await GitService.committed(dashboard, in: env, on: req.db) else { throw e }
            var model = try await historyModel(req, env: env, row: row, page: 1)
            model.deploy = .init(revision: f.revision ?? "", target: f.target ?? "")
            let (errors, message) = BackupPages.fieldErrors(e, known: ["revision", "target"], req.localizer)
            model.deployErrors = errors
            model.deployError = message
            return req.page(GitHistoryPage.View(model: model, localizer: req.localizer), status: e.status)
        }
    }

    // MARK: - A comparison

    /// Compares a dashboard between two sides (`from` and `to`: revisions or `live`), in one
    /// environment or against `toEnvironment`'s folder; by default its last commit against
    /// Superset now. What stops the comparison is shown on the page.
    @Sendable static func diff(req: Request) async throws -> Response {
        struct Q: Decodable { var environment: String?; var dashboard: String?; var from: String?; var to: String?; var toEnvironment: String? }
        let q = try req.decodeQuery(Q.self)
        let (env, other) = try await req.comparedEnvironments(q.environment, q.toEnvironment)
        let named = String((q.dashboard ?? "").prefix(255))
        var model = GitDiffPage.Model(environmentID: env.id, environment: env.name, dashboard: named, title: named)
        var status: HTTPResponseStatus = .ok
        do {
            let row = try await GitService.committed(q.dashboard ?? "", in: env, on: req.db)
            model.dashboard = row.dashboardUUID
            model.title = row.title
            model.diff = try await req.gitDiff(row, env, other, from: q.from, to: q.to)
        } catch let e as AppError where e.status != .unauthorized && e.status != .forbidden {
            model.error = req.localizer.problemText(e)
            status = e.status
        } catch let f as GitFailure {
            model.error = req.localizer.failureText(f)
            status = .internalServerError
        }
        return req.page(GitDiffPage.View(model: model, localizer: req.localizer), status: status)
    }

    // MARK: - The remote

    static func remoteModel(_ req: Request) async throws -> GitRemotePage.Model {
        let dto = GitRemoteDTO(try await req.application.gitHistory.remote!.load(on: req.db))
        return GitRemotePage.Model(form: .init(dto), hasSecret: dto.hasSecret, configured: !dto.url.isEmpty)
    }

    @Sendable static func remote(req: Request) async throws -> Response {
        var model = try await remoteModel(req)
        let done = try? req.query.get(String.self, at: "done")
        model.flash = done == "saved" ? req.localizer.t("git_remote.flash_saved") : done == "removed" ? req.localizer.t("git_remote.flash_removed") : nil
        return req.page(GitRemotePage.View(model: model, localizer: req.localizer))
    }

    /// Saves the remote (an empty secret keeps the stored one; the token field or the key
    /// field, as the sign-in asks), or forgets it (`action=remove`).
    @Sendable static func saveRemote(req: Request) async throws -> Response {
        struct Form: Decodable {
            var action: String?
            var url: String?
            var auth: String?
            var username: String?
            var secret: String?
            var secretKey: String?
            var branch: String?
            var pushAfterCommit: [String]?
        }
        let f = try req.content.decode(Form.self)
        let app = req.application
        let store = app.gitHistory.remote!
        if f.action == "remove" {
            req.audit.action = "settings.git_remote.remove"
            try await store.clear(on: req.db)
            return req.redirect(to: SiteURL.gitRemotePage.path(query: ["done": "removed"]), redirectType: .normal)
        }
        req.audit.action = "settings.git_remote"
        let l = req.localizer
        let typed = GitRemotePage.Model.Form(url: f.url ?? "", auth: f.auth ?? GitRemoteAuth.none.rawValue, username: f.username ?? "",
                                             branch: f.branch ?? "", pushAfterCommit: f.pushAfterCommit?.contains("true") ?? false)
        do {
            guard let auth = GitRemoteAuth(rawValue: typed.auth) else {
                throw AppError.validation([FieldError(field: "auth", code: "invalid", message: l.t("git_remote.auth_invalid"))])
            }
            func given(_ s: String?) -> String? { s.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 } }
            // Left empty, the stored secret is kept.
            let secret = auth == .ssh ? given(f.secretKey) ?? given(f.secret) : given(f.secret) ?? given(f.secretKey)
            let branch = typed.branch.trimmingCharacters(in: .whitespaces)
            let input = GitRemoteInput(url: typed.url, auth: auth, username: typed.username, branch: branch.isEmpty ? "main" : branch,
                                       pushAfterCommit: typed.pushAfterCommit, secret: secret)
            _ = try await store.save(input, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
            return req.redirect(to: SiteURL.gitRemotePage.path(query: ["done": "saved"]), redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity {
            var model = try await remoteModel(req)
            model.form = typed
            let (errors, message) = BackupPages.fieldErrors(e, known: ["url", "auth", "username", "secret", "branch"], l)
            model.errors = errors
            model.error = message
            return req.page(GitRemotePage.View(model: model, localizer: l), status: e.status)
        }
    }
}
