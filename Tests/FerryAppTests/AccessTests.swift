import Fluent
import Foundation
import JWTKit
import SupersetKit
import Testing
import Vapor
import VaporTesting

@testable import FerryApp

extension TestHarness {
    /// Makes a user with `roles` and returns an API token of theirs (all their permissions).
    func user(_ name: String, roles: [String], password: String = TestAdmin.password) async throws -> (id: UUID, token: String) {
        let res = try await request(.POST, "/api/users", json: UserInput(username: name, password: password, roles: roles))
        #expect(res.status == .created, "\(res.body.string)")
        let u = try res.content.decode(UserDTO.self, using: JSONDecoder.ferry)
        let token = try await tokenFor(name)
        return (u.id, token)
    }

    /// Signs in through the form (with its CSRF cookie) and returns the session cookie and the CSRF token.
    func signIn(_ username: String, _ password: String = TestAdmin.password, bringing cookie: String? = nil) async throws -> (status: HTTPStatus, session: String?, csrf: String?) {
        let form = try await request(.GET, "/login", anonymous: true)
        let loginCSRF = try #require(form.headers.setCookie?[AuthPages.loginCSRFCookie]?.string)
        var headers = HTTPHeaders()
        headers.contentType = .urlEncodedForm
        var cookies = "\(AuthPages.loginCSRFCookie)=\(loginCSRF)"
        if let cookie { cookies += "; \(Authenticator.sessionCookie)=\(cookie)" }
        headers.replaceOrAdd(name: .cookie, value: cookies)
        let body = "username=\(username)&password=\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")&_csrf=\(loginCSRF)&next=/"
        let res = try await request(.POST, "/login", headers: headers, body: body, anonymous: true)
        guard let session = res.headers.setCookie?[Authenticator.sessionCookie]?.string else { return (res.status, nil, nil) }
        let me = try await request(.GET, "/api/me", headers: ["Cookie": "\(Authenticator.sessionCookie)=\(session)"], anonymous: true)
        // The CSRF token a page would embed: read it from a page's form.
        let page = try await request(.GET, "/profile", headers: ["Cookie": "\(Authenticator.sessionCookie)=\(session)", "Accept": "text/html"], anonymous: true)
        let csrf = page.body.string.firstMatch(of: /name="_csrf" value="([^"]+)"/).map { String($0.output.1) }
        #expect(me.status == .ok)
        return (res.status, session, csrf)
    }

    func tokenFor(_ username: String) async throws -> String {
        let u = try #require(try await UserModel.query(on: db).filter(\.$username == username).first())
        let p = try #require(try await SessionService.principal(userID: u.id!, credential: .token(id: UUID()), on: db))
        return try await SessionService.createToken(TokenInput(name: "t-\(UUID().uuidString.prefix(6))"), owner: p, now: clock.now(), newID: UUID(), on: db).token
    }
}

func bearer(_ token: String) -> HTTPHeaders { ["Authorization": "Bearer \(token)"] }

/// The declared policy, checked route by route and role by role.
@Suite struct PermissionMatrixTests {
    @Test func everyRouteAsEveryRoleMatchesThePolicy() async throws {
        try await withFerry(.sqlite) { t in
            var tokens: [String: (token: String, grants: Set<Permission>)] = [:]
            for role in BuiltInRoles.all {
                let (_, token) = try await t.user("u-\(role.name)", roles: [role.name])
                tokens[role.name] = (token, Set(role.grants.map(\.permission)))
            }
            let routes = t.app.routes.all
            #expect(routes.count > 80)
            for route in routes {
                let path = "/" + route.path.map { c -> String in
                    if case .parameter = c { return UUID().uuidString.lowercased() }
                    return c.description
                }.joined(separator: "/")
                let name = "\(route.method.rawValue) \(route.path.string)"
                let access = try #require(route.userInfo[Access.userInfoKey] as? Access, "\(name) has no entry in the access policy")
                let anon = try await t.request(route.method, path, headers: ["Accept": "application/json"], anonymous: true)
                #expect(anon.status.code < 500, "\(name) as anonymous: \(anon.status) \(anon.body.string)")
                switch access {
                case .open:
                    #expect(anon.status != .unauthorized, "\(name) is open but refused an anonymous caller")
                case .signedIn, .permission:
                    #expect(anon.status == .unauthorized, "\(name) must refuse an anonymous caller, got \(anon.status)")
                }
                for (role, held) in tokens {
                    let res = try await t.request(route.method, path, headers: bearer(held.token).merging(["Accept": "application/json"]))
                    #expect(res.status.code < 500, "\(name) as \(role): \(res.status) \(res.body.string)")
                    switch access {
                    case .open, .signedIn:
                        #expect(res.status != .unauthorized && res.status != .forbidden, "\(name) as \(role): \(res.status) \(res.body.string)")
                    case .permission(let p):
                        if held.grants.contains(p) {
                            #expect(res.status != .unauthorized && res.status != .forbidden, "\(name) as \(role) (holds \(p.rawValue)): \(res.status) \(res.body.string)")
                        } else {
                            #expect(res.status == .forbidden, "\(name) as \(role) (lacks \(p.rawValue)) must be 403, got \(res.status)")
                        }
                    }
                }
            }
        }
    }
}

/// The second axis of the matrix: every route × every role × a grant limited to another
/// environment. Each built-in role gets a copy whose environment permissions are limited to
/// stage dev (global ones stay whole); every route whose resource is in prod (an environment,
/// a task, a schedule, a plan, a promotion, a mapping) must refuse it, lists must leave prod's
/// rows out, and nothing stored about prod changes.
@Suite struct LimitedGrantMatrixTests {
    @Test func everyRouteAsEveryRoleLimitedToDevLeavesProdAlone() async throws {
        try await withFerry(.sqlite) { t in
            let f = try await PromotionFixture.make(t)
            let task = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: "environment.health_check", params: params(["environment": .string("prod")])))
            let taskID = try #require(try task.json()["id"]?.stringValue)
            let schedule = try await t.request(.POST, "/api/schedules", json: ScheduleInput(
                name: "prod health", plugin: "environment.health_check", params: params(["environment": .string("prod")]), cron: "0 * * * *"))
            let scheduleID = try #require(try schedule.json()["id"]?.stringValue)
            let prodIDs = [f.prod.id.key, taskID, scheduleID, f.plan.key, f.promotion.key, f.mapping.key]

            /// The prod resource a route's `:id` stands for; nil for routes of no environment.
            func prodID(_ path: String) -> String? {
                switch true {
                case path.hasPrefix("/api/environments/:id"), path.hasPrefix("/environments/:id"): return f.prod.id.key
                case path.hasPrefix("/api/tasks/:id"), path.hasPrefix("/tasks/:id"), path.hasPrefix("/ws/tasks/:id"): return taskID
                case path.hasPrefix("/api/schedules/:id"), path.hasPrefix("/schedules/:id"): return scheduleID
                case path.hasPrefix("/api/promotions/plans/:id"), path.hasPrefix("/promote/plans/:id"), path == "/api/promotions/:id/apply": return f.plan.key
                case path.hasPrefix("/api/promotions/:id"), path.hasPrefix("/promotions/:id"): return f.promotion.key
                case path.hasPrefix("/api/mappings/:id"): return f.mapping.key
                default: return nil
                }
            }
            func fingerprint() async throws -> String {
                let env = try await EnvironmentModel.find(f.prod.id, on: t.db)
                let plan = try await PromotionPlanModel.find(f.plan, on: t.db)
                let promotion = try await PromotionModel.find(f.promotion, on: t.db)
                let mapping = try await DatabaseMappingModel.find(f.mapping, on: t.db)
                let sched = try await ScheduleModel.find(UUID(uuidString: scheduleID), on: t.db)
                // Inventory syncs queued when the environments were added run on their own.
                let tasks = try await TaskModel.query(on: t.db).filter(\.$pluginID != InventorySyncPlugin.pluginID).all().map { "\($0.id!) \($0.status) \($0.cancelRequested)" }.sorted()
                return [env.map { "\($0.name) \($0.url) \($0.stage) \($0.passwordSealed)" }, plan.map { "\($0.status)" },
                        promotion.map { "\($0.status)" }, mapping.map { $0.targetDatabaseUUID }, sched.map { "\($0.enabled) \($0.params)" },
                        tasks.joined(separator: ";")].map { $0 ?? "gone" }.joined(separator: "|")
            }
            let before = try await fingerprint()

            var tokens: [(role: String, token: String)] = []
            for role in BuiltInRoles.all {
                let grants = role.grants.map { $0.permission.isGlobal ? $0.permission.rawValue : $0.permission.rawValue + "@stage:dev" }
                tokens.append((role.name, try await t.limitedUser("dev-\(role.name)", grants: grants)))
            }
            var checked = 0
            for route in t.app.routes.all {
                let template = "/" + route.path.map(\.description).joined(separator: "/")
                let name = "\(route.method.rawValue) \(template)"
                let resource = prodID(template)
                let isList = !template.contains(":") && ["/api/tasks", "/api/schedules", "/api/promotions", "/api/promotions/history", "/api/mappings",
                                                          "/api/environments", "/tasks", "/schedules", "/promotions", "/environments"].contains(template)
                guard resource != nil || (isList && route.method == .GET) else { continue }
                let path = template.replacingOccurrences(of: ":id", with: resource ?? "")
                for (role, token) in tokens {
                    let res = try await t.request(route.method, path, headers: bearer(token).merging(["Accept": "application/json"]))
                    #expect(res.status.code < 500, "\(name) as dev-limited \(role): \(res.status) \(res.body.string)")
                    if resource != nil {
                        #expect(!(200..<400).contains(Int(res.status.code)), "\(name) as dev-limited \(role) reached prod: \(res.status) \(res.body.string)")
                    } else if res.status == .ok {
                        for id in prodIDs {
                            #expect(!res.body.string.contains(id), "\(name) as dev-limited \(role) lists prod's \(id)")
                        }
                    }
                    checked += 1
                }
            }
            #expect(checked > 100, "the sweep covered \(checked) calls")
            let after = try await fingerprint()
            #expect(after == before, "nothing stored about prod changed:\n\(before)\n\(after)")
        }
    }
}

extension HTTPHeaders {
    func merging(_ other: HTTPHeaders) -> HTTPHeaders {
        var h = self
        for (name, value) in other { h.replaceOrAdd(name: name, value: value) }
        return h
    }
}

/// Attacks that must fail, and the account rules they lean on.
@Suite struct AccountSecurityTests {
    @Test(arguments: Store.available)
    func bruteForceHitsTheLockoutAndUnknownUsersLookTheSame(store: Store) async throws {
        try await withFerry(store) { t in
            _ = try await t.user("alice", roles: ["viewer"])
            for _ in 0..<AccountService.lockThreshold {
                #expect(try await t.signIn("alice", "wrong password!!").status == .unauthorized)
            }
            // Locked: the right password is refused too, with the same answer as a wrong one.
            let locked = try await t.signIn("alice")
            #expect(locked.status == .unauthorized && locked.session == nil)
            let unknown = try await t.signIn("nobody-here")
            #expect(unknown.status == .unauthorized)
            // Attempts while locked are refused without extending the lock; it is over long before maxLock.
            t.clock.advance(AccountService.maxLock + 1)
            let after = try await t.signIn("alice")
            #expect(after.session != nil)
            let list = try await t.request(.GET, "/api/users").content.decode(AccountsAPI.Items<UserDTO>.self, using: JSONDecoder.ferry)
            #expect(list.items.first { $0.username == "alice" }?.locked == false)
            let audit = try await t.request(.GET, "/api/audit?action=auth.sign_in&outcome=failure").content.decode(AccountsAPI.AuditPage.self, using: JSONDecoder.ferry)
            #expect(audit.total >= AccountService.lockThreshold + 2)
        }
    }

    @Test func sessionFixationCSRFAndSignOutEverywhere() async throws {
        try await withFerry(.sqlite) { t in
            _ = try await t.user("mallory", roles: ["viewer"])
            _ = try await t.user("victim", roles: ["operator"])
            // Mallory plants her own valid session in the victim's browser before they sign in.
            let planted = try #require(try await t.signIn("mallory").session)
            let victim = try await t.signIn("victim", bringing: planted)
            let session = try #require(victim.session)
            #expect(session != planted)
            let plantedNow = try await t.request(.GET, "/api/me", headers: ["Cookie": "\(Authenticator.sessionCookie)=\(planted)"], anonymous: true)
            #expect(plantedNow.status == .unauthorized)
            let cookie: HTTPHeaders = ["Cookie": "\(Authenticator.sessionCookie)=\(session)"]
            // Unsafe requests on a session need the session's CSRF token.
            let noToken = try await t.request(.POST, "/api/tokens", json: TokenInput(name: "x"), headers: cookie, anonymous: true)
            #expect(noToken.status == .forbidden && noToken.body.string.contains("csrf"))
            let forged = try await t.request(.POST, "/api/tokens", json: TokenInput(name: "x"), headers: cookie.merging(["X-CSRF-Token": "forged"]), anonymous: true)
            #expect(forged.status == .forbidden)
            let csrf = try #require(victim.csrf)
            let good = try await t.request(.POST, "/api/tokens", json: TokenInput(name: "x"), headers: cookie.merging(["X-CSRF-Token": csrf]), anonymous: true)
            #expect(good.status == .created)
            // A second session on another device; signing out ends both.
            let other = try #require(try await t.signIn("victim").session)
            var formHeaders = cookie
            formHeaders.contentType = .urlEncodedForm
            let out = try await t.request(.POST, "/logout", headers: formHeaders, body: "_csrf=\(csrf)", anonymous: true)
            #expect(out.status == .seeOther)
            for s in [session, other] {
                #expect(try await t.request(.GET, "/api/me", headers: ["Cookie": "\(Authenticator.sessionCookie)=\(s)"], anonymous: true).status == .unauthorized)
            }
            // A page asked for without a session sends the browser to sign in.
            let page = try await t.request(.GET, "/environments", headers: ["Accept": "text/html"], anonymous: true)
            #expect(page.status == .seeOther && page.headers.first(name: .location)?.hasPrefix("/login?next=") == true)
        }
    }

    @Test func passwordChangeEndsOtherSessions() async throws {
        try await withFerry(.sqlite) { t in
            _ = try await t.user("bob", roles: ["viewer"])
            let a = try await t.signIn("bob")
            let b = try await t.signIn("bob")
            var h: HTTPHeaders = ["Cookie": "\(Authenticator.sessionCookie)=\(a.session!)"]
            h.contentType = .urlEncodedForm
            let res = try await t.request(.POST, "/profile/password", headers: h, body: "_csrf=\(a.csrf!)&current=\(TestAdmin.password.replacingOccurrences(of: " ", with: "+"))&new=another+long+password", anonymous: true)
            #expect(res.status == .seeOther, "\(res.body.string)")
            #expect(try await t.request(.GET, "/api/me", headers: ["Cookie": "\(Authenticator.sessionCookie)=\(a.session!)"], anonymous: true).status == .ok)
            #expect(try await t.request(.GET, "/api/me", headers: ["Cookie": "\(Authenticator.sessionCookie)=\(b.session!)"], anonymous: true).status == .unauthorized)
            #expect(try await t.signIn("bob", "another long password").session != nil)
        }
    }

    @Test(arguments: Store.available)
    func tokensStayWithTheirOwnerAndWithinTheirScopes(store: Store) async throws {
        try await withFerry(store) { t in
            let (_, alice) = try await t.user("alice", roles: ["operator"])
            let (_, eve) = try await t.user("eve", roles: ["operator"])
            let listed = try await t.request(.GET, "/api/tokens", headers: bearer(alice)).content.decode(AccountsAPI.Items<TokenDTO>.self, using: JSONDecoder.ferry)
            let aliceToken = try #require(listed.items.first)
            // Eve can neither see nor revoke Alice's token.
            let eveList = try await t.request(.GET, "/api/tokens", headers: bearer(eve)).content.decode(AccountsAPI.Items<TokenDTO>.self, using: JSONDecoder.ferry)
            #expect(!eveList.items.contains { $0.id == aliceToken.id })
            #expect(try await t.request(.GET, "/api/tokens?all=true", headers: bearer(eve)).status == .forbidden)
            #expect(try await t.request(.DELETE, "/api/tokens/\(aliceToken.id)", headers: bearer(eve)).status == .notFound)
            #expect(try await t.request(.GET, "/api/me", headers: bearer(alice)).status == .ok)
            // A token can't hold more than its user, and a scoped token holds only its scopes.
            let tooMuch = try await t.request(.POST, "/api/tokens", json: TokenInput(name: "x", scopes: ["users:admin"]), headers: bearer(alice))
            #expect(tooMuch.status == .unprocessableEntity)
            let scoped = try await t.request(.POST, "/api/tokens", json: TokenInput(name: "ci", scopes: ["inventory:read"], expiresInDays: 1), headers: bearer(alice))
            let ci = try scoped.content.decode(CreatedTokenDTO.self, using: JSONDecoder.ferry)
            #expect(ci.token.hasPrefix("fry_") && !scoped.body.string.contains("tokenHash"))
            #expect(try await t.request(.GET, "/api/dashboards", headers: bearer(ci.token)).status == .ok)
            #expect(try await t.request(.GET, "/api/tasks", headers: bearer(ci.token)).status == .forbidden)
            // It expires, and once revoked it stops working at once.
            t.clock.advance(86400 + 1)
            #expect(try await t.request(.GET, "/api/dashboards", headers: bearer(ci.token)).status == .unauthorized)
            #expect(try await t.request(.DELETE, "/api/tokens/\(aliceToken.id)", headers: bearer(alice)).status == .ok)
            #expect(try await t.request(.GET, "/api/me", headers: bearer(alice)).status == .unauthorized)
            // Only the hash is stored.
            let rows = try await APITokenModel.query(on: t.db).all()
            #expect(!rows.contains { $0.tokenHash == ci.token || $0.tokenHash.hasPrefix("fry_") })
        }
    }

    @Test func anOperatorCannotGrantItselfRolesAndAnAdminRemains() async throws {
        try await withFerry(.sqlite) { t in
            let (opID, op) = try await t.user("ops", roles: ["operator"])
            let roles = try await t.request(.GET, "/api/roles").content.decode(AccountsAPI.Items<RoleDTO>.self, using: JSONDecoder.ferry).items
            let operatorRole = try #require(roles.first { $0.name == "operator" })
            #expect(try await t.request(.PUT, "/api/users/\(opID)", json: UserInput(roles: ["admin"]), headers: bearer(op)).status == .forbidden)
            #expect(try await t.request(.PUT, "/api/roles/\(operatorRole.id)", json: RoleInput(grants: ["users:admin"]), headers: bearer(op)).status == .forbidden)
            #expect(try await t.request(.POST, "/api/roles", json: RoleInput(name: "mine", grants: ["users:admin"]), headers: bearer(op)).status == .forbidden)
            #expect(try await t.request(.GET, "/api/me", headers: bearer(op)).content.decode(AccountsAPI.Me.self, using: JSONDecoder.ferry).user.roles == ["operator"])
            // The last administrator can't be demoted or deleted.
            let me = try await t.request(.GET, "/api/me").content.decode(AccountsAPI.Me.self, using: JSONDecoder.ferry)
            #expect(try await t.request(.PUT, "/api/users/\(me.user.id)", json: UserInput(roles: ["viewer"])).status == .conflict)
            #expect(try await t.request(.DELETE, "/api/users/\(me.user.id)").status == .conflict)
            // Every change above is in the audit log, denied ones included; it has no route that edits it.
            let denied = try await t.request(.GET, "/api/audit?outcome=denied").content.decode(AccountsAPI.AuditPage.self, using: JSONDecoder.ferry)
            #expect(denied.items.contains { $0.actor == "ops" && $0.action.contains("/api/users/") })
            let csv = try await t.request(.GET, "/api/audit?format=csv")
            #expect(csv.headers.contentType?.subType == "csv" && csv.body.string.hasPrefix(AuditDTO.csvHeader))
            #expect(!t.app.routes.all.contains { $0.path.string.contains("audit") && $0.method != .GET })
        }
    }

    @Test func grantsLimitedByStageAllowOneTargetAndNotAnother() async throws {
        try await withFerry(.sqlite) { t in
            _ = try await t.createEnvironment(sample("qa", stage: "stage"))
            _ = try await t.createEnvironment(sample("uat", stage: "stage"))
            _ = try await t.createEnvironment(sample("live", stage: "prod"))
            let wordy = try await t.request(.POST, "/api/roles", json: RoleInput(name: "wordy", description: String(repeating: "x", count: 501), grants: ["environments:read"]))
            #expect(wordy.status == .unprocessableEntity && wordy.body.string.contains("description"), "a role's description is at most 500 characters")
            let role = try await t.request(.POST, "/api/roles", json: RoleInput(name: "stage-ops", grants: ["promote:plan@stage:stage", "environments:read"]))
            #expect(role.status == .created, "\(role.body.string)")
            let (_, token) = try await t.user("sam", roles: ["stage-ops"])
            let toProd = try await t.request(.POST, "/api/promotions/plan", json: PlanInput(source: "qa", target: "live", dashboards: ["1"]), headers: bearer(token))
            #expect(toProd.status == .forbidden && toProd.body.string.contains("live"))
            // A plan touches its source too: it is judged on both.
            let fromProd = try await t.request(.POST, "/api/promotions/plan", json: PlanInput(source: "live", target: "qa", dashboards: ["1"]), headers: bearer(token))
            #expect(fromProd.status == .forbidden && fromProd.body.string.contains("live"))
            let toStage = try await t.request(.POST, "/api/promotions/plan", json: PlanInput(source: "uat", target: "qa", dashboards: ["1"]), headers: bearer(token))
            #expect(toStage.status != .forbidden, "\(toStage.body.string)")
            let bad = try await t.request(.POST, "/api/roles", json: RoleInput(name: "typo", grants: ["promote:aply", "promote:apply@planet:mars"]))
            #expect(bad.status == .unprocessableEntity && bad.body.string.contains("promote:aply"))
        }
    }

    @Test func pagesShowOnlyTheActionsTheUserMayTake() async throws {
        try await withFerry(.sqlite) { t in
            let dev = try await t.createEnvironment(sample("sandbox", stage: "dev"))
            _ = try await t.createEnvironment(sample("live", stage: "prod"))
            let role = try await t.request(.POST, "/api/roles", json: RoleInput(
                name: "dev-admin", grants: ["environments:read", "environments:write@stage:dev", "tasks:read", "tasks:run@stage:dev"]))
            #expect(role.status == .created, "\(role.body.string)")
            let (_, devAdmin) = try await t.user("dana", roles: ["dev-admin"])
            let (_, viewer) = try await t.user("vic", roles: ["viewer"])
            func page(_ path: String, _ token: String) async throws -> String {
                let res = try await t.request(.GET, path, headers: bearer(token).merging(["Accept": "text/html"]))
                #expect(res.status == .ok, "\(path): \(res.status)")
                return res.body.string
            }
            let asViewer = try await page("/environments", viewer)
            #expect(asViewer.contains("data-environment=\"live\""))
            for action in ["add-environment", "delete-live", "sync-live", "/environments/\(dev.id)/edit"] {
                #expect(!asViewer.contains(action), "a viewer sees \(action)")
            }
            let asDevAdmin = try await page("/environments", devAdmin)
            #expect(asDevAdmin.contains("delete-sandbox") && asDevAdmin.contains("sync-sandbox") && asDevAdmin.contains("add-environment"))
            #expect(!asDevAdmin.contains("delete-live") && !asDevAdmin.contains("sync-live"), "dev-only grants show no prod actions")
            let asRoot = try await page("/environments", t.adminToken!)
            #expect(asRoot.contains("delete-live") && asRoot.contains("sync-live"))

            // The server refuses what the page hides: moving or creating an environment out of
            // the grant, and syncing one outside it.
            let move = try await t.request(.PUT, "/api/environments/\(dev.id)", json: EnvironmentInput(stage: "prod"), headers: bearer(devAdmin))
            #expect(move.status == .forbidden, "\(move.body.string)")
            let create = try await t.request(.POST, "/api/environments", json: sample("live2", stage: "prod"), headers: bearer(devAdmin))
            #expect(create.status == .forbidden)
            let live = try #require(try await EnvironmentModel.query(on: t.db).filter(\.$name == "live").first()?.id)
            #expect(try await t.request(.POST, "/api/environments/\(live)/sync", headers: bearer(devAdmin)).status == .forbidden)

            let tasks = try await page("/tasks", viewer)
            #expect(tasks.contains("health-check-form"), "viewers hold environments:read, which the health check needs")
            let schedules = try await page("/schedules", viewer)
            #expect(!schedules.contains("schedule-form"), "no schedules:write, no form")
            #expect(try await page("/schedules", t.adminToken!).contains("schedule-form"))
        }
    }

    @Test(arguments: Store.available)
    func aTasksReadGrantLimitedToDevSeesOnlyDevTasks(store: Store) async throws {
        try await withFerry(store) { t in
            let dev = try await t.createEnvironment(sample("sandbox", stage: "dev"))
            let live = try await t.createEnvironment(sample("live", stage: "prod"))
            await t.app.syncCoordinator.wait(dev.id)
            await t.app.syncCoordinator.wait(live.id)
            let role = try await t.request(.POST, "/api/roles", json: RoleInput(name: "dev-watch", grants: ["tasks:read@stage:dev"]))
            #expect(role.status == .created, "\(role.body.string)")
            let (_, token) = try await t.user("wes", roles: ["dev-watch"])
            let all = try await t.request(.GET, "/api/tasks").json()
            #expect(Set((all["items"]?.listValue ?? []).flatMap { $0["environments"]?.listValue?.compactMap(\.stringValue) ?? [] }) == ["sandbox", "live"])
            let mine = try await t.request(.GET, "/api/tasks", headers: bearer(token)).json()
            let envs = (mine["items"]?.listValue ?? []).map { $0["environments"]?.listValue?.compactMap(\.stringValue) ?? [] }
            #expect(!envs.isEmpty && envs.allSatisfy { $0 == ["sandbox"] }, "\(envs)")
            #expect(mine["total"]?.intValue == envs.count)
            let liveTask = try #require(try await TaskModel.query(on: t.db).filter(\.$environments == live.id.key).first()?.id)
            #expect(try await t.request(.GET, "/api/tasks/\(liveTask)", headers: bearer(token)).status == .forbidden)
            #expect(try await t.request(.GET, "/api/tasks/\(liveTask)/logs", headers: bearer(token)).status == .forbidden)
            #expect(try await t.request(.GET, "/api/tasks/\(liveTask)").status == .ok)
        }
    }

    @Test func theFirstAdministratorComesFromTheEnvironmentOnlyOnce() async throws {
        try await withFerry(.sqlite) { t in
            // The harness already made one user, so the variable is ignored now.
            #expect(try await AdminBootstrap.ensureFirstAdmin(username: "second", password: "another long password", app: t.app) == false)
            try await UserModel.query(on: t.db).delete()
            #expect(try await AdminBootstrap.ensureFirstAdmin(username: "boss", password: "another long password", app: t.app) == true)
            #expect(try await t.signIn("boss", "another long password").session != nil)
            #expect(throws: ConfigurationError.self, "a short password must be refused") {
                try FerryConfiguration.from(environment: ["FERRY_ADMIN_PASSWORD": "short"])
            }
        }
    }
}

/// The ID token checks, each fed a token made to fail exactly one of them.
@Suite struct IDTokenTests {
    let issuer = "https://adfs.example.com/adfs"
    let clientID = "ferry"
    let nonce = "n-0S6_WzA2Mj"
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    struct Claims: JWTPayload {
        var iss: String
        var aud: String
        var sub = "S-1-5-21"
        var exp: Double
        var iat: Double
        var nonce: String
        var upn = "alice@corp.example"
        var group = ["Ferry Ops"]
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    func claims(iss: String? = nil, aud: String? = nil, exp: Double? = nil, iat: Double? = nil, nonce: String? = nil) -> Claims {
        Claims(iss: iss ?? issuer, aud: aud ?? clientID, exp: exp ?? now.timeIntervalSince1970 + 300, iat: iat ?? now.timeIntervalSince1970 - 5,
               nonce: nonce ?? self.nonce)
    }

    @Test func onlyAWellFormedTokenForThisSignInPasses() async throws {
        let key = ES256PrivateKey()
        let keys = await JWTKeyCollection().add(ecdsa: key, kid: "k1")
        let verifyKeys = await JWTKeyCollection().add(ecdsa: key.publicKey, kid: "k1")
        let other = await JWTKeyCollection().add(ecdsa: ES256PrivateKey(), kid: "k1")
        func check(_ token: String) async -> String? {
            do {
                _ = try await SSOService.verifyIDToken(token, keys: verifyKeys, issuer: issuer, audience: clientID, nonce: nonce, now: now, skew: 60)
                return nil
            } catch let e as AppError { return e.detail } catch { return "\(error)" }
        }
        let good = try await keys.sign(claims(), kid: "k1")
        #expect(await check(good) == nil)
        let claimsOut = try await SSOService.verifyIDToken(good, keys: verifyKeys, issuer: issuer, audience: clientID, nonce: nonce, now: now, skew: 60)
        let identity = try SSOService.identity(claimsOut, settings: { var s = SSOSettings(); s.groupRoles = ["Ferry Ops": ["operator"]]; return s }())
        #expect(identity.username == "alice@corp.example" && identity.roles == ["operator"])

        let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        let body = try JSONEncoder().encode(claims()).base64EncodedString().replacingOccurrences(of: "=", with: "")
        #expect(await check("\(header).\(body).")?.contains("unsigned") == true)
        #expect(await check(try await other.sign(claims(), kid: "k1"))?.contains("signature") == true)
        #expect(await check(try await keys.sign(claims(iss: "https://evil.example"), kid: "k1"))?.contains("issued by") == true)
        #expect(await check(try await keys.sign(claims(aud: "someone-else"), kid: "k1"))?.contains("meant for") == true)
        #expect(await check(try await keys.sign(claims(exp: now.timeIntervalSince1970 - 61), kid: "k1"))?.contains("expired") == true)
        #expect(await check(try await keys.sign(claims(exp: now.timeIntervalSince1970 - 30), kid: "k1")) == nil, "within the clock skew")
        #expect(await check(try await keys.sign(claims(iat: now.timeIntervalSince1970 + 600), kid: "k1"))?.contains("future") == true)
        #expect(await check(try await keys.sign(claims(nonce: "an-earlier-sign-in"), kid: "k1"))?.contains("replayed") == true)
        var tampered = good.split(separator: ".").map(String.init)
        tampered[1] = try JSONEncoder().encode(claims(aud: clientID)).base64EncodedString().replacingOccurrences(of: "=", with: "") + "x"
        #expect(await check(tampered.joined(separator: ".")) != nil)
    }

    @Test func aStateIsUsedOnceAndExpires() async throws {
        try await withFerry(.sqlite) { t in
            let row = SSOStateModel()
            row.id = UUID()
            row.stateHash = Credentials.hash("state-1")
            row.nonce = "n"
            row.verifier = "v"
            row.returnTo = "/"
            row.test = false
            row.createdAt = t.clock.now()
            try await row.create(on: t.db)
            #expect(try await SSOService.consumeState("state-1", now: t.clock.now(), on: t.db) != nil)
            #expect(try await SSOService.consumeState("state-1", now: t.clock.now(), on: t.db) == nil, "a replayed state must be refused")
            let callback = try await t.request(.GET, "/sso/callback?code=abc&state=state-1", anonymous: true)
            #expect(callback.status == .badRequest && callback.body.string.contains("sso_state"))
        }
    }

    @Test func redirectsAfterSignInStayOnThisSite() {
        #expect(AuthPages.safeNext("/promote?x=1") == "/promote?x=1")
        for hostile in ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", nil] {
            #expect(AuthPages.safeNext(hostile) == "/")
        }
    }
}
