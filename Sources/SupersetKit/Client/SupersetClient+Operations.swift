import Foundation

extension SupersetClient {
    /// Checks that the server is a Superset, that login works and a CSRF token can be had, and
    /// reads the version. Throws a classified `SupersetError` otherwise.
    public func probe() async throws -> SupersetProbe {
        let started = now()
        let health = try await exchange(
            method: "GET", path: "/health", body: nil, contentType: nil, authorized: false,
            timeout: configuration.timeout, idempotent: true)
        let healthText = String(decoding: health.body.prefix(64), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if health.status >= 500 {
            throw SupersetError.http(status: health.status, message: "GET /health failed: '\(Self.snippet(health.body.prefix(80)))'")
        }
        guard health.status == 200, healthText == "OK" else {
            throw SupersetError.notSuperset("GET /health answered HTTP \(health.status) '\(Self.snippet(health.body.prefix(80)))', not 'OK'")
        }
        let latency = Int(now().timeIntervalSince(started) * 1000)
        try await login()
        _ = try await ensureCSRF()
        let version = try await version()
        return SupersetProbe(
            version: version, loginOK: true, csrfOK: true,
            capabilities: ["dashboard_import", "chart_import", "dataset_import", "assets_import", "chart_data"],
            latencyMilliseconds: latency)
    }

    /// The release the server says it runs, at most 64 characters, or "unknown" when it doesn't
    /// say. 6.x answers `GET /version`; 4.1 and 5.0 don't have it, and their sign-in page's
    /// bootstrap data (`menu_data.navbar_right.version_string`) is read instead. Throws only when
    /// the server can't be reached.
    public func version() async throws -> String {
        let response = try await exchange(
            method: "GET", path: "/version", body: nil, contentType: nil, authorized: false,
            timeout: configuration.timeout, idempotent: true)
        if response.status == 200, let v = (try? BundleValue.parseJSON(response.body))?["version_string"]?.stringValue, !v.isEmpty {
            return String(v.prefix(64))
        }
        let page = try await exchange(
            method: "GET", path: "/login/", body: nil, contentType: nil, authorized: false,
            timeout: configuration.timeout, idempotent: true)
        guard page.status == 200 else { return "unknown" }
        return Self.bootstrapVersion(in: page.body) ?? "unknown"
    }

    /// `version_string` out of a page's HTML-escaped `data-bootstrap` JSON; looks at the first
    /// 1 MiB only.
    static func bootstrapVersion(in html: Data) -> String? {
        let text = String(decoding: html.prefix(1 << 20), as: UTF8.self)
            .replacingOccurrences(of: "&#34;", with: "\"").replacingOccurrences(of: "&quot;", with: "\"")
        guard let match = text.firstMatch(of: /"version_string"\s*:\s*"([^"<>]{1,64})"/) else { return nil }
        return String(match.1)
    }

    /// Lists every asset of a kind (Superset's default list columns).
    public func list(_ kind: AssetKind) async throws -> [RemoteAsset] {
        try await listRows(kind).compactMap { RemoteAsset(kind: kind, row: $0) }
    }

    /// Every row of a list endpoint, only `columns` when given, paging to the end in pages of
    /// `pageSize` (capped at 100 by Superset). Rows are de-duplicated by id.
    public func listRows(_ kind: AssetKind, columns: [String]? = nil) async throws -> [BundleValue] {
        try await listRows(path: "/api/v1/\(kind.resource)/", context: "list \(kind.rawValue)s", columns: columns)
    }

    /// Superset's users as id → username, from the security API (Superset 6 enables it by
    /// default; it needs an account that may read users, as an admin can).
    /// Throws `SupersetError.forbidden`/`.notFound`-style errors when the API is off or denied.
    public func usernames() async throws -> [Int: String] {
        var out: [Int: String] = [:]
        for row in try await listRows(path: "/api/v1/security/users/", context: "list users", columns: ["id", "username"]) {
            if let id = row["id"]?.intValue, let name = row["username"]?.stringValue { out[id] = name }
        }
        return out
    }

    func listRows(path: String, context: String, columns: [String]?) async throws -> [BundleValue] {
        var out: [BundleValue] = []
        var seen = Set<Int>()
        var page = 0
        let size = min(max(configuration.pageSize, 1), 100)
        while true {
            let fields: [(String, Rison)] = (columns.map { [("columns", Rison.list($0.map(Rison.string)))] } ?? [])
                + [("page", .int(page)), ("page_size", .int(size))]
            let q = Rison.object(fields)
            let response = try await authorized(method: "GET", path: path, query: "q=\(q.queryValue)", write: false)
            guard response.status == 200 else { throw Self.error(for: response, context: context) }
            let json = try Self.json(response, context: context)
            guard let rows = json["result"]?.listValue else {
                throw SupersetError.invalidResponse("\(context): no 'result' list")
            }
            if rows.isEmpty { break }
            for row in rows {
                if let id = row["id"]?.intValue, !seen.insert(id).inserted { continue }
                out.append(row)
            }
            if let total = json["count"]?.intValue, out.count >= total { break }
            if rows.count < size { break }
            page += 1
        }
        return out
    }

    /// Finds ids by exact field match (e.g. a dashboard slug), through the list filter.
    public func ids(of kind: AssetKind, where column: String, equals value: String) async throws -> [Int] {
        let q = Rison.object([
            ("filters", .list([.object([("col", .string(column)), ("opr", "eq"), ("value", .string(value))])])),
            ("columns", ["id"]), ("page", 0), ("page_size", 100),
        ])
        let response = try await authorized(method: "GET", path: "/api/v1/\(kind.resource)/", query: "q=\(q.queryValue)", write: false)
        guard response.status == 200 else { throw Self.error(for: response, context: "find \(kind.rawValue)") }
        return (try Self.json(response, context: "find \(kind.rawValue)")["result"]?.listValue ?? []).compactMap { $0["id"]?.intValue }
    }

    /// The raw export ZIP of one batch of assets.
    public func exportArchive(_ kind: AssetKind, ids: [Int]) async throws -> Data {
        let q = Rison.list(ids.map(Rison.int))
        let response = try await authorized(
            method: "GET", path: "/api/v1/\(kind.resource)/export/", query: "q=\(q.queryValue)", write: false,
            timeout: configuration.bulkTimeout)
        guard response.status == 200 else { throw Self.error(for: response, context: "export \(kind.rawValue)s") }
        return response.body
    }

    /// The export ZIPs of one batch, tolerating assets deleted in Superset since they were listed.
    ///
    /// Superset answers a whole export with 404 when any one id is gone. The batch is then split
    /// in halves until each missing id stands alone, so a batch of n with k vanished ids costs
    /// about k·log2(n) extra calls. Side effects: only GETs. Any error other than a 404 is thrown.
    /// - Returns: the archives of what still exists, and the ids that no longer do.
    public func exportArchivesSkippingVanished(_ kind: AssetKind, ids: [Int]) async throws -> (archives: [Data], vanished: [Int]) {
        guard !ids.isEmpty else { return ([], []) }
        do {
            return ([try await exportArchive(kind, ids: ids)], [])
        } catch SupersetError.notFound {
            guard ids.count > 1 else { return ([], ids) }
            let half = ids.count / 2
            let left = try await exportArchivesSkippingVanished(kind, ids: Array(ids[..<half]))
            let right = try await exportArchivesSkippingVanished(kind, ids: Array(ids[half...]))
            return (left.archives + right.archives, left.vanished + right.vanished)
        }
    }

    /// Exports assets in batches of at most `exportBatchSize` ids and merges them into one bundle.
    ///
    /// At most `concurrency` exports are in flight, each on its own connection when that is above
    /// 1 (the first ones `parallelStartGap` apart); each archive is parsed while the next one
    /// downloads, so parsing costs little beyond the last batch. Batches merge in order, so the
    /// result does not depend on timing.
    public func export(_ kind: AssetKind = .dashboard, ids: [Int], concurrency: Int = 1, reader: BundleReader = BundleReader()) async throws -> AssetBundle {
        let size = max(1, configuration.exportBatchSize)
        let batches = stride(from: 0, to: ids.count, by: size).map { Array(ids[$0..<min($0 + size, ids.count)]) }
        var parsing = [Task<AssetBundle, Error>?](repeating: nil, count: batches.count)
        defer { for task in parsing { task?.cancel() } }
        try await Self.spreading(concurrency) {
            try await withThrowingTaskGroup(of: (Int, Data).self) { group in
                var next = 0
                let gap = configuration.parallelStartGap, sleep = configuration.retry.sleep
                func add(after delay: Double = 0) {
                    guard next < batches.count else { return }
                    let index = next, batch = batches[index]
                    next += 1
                    group.addTask {
                        if delay > 0 { try await sleep(delay) }
                        return (index, try await self.exportArchive(kind, ids: batch))
                    }
                }
                for i in 0..<max(1, concurrency) { add(after: Double(i) * gap) }
                while let (index, data) = try await group.next() {
                    // Detached: a plain Task would inherit this actor and block the next download.
                    parsing[index] = Task.detached {
                        do { return try reader.read(data) } catch let error as BundleError { throw SupersetError.bundle(error) }
                    }
                    add()
                }
            }
        }
        var merged = AssetBundle()
        for (i, task) in parsing.enumerated() {
            guard let part = try await task?.value else { continue }
            if i == 0 { merged = part } else { merged.merge(part) }
        }
        return merged
    }

    /// Posts a bundle to an import endpoint.
    ///
    /// - Parameters:
    ///   - passwords: database passwords keyed by the file path below the top folder
    ///     (`BundleWriter.path(of:in:)`), as Superset expects.
    /// - Throws: `SupersetError.importFailed` with Superset's per-file messages.
    public func importBundle(
        _ bundle: AssetBundle, as type: ImportType, overwrite: Bool, passwords: [String: String] = [:],
        writer: BundleWriter = BundleWriter()
    ) async throws {
        let zip: Data
        do {
            zip = try writer.write(bundle.subset(for: type))
        } catch let error as BundleError {
            throw SupersetError.bundle(error)
        }
        var form = MultipartForm()
        form.addFile(name: type.fileField, filename: "\(writer.topFolder).zip", contentType: "application/zip", data: zip)
        form.addField(name: "overwrite", value: overwrite ? "true" : "false")
        if !passwords.isEmpty {
            form.addField(name: "passwords", value: BundleValue.map(passwords.mapValues(BundleValue.string)).jsonText())
        }
        let response = try await authorized(
            method: "POST", path: type.endpoint, body: form.finished, contentType: form.contentType, write: true,
            timeout: configuration.bulkTimeout)
        guard response.status == 200 || response.status == 201 else {
            let problems = Self.importProblems(response)
            if !problems.isEmpty, response.status == 422 || response.status == 400 {
                throw SupersetError.importFailed(problems)
            }
            throw Self.error(for: response, context: "import (\(type.rawValue))")
        }
    }

    /// Runs a chart's saved query (`GET /api/v1/chart/{id}/data/`).
    public func chartData(id: Int) async throws -> ChartDataResult {
        let response = try await authorized(method: "GET", path: "/api/v1/chart/\(id)/data/", query: "format=json&type=full", write: false, timeout: configuration.bulkTimeout)
        guard response.status == 200 else { throw Self.error(for: response, context: "chart \(id) data") }
        let json = try Self.json(response, context: "chart \(id) data")
        guard let results = json["result"]?.listValue, let first = results.first else {
            throw SupersetError.invalidResponse("chart \(id) data: no result")
        }
        if let error = first["error"]?.stringValue, !error.isEmpty {
            throw SupersetError.http(status: 200, message: "chart \(id) query failed: \(error)")
        }
        let rows = (first["data"]?.listValue ?? []).compactMap(\.mapValue)
        return ChartDataResult(rowCount: first["rowcount"]?.intValue ?? rows.count, rows: rows)
    }

    /// Runs several query objects against one dataset in one `POST /api/v1/chart/data`.
    /// Superset runs them one by one and fails the whole request (HTTP 400) when any of them
    /// fails, so a throw means "at least one of these doesn't query": ask chart by chart.
    /// - Returns: one result per query, in order.
    public func chartDataBatch(datasetID: Int, queries: [BundleValue]) async throws -> [ChartDataResult] {
        let body = BundleValue.map([
            "datasource": .map(["id": .int(datasetID), "type": .string("table")]), "queries": .list(queries),
            "result_format": .string("json"), "result_type": .string("full"), "force": .bool(false),
        ])
        let response = try await authorized(
            method: "POST", path: "/api/v1/chart/data", body: Data(body.jsonText().utf8), contentType: "application/json", write: true,
            timeout: configuration.bulkTimeout)
        guard response.status == 200 else { throw Self.error(for: response, context: "chart data for dataset \(datasetID)") }
        let results = try Self.json(response, context: "chart data")["result"]?.listValue ?? []
        guard results.count == queries.count else {
            throw SupersetError.invalidResponse("chart data for dataset \(datasetID): \(results.count) results for \(queries.count) queries")
        }
        return try results.map { r in
            if let error = r["error"]?.stringValue, !error.isEmpty { throw SupersetError.http(status: 200, message: error) }
            let rows = (r["data"]?.listValue ?? []).compactMap(\.mapValue)
            return ChartDataResult(rowCount: r["rowcount"]?.intValue ?? rows.count, rows: rows)
        }
    }

    /// A generic JSON GET for operations not wrapped yet.
    public func getJSON(_ path: String, query: String? = nil) async throws -> BundleValue {
        let response = try await authorized(method: "GET", path: path, query: query, write: false)
        guard response.status == 200 else { throw Self.error(for: response, context: "GET \(path)") }
        return try Self.json(response, context: "GET \(path)")
    }

    /// A generic JSON write (POST/PUT/DELETE) with CSRF; returns the decoded body.
    @discardableResult
    public func sendJSON(_ method: String, _ path: String, body: BundleValue?) async throws -> BundleValue {
        let response = try await authorized(
            method: method, path: path, body: body.map { Data($0.jsonText().utf8) },
            contentType: body == nil ? nil : "application/json", write: true)
        guard (200..<300).contains(response.status) else { throw Self.error(for: response, context: "\(method) \(path)") }
        return (try? BundleValue.parseJSON(response.body)) ?? .null
    }

    /// Superset's per-file complaints from an import error body:
    /// `errors[].extra` maps file paths to messages (nested field errors are flattened).
    static func importProblems(_ response: HTTPResponse) -> [ImportProblem] {
        guard let json = try? BundleValue.parseJSON(response.body) else { return [] }
        var problems: [ImportProblem] = []
        for error in json["errors"]?.listValue ?? [] {
            let general = error["message"]?.stringValue ?? "import failed"
            var perFile = false
            for (key, value) in (error["extra"]?.mapValue ?? [:]).sorted(by: { $0.key < $1.key }) where key != "issue_codes" {
                perFile = true
                problems.append(ImportProblem(path: key, message: flatten(value)))
            }
            if !perFile { problems.append(ImportProblem(path: nil, message: general)) }
        }
        if problems.isEmpty, let message = json["message"] {
            problems.append(ImportProblem(path: nil, message: message.stringValue ?? flatten(message)))
        }
        return problems
    }

    static func flatten(_ value: BundleValue) -> String {
        switch value {
        case .string(let s): return s
        case .list(let l): return l.map(flatten).joined(separator: "; ")
        case .map(let m): return m.sorted { $0.key < $1.key }.map { "\($0.key): \(flatten($0.value))" }.joined(separator: "; ")
        default: return value.jsonText()
        }
    }
}

/// A multipart/form-data body.
struct MultipartForm {
    let boundary = "ferry-" + UUID().uuidString
    private(set) var body = Data()

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func addField(name: String, value: String) {
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
    }

    mutating func addFile(name: String, filename: String, contentType: String, data: Data) {
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n".utf8))
        body.append(data)
        body.append(Data("\r\n".utf8))
    }

    var finished: Data { body + Data("--\(boundary)--\r\n".utf8) }
}
