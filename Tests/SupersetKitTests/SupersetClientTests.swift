import Foundation
import Testing
@testable import SupersetKit

@Suite struct SupersetClientSessionTests {
    @Test func writesCarryTokenCSRFCookieAndReferer() async throws {
        let transport = ScriptedTransport { r, _ in standardAnswer(r) ?? json(200, "{}") }
        let client = makeClient(transport)
        try await client.sendJSON("PUT", "/api/v1/chart/1", body: .map(["x": .int(1)]))
        let put = try #require(transport.requests.last)
        #expect(put.method == "PUT")
        #expect(put.header("Authorization") == "Bearer A1")
        #expect(put.header("X-CSRFToken") == "CSRF1")
        #expect(put.header("Cookie") == "session=abc")
        #expect(put.header("Referer") == "http://superset.test/")
        let login = try #require(transport.requests.first)
        let body = try BundleValue.parseJSON(login.body!)
        #expect(body["provider"] == .string("db"))
        #expect(body["refresh"] == .bool(true))
    }

    @Test func refreshesBeforeTheTokenExpires() async throws {
        let clock = Clock()
        let transport = ScriptedTransport { r, _ in standardAnswer(r) ?? json(200, #"{"result":[],"count":0}"#) }
        let client = makeClient(transport, clock: clock)
        _ = try await client.list(.dashboard)
        clock.advance(13 * 60)
        _ = try await client.list(.dashboard)
        let paths = transport.requests.map(\.path)
        #expect(paths.filter { $0 == "/api/v1/security/login" }.count == 1)
        #expect(paths.contains("/api/v1/security/refresh"))
        #expect(transport.requests.last?.header("Authorization") == "Bearer A2")
    }

    @Test func logsInOnceMoreOn401() async throws {
        let transport = ScriptedTransport { r, n in
            if let a = standardAnswer(r) { return a }
            // The first list call is rejected as if the token had been revoked.
            return n == 2 ? json(401, #"{"msg":"Token has expired"}"#) : json(200, #"{"result":[],"count":0}"#)
        }
        let client = makeClient(transport)
        _ = try await client.list(.chart)
        #expect(transport.requests.map(\.path).filter { $0 == "/api/v1/security/login" }.count == 2)
    }

    @Test func badCredentialsAreClassifiedAndNeverEchoThePassword() async throws {
        let transport = ScriptedTransport { r, _ in
            r.path == "/api/v1/security/login" ? json(401, #"{"message":"Not authorized"}"#) : json(200, "{}")
        }
        let client = makeClient(transport)
        do {
            try await client.login()
            Issue.record("login should fail")
        } catch let error as SupersetError {
            guard case .badCredentials(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("admin"))
            #expect(!message.contains("s3cret"))
            #expect(!(error.errorDescription ?? "").contains("s3cret"))
        }
    }

    @Test func aServerThatIsNotSupersetIsNamedSo() async throws {
        let transport = ScriptedTransport { _, _ in HTTPResponse(status: 200, body: Data("<html>nginx</html>".utf8)) }
        await #expect(throws: SupersetError.self) { try await makeClient(transport).probe() }
        do { _ = try await makeClient(transport).probe() } catch let e as SupersetError { #expect(e.code == "not_superset") }
    }
}

@Suite struct SupersetClientRetryTests {
    @Test func retriesTransientStatusesWithBackoffThenSucceeds() async throws {
        let sleeps = Recorder<Double>()
        let transport = ScriptedTransport { r, n in
            if let a = standardAnswer(r) { return a }
            switch n {
            case 2: return json(429, "{}")
            case 3: return json(503, "{}")
            case 4: return json(502, "{}", headers: [("Retry-After", "1")])
            default: return json(200, #"{"result":[{"id":1,"uuid":"u1","dashboard_title":"A","slug":"a"}],"count":1}"#)
            }
        }
        let rows = try await makeClient(transport, sleeps: sleeps, attempts: 5).list(.dashboard)
        #expect(rows.map(\.name) == ["A"])
        // full jitter with random()=0.5: 0.5*0.1, 0.5*0.2; then Retry-After wins.
        #expect(sleeps.all == [0.05, 0.1, 1.0])
    }

    @Test func givesUpAfterMaxAttempts() async throws {
        let sleeps = Recorder<Double>()
        let transport = ScriptedTransport { r, _ in standardAnswer(r) ?? json(503, #"{"message":"down"}"#) }
        do {
            _ = try await makeClient(transport, sleeps: sleeps, attempts: 3).list(.chart)
            Issue.record("should fail")
        } catch let error as SupersetError {
            #expect(error == .http(status: 503, message: "list charts: down"))
        }
        #expect(sleeps.all.count == 2)
        #expect(transport.requests.filter { $0.path == "/api/v1/chart/" }.count == 3)
    }

    @Test func connectionErrorsAreRetriedTimeoutsOnlyForReads() async throws {
        let transport = ScriptedTransport { r, n in
            if let a = standardAnswer(r) { return a }
            if r.method == "POST" { throw SupersetError.timeout(seconds: 1) }
            if n == 2 { throw SupersetError.unreachable("refused") }
            return json(200, #"{"result":[],"count":0}"#)
        }
        let client = makeClient(transport)
        _ = try await client.list(.database)
        await #expect(throws: SupersetError.timeout(seconds: 1)) {
            try await client.sendJSON("POST", "/api/v1/chart/", body: .map([:]))
        }
        #expect(transport.requests.filter { $0.method == "POST" && $0.path == "/api/v1/chart/" }.count == 1)
    }

    @Test func badJSONIsAnInvalidResponse() async throws {
        let transport = ScriptedTransport { r, _ in standardAnswer(r) ?? HTTPResponse(status: 200, body: Data("{not json".utf8)) }
        do {
            _ = try await makeClient(transport).list(.dashboard)
            Issue.record("should fail")
        } catch let error as SupersetError {
            #expect(error.code == "invalid_response")
        }
    }

    @Test func backoffIsBoundedByMaxDelay() {
        let p = RetryPolicy(maxAttempts: 10, baseDelay: 1, maxDelay: 3, random: { 0.999 })
        #expect(p.delay(beforeAttempt: 8, retryAfter: nil) < 3)
        #expect(p.delay(beforeAttempt: 2, retryAfter: 100) < 1)  // an absurd Retry-After is ignored
    }
}

@Suite struct SupersetClientOperationTests {
    @Test func listPagesToTheEnd() async throws {
        let transport = ScriptedTransport { r, _ in
            if let a = standardAnswer(r) { return a }
            let q = r.url.query ?? ""
            let page = q.contains("page:0") ? 0 : q.contains("page:1") ? 1 : 2
            let ids = page < 2 ? (page * 2 + 1...page * 2 + 2).map { $0 } : []
            let rows = ids.map { #"{"id":\#($0),"uuid":"u\#($0)","slice_name":"c\#($0)","viz_type":"table","owners":[{"first_name":"Ada","last_name":"L"}]}"# }
            return json(200, #"{"count":4,"result":[\#(rows.joined(separator: ","))]}"#)
        }
        var config = SupersetClientConfiguration(baseURL: URL(string: "http://superset.test")!, credentials: .init(username: "a", password: "b"))
        config.pageSize = 2
        let client = SupersetClient(configuration: config, transport: transport)
        let rows = try await client.list(.chart)
        #expect(rows.map(\.id) == [1, 2, 3, 4])
        #expect(rows[0].owners == ["Ada L"])
        #expect(rows[0].detail == "table")
    }

    @Test func exportIsBatchedAndMerged() async throws {
        let zip = try fixtureExport()
        let batches = Recorder<String>()
        let transport = ScriptedTransport { r, _ in
            if let a = standardAnswer(r) { return a }
            batches.append(r.url.query ?? "")
            return HTTPResponse(status: 200, body: zip)
        }
        var config = SupersetClientConfiguration(baseURL: URL(string: "http://superset.test")!, credentials: .init(username: "a", password: "b"))
        config.exportBatchSize = 50
        let client = SupersetClient(configuration: config, transport: transport)
        let bundle = try await client.export(ids: Array(1...120))
        #expect(batches.all.count == 3)
        #expect(batches.all[2] == "q=!(101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120)")
        #expect(bundle.dashboards.count == 2)
    }

    /// Superset answers a whole export with 404 when one id was deleted since the listing: the
    /// batch is split until the missing ids stand alone, and the rest is exported.
    @Test func anExportSkipsAssetsDeletedSinceTheListing() async throws {
        let gone: Set<Int> = [3, 7]
        let transport = ScriptedTransport { r, _ in
            if let a = standardAnswer(r) { return a }
            let q = (r.url.query ?? "").removingPercentEncoding ?? ""
            let ids = q.dropFirst("q=!(".count).dropLast().split(separator: ",").compactMap { Int($0) }
            if !gone.isDisjoint(with: ids) { return json(404, #"{"message":"Not found"}"#) }
            return HTTPResponse(status: 200, body: Data(ids.map(String.init).joined(separator: " ").utf8))
        }
        let client = makeClient(transport)
        let result = try await client.exportArchivesSkippingVanished(.chart, ids: Array(1...8))
        #expect(result.vanished.sorted() == [3, 7])
        let exported = result.archives.flatMap { String(decoding: $0, as: UTF8.self).split(separator: " ").compactMap { Int($0) } }
        #expect(exported.sorted() == [1, 2, 4, 5, 6, 8])
        // Other errors are not swallowed.
        let failing = makeClient(ScriptedTransport { r, _ in standardAnswer(r) ?? json(403, #"{"message":"Forbidden"}"#) })
        await #expect(throws: SupersetError.self) { try await failing.exportArchivesSkippingVanished(.chart, ids: [1, 2]) }
    }

    /// Parallel exports ask for a connection each (gunicorn keeps a kept-alive connection on the
    /// worker that accepted it); one export at a time keeps its connection.
    @Test func parallelRequestsUseAConnectionEach() async throws {
        let zip = try fixtureExport()
        let transport = ScriptedTransport { r, _ in standardAnswer(r) ?? HTTPResponse(status: 200, body: zip) }
        let sleeps = Recorder<Double>()
        var config = SupersetClientConfiguration(baseURL: URL(string: "http://superset.test")!, credentials: .init(username: "a", password: "b"))
        config.exportBatchSize = 10
        config.retry = RetryPolicy(maxAttempts: 1, sleep: { sleeps.append($0) })
        let client = SupersetClient(configuration: config, transport: transport)
        func exportRequests() -> [HTTPRequest] { transport.requests.filter { $0.path.hasSuffix("/export/") } }

        _ = try await client.export(ids: Array(1...30), concurrency: 1)
        #expect(exportRequests().count == 3)
        #expect(exportRequests().allSatisfy { $0.header("Connection") == nil })
        #expect(sleeps.all.isEmpty)

        _ = try await client.export(ids: Array(1...30), concurrency: 2)
        #expect(exportRequests().count == 6)
        #expect(exportRequests().suffix(3).allSatisfy { $0.header("Connection") == "close" })
        // The second of the first two starts a moment after the first.
        #expect(sleeps.all == [config.parallelStartGap])

        // Nested work keeps the outer phase's choice; outside any phase, connections are kept.
        try await SupersetClient.spreading(4) {
            _ = try await client.export(ids: [1], concurrency: 1)
        }
        #expect(exportRequests().last?.header("Connection") == "close")
        _ = try await client.export(ids: [1], concurrency: 1)
        #expect(exportRequests().last?.header("Connection") == nil)
    }

    /// A task's requested concurrency is bounded by the environment's parallel requests, which
    /// is also the default.
    @Test func parallelismIsBoundedByTheEnvironment() {
        var config = SupersetClientConfiguration(baseURL: URL(string: "http://superset.test")!, credentials: .init(username: "a", password: "b"))
        #expect(SupersetClient(configuration: config, transport: ScriptedTransport { _, _ in json(200, "{}") }).parallelism(asked: nil) == 1)
        #expect(SupersetClient(configuration: config, transport: ScriptedTransport { _, _ in json(200, "{}") }).parallelism(asked: 8) == 1)
        config.parallelRequests = 4
        let client = SupersetClient(configuration: config, transport: ScriptedTransport { _, _ in json(200, "{}") })
        #expect(client.parallelism(asked: nil) == 4)
        #expect(client.parallelism(asked: 2) == 2)
        #expect(client.parallelism(asked: 9) == 4)
        #expect(client.parallelism(asked: 0) == 1)
    }

    @Test func importSendsMultipartWithPasswordsAndReportsPerFileErrors() async throws {
        let bundle = try BundleReader().read(try fixtureExport())
        let transport = ScriptedTransport { r, _ in
            if let a = standardAnswer(r) { return a }
            return json(422, #"{"errors":[{"message":"Error importing dashboard","error_type":"GENERIC_COMMAND_ERROR","extra":{"databases/Sales.yaml":{"_schema":["Must provide a password for the database"]},"issue_codes":[{"code":1010}]}}]}"#)
        }
        let client = makeClient(transport)
        do {
            try await client.importBundle(bundle, as: .dashboard, overwrite: true, passwords: ["databases/Sales.yaml": "pw"])
            Issue.record("should fail")
        } catch let error as SupersetError {
            #expect(error == .importFailed([ImportProblem(path: "databases/Sales.yaml", message: "_schema: Must provide a password for the database")]))
            #expect(error.errorDescription!.contains("databases/Sales.yaml"))
        }
        let post = try #require(transport.requests.last)
        #expect(post.path == "/api/v1/dashboard/import/")
        #expect(post.header("Content-Type")?.hasPrefix("multipart/form-data; boundary=") == true)
        let body = String(decoding: post.body!, as: UTF8.self)
        #expect(body.contains(#"name="formData"; filename="#))
        #expect(body.contains(#"name="overwrite""#))
        #expect(body.contains(#"{"databases/Sales.yaml":"pw"}"#))
    }

    @Test func urlNormalisation() throws {
        #expect(try SupersetURL.normalize("  HTTPS://Superset.Example.com:443/  ").absoluteString == "https://superset.example.com")
        #expect(try SupersetURL.normalize("http://127.0.0.1:8088/superset//?x=1#y").absoluteString == "http://127.0.0.1:8088/superset")
        for bad in ["", "superset.example.com", "ftp://x", "http://", "https://user:pw@host", "http://host:99999"] {
            #expect(throws: SupersetError.self) { try SupersetURL.normalize(bad) }
        }
    }
}
