import Fluent
import Foundation
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

/// Real Superset for the FerryApp tests (see `scripts/test`).
enum LiveSuperset {
    static let environment = ProcessInfo.processInfo.environment
    static let enabled = environment["FERRY_REQUIRE_INTEGRATION"] == "1" || environment["FERRY_TEST_SUPERSET_DEV_URL"] != nil

    static func url(_ name: String) throws -> String {
        try #require(environment["FERRY_TEST_SUPERSET_\(name.uppercased())_URL"], "run scripts/test: no \(name) Superset")
    }

    static func manifest(_ name: String) throws -> BundleValue {
        let path = try #require(environment["FERRY_TEST_\(name.uppercased())_MANIFEST"])
        return try BundleValue.parseJSON(Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

extension TestHarness {
    /// Syncs an environment now and waits for it.
    func sync(_ id: UUID) async throws {
        let res = try await request(.POST, "/api/environments/\(id)/sync")
        #expect(res.status == .accepted)
        await app.syncCoordinator.wait(id)
    }

    func search(_ kind: String = "dashboards", _ query: String = "") async throws -> InventoryPage {
        let res = try await request(.GET, "/api/\(kind)" + (query.isEmpty ? "" : "?" + query))
        #expect(res.status == .ok, "\(res.body.string)")
        return try res.content.decode(InventoryPage.self, using: JSONDecoder.ferry)
    }
}

@Suite struct InventoryFaultTests {
    @Test(arguments: Store.available)
    func aFailedSyncKeepsThePreviousInventoryAndSaysWhy(store: Store) async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 230))
        defer { Task { await fake.stop() } }
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample("fake", url: fake.url))
            await t.app.syncCoordinator.wait(env.id)
            var page = try await t.search("dashboards", "environment=fake&per_page=100&page=3")
            #expect(page.total == 230)
            #expect(page.items.count == 30)
            #expect(page.environments.first?.syncStatus == "succeeded")
            let firstSync = try #require(page.environments.first?.lastSyncAt)

            fake.mode = .badJSON
            t.clock.advance(300)
            try await t.sync(env.id)
            page = try await t.search("dashboards", "environment=fake")
            #expect(page.total == 230, "the old inventory stays after a failed sync")
            #expect(page.environments.first?.syncStatus == "failed")
            #expect(page.environments.first?.lastSyncAt == firstSync)
            #expect(page.environments.first?.syncError?.contains("cannot read") == true)

            fake.mode = .status(503)
            try await t.sync(env.id)
            let shown = try await t.request(.GET, "/api/environments/\(env.id)").json()
            #expect(shown["sync"]?["status"]?.stringValue == "failed")
            #expect(shown["sync"]?["error"]?.stringValue?.contains("503") == true)
        }
    }

    @Test(arguments: Store.available)
    func searchFiltersByWordsOwnerAndEnvironment(store: Store) async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 120))
        defer { Task { await fake.stop() } }
        try await withFerry(store) { t in
            let a = try await t.createEnvironment(sample("alpha", url: fake.url))
            let b = try await t.createEnvironment(sample("beta", url: fake.url, stage: "prod"))
            await t.app.syncCoordinator.wait(a.id)
            await t.app.syncCoordinator.wait(b.id)
            #expect(try await t.search().total == 240)
            // All words must match, in any order and case.
            let hits = try await t.search("dashboards", "search=DASHBOARD%20fake%2011")
            #expect(Set(hits.items.map(\.name)) == ["Fake dashboard 11", "Fake dashboard 110", "Fake dashboard 111", "Fake dashboard 112",
                                                     "Fake dashboard 113", "Fake dashboard 114", "Fake dashboard 115", "Fake dashboard 116",
                                                     "Fake dashboard 117", "Fake dashboard 118", "Fake dashboard 119"])
            #expect(hits.total == 22)
            let onlyBeta = try await t.search("dashboards", "search=fake-7&environment=beta")
            #expect(onlyBeta.items.allSatisfy { $0.environment == "beta" })
            #expect(onlyBeta.total == 11)  // fake-7, fake-70..79
            #expect(try await t.search("dashboards", "owner=fay").total == 240)
            #expect(try await t.search("dashboards", "owner=nobody").total == 0)
            // SQL wildcards in the search are literal text.
            #expect(try await t.search("dashboards", "search=%25").total == 0)
            #expect(try await t.search("dashboards", "search=_").total == 0)
            let item = try #require(onlyBeta.items.first)
            #expect(item.url.hasPrefix(fake.url + "/superset/dashboard/"))
            #expect(item.owners == ["Fay Fake"])
        }
    }

    @Test(arguments: Store.available)
    func changesFromAnotherProcessAreSeenWithinTheRevalidationWindow(store: Store) async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 5))
        defer { Task { await fake.stop() } }
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample("shared", url: fake.url))
            await t.app.syncCoordinator.wait(env.id)
            #expect(try await t.search().total == 5)
            // Another Ferry process on the same store syncs: this one is not told.
            let other = RemoteAsset(kind: .dashboard, id: 99, uuid: "u-99", name: "From elsewhere", detail: "elsewhere", owners: [])
            t.clock.advance(1)
            try await InventorySync.replace(env.id, with: [other], syncedAt: t.clock.now(), idFactory: { UUID() }, on: t.db)
            try await InventorySync.markFinished(env.id, at: t.clock.now(), counts: ["dashboard": 1], error: nil, on: t.db)
            #expect(try await t.search().total == 5, "answered from memory inside the window")
            t.clock.advance(t.app.inventoryIndex.revalidateAfter + 0.5)
            let page = try await t.search()
            #expect(page.total == 1)
            #expect(page.items.first?.name == "From elsewhere")
        }
    }

    @Test(arguments: Store.available)
    func aGrantLimitedToOneStageSearchesOnlyThatStage(store: Store) async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 3))
        defer { Task { await fake.stop() } }
        try await withFerry(store) { t in
            let dev = try await t.createEnvironment(sample("dev", url: fake.url, stage: "dev"))
            let prod = try await t.createEnvironment(sample("prod", url: fake.url, stage: "prod"))
            await t.app.syncCoordinator.wait(dev.id)
            await t.app.syncCoordinator.wait(prod.id)
            #expect(try await t.search().total == 6)
            let role = try await t.request(.POST, "/api/roles", json: RoleInput(name: "dev-reader", grants: ["inventory:read@stage:dev", "environments:read@stage:dev"]))
            #expect(role.status == .created, "\(role.body.string)")
            let (_, token) = try await t.user("devon", roles: ["dev-reader"])
            let res = try await t.request(.GET, "/api/dashboards", headers: bearer(token))
            let page = try res.content.decode(InventoryPage.self, using: JSONDecoder.ferry)
            #expect(page.total == 3)
            #expect(page.items.allSatisfy { $0.environment == "dev" })
            #expect(page.environments.map(\.name) == ["dev"], "the other stage isn't even named")
            let asked = try await t.request(.GET, "/api/dashboards?environment=prod", headers: bearer(token))
            #expect(asked.status == .forbidden)
            #expect(try asked.json()["detail"]?.stringValue?.contains("inventory:read") == true)
            let envs = try await t.request(.GET, "/api/environments", headers: bearer(token)).json()
            #expect(envs["items"]?.listValue?.compactMap { $0["name"]?.stringValue } == ["dev"])
            #expect(try await t.request(.GET, "/api/environments/\(prod.id)", headers: bearer(token)).status == .forbidden)
        }
    }

    @Test(arguments: Store.available)
    func aSyncIsATaskWithALogAndOneAtATime(store: Store) async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 12))
        let stuck = try await FakeSuperset.start(.hang)
        defer { Task { await fake.stop(); await stuck.stop() } }
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample("tasked", url: fake.url))
            await t.app.syncCoordinator.wait(env.id)
            let res = try await t.request(.POST, "/api/environments/\(env.id)/sync")
            #expect(res.status == .accepted)
            let taskID = try #require(try res.json()["taskId"]?.stringValue)
            await t.app.syncCoordinator.wait(env.id)
            let task = try await t.request(.GET, "/api/tasks/\(taskID)").json()
            #expect(task["plugin"]?.stringValue == InventorySyncPlugin.pluginID)
            #expect(task["status"]?.stringValue == "succeeded")
            #expect(task["environments"]?.listValue?.compactMap(\.stringValue) == ["tasked"])
            #expect(task["result"]?["counts"]?["dashboard"]?.intValue == 12)
            let log = try await t.request(.GET, "/api/tasks/\(taskID)/logs").body.string
            #expect(log.contains("12 dashboards") && log.contains("listing charts"))
            #expect(try await t.search().total == 12)

            // A sync that hangs: asking again finds the same task; deleting the environment
            // cancels it instead of waiting for Superset.
            let slow = try await t.createEnvironment(sample("stuck", url: stuck.url))
            let first = try await t.request(.POST, "/api/environments/\(slow.id)/sync").json()
            #expect(first["status"]?.stringValue == "already_running", "adding it queued one already")
            let again = try await t.request(.POST, "/api/environments/\(slow.id)/sync").json()
            #expect(again["taskId"] == first["taskId"])
            // The delete returns with the sync already ended (cancelled), not after Superset's timeout.
            #expect(try await t.request(.DELETE, "/api/environments/\(slow.id)").status == .noContent)
            let stuckTask = try await t.request(.GET, "/api/tasks/\(try #require(first["taskId"]?.stringValue))").json()
            #expect(["cancelled", "failed"].contains(stuckTask["status"]?.stringValue ?? ""), "\(stuckTask)")
        }
    }

    @Test func byteSearchMatchesSubstringsOfAnyScript() {
        func has(_ a: String, _ b: String) -> Bool { InventorySearch.contains(Array(a.utf8), Array(b.utf8)) }
        #expect(has("отчёт по продажам", "продаж"))
        #expect(has("abc", "abc") && has("abc", "") && has("xxabc", "bc"))
        #expect(!has("ab", "abc") && !has("abd", "abc") && !has("", "a"))
    }

    @Test(arguments: Store.available)
    func badPagingAndUnknownEnvironmentsAreClearErrors(store: Store) async throws {
        try await withFerry(store) { t in
            let res = try await t.request(.GET, "/api/dashboards?page=0&per_page=100000")
            #expect(res.status == .unprocessableEntity)
            let fields = Set((try res.json()["errors"]?.listValue ?? []).compactMap { $0["field"]?.stringValue })
            #expect(fields == ["page", "per_page"])
            #expect(try await t.request(.GET, "/api/dashboards?page=abc").status == .unprocessableEntity)
            let unknown = try await t.request(.GET, "/api/charts?environment=nowhere")
            #expect(unknown.status == .unprocessableEntity)
            #expect(try unknown.json()["errors"]?.listValue?.first?["field"]?.stringValue == "environment")
            #expect(try unknown.json()["detail"]?.stringValue?.contains("nowhere") == true)
        }
    }
}

@Suite(.enabled(if: LiveSuperset.enabled, "needs the real Superset instances of scripts/test"))
struct InventoryLiveTests {
    @Test(arguments: Store.available)
    func syncsARealSupersetAndSearchesIt(store: Store) async throws {
        let devURL = try LiveSuperset.url("dev")
        let manifest = try LiveSuperset.manifest("dev")
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample("dev", password: "admin", url: devURL))
            await t.app.syncCoordinator.wait(env.id)
            let shown = try await t.request(.GET, "/api/environments/\(env.id)").json()
            #expect(shown["sync"]?["status"]?.stringValue == "succeeded", "\(shown)")
            let count = try #require(manifest["dashboard_count"]?.intValue)
            #expect((shown["sync"]?["counts"]?["dashboard"]?.intValue ?? 0) >= count)

            let overview = try await t.search("dashboards", "search=sales%20overview")
            #expect(overview.total == 1)
            let hit = try #require(overview.items.first)
            #expect(hit.uuid == manifest["dashboards"]?["sales-overview"]?["uuid"]?.stringValue)
            #expect(hit.detail == "sales-overview")
            #expect(hit.owners.contains("Ada Admin"))
            #expect(hit.url == devURL + "/superset/dashboard/\(hit.id)/")

            let fillers = try await t.search("dashboards", "search=filler&per_page=50&page=3")
            #expect(fillers.total == 120)
            #expect(fillers.items.count == 20)
            let charts = try await t.search("charts", "search=sales%20by")
            #expect(Set(charts.items.map(\.name)) == ["Sales by region", "Sales by product"])
            #expect(charts.items.allSatisfy { $0.parent?.contains("sales") == true })
            let datasets = try await t.search("datasets", "search=sales")
            #expect(datasets.items.first?.parent == "Sales")
            let databases = try await t.search("databases")
            #expect(Set(databases.items.map(\.name)).isSuperset(of: ["Sales", "Warehouse"]))

            // A second sync replaces rather than duplicates.
            try await t.sync(env.id)
            #expect(try await t.search("dashboards", "search=sales%20overview").total == 1)

            // "Only my dashboards" follows the profile's Superset username, matched whole
            // against the owners' usernames that the sync read from Superset's users API.
            let noName = try await t.request(.GET, "/api/dashboards?mine=true")
            #expect(noName.status == .unprocessableEntity)
            #expect(try noName.json()["errors"]?.listValue?.first?["code"]?.stringValue == "no_superset_username")
            let root = try #require(try await UserModel.query(on: t.db).filter(\.$username == TestAdmin.username).first()?.id)
            let all = try await t.search("dashboards", "per_page=1").total
            for (username, expected) in [("admin", all), ("adm", 0), ("ADMIN", all)] {
                #expect(try await t.request(.PUT, "/api/users/\(root)", json: UserInput(supersetUsername: username)).status == .ok)
                #expect(try await t.search("dashboards", "mine=true&per_page=1").total == expected, "as Superset user \(username)")
            }
            let mineFillers = try await t.search("dashboards", "mine=true&search=filler&per_page=1")
            #expect(mineFillers.total == 120, "mine combines with the search words")
        }
    }

    @Test func remoteChangesShowUpAfterTheNextSync() async throws {
        let prodURL = try LiveSuperset.url("prod")
        try await withFerry(.sqlite) { t in
            let env = try await t.createEnvironment(sample("prod", password: "admin", url: prodURL, stage: "prod"))
            await t.app.syncCoordinator.wait(env.id)
            let title = "Ferry probe \(UUID().uuidString.prefix(8))"
            let client = SupersetClient(
                configuration: .init(baseURL: URL(string: prodURL)!, credentials: .init(username: "admin", password: "admin")),
                transport: TestTransport.shared)
            let created = try await client.sendJSON("POST", "/api/v1/dashboard/", body: .map(["dashboard_title": .string(title)]))
            let id = try #require(created["id"]?.intValue)
            #expect(try await t.search("dashboards", "search=\(title.replacingOccurrences(of: " ", with: "%20"))").total == 0)
            try await t.sync(env.id)
            #expect(try await t.search("dashboards", "search=\(title.replacingOccurrences(of: " ", with: "%20"))").total == 1)
            try await client.sendJSON("DELETE", "/api/v1/dashboard/\(id)", body: nil)
            try await t.sync(env.id)
            #expect(try await t.search("dashboards", "search=\(title.replacingOccurrences(of: " ", with: "%20"))").total == 0)
        }
    }
}

@Suite struct InventoryJSONTests {
    @Test func preEncodedJSONDecodesToTheSamePage() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 60))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let env = try await t.createEnvironment(sample("json", url: fake.url))
            await t.app.syncCoordinator.wait(env.id)
            let snapshot = try await t.app.inventoryIndex.current(on: t.db, now: t.clock.now())
            for q in [InventoryQuery(kind: .dashboard, search: "1", page: 2, perPage: 5), InventoryQuery(kind: .dashboard, search: "zzz"),
                      InventoryQuery(kind: .chart)] {
                let fast = try JSONDecoder.ferry.decode(InventoryPage.self, from: Data(InventorySearch.json(q, in: snapshot)))
                let slow = try InventorySearch.search(q, in: snapshot)
                #expect(fast.items == slow.items)
                #expect(fast.environments == slow.environments)
                #expect(fast.page == slow.page && fast.perPage == slow.perPage && fast.total == slow.total)
            }
        }
    }
}
