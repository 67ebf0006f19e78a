import Fluent
import Foundation
import SQLKit
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

/// An address where nothing listens, so background syncs of test environments fail fast.
let closedURL = "http://127.0.0.1:9"

func sample(_ name: String = "dev", password: String = "s3cret-Pa55word!", url: String = closedURL, stage: String = "dev", isDefault: Bool = false) -> EnvironmentInput {
    EnvironmentInput(name: name, url: url, authProvider: "db", username: "admin", password: password, verifyTLS: true, stage: stage, isDefault: isDefault)
}

@Suite struct EnvironmentsAPITests {
    @Test(arguments: Store.available)
    func createListShowNeverReturnThePassword(store: Store) async throws {
        try await withFerry(store) { t in
            let res = try await t.request(.POST, "/api/environments", json: sample(url: "HTTP://127.0.0.1:9//?x=1#top"))
            #expect(res.status == .created)
            let body = try res.json()
            #expect(body["password"] == nil)
            #expect(!res.body.string.contains("s3cret"))
            let id = try #require(body["id"]?.stringValue)
            #expect(res.headers.first(name: .location) == "/api/environments/\(id)")
            // The URL is normalised: lower-case scheme, no trailing slash, query or fragment.
            #expect(body["url"]?.stringValue == "http://127.0.0.1:9")
            #expect(body["createdAt"]?.stringValue == "2027-01-15T08:00:00Z")

            let list = try await t.request(.GET, "/api/environments")
            #expect(list.status == .ok)
            #expect(try list.json()["items"]?.listValue?.count == 1)
            #expect(!list.body.string.contains("s3cret"))
            let show = try await t.request(.GET, "/api/environments/\(id)")
            #expect(try show.json()["name"]?.stringValue == "dev")
            #expect(!show.body.string.contains("password"))
        }
    }

    @Test(arguments: Store.available)
    func invalidInputIsRejectedWithEveryFieldAndNothingSaved(store: Store) async throws {
        try await withFerry(store) { t in
            let bad = EnvironmentInput(name: "", url: "ftp://example.com", authProvider: "kerberos", username: " ", password: "", stage: "qa")
            let res = try await t.request(.POST, "/api/environments", json: bad)
            #expect(res.status == .unprocessableEntity)
            #expect(res.headers.contentType?.description.contains("problem+json") == true)
            let problem = try res.json()
            #expect(problem["code"]?.stringValue == "validation")
            let fields = Set((problem["errors"]?.listValue ?? []).compactMap { $0["field"]?.stringValue })
            #expect(fields == ["name", "url", "authProvider", "username", "password", "stage"])
            #expect(try await EnvironmentModel.query(on: t.db).count() == 0)
        }
    }

    @Test(arguments: Store.available)
    func malformedJSONIsABadRequest(store: Store) async throws {
        try await withFerry(store) { t in
            var headers = HTTPHeaders()
            headers.contentType = .json
            let res = try await t.request(.POST, "/api/environments", headers: headers, body: #"{"name": "dev", "url": "#)
            #expect(res.status == .badRequest)
            let problem = try res.json()
            #expect(problem["code"]?.stringValue == "bad_request")
            #expect(problem["detail"]?.stringValue?.isEmpty == false)
            #expect(try await EnvironmentModel.query(on: t.db).count() == 0)
        }
    }

    @Test(arguments: Store.available)
    func duplicateNamesConflict(store: Store) async throws {
        try await withFerry(store) { t in
            _ = try await t.createEnvironment(sample("stage"))
            let res = try await t.request(.POST, "/api/environments", json: sample("stage"))
            #expect(res.status == .conflict)
            #expect(try res.json()["code"]?.stringValue == "name_taken")
            #expect(try await EnvironmentModel.query(on: t.db).count() == 1)
        }
    }

    @Test(arguments: Store.available)
    func updateKeepsThePasswordUnlessANewOneIsGiven(store: Store) async throws {
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample())
            t.clock.advance(60)
            let res = try await t.request(.PUT, "/api/environments/\(env.id)", json: EnvironmentInput(stage: "prod"))
            #expect(res.status == .ok)
            let updated = try res.content.decode(EnvironmentDTO.self, using: JSONDecoder.ferry)
            #expect(updated.stage == "prod")
            #expect(updated.name == "dev")
            #expect(updated.updatedAt == env.createdAt.addingTimeInterval(60))
            let stored = try #require(try await EnvironmentModel.find(env.id, on: t.db))
            #expect(try t.app.secretBox.open(stored.passwordSealed) == "s3cret-Pa55word!")

            _ = try await t.request(.PUT, "/api/environments/\(env.id)", json: EnvironmentInput(password: "n3w-Pa55"))
            let again = try #require(try await EnvironmentModel.find(env.id, on: t.db))
            #expect(try t.app.secretBox.open(again.passwordSealed) == "n3w-Pa55")
        }
    }

    /// The environment's parallel requests: 1 unless set, 1...16, kept on partial updates, and
    /// handed to the Superset client that promotions use.
    @Test(arguments: Store.available)
    func parallelRequestsAreStoredBoundedAndGivenToTheClient(store: Store) async throws {
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample())
            #expect(env.parallelRequests == 1)
            for bad in [0, 17] {
                let res = try await t.request(.PUT, "/api/environments/\(env.id)", json: EnvironmentInput(parallelRequests: bad))
                #expect(res.status == .unprocessableEntity)
                #expect(res.body.string.contains("parallelRequests"))
            }
            let res = try await t.request(.PUT, "/api/environments/\(env.id)", json: EnvironmentInput(parallelRequests: 4))
            #expect(try res.content.decode(EnvironmentDTO.self, using: JSONDecoder.ferry).parallelRequests == 4)
            let renamed = try await t.request(.PUT, "/api/environments/\(env.id)", json: EnvironmentInput(stage: "stage"))
            #expect(try renamed.content.decode(EnvironmentDTO.self, using: JSONDecoder.ferry).parallelRequests == 4)
            let stored = try #require(try await EnvironmentModel.find(env.id, on: t.db))
            let config = try EnvironmentService.clientConfiguration(stored, box: t.app.secretBox, timeout: 5)
            #expect(config.parallelRequests == 4)
        }
    }

    @Test(arguments: Store.available)
    func onlyOneEnvironmentIsTheDefault(store: Store) async throws {
        try await withFerry(store) { t in
            let a = try await t.createEnvironment(sample("a", isDefault: true))
            let b = try await t.createEnvironment(sample("b", isDefault: true))
            let list = try await t.request(.GET, "/api/environments").content.decode(EnvironmentsAPI.ListResponse.self, using: JSONDecoder.ferry)
            #expect(list.items.filter(\.isDefault).map(\.id) == [b.id])
            #expect(list.items.contains { $0.id == a.id && !$0.isDefault })
        }
    }

    @Test(arguments: Store.available)
    func deleteRemovesTheEnvironmentAndItsInventory(store: Store) async throws {
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample())
            await t.app.syncCoordinator.wait(env.id)
            let res = try await t.request(.DELETE, "/api/environments/\(env.id)")
            #expect(res.status == .noContent)
            #expect(try await t.request(.GET, "/api/environments/\(env.id)").status == .notFound)
            #expect(try await InventorySyncModel.query(on: t.db).count() == 0)
            let missing = try await t.request(.DELETE, "/api/environments/\(env.id)")
            #expect(missing.status == .notFound)
            #expect(try missing.json()["detail"]?.stringValue?.contains("does not exist") == true)
            #expect(try await t.request(.GET, "/api/environments/not-a-uuid").status == .notFound)
        }
    }

    @Test(arguments: Store.available)
    func theStoreNeverHoldsThePlaintextPassword(store: Store) async throws {
        let password = "PlainText-Marker-7f3a9c"
        try await withFerry(store) { t in
            _ = try await t.createEnvironment(sample(password: password))
            switch t.store {
            case .sqlite:
                let dir = URL(fileURLWithPath: t.dataDirectory)
                let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("ferry.sqlite") }
                #expect(!files.isEmpty)
                for file in files {
                    let bytes = try Data(contentsOf: dir.appendingPathComponent(file))
                    #expect(bytes.range(of: Data(password.utf8)) == nil, "\(file) holds the plaintext password")
                }
            case .postgres:
                let sql = try #require(t.db as? any SQLDatabase)
                let rows = try await sql.raw("SELECT row_to_json(e)::text AS doc FROM environments e").all()
                #expect(rows.count == 1)
                for row in rows {
                    let doc = try row.decode(column: "doc", as: String.self)
                    #expect(doc.contains("password_sealed"))
                    #expect(!doc.contains(password))
                }
            }
        }
    }

    @Test func sealedSecretsNeedTheSameKey() throws {
        let a = SecretBox(key: .init(size: .bits256))
        let b = SecretBox(key: .init(size: .bits256))
        let sealed = try a.seal("hunter2")
        #expect(try a.open(sealed) == "hunter2")
        #expect(try a.seal("hunter2") != sealed)  // a fresh nonce every time
        #expect(throws: SecretBoxError.wrongKey) { try b.open(sealed) }
    }

    @Test func theKeyFileIsCreatedOnceWithOwnerOnlyPermissions() async throws {
        try await withFerry(.sqlite, secretKey: nil) { t in
            let path = (t.dataDirectory as NSString).appendingPathComponent("secret.key")
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            var config = FerryConfiguration()
            config.dataDirectory = t.dataDirectory
            let reloaded = try SecretBox.load(configuration: config)
            let sealed = try t.app.secretBox.seal("x")
            #expect(try reloaded.open(sealed) == "x")
        }
    }

    @Test func configurationRejectsBadValuesByName() {
        #expect(throws: ConfigurationError.self) { try FerryConfiguration.from(environment: ["FERRY_PORT": "eighty"]) }
        #expect(throws: ConfigurationError.self) { try FerryConfiguration.from(environment: ["DATABASE_URL": "mysql://x"]) }
        #expect(throws: ConfigurationError.self) { try FerryConfiguration.from(environment: ["FERRY_SECRET_KEY": "short"]) }
        let ok = try? FerryConfiguration.from(environment: ["FERRY_PORT": "9000", "FERRY_HOST": "0.0.0.0", "FERRY_DATA_DIR": "/tmp/x"])
        #expect(ok?.port == 9000)
        #expect(ok?.sqlitePath == "/tmp/x/ferry.sqlite")
    }
}

@Suite struct SecretHygieneTests {
    @Test func passwordsNeverReachTheLogsOrErrors() async throws {
        let password = "Log-Leak-Marker-91c2"
        let logs = LogCapture()
        let fake = try await FakeSuperset.start(.healthy(dashboards: 3))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite, logs: logs) { t in
            let env = try await t.createEnvironment(sample("fake", password: password, url: fake.url))
            await t.app.syncCoordinator.wait(env.id)
            _ = try await t.request(.POST, "/api/environments/\(env.id)/test")
            fake.mode = .badCredentials
            let failed = try await t.request(.POST, "/api/environments/\(env.id)/test")
            #expect(!failed.body.string.contains(password))
            try await t.sync(env.id)
            let bad = try await t.request(.PUT, "/api/environments/\(env.id)", json: EnvironmentInput(url: "nope", password: password))
            #expect(bad.status == .unprocessableEntity)
            #expect(!bad.body.string.contains(password))
        }
        #expect(logs.lines.count > 5, "the capture saw the app's logs")
        #expect(logs.lines.contains { $0.contains("inventory synced") })
        for line in logs.lines { #expect(!line.contains(password), "leaked in: \(line)") }
    }

    @Test func oversizeBodiesAreRefusedClearly() async throws {
        try await withFerry(.sqlite) { t in
            var headers = HTTPHeaders()
            headers.contentType = .json
            let huge = #"{"name":""# + String(repeating: "x", count: 2 << 20) + #""}"#
            let res = try await t.request(.POST, "/api/environments", headers: headers, body: huge, overNetwork: true)
            #expect(res.status == .payloadTooLarge)
            #expect(try res.json()["code"]?.stringValue == "too_large")
            #expect(try await EnvironmentModel.query(on: t.db).count() == 0)
        }
    }

    @Test func periodicSyncRefreshesEveryEnvironment() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 2))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let env = try await t.createEnvironment(sample("fake", url: fake.url))
            await t.app.syncCoordinator.wait(env.id)
            let first = try #require(try await InventorySyncModel.find(env.id, on: t.db)?.finishedAt)
            t.clock.advance(60)
            await t.app.syncCoordinator.startPeriodic(interval: 0.2)
            var later: Date? = first
            for _ in 0..<50 where later == first {
                try await Task.sleep(nanoseconds: 100_000_000)
                later = try await InventorySyncModel.find(env.id, on: t.db)?.finishedAt
            }
            #expect(later == first.addingTimeInterval(60))
        }
    }
}
