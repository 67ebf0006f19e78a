import Fluent
import Foundation
import SupersetKit
import Vapor

/// The dashboards search page.
enum DashboardsPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.dashboards, use: search)
        routes.get(.dashboardPage(.key), use: dashboard)
        routes.get(.charts) { req in try await assets(req: req, kind: .chart) }
        routes.get(.datasets) { req in try await assets(req: req, kind: .dataset) }
    }

    /// The charts or datasets hub: one page of the inventory's search, as the API answers it.
    @Sendable static func assets(req: Request, kind: AssetKind) async throws -> Response {
        let query = try InventoryAPI.query(req, kind: kind)
        let result = try await InventorySearch.run(query, index: req.application.inventoryIndex, on: req.db, now: req.application.ferry.now())
        let model = AssetsPage.Model(
            kind: kind, search: query.search ?? "", owner: query.owner ?? "", environment: query.environment ?? "",
            environments: result.environments, items: result.items, page: result.page, perPage: result.perPage, total: result.total)
        return Layout.response(AssetsPage.View(model: model, localizer: req.localizer), request: req)
    }

    @Sendable static func search(req: Request) async throws -> Response {
        var query = try InventoryAPI.query(req, kind: .dashboard)
        // `git=in_sync|changed|uncommitted` keeps the dashboards of that drift, `health=pass|warn|
        // fail|unchecked` those whose latest check says so (anything else: all).
        let git = (try? req.query.get(String.self, at: "git")).flatMap(GitDriftStatus.init(rawValue:))
        let health = (try? req.query.get(String.self, at: "health")).flatMap { $0 == "unchecked" || HealthStatus(rawValue: $0) != nil ? $0 : nil }
        let app = req.application
        var result: InventoryPage
        let drift: [String: GitDriftStatus]
        let latest: [String: HealthMatrixRow.Run]
        if git != nil || health != nil {
            // Filtered before paging: every match is read, then one page of those that pass kept.
            let (page, perPage) = (query.page, query.perPage)
            query.page = 1
            query.perPage = Paging.maxPage
            result = try await InventorySearch.run(query, index: app.inventoryIndex, on: req.db, now: app.ferry.now())
            let environments = Array(Set(result.items.map(\.environmentId)))
            drift = try await GitService.driftByDashboard(environments: environments, on: req.db)
            latest = try await HealthService.latestByDashboard(environments: environments, on: req.db)
            let kept = result.items.filter {
                (git == nil || DashboardsPage.Model.gitStatus($0, in: drift) == git) && DashboardsPage.Model.healthMatches($0, filter: health ?? "", in: latest)
            }
            result.items = Array(kept.dropFirst((page - 1) * perPage).prefix(perPage))
            result.page = page
            result.perPage = perPage
            result.total = kept.count
        } else {
            result = try await InventorySearch.run(query, index: app.inventoryIndex, on: req.db, now: app.ferry.now())
            let environments = Array(Set(result.items.map(\.environmentId)))
            drift = try await GitService.driftByDashboard(environments: environments, dashboards: result.items.compactMap { $0.uuid?.lowercased() },
                                                          on: req.db)
            latest = try await HealthService.latestByDashboard(of: result.items, on: req.db)
        }
        // Grants limited by stage are decided on the stored environments (the index's copy may
        // be a moment old when another process changed one).
        let directory = try await req.environmentDirectory()
        let refs = result.environments.compactMap { directory.byID[$0.id] }
        var model = DashboardsPage.Model(
            search: query.search ?? "", owner: query.owner ?? "", mine: query.ownerUsername != nil, supersetUsername: req.principal?.supersetUsername,
            canAddEnvironment: req.principal?.can(.environmentsWrite) ?? false, environment: query.environment ?? "", environments: result.environments,
            items: result.items, page: result.page, perPage: result.perPage, total: result.total, git: git?.rawValue ?? "", gitDrift: drift)
        model.health = health ?? ""
        model.latestCheck = latest
        model.promotable = Set(refs.filter { req.permits(.promotePlan, environment: $0) }.map(\.id))
        model.checkable = Set(refs.filter { req.permits(.healthRun, environment: $0) }.map(\.id))
        model.backupable = Set(refs.filter { req.permits(.backupRun, environment: $0) }.map(\.id))
        return Layout.response(DashboardsPage.View(model: model, localizer: req.localizer), request: req)
    }

    /// One dashboard (by uuid) in every environment the viewer may read, with its story there.
    @Sendable static func dashboard(req: Request) async throws -> Response {
        let uuid = try req.idParameter().uuidString.lowercased()
        let principal = try req.requirePrincipal()
        let app = req.application
        let scope = principal.canEverywhere(.inventoryRead) ? nil : principal.grants.filter { $0.permission == .inventoryRead }
        let snapshot = try await app.inventoryIndex.current(on: req.db, now: app.ferry.now())
        let directory = try await req.environmentDirectory()
        // Read access decided again on the stored environments (the index's copy of a stage may
        // be a moment old when another process changed it).
        let items = InventorySearch.dashboard(uuid: uuid, scope: scope, in: snapshot)
            .filter { item in directory.byID[item.environmentId].map { req.permits(.inventoryRead, environment: $0) } ?? false }
        guard !items.isEmpty else { throw AppError(.notFound, code: "not_found", detail: req.localizer.t("dashboard.not_found")) }
        let environments = items.map(\.environmentId)
        let latest = try await HealthService.latestByDashboard(of: items, on: req.db)
        let committed = try await GitDashboardModel.query(on: req.db).filter(\.$dashboardUUID == uuid).filter(\.$environmentID ~~ environments).all()
        // Its drift in each environment, from the committed records just read.
        let drift = Dictionary(committed.map { (GitService.driftKey(environment: $0.environmentID, dashboard: $0.dashboardUUID), GitService.drift(stored: $0.drift)) },
                               uniquingKeysWith: { a, _ in a })
        let presences = items.map { item -> DashboardPage.Model.Presence in
            let ref = directory.byID[item.environmentId]
            let may = { (p: Permission) in ref.map { req.permits(p, environment: $0) } ?? false }
            return .init(environmentID: item.environmentId, environment: item.environment, stage: ref?.stage ?? "",
                         dashboardID: item.id, title: item.name, owners: item.owners, changedOn: item.changedOn, supersetURL: item.url,
                         drift: DashboardsPage.Model.gitStatus(item, in: drift), latestCheck: latest[DashboardsPage.Model.checkKey(item)],
                         canPromote: may(.promotePlan), canBackUp: may(.backupRun), canRestore: may(.restoreRun), canCheck: may(.healthRun),
                         canDeploy: may(.promotePlan) && committed.contains { $0.environmentID == item.environmentId })
        }
        // Its title: the name the inventory lists first (by name, any case) when environments differ.
        let title = items.min { ($0.name.lowercased(), $0.environment, $0.id) < ($1.name.lowercased(), $1.environment, $1.id) }?.name
        var model = DashboardPage.Model(uuid: uuid, title: title ?? uuid, presences: presences)
        let limit = DashboardPage.Model.listLimit

        // Promotions of it into or out of an environment the viewer may follow (tasks:read on
        // both ends, as they are stored now).
        let following = try await req.visibleEnvironments(.tasksRead)
        model.promotions = try await DashboardStory.promotions(dashboard: uuid, visible: following, limit: limit, on: req.db).map { p in
            .init(promotionID: p.promotionID, taskID: p.taskID, source: directory.name(p.sourceEnvID), target: directory.name(p.targetEnvID),
                  status: PromotionStatus(rawValue: p.status) ?? .failed, by: p.promotedBy, at: p.promotedAt)
        }
        model.checks = try await DashboardStory.checks(dashboard: uuid, environments: environments, limit: limit, on: req.db).map { c in
            .init(id: c.id, environment: directory.name(c.environmentID), status: HealthStatus(rawValue: c.status) ?? .fail, checkedAt: c.checkedAt)
        }
        model.backups = try await DashboardStory.backups(environments: environments, limit: limit, on: req.db).map { b in
            .init(id: b.id, environment: directory.name(b.environmentID), createdAt: b.createdAt, full: b.full, dashboards: b.dashboards, taskID: b.taskID)
        }
        var revisions: [DashboardPage.Model.RevisionRow] = []
        for row in committed {
            do {
                for r in try await app.gitHistory.history(of: row, limit: limit, skip: 0) {
                    revisions.append(.init(environmentID: row.environmentID, environment: directory.name(row.environmentID), sha: r.sha,
                                           shortSha: String(r.sha.prefix(12)), summary: r.summary, author: r.author, date: r.date, taskID: r.taskID.flatMap(UUID.init(uuidString:))))
                }
            } catch let f as GitFailure {
                model.revisionsError = req.localizer.failureText(f)
            }
        }
        model.revisions = Array(revisions.sorted { $0.date > $1.date }.prefix(limit))
        return Layout.response(DashboardPage.View(model: model, localizer: req.localizer), request: req)
    }
}
