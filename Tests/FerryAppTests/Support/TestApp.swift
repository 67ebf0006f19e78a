import FluentPostgresDriver
import Foundation
import Logging
import SupersetKit
import Testing
import Vapor
import VaporTesting

@testable import FerryApp

/// The stores every store-touching test runs on.
enum Store: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static let environment = ProcessInfo.processInfo.environment
    /// SQLite always; PostgreSQL when the test command provides one (and always when integration is
    /// required, so that a missing server fails instead of silently shrinking the suite).
    static let available: [Store] =
        environment["FERRY_TEST_POSTGRES_URL"] != nil || environment["FERRY_REQUIRE_INTEGRATION"] == "1" ? [.sqlite, .postgres] : [.sqlite]
}

/// A fixed clock and counter-based UUIDs: tests provide side effects explicitly.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var counter = 0

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    func now() -> Date { lock.withLock { current } }
    func advance(_ seconds: Double) { lock.withLock { current += seconds } }
    func uuid() -> UUID {
        lock.withLock {
            counter += 1
            return UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", counter))!
        }
    }
}

/// One shared HTTP transport for the test process (AsyncHTTPClient's event loops are costly).
enum TestTransport {
    static let shared = AsyncHTTPClientTransport()
}

struct TestHarness: Sendable {
    let app: Application
    let clock: TestClock
    let store: Store
    let dataDirectory: String
    /// An API token of the administrator every test store starts with; `request` sends it
    /// unless the request brings its own credential or asks to be anonymous.
    let adminToken: String?

    var db: any Database { app.db }
}

/// The first administrator of every test store.
enum TestAdmin {
    static let username = "root"
    static let password = "correct horse battery"
}

/// Runs `body` against a fully configured Ferry on a fresh, private store: a temporary SQLite
/// file, or a new PostgreSQL database created for this test and dropped after it.
///
/// Side effects: temporary files and databases, removed afterwards.
func withFerry(
    _ store: Store, secretKey: String? = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", migrate: Bool = true,
    logs: LogCapture? = nil, tasks: Bool = false, plugins: [any Plugin] = [],
    configure adjust: (inout FerryConfiguration) -> Void = { _ in },
    _ body: (TestHarness) async throws -> Void
) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-test-\(UUID().uuidString)").path
    var config = FerryConfiguration()
    config.dataDirectory = dir
    config.secretKey = secretKey
    config.syncInterval = 0
    config.interactiveTimeout = 5
    config.supersetTimeout = 10
    config.logLevel = "warning"
    config.tasks.lease = 3
    config.tasks.pollInterval = 0.2
    config.tasks.logFlushInterval = 0.05
    config.bcryptCost = 4
    var pgDatabase: String?
    if store == .postgres {
        let url = try #require(Store.environment["FERRY_TEST_POSTGRES_URL"], "FERRY_TEST_POSTGRES_URL is not set: run scripts/test")
        let name = "ferry_t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try await PostgresAdmin.execute("CREATE DATABASE \(name)", url: url)
        pgDatabase = name
        var comps = try #require(URLComponents(string: url))
        comps.path = "/" + name
        config.databaseURL = comps.string
    }
    adjust(&config)
    let clock = TestClock()
    let dependencies = FerryDependencies(
        now: { clock.now() }, uuid: { clock.uuid() },
        supersetClient: { configuration, verifyTLS, logger in
            SupersetClient(configuration: configuration, transport: TestTransport.shared.with(verifyTLS: verifyTLS), logger: logger)
        },
        web: .live)
    let app = try await Application.make(.testing)
    if let logs {
        app.logger = Logger(label: "ferry.test") { _ in logs.handler() }
        config.logLevel = "trace"
    }
    do {
        try await FerryApp.configure(
            app, configuration: config, dependencies: dependencies, migrate: migrate, startTaskEngine: tasks, extraPlugins: plugins)
        var token: String?
        if migrate {
            let admin = try await AccountService.createUser(
                UserInput(username: TestAdmin.username, password: TestAdmin.password, roles: [BuiltInRoles.admin]), hasher: app.passwordHasher,
                now: clock.now(), newID: { UUID() }, on: app.db)
            let principal = try #require(try await SessionService.principal(userID: admin.id, credential: .token(id: UUID()), on: app.db))
            token = try await SessionService.createToken(TokenInput(name: "tests"), owner: principal, now: clock.now(), newID: UUID(), on: app.db).token
        }
        try await body(TestHarness(app: app, clock: clock, store: store, dataDirectory: dir, adminToken: token))
    } catch {
        // PSQLError hides its details from `description`: print them for the failing test.
        print("withFerry: the test failed with \(String(reflecting: error))")
        try? await app.asyncShutdown()
        await cleanUp(dir: dir, pgDatabase: pgDatabase)
        throw error
    }
    try await app.asyncShutdown()
    await cleanUp(dir: dir, pgDatabase: pgDatabase)
}

private func cleanUp(dir: String, pgDatabase: String?) async {
    try? FileManager.default.removeItem(atPath: dir)
    if let pgDatabase, let url = Store.environment["FERRY_TEST_POSTGRES_URL"] {
        try? await PostgresAdmin.execute("DROP DATABASE IF EXISTS \(pgDatabase) WITH (FORCE)", url: url)
    }
}

/// Runs administrative SQL (CREATE/DROP DATABASE) on the test server's maintenance database.
enum PostgresAdmin {
    static func execute(_ sql: String, url: String) async throws {
        let comps = try #require(URLComponents(string: url))
        let config = PostgresConnection.Configuration(
            host: comps.host ?? "127.0.0.1", port: comps.port ?? 5432, username: comps.user ?? "ferry",
            password: comps.password, database: "postgres", tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: config, id: 1, logger: Logger(label: "ferry.test.pg"))
        do {
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "ferry.test.pg"))
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}

extension TestHarness {
    /// Sends a JSON request through the app in memory and returns the response.
    @discardableResult
    func request(
        _ method: HTTPMethod, _ path: String, json: (any Encodable & Sendable)? = nil, headers: HTTPHeaders = [:],
        body: String? = nil, data: Data? = nil, overNetwork: Bool = false, anonymous: Bool = false
    ) async throws -> TestingHTTPResponse {
        var headers = headers
        if !anonymous, let adminToken, !headers.contains(name: .authorization) {
            headers.bearerAuthorization = BearerAuthorization(token: adminToken)
        }
        var request = TestingHTTPRequest(method: method, url: URI(path: path), headers: headers, body: ByteBufferAllocator().buffer(capacity: 0))
        if let json { try request.content.encode(AnyEncodable(json), as: .json) }
        if let body { request.body = ByteBuffer(string: body) }
        if let data { request.body = ByteBuffer(data: data) }
        // In memory by default; over a real socket when the HTTP server's own limits matter: on
        // 127.0.0.1 (no name to resolve), and sent once more when the connection wasn't made in
        // the client's 10 s, which a machine building beside the suite has taken. A request
        // that never connected reached nothing, so sending it again changes no outcome.
        // (`performTest`, not `test`: the latter records the first attempt's error as a failure.)
        let tester = try app.testing(method: overNetwork ? .running(hostname: "127.0.0.1", port: 0) : .inMemory)
        do {
            return try await tester.performTest(request: request)
        } catch let error as HTTPClientError where overNetwork && error == .connectTimeout {
            return try await tester.performTest(request: request)
        }
    }

    /// Creates an environment through the API and returns its DTO.
    func createEnvironment(_ input: EnvironmentInput) async throws -> EnvironmentDTO {
        let res = try await request(.POST, "/api/environments", json: input)
        #expect(res.status == .created, "\(res.body.string)")
        return try res.content.decode(EnvironmentDTO.self, using: JSONDecoder.ferry)
    }
}

struct AnyEncodable: Encodable, Sendable {
    let value: any Encodable & Sendable
    init(_ value: any Encodable & Sendable) { self.value = value }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}

extension TestingHTTPResponse {
    func json() throws -> BundleValue { try BundleValue.parseJSON(Data(buffer: body)) }
}

/// Keeps every log line (message and metadata) so a test can search them.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [String] = []
    var lines: [String] { lock.withLock { _lines } }

    func append(_ line: String) { lock.withLock { _lines.append(line) } }

    func handler() -> Handler { Handler(capture: self) }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append("\(event.level) \(event.message) \(all.map { "\($0)=\($1)" }.sorted().joined(separator: " ")) \(event.error.map { "\($0)" } ?? "")")
        }
    }
}
