import Fluent
import Foundation
import SQLKit
import SupersetKit
import Testing
import Vapor
import VaporTesting

@testable import FerryApp

/// Two environments (dev, prod), a dev→prod plan, its promotion (finished, with a snapshot), a
/// history row and a stored mapping: the resources a dev-limited user must not reach in prod.
struct PromotionFixture {
    var dev: EnvironmentDTO
    var prod: EnvironmentDTO
    var plan: UUID
    var promotion: UUID
    var mapping: UUID

    static func make(_ t: TestHarness) async throws -> PromotionFixture {
        let dev = try await t.createEnvironment(sample("dev", stage: "dev"))
        let prod = try await t.createEnvironment(sample("prod", stage: "prod"))
        let plan = PromotionPlanModel()
        plan.id = UUID()
        (plan.sourceEnvID, plan.targetEnvID, plan.scope, plan.selection, plan.schemaMapping) = (dev.id, prod.id, "dashboards", #"{"dashboards":["x"]}"#, "{}")
        (plan.status, plan.createdBy, plan.createdAt) = (.applied, "root", t.clock.now())
        try await plan.create(on: t.db)
        let promotion = PromotionModel()
        promotion.id = UUID()
        (promotion.planID, promotion.sourceEnvID, promotion.targetEnvID, promotion.status) = (plan.id!, dev.id, prod.id, .succeeded)
        (promotion.snapshot, promotion.startedBy, promotion.createdAt) = (Data([1]), "root", t.clock.now())
        try await promotion.create(on: t.db)
        let history = DashboardHistoryModel()
        history.id = UUID()
        (history.targetEnvID, history.sourceEnvID, history.dashboardUUID, history.dashboardTitle) = (prod.id, dev.id, "d-uuid", "Sales")
        (history.promotionID, history.planID, history.promotedBy, history.promotedAt, history.bundleChecksum) = (promotion.id!, plan.id!, "root", t.clock.now(), "c")
        try await history.create(on: t.db)
        let mapping = try await MappingService.record(
            source: dev.id, target: prod.id, sourceDB: DatabaseRef(uuid: "s", name: "Sales", uri: ""), targetDB: DatabaseRef(uuid: "t", name: "Sales", uri: ""),
            now: t.clock.now(), newID: UUID(), on: t.db)
        return PromotionFixture(dev: dev, prod: prod, plan: plan.id!, promotion: promotion.id!, mapping: mapping.id!)
    }
}

extension TestHarness {
    /// A user whose one role holds `grants`, and their token.
    func limitedUser(_ name: String, grants: [String]) async throws -> String {
        let role = try await request(.POST, "/api/roles", json: RoleInput(name: "role-\(name)", grants: grants))
        #expect(role.status == .created || role.status == .ok, "\(role.body.string)")
        return try await user(name, roles: ["role-\(name)"]).token
    }
}

/// Access is decided on the stored resource, never on what the request claims.
@Suite struct StoredResourceAccessTests {
    @Test(arguments: Store.available)
    func aDevLimitedUserCannotReachAProdPromotionByClaimingDev(store: Store) async throws {
        try await withFerry(store) { t in
            let f = try await PromotionFixture.make(t)
            let dev = bearer(try await t.limitedUser("devop", grants: [
                "promote:apply@stage:dev", "promote:plan@stage:dev", "tasks:read@stage:dev", "tasks:run@stage:dev", "schedules:write@stage:dev",
                "environments:read@stage:dev",
            ]))
            // The finding: promote.rollback through /api/tasks, claiming "target": "dev".
            let claimed = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: "promote.rollback", params: params([
                "promotion": .string(f.promotion.key), "target": .string("dev"),
            ])), headers: dev)
            #expect(claimed.status == .unprocessableEntity, "\(claimed.body.string)")
            #expect(try claimed.json()["errors"]?.listValue?.first?["field"]?.stringValue == "params.target")
            // Without the claim it is judged on the stored target, prod.
            let honest = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: "promote.rollback", params: params([
                "promotion": .string(f.promotion.key),
            ])), headers: dev)
            #expect(honest.status == .forbidden, "\(honest.body.string)")
            #expect(try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: "promote.apply", params: params([
                "promotion": .string(f.promotion.key), "source": .string("dev"), "target": .string("dev"),
            ])), headers: dev).status == .unprocessableEntity)
            #expect(try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: "promote.plan", params: params([
                "plan": .string(f.plan.key),
            ])), headers: dev).status == .forbidden)
            #expect(try await TaskModel.query(on: t.db).filter(\.$pluginID != InventorySyncPlugin.pluginID).count() == 0, "nothing was queued")

            // Plans, promotions, history and mappings touching prod are neither shown nor changed.
            #expect(try await t.request(.GET, "/api/promotions/plans/\(f.plan)", headers: dev).status == .forbidden)
            #expect(try await t.request(.GET, "/api/promotions/\(f.promotion)", headers: dev).status == .forbidden)
            #expect(try await t.request(.POST, "/api/promotions/\(f.promotion)/rollback", headers: dev).status == .forbidden)
            #expect(try await t.request(.POST, "/api/promotions/\(f.plan)/apply", headers: dev).status == .forbidden)
            #expect(try await t.request(.GET, "/api/promotions", headers: dev).json()["items"]?.listValue?.isEmpty == true)
            #expect(try await t.request(.GET, "/api/promotions/history", headers: dev).json()["items"]?.listValue?.isEmpty == true)
            #expect(try await t.request(.GET, "/api/promotions/history?target=prod", headers: dev).status == .forbidden)
            #expect(try await t.request(.GET, "/api/mappings", headers: dev).json()["items"]?.listValue?.isEmpty == true)
            let edit = try await t.request(.PUT, "/api/mappings", json: MappingInput(
                source: "dev", target: "prod", sourceDatabaseUuid: "s", targetDatabaseUuid: "evil"), headers: dev)
            #expect(edit.status == .forbidden)
            #expect(try await t.request(.DELETE, "/api/mappings/\(f.mapping)", headers: dev).status == .forbidden)
            #expect(try await DatabaseMappingModel.find(f.mapping, on: t.db)?.targetDatabaseUUID == "t", "the mapping is untouched")
            #expect(try await t.request(.GET, "/api/mappings/suggestions?source=dev&target=prod", headers: dev).status == .forbidden)
            #expect(try await t.request(.POST, "/api/environments/\(f.prod.id)/test", headers: dev).status == .forbidden)

            // Not even an administrator can re-run a promotion task around its state machine.
            let rerun = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: "promote.rollback", params: params([
                "promotion": .string(f.promotion.key)])))
            #expect(rerun.status == .conflict, "\(rerun.body.string)")
            #expect(try rerun.json()["code"]?.stringValue == "not_waiting")
            let replan = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: "promote.plan", params: params(["plan": .string(f.plan.key)])))
            #expect(replan.status == .conflict, "an applied plan can't be planned again and applied twice")
            #expect(try await PromotionPlanModel.find(f.plan, on: t.db)?.status == .applied)
            // The administrator sees all of it.
            #expect(try await t.request(.GET, "/api/promotions").json()["items"]?.listValue?.count == 1)
            let plan = try await t.request(.GET, "/api/promotions/plans/\(f.plan)").content.decode(PlanDTO.self, using: JSONDecoder.ferry)
            #expect(plan.source == "dev" && plan.target == "prod" && plan.sourceId == f.dev.id)
        }
    }

    @Test(arguments: Store.available)
    func schedulesFollowTheirEnvironmentsAndAMergedUpdateIsAuthorised(store: Store) async throws {
        try await withFerry(store) { t in
            let f = try await PromotionFixture.make(t)
            #expect(try await t.request(.POST, "/api/schedules", json: ScheduleInput(
                name: "nightly prune", plugin: "maintenance.prune_tasks", params: params(["days": .int(30)]), cron: "17 3 * * *")).status == .created)
            let prodCheck = try await t.request(.POST, "/api/schedules", json: ScheduleInput(
                name: "prod health", plugin: "environment.health_check", params: params(["environment": .string("prod")]), cron: "0 * * * *"))
            #expect(prodCheck.status == .created, "\(prodCheck.body.string)")
            let prodID = try #require(try prodCheck.json()["id"]?.stringValue)
            #expect(try prodCheck.json()["params"]?["environment"]?.stringValue == f.prod.id.key, "stored by id")
            let dev = bearer(try await t.limitedUser("devop", grants: ["tasks:read@stage:dev", "schedules:write@stage:dev", "environments:read@stage:dev"]))
            let listed = try await t.request(.GET, "/api/schedules", headers: dev).json()["items"]?.listValue ?? []
            #expect(!listed.contains { $0["name"]?.stringValue == "prod health" })
            #expect(listed.contains { $0["name"]?.stringValue == "nightly prune" }, "a schedule touching no environment is listed")
            #expect(try await t.request(.PUT, "/api/schedules/\(prodID)", json: ScheduleInput(enabled: false), headers: dev).status == .notFound)
            #expect(try await t.request(.DELETE, "/api/schedules/\(prodID)", headers: dev).status == .notFound)
            // Moving a dev schedule to prod is judged on the result.
            let devCheck = try await t.request(.POST, "/api/schedules", json: ScheduleInput(
                name: "dev health", plugin: "environment.health_check", params: params(["environment": .string("dev")]), cron: "0 * * * *"), headers: dev)
            #expect(devCheck.status == .created, "\(devCheck.body.string)")
            let devID = try #require(try devCheck.json()["id"]?.stringValue)
            let moved = try await t.request(.PUT, "/api/schedules/\(devID)", json: ScheduleInput(params: params(["environment": .string("prod")])), headers: dev)
            #expect(moved.status == .forbidden, "\(moved.body.string)")
            #expect(try await ScheduleModel.find(UUID(uuidString: devID)!, on: t.db)?.params.contains(f.dev.id.key) == true)

            // An operator (no tasks:admin) can't turn the built-in prune down to one day by a
            // PUT that leaves out the plugin.
            let op = bearer(try await t.user("op", roles: [BuiltInRoles.operator_]).token)
            let prune = try #require(try await ScheduleModel.query(on: t.db).filter(\.$name == "nightly prune").first())
            let cut = try await t.request(.PUT, "/api/schedules/\(prune.id!)", json: ScheduleInput(params: params(["days": .int(1)])), headers: op)
            #expect(cut.status == .forbidden, "\(cut.body.string)")
            #expect(try await ScheduleModel.find(prune.id, on: t.db)?.params.contains("\"days\":30") == true)
        }
    }

    @Test func aGlobalPermissionCannotBeLimitedToAnEnvironment() async throws {
        try await withFerry(.sqlite) { t in
            _ = try await t.createEnvironment(sample("dev", stage: "dev"))
            for grant in ["users:admin@stage:dev", "audit:read@name:dev", "settings:admin@stage:prod", "metrics:read@stage:dev", "tasks:admin@stage:dev"] {
                let res = try await t.request(.POST, "/api/roles", json: RoleInput(name: "r-\(grant.prefix(5))", grants: [grant]))
                #expect(res.status == .unprocessableEntity, "\(grant): \(res.status)")
                #expect(try res.json()["errors"]?.listValue?.first?["code"]?.stringValue == "global_permission")
            }
            let unknown = try await t.request(.POST, "/api/roles", json: RoleInput(name: "r-x", grants: ["tasks:read@name:nowhere"]))
            #expect(try unknown.json()["errors"]?.listValue?.first?["code"]?.stringValue == "unknown_environment")
            #expect(try await t.request(.POST, "/api/roles", json: RoleInput(name: "r-ok", grants: ["audit:read", "tasks:read@name:dev"])).status == .created)
        }
    }
}

/// Schedules of a deleted environment are switched off and stay removable; none blocks the others.
@Suite struct DeletedEnvironmentScheduleTests {
    @Test(arguments: Store.available)
    func aDeletedEnvironmentsScheduleIsOffAndCanBeRemoved(store: Store) async throws {
        try await withFerry(store) { t in
            let gone = try await t.createEnvironment(sample("gone", stage: "dev"))
            let kept = try await t.createEnvironment(sample("kept", stage: "dev"))
            for (name, env) in [("a gone check", "gone"), ("b kept check", "kept")] {
                #expect(try await t.request(.POST, "/api/schedules", json: ScheduleInput(
                    name: name, plugin: "environment.health_check", params: params(["environment": .string(env)]), cron: "* * * * *")).status == .created)
            }
            let goneSchedule = try #require(try await ScheduleModel.query(on: t.db).filter(\.$name == "a gone check").first())
            // Its environment goes while the schedule is due: firing skips it and still starts the other.
            t.clock.advance(120)
            try await (t.db as! any SQLDatabase).raw("DELETE FROM environments WHERE name = 'gone'").run()
            let queued = try await ScheduleService.fireDue(now: t.clock.now(), engine: t.app.taskEngine, on: t.db)
            #expect(queued.map(\.environmentIDs) == [[kept.id]], "the kept environment's schedule fired")
            // Deleting through Ferry switches such schedules off; an administrator can remove them.
            let other = try await t.createEnvironment(sample("other", stage: "dev"))
            #expect(try await t.request(.POST, "/api/schedules", json: ScheduleInput(
                name: "c other check", plugin: "environment.health_check", params: params(["environment": .string("other")]), cron: "* * * * *")).status == .created)
            #expect(try await t.request(.DELETE, "/api/environments/\(other.id)").status == .noContent)
            #expect(try await ScheduleModel.query(on: t.db).filter(\.$name == "c other check").first()?.enabled == false)
            #expect(try await t.request(.DELETE, "/api/schedules/\(goneSchedule.id!)").status == .noContent)
            _ = gone
        }
    }
}

/// Tokens can't outlive their makers, and a stored limit that doesn't read back grants nothing.
@Suite struct TokenAndGrantLimitTests {
    @Test func aTokenMadeWithATokenCannotOutliveIt() async throws {
        try await withFerry(.sqlite) { t in
            let short = try await t.request(.POST, "/api/tokens", json: TokenInput(name: "short", expiresInDays: 2))
            let shortToken = try short.content.decode(CreatedTokenDTO.self, using: JSONDecoder.ferry)
            let child = try await t.request(.POST, "/api/tokens", json: TokenInput(name: "child", expiresInDays: 300), headers: bearer(shortToken.token))
            let childToken = try child.content.decode(CreatedTokenDTO.self, using: JSONDecoder.ferry)
            #expect(childToken.info.expiresAt == shortToken.info.expiresAt, "capped at its maker's expiry")
            t.clock.advance(3 * 86400)
            let refused = try await t.request(.GET, "/api/me", headers: bearer(childToken.token))
            #expect(refused.status == .unauthorized)
            #expect(try refused.json()["code"]?.stringValue == "token_refused")
        }
    }

    @Test func aLegacyTokenWithoutExpiryLivesTheLongestATokenMay() async throws {
        try await withFerry(.sqlite) { t in
            let made = try await t.request(.POST, "/api/tokens", json: TokenInput(name: "old")).content.decode(CreatedTokenDTO.self, using: JSONDecoder.ferry)
            let row = try #require(try await APITokenModel.find(made.info.id, on: t.db))
            row.expiresAt = nil  // as tokens were made before they expired by default
            try await row.save(on: t.db)
            #expect(try await t.request(.GET, "/api/me", headers: bearer(made.token)).status == .ok)
            t.clock.advance(Double(TokenPolicy().maxDays) * 86400 + 1)
            #expect(try await t.request(.GET, "/api/me", headers: bearer(made.token)).status == .unauthorized)
        }
    }

    @Test func aStoredLimitThatDoesNotReadBackGrantsNothing() {
        #expect(AccountService.grant(permission: "tasks:read", environments: #"["not-a-uuid"]"#, stages: "[]") == nil)
        #expect(AccountService.grant(permission: "tasks:read", environments: "{broken", stages: "[]") == nil)
        #expect(AccountService.grant(permission: "tasks:read", environments: "[]", stages: "[]")?.isUnlimited == true)
        #expect(AccountService.grant(permission: "audit:read", environments: "[]", stages: #"["dev"]"#) == nil, "a limited global permission grants nothing")
    }
}

/// An environment has one identity: renaming it keeps everything that refers to it.
@Suite struct EnvironmentIdentityTests {
    @Test(arguments: Store.available)
    func renamingDevKeepsItsTasksPromotionsMappingsGrantsAndSchedules(store: Store) async throws {
        try await withFerry(store) { t in
            let f = try await PromotionFixture.make(t)
            let reader = bearer(try await t.limitedUser("reader", grants: ["tasks:read@name:dev", "tasks:read@name:prod", "promote:plan@name:dev",
                                                                            "promote:plan@name:prod", "environments:read@name:dev"]))
            let task = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: "environment.health_check", params: params(["environment": .string("dev")])))
            #expect(task.status == .created)
            let taskID = try #require(try task.json()["id"]?.stringValue)
            #expect(try await t.request(.POST, "/api/schedules", json: ScheduleInput(
                name: "dev health", plugin: "environment.health_check", params: params(["environment": .string("dev")]), cron: "0 * * * *")).status == .created)

            let renamed = try await t.request(.PUT, "/api/environments/\(f.dev.id)", json: EnvironmentInput(name: "development"))
            #expect(renamed.status == .ok, "\(renamed.body.string)")

            let shown = try await t.request(.GET, "/api/tasks/\(taskID)", headers: reader).json()
            #expect(shown["environments"]?.listValue == [.string("development")])
            #expect(try await t.request(.GET, "/api/tasks?environment=development&plugin=environment.health_check", headers: reader).json()["total"] == .int(1))
            let plan = try await t.request(.GET, "/api/promotions/plans/\(f.plan)", headers: reader).content.decode(PlanDTO.self, using: JSONDecoder.ferry)
            #expect(plan.source == "development" && plan.sourceId == f.dev.id)
            let promotions = try await t.request(.GET, "/api/promotions", headers: reader).json()["items"]?.listValue ?? []
            #expect(promotions.first?["source"]?.stringValue == "development")
            let history = try await t.request(.GET, "/api/promotions/history?target=prod", headers: reader).json()["items"]?.listValue ?? []
            #expect(history.first?["source"]?.stringValue == "development")
            let mappings = try await t.request(.GET, "/api/mappings?source=development", headers: reader).json()["items"]?.listValue ?? []
            #expect(mappings.count == 1 && mappings.first?["source"]?.stringValue == "development")
            let schedules = try await t.request(.GET, "/api/schedules").json()["items"]?.listValue ?? []
            #expect(schedules.contains { $0["params"]?["environment"]?.stringValue == f.dev.id.key })
            let roles = try await t.request(.GET, "/api/roles").json()["items"]?.listValue ?? []
            let grants = roles.first { $0["name"]?.stringValue == "role-reader" }?["grants"]?.listValue ?? []
            #expect(grants.contains(.string("tasks:read@name:development")), "\(grants)")
            // The grant still covers the renamed environment, which is listed under its new name.
            let envs = try await t.request(.GET, "/api/environments", headers: reader).json()["items"]?.listValue ?? []
            #expect(envs.map { $0["name"]?.stringValue } == ["development"])
            // The audit log finds what happened to it before the rename by its new name.
            let audit = try await t.request(.GET, "/api/audit?environment=development").json()
            #expect((audit["total"]?.intValue ?? 0) >= 1, "\(audit)")
            // And the task still runs against it (the engine looks it up by id).
            #expect(try await TaskModel.find(UUID(uuidString: taskID)!, on: t.db)?.environmentIDs == [f.dev.id])
        }
    }

    /// M0008 turns names into ids and back, rows included, on both stores.
    @Test(arguments: Store.available)
    func theIdentityMigrationConvertsRowsBothWays(store: Store) async throws {
        try await withFerry(store) { t in
            let f = try await PromotionFixture.make(t)
            _ = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: "environment.health_check", params: params(["environment": .string("dev")])))
            _ = try await t.request(.POST, "/api/roles", json: RoleInput(name: "r", grants: ["tasks:read@name:prod"]))
            // Migrations run before anything else writes; let the syncs that adding queued end.
            // The running app may still write (the engine, the audit log), and a migration reads
            // before it writes, so on SQLite each one runs under the write lock taken first, as a
            // live store's writers do: a deferred transaction is refused "database is locked".
            await t.app.syncCoordinator.wait(f.dev.id)
            await t.app.syncCoordinator.wait(f.prod.id)
            let sql = t.db as! any SQLDatabase
            struct Row: Decodable { var v: String }
            try await t.db.writeTransaction { try await M0008_EnvironmentIdentity().revert(on: $0) }
            #expect(try await sql.raw("SELECT source_env AS v FROM promotion_plans").all(decoding: Row.self).map(\.v) == ["dev"])
            let check = "FROM tasks WHERE plugin_id = 'environment.health_check'"
            #expect(try await sql.raw("SELECT environments AS v \(unsafeRaw: check)").all(decoding: Row.self).map(\.v) == ["dev"])
            #expect(try await sql.raw("SELECT params AS v \(unsafeRaw: check)").all(decoding: Row.self).first?.v.contains("\"dev\"") == true)
            #expect(try await sql.raw("SELECT environments AS v FROM role_grants WHERE environments <> '[]'").all(decoding: Row.self).map(\.v) == [#"["prod"]"#])
            try await t.db.writeTransaction { try await M0008_EnvironmentIdentity().prepare(on: $0) }
            #expect(try await PromotionPlanModel.find(f.plan, on: t.db)?.sourceEnvID == f.dev.id)
            #expect(try await PromotionModel.find(f.promotion, on: t.db)?.targetEnvID == f.prod.id)
            #expect(try await DatabaseMappingModel.find(f.mapping, on: t.db)?.targetEnvID == f.prod.id)
            let task = try await TaskModel.query(on: t.db).filter(\.$pluginID == "environment.health_check").first()
            #expect(task?.environmentIDs == [f.dev.id])
            #expect(task?.params.contains(f.dev.id.key) == true)
            let roles = try await t.request(.GET, "/api/roles").json()["items"]?.listValue ?? []
            #expect(roles.first { $0["name"]?.stringValue == "r" }?["grants"] == .list([.string("tasks:read@name:prod")]))
        }
    }
}

/// Credentials follow the URL; unsaved settings are judged on what they say.
@Suite struct EnvironmentCredentialTests {
    @Test(arguments: Store.available)
    func movingAnEnvironmentToAnotherServerNeedsThePasswordAgain(store: Store) async throws {
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample("prod", url: "http://127.0.0.1:9", stage: "prod"))
            let sealed = try await EnvironmentModel.find(env.id, on: t.db)?.passwordSealed
            for url in ["http://127.0.0.2:9", "http://127.0.0.1:10", "https://127.0.0.1:9"] {
                let res = try await t.request(.PUT, "/api/environments/\(env.id)", json: EnvironmentInput(url: url))
                #expect(res.status == .unprocessableEntity, "\(url): \(res.status)")
                #expect(try res.json()["errors"]?.listValue?.first { $0["field"]?.stringValue == "password" }?["code"]?.stringValue == "required_for_new_url")
            }
            #expect(try await EnvironmentModel.find(env.id, on: t.db)?.url == "http://127.0.0.1:9", "nothing half-saved")
            // Same server, another path: the password stays.
            #expect(try await t.request(.PUT, "/api/environments/\(env.id)", json: EnvironmentInput(url: "http://127.0.0.1:9/superset")).status == .ok)
            // Another server with the password: saved, with the new password.
            #expect(try await t.request(.PUT, "/api/environments/\(env.id)", json: EnvironmentInput(url: "http://127.0.0.2:9", password: "another-Pa55word")).status == .ok)
            #expect(try await EnvironmentModel.find(env.id, on: t.db)?.passwordSealed != sealed)
        }
    }

    @Test func testingUnsavedSettingsIsJudgedOnTheirStage() async throws {
        try await withFerry(.sqlite) { t in
            let dev = bearer(try await t.limitedUser("devw", grants: ["environments:write@stage:dev", "environments:read@stage:dev"]))
            #expect(try await t.request(.POST, "/api/environments/test", json: sample("x", stage: "prod"), headers: dev).status == .forbidden)
            #expect(try await t.request(.POST, "/api/environments/test", json: sample("x", stage: "dev"), headers: dev).status == .ok)
        }
    }
}

/// No number from a request can crash Ferry, and a malformed body is never the defaults.
@Suite struct RequestBoundsTests {
    @Test func hugePagesAndOffsetsAreRefusedNotTrapped() async throws {
        try await withFerry(.sqlite) { t in
            let task = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: "diagnostics.sleep", params: params(["seconds": .int(0)])))
            let id = try #require(try task.json()["id"]?.stringValue)
            for path in ["/api/tasks?page=9223372036854775807", "/api/tasks?page=1000001&per_page=200", "/api/promotions?page=9223372036854775807",
                         "/api/dashboards?page=9223372036854775807", "/api/tasks/\(id)/logs?from=9223372036854775807",
                         "/api/tasks?page=99999999999999999999999", "/api/audit?offset=9223372036854775807"] {
                let res = try await t.request(.GET, path)
                #expect(res.status == .unprocessableEntity, "\(path): \(res.status) \(res.body.string)")
            }
            #expect(try await t.request(.GET, "/api/tasks?page=1000000&per_page=200").status == .ok)
        }
    }

    @Test func aMalformedBodyIsRefusedNotTakenAsDefaults() async throws {
        try await withFerry(.sqlite) { t in
            let f = try await PromotionFixture.make(t)
            for path in ["/api/promotions/\(f.plan)/apply", "/api/promotions/\(f.promotion)/rollback"] {
                let res = try await t.request(.POST, path, headers: ["Content-Type": "application/json"], body: "{\"acceptShared\": tru")
                #expect(res.status == .badRequest, "\(path): \(res.status) \(res.body.string)")
            }
            #expect(try await PromotionModel.find(f.promotion, on: t.db)?.status == .succeeded, "nothing started")
        }
    }
}
