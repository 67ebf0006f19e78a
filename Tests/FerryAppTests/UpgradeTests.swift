import Fluent
import Foundation
import SQLKit
import SupersetKit
import Testing
import Vapor
import VaporTesting

@testable import FerryApp

/// Upgrades: a newer Ferry starting on a store an older release made migrates it forward, and
/// nothing is lost.
///
/// The store is built exactly as the previous release left it: only M0001–M0007 run, and its rows
/// are written with raw SQL in that schema (names where today's schema has ids), never through
/// today's models. Then Ferry's start (`autoMigrate`) runs the rest, and the rows are read back
/// through today's models and HTTP API, by the old user with their old password and token, and by
/// an administrator.
///
/// With `FERRY_TEST_UPGRADE_FIXTURE=<path>` the SQLite run also saves the old store (before the
/// upgrade) to `<path>`, and what a test of a released binary needs to check it to `<path>.json`.
@Suite struct UpgradeTests {
    /// The key the old store's environment passwords are sealed with: withFerry's default, passed
    /// explicitly so the fixture records the key actually used.
    static let secretKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

    /// The migrations of the previous release: its store is exactly what these made.
    static var previousRelease: [any Migration] {
        [
            M0001_CreateEnvironments(), M0002_CreateInventory(), M0003_CreateTasks(), M0004_CreatePromotions(), M0005_CreateAccounts(),
            M0006_AddInventoryOwnerUsernames(), M0007_AddEnvironmentParallelRequests(),
        ]
    }

    /// Proves that a store of the previous release (environments, a limited user, their role,
    /// token, tasks, logs, a schedule, a mapping, a promotion with its plan and history, an audit
    /// event, all naming environments by name) comes through Ferry's start whole:
    /// - the environments keep their ids, names and settings, and their passwords still open
    ///   with the same key;
    /// - every reference to an environment by name now holds its id (task lists and params,
    ///   schedule params, mappings, plans, promotions, history, grants, the audit event), and a
    ///   grant naming an environment deleted before the upgrade still grants nothing;
    /// - the old user signs in with the old password, sees dev and only dev, is refused
    ///   administration, and their old API token still works;
    /// - starting again migrates nothing more.
    @Test(arguments: Store.available)
    func aStoreOfThePreviousReleaseMigratesForwardAndLosesNothing(store: Store) async throws {
        try await withFerry(store, secretKey: Self.secretKey, migrate: false) { t in
            // 1. The previous release's schema, and nothing newer.
            try await Self.migrateAsThePreviousRelease(t)
            let previous = Self.previousRelease.map { $0.name }.sorted()
            #expect(try await MigrationLog.query(on: t.db).all().map(\.name).sorted() == previous)

            // 2. Its rows, as it wrote them.
            try await OldStore.fill(t)
            if store == .sqlite, let path = Store.environment["FERRY_TEST_UPGRADE_FIXTURE"], !path.isEmpty {
                try await OldStore.saveFixture(t, to: path)
            }

            // 3. What Ferry does on start; a second start finds nothing left to do.
            try await t.app.autoMigrate()
            let after = try await MigrationLog.query(on: t.db).all()
            try await t.app.autoMigrate()
            let again = try await MigrationLog.query(on: t.db).all()
            #expect(Set(again.map(\.name)) == Set(after.map(\.name)) && again.count == after.count, "the second start migrated nothing")
            #expect(Set(after.map(\.name)).count == after.count, "no migration ran twice")
            #expect(after.filter { $0.batch == 1 }.map(\.name).sorted() == previous, "the old ones didn't run again")
            let upgrade = after.filter { $0.batch == 2 }.map(\.name).sorted()
            #expect(upgrade.first == M0008_EnvironmentIdentity().name, "\(upgrade)")
            #expect(upgrade.contains(M0011_CreateGitHistory().name), "\(upgrade)")
            #expect(after.allSatisfy { $0.batch <= 2 })

            // 4. Nothing lost.
            try await Self.checkModels(t)
            try await Self.checkTheOldUser(t)
            try await Self.checkAsAnAdministrator(t)
        }
    }

    /// Runs M0001–M0007 only, recorded in `_fluent_migrations` as Fluent records them, so that a
    /// later `autoMigrate` runs only the newer ones (as on a real upgrade).
    static func migrateAsThePreviousRelease(_ t: TestHarness) async throws {
        let migrations = Migrations()
        migrations.add(previousRelease)
        let migrator = Migrator(databases: t.app.databases, migrations: migrations, logger: t.app.logger, on: t.app.eventLoopGroup.any())
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
    }

    // MARK: Checks

    /// Every old row, read through today's models.
    static func checkModels(_ t: TestHarness) async throws {
        // Environments: same ids, names and settings; the sealed passwords open with the same key.
        let dev = try #require(try await EnvironmentModel.find(OldStore.dev, on: t.db))
        let prod = try #require(try await EnvironmentModel.find(OldStore.prod, on: t.db))
        #expect(dev.name == "dev" && prod.name == "prod")
        #expect(dev.url == OldStore.devURL && prod.url == OldStore.prodURL)
        #expect(dev.stage == "dev" && prod.stage == "prod")
        #expect(dev.isDefault && !prod.isDefault)
        #expect(dev.parallelRequests == 1 && prod.parallelRequests == 4)
        #expect(try t.app.secretBox.open(dev.passwordSealed) == OldStore.devPassword)
        #expect(try t.app.secretBox.open(prod.passwordSealed) == OldStore.prodPassword)
        #expect(try await EnvironmentModel.query(on: t.db).count() == 2)

        // Tasks: environment lists and params name ids; everything else as it was.
        let check = try #require(try await TaskModel.find(OldStore.healthCheck, on: t.db))
        #expect(check.environmentIDs == [OldStore.dev])
        #expect(try BundleValue.parseJSON(check.params)["environment"] == .string(OldStore.dev.key))
        #expect(check.status == "succeeded" && check.logCount == 1 && check.scheduleID == OldStore.schedule)
        let promote = try #require(try await TaskModel.find(OldStore.promoteTask, on: t.db))
        #expect(promote.environmentIDs == [OldStore.dev, OldStore.prod])
        let promoteParams = try BundleValue.parseJSON(promote.params)
        #expect(promoteParams["source"] == .string(OldStore.dev.key))
        #expect(promoteParams["target"] == .string(OldStore.prod.key))
        #expect(promoteParams["plan"] == .string(OldStore.plan.key), "params that aren't environments are left alone")

        let schedule = try #require(try await ScheduleModel.find(OldStore.schedule, on: t.db))
        #expect(try BundleValue.parseJSON(schedule.params)["environment"] == .string(OldStore.dev.key))
        #expect(schedule.name == OldStore.scheduleName && schedule.cron == "0 3 * * *" && schedule.enabled)

        // Promotions: mapping, plan, promotion and history point at the environments' ids.
        let mapping = try #require(try await DatabaseMappingModel.find(OldStore.mapping, on: t.db))
        #expect(mapping.sourceEnvID == OldStore.dev && mapping.targetEnvID == OldStore.prod)
        #expect(mapping.sourceDatabaseName == "Sales (dev)" && mapping.targetDatabaseName == "Sales (prod)")
        let plan = try #require(try await PromotionPlanModel.find(OldStore.plan, on: t.db))
        #expect(plan.sourceEnvID == OldStore.dev && plan.targetEnvID == OldStore.prod)
        #expect(plan.status == .applied && plan.taskID == OldStore.promoteTask)
        #expect(plan.sourceBackupID == nil && plan.sourceRevision == nil, "an old plan is a plain promotion")
        let promotion = try #require(try await PromotionModel.find(OldStore.promotion, on: t.db))
        #expect(promotion.sourceEnvID == OldStore.dev && promotion.targetEnvID == OldStore.prod)
        #expect(promotion.planID == OldStore.plan && promotion.status == .succeeded)
        let history = try #require(try await DashboardHistoryModel.find(OldStore.history, on: t.db))
        #expect(history.sourceEnvID == OldStore.dev && history.targetEnvID == OldStore.prod)
        #expect(history.promotionID == OldStore.promotion && history.dashboardTitle == "Sales overview")

        // Grants: limits by name became limits by id; the one naming a deleted environment
        // became an id of no environment (it still grants nothing, and never everything).
        let grants = try await RoleGrantModel.query(on: t.db).filter(\.$roleID == OldStore.role).all()
        #expect(grants.count == 3)
        let limits = Dictionary(uniqueKeysWithValues: grants.compactMap(AccountService.grant).map { ($0.permission, $0.environments) })
        let expected: [Permission: [UUID]] = [
            Permission.environmentsRead: [OldStore.dev], Permission.tasksRead: [OldStore.dev], Permission.inventoryRead: [OldStore.deletedEnvironmentID],
        ]
        #expect(limits == expected)

        // The audit event keeps the name it recorded and gains the environment's id.
        let event = try #require(try await AuditEventModel.find(OldStore.audit, on: t.db))
        #expect(event.environment == "dev")
        #expect(event.environmentID == OldStore.dev.key)

        // The user, as they were (M0009 confirms groups of SSO users only).
        let user = try #require(try await UserModel.find(OldStore.user, on: t.db))
        #expect(user.username == OldStore.username && user.displayName == OldStore.displayName)
        #expect(user.groupsConfirmedAt == nil && !user.disabled && user.failedLogins == 0)
    }

    /// The old user signs in through the sign-in form with the old password, then uses the API
    /// within their role (dev only) and is refused the rest; their old API token works too.
    static func checkTheOldUser(_ t: TestHarness) async throws {
        let signIn = try await t.signIn(OldStore.username, OldStore.password)
        let cookie = try #require(signIn.session, "the old password still signs in (\(signIn.status))")
        let session: HTTPHeaders = ["Cookie": "\(Authenticator.sessionCookie)=\(cookie)"]

        let me = try await t.request(.GET, "/api/me", headers: session)
        #expect(me.status == .ok)
        let meJSON = try me.json()
        #expect(meJSON["user"]?["username"]?.stringValue == OldStore.username)
        #expect(meJSON["permissions"] == .list(OldStore.grantTexts.map(BundleValue.string)), "the grants, by current names")

        let environments = try await t.request(.GET, "/api/environments", headers: session)
        #expect(environments.status == .ok, "\(environments.body.string)")
        #expect(try environments.json()["items"]?.listValue?.compactMap { $0["name"]?.stringValue } == ["dev"])
        #expect(try await t.request(.GET, "/api/environments/\(OldStore.dev.key)", headers: session).status == .ok)
        #expect(try await t.request(.GET, "/api/environments/\(OldStore.prod.key)", headers: session).status == .forbidden)

        let tasks = try await t.request(.GET, "/api/tasks", headers: session)
        #expect(tasks.status == .ok, "\(tasks.body.string)")
        let items = try tasks.json()["items"]?.listValue ?? []
        #expect(items.compactMap { $0["id"]?.stringValue.flatMap(UUID.init(uuidString:)) } == [OldStore.healthCheck], "the dev task, not the dev→prod one")
        #expect(items.first?["environments"] == .list([.string("dev")]))
        #expect(items.first?["params"]?["environment"] == .string(OldStore.dev.key))
        #expect(try await t.request(.GET, "/api/tasks/\(OldStore.promoteTask.key)", headers: session).status == .forbidden)
        let logs = try await t.request(.GET, "/api/tasks/\(OldStore.healthCheck.key)/logs", headers: session)
        #expect(logs.status == .ok, "\(logs.body.string)")
        #expect(try logs.json()["items"]?.listValue?.first?["message"]?.stringValue == OldStore.logMessage)

        for path in ["/api/users", "/api/roles", "/api/audit", "/api/settings/sso"] {
            #expect(try await t.request(.GET, path, headers: session).status == .forbidden, "\(path)")
        }

        // The API token the old release made for them.
        let viaToken = try await t.request(.GET, "/api/tasks", headers: bearer(OldStore.token))
        #expect(viaToken.status == .ok, "\(viaToken.body.string)")
        #expect(try viaToken.json()["items"]?.listValue?.count == 1)
        #expect(try await t.request(.GET, "/api/users", headers: bearer(OldStore.token)).status == .forbidden)
    }

    /// An administrator (made after the upgrade: the old store has none here) sees every old row
    /// through the API, environments named by their current names.
    static func checkAsAnAdministrator(_ t: TestHarness) async throws {
        let admin = try await AccountService.createUser(
            UserInput(username: TestAdmin.username, password: TestAdmin.password, roles: [BuiltInRoles.admin]), hasher: t.app.passwordHasher,
            now: t.clock.now(), newID: { UUID() }, on: t.db)
        let principal = try #require(try await SessionService.principal(userID: admin.id, credential: .token(id: UUID()), on: t.db))
        let token = try await SessionService.createToken(TokenInput(name: "tests"), owner: principal, now: t.clock.now(), newID: UUID(), on: t.db).token
        let root = bearer(token)

        let prod = try await t.request(.GET, "/api/environments/\(OldStore.prod.key)", headers: root)
        #expect(prod.status == .ok)
        let prodJSON = try prod.json()
        #expect(prodJSON["name"]?.stringValue == "prod")
        #expect(prodJSON["parallelRequests"]?.intValue == 4)
        #expect(!prod.body.string.contains(OldStore.prodPassword))

        let roles = try await t.request(.GET, "/api/roles", headers: root).json()["items"]?.listValue ?? []
        #expect(roles.first { $0["name"]?.stringValue == OldStore.roleName }?["grants"] == .list(OldStore.grantTexts.map(BundleValue.string)))
        let users = try await t.request(.GET, "/api/users", headers: root).json()["items"]?.listValue ?? []
        #expect(users.first { $0["username"]?.stringValue == OldStore.username }?["roles"] == .list([.string(OldStore.roleName)]))

        let promote = try await t.request(.GET, "/api/tasks/\(OldStore.promoteTask.key)", headers: root)
        #expect(promote.status == .ok)
        #expect(try promote.json()["environments"] == .list([.string("dev"), .string("prod")]))

        let schedules = try await t.request(.GET, "/api/schedules", headers: root).json()["items"]?.listValue ?? []
        #expect(schedules.first { $0["name"]?.stringValue == OldStore.scheduleName }?["params"]?["environment"] == .string(OldStore.dev.key))

        let mappings = try await t.request(.GET, "/api/mappings", headers: root).json()["items"]?.listValue ?? []
        #expect(mappings.count == 1)
        #expect(mappings.first?["source"]?.stringValue == "dev" && mappings.first?["target"]?.stringValue == "prod")
        #expect(mappings.first?["sourceId"]?.stringValue.flatMap(UUID.init(uuidString:)) == OldStore.dev)
        #expect(mappings.first?["targetId"]?.stringValue.flatMap(UUID.init(uuidString:)) == OldStore.prod)

        let plan = try await t.request(.GET, "/api/promotions/plans/\(OldStore.plan.key)", headers: root)
        #expect(plan.status == .ok, "\(plan.body.string)")
        let planJSON = try plan.json()
        #expect(planJSON["source"]?.stringValue == "dev" && planJSON["target"]?.stringValue == "prod")
        #expect(planJSON["status"]?.stringValue == "applied")
        let promotion = try await t.request(.GET, "/api/promotions/\(OldStore.promotion.key)", headers: root)
        #expect(promotion.status == .ok, "\(promotion.body.string)")
        #expect(try promotion.json()["sourceId"]?.stringValue.flatMap(UUID.init(uuidString:)) == OldStore.dev)
        let history = try await t.request(.GET, "/api/promotions/history?target=prod", headers: root).json()["items"]?.listValue ?? []
        #expect(history.map { $0["dashboardTitle"]?.stringValue } == ["Sales overview"])
        #expect(history.first?["source"]?.stringValue == "dev")

        let audit = try await t.request(.GET, "/api/audit?environment=dev&action=environment.update", headers: root).json()["items"]?.listValue ?? []
        let event = audit.first { $0["id"]?.stringValue.flatMap(UUID.init(uuidString:)) == OldStore.audit }
        #expect(event?["environment"]?.stringValue == "dev")
        #expect(event?["actor"]?.stringValue == "ops")
    }
}

/// The previous release's store: its rows in its schema (M0001–M0007), written with raw SQL as it
/// wrote them. Fixed ids, so that every run (and the saved fixture) is the same.
enum OldStore {
    static let dev = UUID(uuidString: "de000000-0000-4000-8000-000000000001")!
    static let prod = UUID(uuidString: "de000000-0000-4000-8000-000000000002")!
    static let devURL = "http://127.0.0.1:9"
    static let prodURL = "http://127.0.0.1:9/prod"
    static let devPassword = "dev-superset-Pa55word"
    static let prodPassword = "prod-superset-Pa55word"

    static let user = UUID(uuidString: "a0000000-0000-4000-8000-000000000001")!
    static let username = "oldtimer"
    static let displayName = "Old Timer"
    static let password = "old-timer Pa55word!"
    static let role = UUID(uuidString: "a0000000-0000-4000-8000-000000000002")!
    static let roleName = "dev-readers"
    static let userRole = UUID(uuidString: "a0000000-0000-4000-8000-000000000003")!
    static let grants = (1...3).map { UUID(uuidString: "a0000000-0000-4000-8000-00000000001\($0)")! }
    static let tokenID = UUID(uuidString: "a0000000-0000-4000-8000-000000000004")!
    /// A test value: the old release's API token of the old user (only its SHA-256 is stored).
    static let token = "fry_upgrade-fixture-test-token-0001"

    static let healthCheck = UUID(uuidString: "7a000000-0000-4000-8000-000000000001")!
    static let promoteTask = UUID(uuidString: "7a000000-0000-4000-8000-000000000002")!
    static let logMessage = "dev answered in 12 ms"
    static let schedule = UUID(uuidString: "5c000000-0000-4000-8000-000000000001")!
    static let scheduleName = "dev health nightly"

    static let mapping = UUID(uuidString: "90000000-0000-4000-8000-000000000001")!
    static let plan = UUID(uuidString: "90000000-0000-4000-8000-000000000002")!
    static let promotion = UUID(uuidString: "90000000-0000-4000-8000-000000000003")!
    static let history = UUID(uuidString: "90000000-0000-4000-8000-000000000004")!
    static let audit = UUID(uuidString: "90000000-0000-4000-8000-000000000005")!

    /// An environment deleted before the upgrade, still named by a grant.
    static let deletedEnvironment = "qa"
    static var deletedEnvironmentID: UUID { UUID(uuidString: M0008_EnvironmentIdentity.orphanID(deletedEnvironment))! }

    /// The old user's grants as Ferry shows them after the upgrade (sorted, as the API lists them).
    static var grantTexts: [String] {
        ["environments:read@name:dev", "inventory:read@id:\(deletedEnvironmentID.key)", "tasks:read@name:dev"]
    }

    /// Inserts the old release's rows. Column names, id and JSON forms are M0007's: environments by
    /// name (comma lists in `tasks.environments`, JSON lists in `role_grants.environments`, plain
    /// names in `source_env`/`target_env`, params and the audit event's `environment`).
    static func fill(_ t: TestHarness) async throws {
        let sql = t.db as! any SQLDatabase
        let now = t.clock.now()
        let day: TimeInterval = 86400
        let box = t.app.secretBox
        let devSealed = try box.seal(devPassword)
        let prodSealed = try box.seal(prodPassword)
        let created = now.addingTimeInterval(-90 * day)
        let lastWeek = now.addingTimeInterval(-7 * day)
        let yesterday = now.addingTimeInterval(-day)
        let passwordHash = try await t.app.passwordHasher.hash(password)

        try await insert(sql, "environments", [
            "id": dev, "name": "dev", "url": devURL, "auth_provider": "db", "username": "admin", "password_sealed": devSealed,
            "verify_tls": true, "stage": "dev", "is_default": true, "created_at": created, "updated_at": created, "parallel_requests": 1,
        ])
        try await insert(sql, "environments", [
            "id": prod, "name": "prod", "url": prodURL, "auth_provider": "db", "username": "admin", "password_sealed": prodSealed,
            "verify_tls": true, "stage": "prod", "is_default": false, "created_at": created, "updated_at": lastWeek, "parallel_requests": 4,
        ])

        try await insert(sql, "schedules", [
            "id": schedule, "name": scheduleName, "plugin_id": HealthCheckPlugin.pluginID, "params": #"{"environment":"dev"}"#,
            "cron": "0 3 * * *", "time_zone": "UTC", "enabled": true, "catch_up": false,
            "next_run_at": now.addingTimeInterval(day), "last_run_at": yesterday, "created_at": created, "updated_at": created,
        ])
        try await insert(sql, "tasks", [
            "id": healthCheck, "plugin_id": HealthCheckPlugin.pluginID, "params": #"{"environment":"dev"}"#, "created_by": "scheduler",
            "environments": "dev", "status": "succeeded", "progress": 100, "step": "done", "created_at": yesterday, "started_at": yesterday,
            "finished_at": yesterday.addingTimeInterval(1), "cancel_requested": false, "schedule_id": schedule, "log_count": 1,
        ])
        try await insert(sql, "task_logs", [
            "task_id": healthCheck, "seq": 0, "at": yesterday, "level": "info", "source": "plugin", "message": logMessage, "metadata": "{}",
        ])
        try await insert(sql, "tasks", [
            "id": promoteTask, "plugin_id": "promote.plan",
            "params": #"{"plan":"\#(plan.key)","source":"dev","target":"prod"}"#, "created_by": "ops",
            "environments": "dev,prod", "status": "succeeded", "progress": 100, "step": "done", "created_at": lastWeek, "started_at": lastWeek,
            "finished_at": lastWeek.addingTimeInterval(30), "cancel_requested": false, "log_count": 0,
        ])

        try await insert(sql, "database_mappings", [
            "id": mapping, "source_env": "dev", "target_env": "prod", "source_db_uuid": "6d1b0000-0000-4000-8000-0000000000d1",
            "source_db_name": "Sales (dev)", "target_db_uuid": "6d1b0000-0000-4000-8000-0000000000f1", "target_db_name": "Sales (prod)",
            "updated_at": lastWeek,
        ])
        try await insert(sql, "promotion_plans", [
            "id": plan, "source_env": "dev", "target_env": "prod", "scope": "dashboards", "selection": #"{"dashboards":["sales-overview"]}"#,
            "schema_mapping": "{}", "status": "applied", "task_id": promoteTask, "created_by": "ops", "created_at": lastWeek,
        ])
        try await insert(sql, "promotions", [
            "id": promotion, "plan_id": plan, "source_env": "dev", "target_env": "prod", "status": "succeeded", "created_assets": "[]",
            "started_by": "ops", "created_at": lastWeek, "finished_at": lastWeek.addingTimeInterval(60),
        ])
        try await insert(sql, "dashboard_history", [
            "id": history, "target_env": "prod", "dashboard_uuid": "5a1e5000-0000-4000-8000-000000000001", "dashboard_title": "Sales overview",
            "source_env": "dev", "promotion_id": promotion, "plan_id": plan, "promoted_by": "ops", "promoted_at": lastWeek.addingTimeInterval(60),
            "bundle_checksum": "0f3c9b1e",
        ])

        try await insert(sql, "users", [
            "id": user, "username": username, "display_name": displayName, "email": "oldtimer@example.com",
            "password_hash": passwordHash, "disabled": false, "failed_logins": 0,
            "last_login_at": lastWeek, "created_at": created,
        ])
        try await insert(sql, "roles", ["id": role, "name": roleName, "description": "Reads dev", "builtin": false])
        for (id, permission, environments) in [
            (grants[0], "environments:read", #"["dev"]"#), (grants[1], "tasks:read", #"["dev"]"#),
            (grants[2], "inventory:read", #"["\#(deletedEnvironment)"]"#),
        ] {
            try await insert(sql, "role_grants", ["id": id, "role_id": role, "permission": permission, "environments": environments, "stages": "[]"])
        }
        try await insert(sql, "user_roles", ["id": userRole, "user_id": user, "role_id": role])
        try await insert(sql, "api_tokens", [
            "id": tokenID, "user_id": user, "name": "ci", "token_hash": Credentials.hash(token), "prefix": String(token.prefix(10)),
            "scopes": #"["environments:read","tasks:read"]"#, "expires_at": now.addingTimeInterval(80 * day), "created_at": lastWeek,
        ])

        try await insert(sql, "audit_events", [
            "id": audit, "at": lastWeek, "actor": "ops", "address": "10.0.0.7", "action": "environment.update", "target": "dev",
            "environment": "dev", "outcome": "success",
        ])
    }

    /// One row; columns left out are NULL (or their default).
    static func insert(_ sql: any SQLDatabase, _ table: String, _ row: KeyValuePairs<String, any Encodable & Sendable>) async throws {
        let values: [any SQLExpression] = row.map { SQLBind($0.value) }
        try await sql.insert(into: table).columns(row.map { $0.key }).values(values).run()
    }

    // MARK: Fixture

    /// What a test of a released binary needs to open and check the saved store.
    struct Fixture: Encodable {
        struct EnvironmentEntry: Encodable { var id: String; var name: String; var stage: String; var url: String }
        var about: String
        var secretKey: String
        var migrations: [String]
        var username: String
        var password: String
        var token: String
        var environments: [EnvironmentEntry]
        var role: String
        var grantsAfterUpgrade: [String]
        var tasks: [String: String]
        var schedule: String
    }

    /// Copies the SQLite store as it is now (the old release's, not yet upgraded) to `path`, and
    /// writes `<path>.json` beside it. The WAL is checkpointed first, so the main file holds
    /// everything; whatever the WAL still holds is copied too.
    ///
    /// Side effects: replaces `path`, `path-wal`, `path-shm` and `path.json`.
    static func saveFixture(_ t: TestHarness, to path: String) async throws {
        let sql = t.db as! any SQLDatabase
        let checkpoint = try await sql.raw("PRAGMA wal_checkpoint(TRUNCATE)").all()
        #expect(try checkpoint.first?.decode(column: "busy", as: Int.self) == 0, "the checkpoint moved every page into the main file")
        let source = t.app.ferryConfiguration.sqlitePath
        let fm = FileManager.default
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        for suffix in ["", "-wal", "-shm", "-journal", ".json"] where fm.fileExists(atPath: path + suffix) {
            try fm.removeItem(atPath: path + suffix)
        }
        try fm.copyItem(atPath: source, toPath: path)
        if let wal = fm.contents(atPath: source + "-wal"), !wal.isEmpty {
            try wal.write(to: URL(fileURLWithPath: path + "-wal"))
        }

        let fixture = Fixture(
            about: "A Ferry store as migrations M0001-M0007 left it, with rows naming environments by name. Test values only.",
            secretKey: UpgradeTests.secretKey,
            migrations: UpgradeTests.previousRelease.map { $0.name },
            username: username, password: password, token: token,
            environments: [
                .init(id: dev.key, name: "dev", stage: "dev", url: devURL),
                .init(id: prod.key, name: "prod", stage: "prod", url: prodURL),
            ],
            role: roleName, grantsAfterUpgrade: grantTexts,
            tasks: ["healthCheck": healthCheck.key, "promotePlan": promoteTask.key],
            schedule: schedule.key)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(fixture).write(to: URL(fileURLWithPath: path + ".json"))
    }
}
