import Foundation
import NIOCore
import NIOPosix
import Testing
import Vapor

@testable import FerryApp

/// "Test connection" must name the cause of every failure. The fake Superset injects the faults
/// real Superset can't produce on demand; the real instances prove the happy path and bad
/// credentials.
@Suite struct ConnectionTestTests {
    func test(_ t: TestHarness, url: String, password: String = "admin") async throws -> ConnectionTestResult {
        let res = try await t.request(.POST, "/api/environments/test", json: sample("probe", password: password, url: url))
        #expect(res.status == .ok, "\(res.body.string)")
        return try res.content.decode(ConnectionTestResult.self, using: JSONDecoder.ferry)
    }

    @Test func aServerThatAnswers500() async throws {
        let fake = try await FakeSuperset.start(.status(500))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let r = try await test(t, url: fake.url)
            #expect(!r.ok)
            #expect(r.reason == "http_error")
            #expect(r.message.contains("500"))
        }
    }

    @Test func aServerThatHangsTimesOut() async throws {
        let fake = try await FakeSuperset.start(.hang)
        defer { Task { await fake.stop() } }
        // 2 s: long enough that a loaded machine (the whole suite, two Supersets) still sends the
        // request before the timeout; short enough to keep the test quick.
        try await withFerry(.sqlite, configure: { $0.interactiveTimeout = 2 }) { t in
            let r = try await test(t, url: fake.url)
            #expect(r.reason == "timeout")
            #expect(r.message.contains("2 s"))
            // A connection test tries once: the hanging server saw exactly one request (counts,
            // not wall-clock time, so a busy machine can't fail this).
            #expect(fake.requestCount == 1, "a connection test makes one attempt, got \(fake.requestCount)")
        }
    }

    @Test func aWebServerThatIsNotSuperset() async throws {
        let fake = try await FakeSuperset.start(.notSuperset)
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let r = try await test(t, url: fake.url)
            #expect(r.reason == "not_superset")
            #expect(r.message.contains("/health"))
        }
    }

    @Test func refusedCredentialsAreNamedWithoutThePassword() async throws {
        let fake = try await FakeSuperset.start(.badCredentials)
        defer { Task { await fake.stop() } }
        // The fake answers at once; the timeout only has to outlast a loaded machine.
        try await withFerry(.sqlite, configure: { $0.interactiveTimeout = 30 }) { t in
            let r = try await test(t, url: fake.url, password: "TopSecret-123")
            #expect(r.reason == "bad_credentials")
            #expect(!r.message.contains("TopSecret-123"))
            #expect(r.message.contains("admin"))
        }
    }

    @Test func nothingListening() async throws {
        try await withFerry(.sqlite) { t in
            let r = try await test(t, url: closedURL)
            #expect(r.reason == "unreachable")
        }
    }

    @Test func tlsToAPlainHTTPServerFails() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 0))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let r = try await test(t, url: "https://127.0.0.1:\(fake.port)")
            #expect(r.reason == "tls", "\(r.message)")
        }
    }

    @Test func anInvalidURLIsAFieldError() async throws {
        try await withFerry(.sqlite) { t in
            let res = try await t.request(.POST, "/api/environments/test", json: sample(url: "not a url"))
            #expect(res.status == .unprocessableEntity)
            #expect(try res.json()["errors"]?.listValue?.first?["field"]?.stringValue == "url")
        }
    }

    @Test func aStoredEnvironmentIsTestedWithItsStoredPassword() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 1))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite) { t in
            let env = try await t.createEnvironment(sample("fake", url: fake.url))
            let res = try await t.request(.POST, "/api/environments/\(env.id)/test")
            let r = try res.content.decode(ConnectionTestResult.self, using: JSONDecoder.ferry)
            #expect(r.ok && r.loginOK && r.csrfOK)
            #expect(r.version == "6.1.0-fake")
        }
    }

    @Test(.enabled(if: LiveSuperset.enabled)) func realSupersetPassesAndRefusesAWrongPassword() async throws {
        let url = try LiveSuperset.url("dev")
        try await withFerry(.sqlite) { t in
            let good = try await test(t, url: url)
            #expect(good.ok && good.loginOK && good.csrfOK)
            #expect(good.version == "6.1.0")
            let bad = try await test(t, url: url, password: "wrong-password")
            #expect(bad.reason == "bad_credentials")
            #expect(!bad.message.contains("wrong-password"))
        }
    }
}
