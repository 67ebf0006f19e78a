import Foundation
import NIOCore
import SupersetKit
import Vapor

/// A tiny HTTP server that imitates just enough of Superset to inject faults real Superset can't
/// produce on demand: 5xx, hangs, bad JSON, a server that isn't Superset. It is never the only
/// proof that a feature works; the real instances of `scripts/test` are.
final class FakeSuperset: @unchecked Sendable {
    enum Mode: Sendable {
        /// Answers like a healthy Superset with `dashboards` dashboards.
        case healthy(dashboards: Int)
        /// As `.healthy`, with `charts` charts too (the first named with HTML in it) and two
        /// database connections.
        case healthyWithCharts(dashboards: Int, charts: Int)
        /// Every call answers HTTP `status`.
        case status(Int)
        /// Health is fine, but the list endpoints send a body that isn't JSON.
        case badJSON
        /// Accepts the connection and never answers.
        case hang
        /// A web server that isn't Superset (HTML everywhere).
        case notSuperset
        /// Login is refused.
        case badCredentials
        /// Forwards everything to a real Superset; after `dieAfterImports` forwarded import
        /// posts it turns into `.status(503)`: a Superset that dies in the middle of an apply.
        case proxy(to: String, dieAfterImports: Int?)
    }

    private let lock = NSLock()
    private var _mode: Mode
    private(set) var requestCount = 0
    private(set) var importsForwarded = 0
    private var _exportsBeforeDeath: Int?
    /// In `.proxy` mode: after this many forwarded exports the fake turns into `.status(503)`
    /// (a Superset that dies in the middle of a backup).
    var exportsBeforeDeath: Int? {
        get { lock.withLock { _exportsBeforeDeath } }
        set { lock.withLock { _exportsBeforeDeath = newValue } }
    }
    private var _version = "6.1.0-fake"
    /// What `GET /version` says, in every mode that answers it (a proxy too): a release Ferry
    /// doesn't know, for the version tests.
    var version: String {
        get { lock.withLock { _version } }
        set { lock.withLock { _version = newValue } }
    }
    private var _datasetSchemas: [String] = []
    /// One dataset per schema named here (in the healthy modes; none by default).
    var datasetSchemas: [String] {
        get { lock.withLock { _datasetSchemas } }
        set { lock.withLock { _datasetSchemas = newValue } }
    }
    let app: Application
    private(set) var port = 0

    var mode: Mode {
        get { lock.withLock { _mode } }
        set { lock.withLock { _mode = newValue } }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    private init(app: Application, mode: Mode) {
        self.app = app
        self._mode = mode
    }

    static func start(_ mode: Mode) async throws -> FakeSuperset {
        let app = try await Application.make(.testing)
        let fake = FakeSuperset(app: app, mode: mode)
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        app.logger.logLevel = .critical
        app.middleware = Middlewares()
        for method in [HTTPMethod.GET, .POST, .PUT, .DELETE] {
            app.on(method, "**", body: .collect(maxSize: "64mb")) { req in try await fake.answer(req) }
        }
        try await app.server.start()
        fake.port = app.http.server.shared.localAddress?.port ?? 0
        return fake
    }

    func stop() async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
    }

    private func json(_ status: HTTPResponseStatus, _ text: String) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: status, headers: headers, body: .init(string: text))
    }

    private func answer(_ req: Request) async throws -> Response {
        lock.withLock { requestCount += 1 }
        let path = req.url.path
        if path == "/version", case .proxy = mode { return json(.ok, BundleValue.map(["version_string": .string(version)]).jsonText()) }
        switch mode {
        case .proxy(let upstream, let dieAfter):
            return try await forward(req, to: upstream, dieAfter: dieAfter)
        case .status(let code):
            return Response(status: .init(statusCode: code), body: .init(string: "upstream failure"))
        case .hang:
            try await Task.sleep(nanoseconds: 4_000_000_000)
            return Response(status: .ok)
        case .notSuperset:
            var headers = HTTPHeaders()
            headers.contentType = .html
            return Response(status: path == "/health" ? .notFound : .ok, headers: headers, body: .init(string: "<html><body>Welcome to nginx!</body></html>"))
        case .badCredentials where path.hasPrefix("/api/v1/security/login"):
            return json(.unauthorized, #"{"message":"Invalid login. Please try again."}"#)
        case .badJSON where path.hasPrefix("/api/v1/dashboard"):
            return json(.ok, #"{"count": 3, "result": [{"id": 1, "dashboard_ti"#)
        case .healthy, .healthyWithCharts, .badJSON, .badCredentials, .proxy:
            break
        }
        switch path {
        case "/health": return Response(status: .ok, body: .init(string: "OK"))
        case "/version": return json(.ok, BundleValue.map(["version_string": .string(version)]).jsonText())
        case let p where p.hasPrefix("/api/v1/security/login"):
            return json(.ok, #"{"access_token":"fake-access","refresh_token":"fake-refresh"}"#)
        case let p where p.hasPrefix("/api/v1/security/csrf_token"):
            return json(.ok, #"{"result":"fake-csrf"}"#)
        case let p where p.hasPrefix("/api/v1/dashboard"):
            let count: Int
            switch mode {
            case .healthy(let n), .healthyWithCharts(let n, _): count = n
            default: return json(.ok, #"{"count":0,"result":[]}"#)
            }
            let page = Self.risonInt(req.url.query ?? "", "page") ?? 0
            let size = Self.risonInt(req.url.query ?? "", "page_size") ?? 100
            let ids = Array(stride(from: page * size + 1, through: min(count, (page + 1) * size), by: 1))
            let rows = ids.map { id in
                #"{"id":\#(id),"uuid":"00000000-0000-4000-8000-\#(String(format: "%012d", id))","dashboard_title":"Fake dashboard \#(id)","slug":"fake-\#(id)","owners":[{"first_name":"Fay","last_name":"Fake"}],"changed_on_utc":"2026-01-02T03:04:05.000000+0000"}"#
            }
            return json(.ok, #"{"count":\#(count),"result":[\#(rows.joined(separator: ","))]}"#)
        case let p where p.hasPrefix("/api/v1/chart/"):
            guard case .healthyWithCharts(_, let count) = mode else { return json(.ok, #"{"count":0,"result":[]}"#) }
            let page = Self.risonInt(req.url.query ?? "", "page") ?? 0
            let size = Self.risonInt(req.url.query ?? "", "page_size") ?? 100
            let rows = Array(stride(from: page * size + 1, through: min(count, (page + 1) * size), by: 1)).map { id -> String in
                let name = id == 1 ? #"<script>alert(\"chart\")</script> & co"# : "Fake chart \(id)"
                return #"{"id":\#(id),"uuid":"00000002-0000-4000-8000-\#(String(format: "%012d", id))","slice_name":"\#(name)","viz_type":"\#(id % 2 == 0 ? "table" : "big_number")","datasource_name_text":"main.sales","owners":[{"first_name":"Fay","last_name":"Fake"}],"changed_on_utc":"2026-01-02T03:04:05.000000+0000"}"#
            }
            return json(.ok, #"{"count":\#(count),"result":[\#(rows.joined(separator: ","))]}"#)
        case let p where p.hasPrefix("/api/v1/database/"):
            guard case .healthyWithCharts = mode else { return json(.ok, #"{"count":0,"result":[]}"#) }
            // Two connections: "Sales warehouse" and "Marketing".
            return json(.ok, #"{"count":2,"result":[{"id":1,"uuid":"00000003-0000-4000-8000-000000000001","database_name":"Sales warehouse","backend":"postgresql"},{"id":2,"uuid":"00000003-0000-4000-8000-000000000002","database_name":"Marketing","backend":"postgresql"}]}"#)
        case let p where p.hasPrefix("/api/v1/dataset/") && !datasetSchemas.isEmpty && (Self.risonInt(req.url.query ?? "", "page") ?? 0) == 0:
            let rows = datasetSchemas.enumerated().map { i, schema in
                #"{"id":\#(i + 1),"uuid":"00000004-0000-4000-8000-\#(String(format: "%012d", i + 1))","table_name":"table_\#(i + 1)","schema":"\#(schema)","database":{"database_name":"Sales warehouse"},"owners":[],"changed_on_utc":"2026-01-02T03:04:05.000000+0000"}"#
            }
            return json(.ok, #"{"count":\#(rows.count),"result":[\#(rows.joined(separator: ","))]}"#)
        case let p where p.hasPrefix("/api/v1/"):
            return json(.ok, #"{"count":0,"result":[]}"#)
        default:
            return Response(status: .notFound)
        }
    }

    private func forward(_ req: Request, to upstream: String, dieAfter: Int?) async throws -> Response {
        let skip: Set<String> = ["host", "content-length", "transfer-encoding", "connection"]
        var target = upstream + req.url.path
        if let q = req.url.query { target += "?" + q }
        let body = req.body.data.map { Data($0.readableBytesView) }
        let response = try await TestTransport.shared.send(SupersetKit.HTTPRequest(
            method: req.method.rawValue, url: URL(string: target)!,
            headers: req.headers.filter { !skip.contains($0.name.lowercased()) }.map { ($0.name, $0.value) }, body: body, timeout: 120))
        // Successful exports only: a 404 (an asset another test deleted since the listing) makes
        // the backup split its batch, and those calls must not use up the exports allowed.
        if req.method == .GET, req.url.path.hasSuffix("/export/"), response.status == 200 {
            lock.withLock {
                if let left = _exportsBeforeDeath {
                    _exportsBeforeDeath = left - 1
                    if left - 1 <= 0 { _mode = .status(503) }
                }
            }
        }
        if req.method == .POST, req.url.path.hasSuffix("/import/") {
            lock.withLock {
                importsForwarded += 1
                if let dieAfter, importsForwarded >= dieAfter { _mode = .status(503) }
            }
        }
        var headers = HTTPHeaders()
        for (name, value) in response.headers where !skip.contains(name.lowercased()) { headers.add(name: name, value: value) }
        return Response(status: .init(statusCode: response.status), headers: headers, body: .init(data: response.body))
    }

    /// Reads `key:<int>` from a rison `q=(...)` query.
    static func risonInt(_ query: String, _ key: String) -> Int? {
        let decoded = query.removingPercentEncoding ?? query
        guard let range = decoded.range(of: key + ":") else { return nil }
        return Int(decoded[range.upperBound...].prefix { $0.isNumber })
    }
}
