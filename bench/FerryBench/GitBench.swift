// Issue 14's performance figures: the git history at 1,000 dashboards.
//
//   swift run FerryBench git [dashboards] [commits]      (bench/git.sh runs it in release)
//
// One Ferry, in process, on a temporary SQLite store and storage. An environment of N dashboards
// (copies of the fixture's sales dashboard: 3 charts and a dataset each, fresh uuids) is stored
// as a backup would store it, then:
//   1. the first commit of the whole environment;
//   2. commits with 10 changed dashboards (a chart renamed in each), five times; the floor is
//      the same size of change committed with the bare git CLI (10 dashboards' chart files
//      edited in place, `git add -A`, `git commit`) in the same repository, right after;
//   3. the history grown to C commits (each changing 3 dashboards, round robin over 100);
//   4. a dashboard's history (GET /api/git/history, 50 revisions) and a diff of two of its
//      revisions (GET /api/git/diff), through the app's full middleware stack with an API token,
//      each against its floor: the bare `git log -- <folder>` and `git diff A B -- <folder>`.
@testable import FerryApp
import Fluent
import Foundation
import SupersetKit
import Vapor

func gitBench(dashboards: Int, commits: Int) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-gitbench-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var config = FerryConfiguration()
    config.dataDirectory = dir
    config.secretKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    config.syncInterval = 0
    config.logLevel = "error"
    config.bcryptCost = 4
    let app = try await Application.make(.production)
    do {
        try await configure(app, configuration: config)
        try await run(app, dashboards: dashboards, commits: commits)
        try await app.asyncShutdown()
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
}

private func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }

private func timed<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try await body()
    return (value, ms(ContinuousClock.now - start))
}

private func run(_ app: Application, dashboards n: Int, commits total: Int) async throws {
    let now = app.ferry.now()
    let admin = try await AccountService.createUser(UserInput(username: "bench", password: "bench password 1", roles: [BuiltInRoles.admin]),
                                                    hasher: app.passwordHasher, now: now, newID: { UUID() }, on: app.db)
    let dto = try await EnvironmentService.create(EnvironmentInput(name: "dev", url: "http://127.0.0.1:9", authProvider: "db", username: "admin", password: "x", stage: "dev"),
                                                  on: app.db, box: app.secretBox, now: now, id: UUID())
    let env = dto.ref
    let principal = try await SessionService.principal(userID: admin.id, credential: .token(id: UUID()), on: app.db)!
    let token = try await SessionService.createToken(TokenInput(name: "bench"), owner: principal, now: now, newID: UUID(), on: app.db).token
    let git = app.gitHistory
    _ = try await git.repository.prepare()
    try git.storage.prepare()

    // The environment: N copies of the fixture's first dashboard with fresh uuids.
    let fixture = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Tests/SupersetKitTests/Fixtures/dashboard_export.zip")
    let template = try BundleReader().read(try Data(contentsOf: fixture))
    let templateDashboard = template.dashboards[0]
    let templateCharts = templateDashboard.chartUUIDsInLayout.compactMap { template.asset(.chart, uuid: $0) }
    let templateDatasets = Set(templateCharts.compactMap(\.datasetUUID)).compactMap { template.asset(.dataset, uuid: $0) }
    var entries: [String: BackupManifest.Entry] = [:]  // uuid -> entry
    var chartOf: [Int: Asset] = [:]  // dashboard index -> its first chart
    func store(_ asset: Asset, changedOn: String) throws {
        let r = try git.storage.put(try asset.withoutSecrets.fileData())
        entries[asset.uuid] = BackupManifest.Entry(kind: asset.kind, uuid: asset.uuid, name: asset.name, hash: r.hash, size: r.size, changedOn: nil,
                                                   changedOnText: changedOn, refs: asset.references)
    }
    for db in template.databases { try store(db, changedOn: "") }
    let (_, generate) = try await timed {
        for i in 0..<n {
            var renames: [String: String] = [:]
            for a in [templateDashboard] + templateCharts + templateDatasets { renames[a.uuid] = UUID().uuidString.lowercased() }
            func copy(_ a: Asset) throws -> Asset {
                var text = BundleValue.map(a.fields).jsonText()
                for (old, new) in renames { text = text.replacingOccurrences(of: old, with: new) }
                guard case .map(let f) = try BundleValue.parseJSON(text) else { fatalError() }
                return Asset(kind: a.kind, fields: f)
            }
            var d = try copy(templateDashboard)
            d.name = "Dashboard \(i)"
            d["slug"] = .string("dashboard-\(i)")
            try store(d, changedOn: "t0")
            for (k, c) in templateCharts.enumerated() {
                var chart = try copy(c)
                chart.name = "Chart \(i).\(k)"
                try store(chart, changedOn: "t0")
                if k == 0 { chartOf[i] = chart }
            }
            for (k, ds) in templateDatasets.enumerated() {
                var dataset = try copy(ds)
                dataset.name = "table_\(i)_\(k)"
                try store(dataset, changedOn: "t0")
            }
        }
    }
    let assets = entries.count
    print("Environment: \(n) dashboards, \(entries.values.filter { $0.kind == .chart }.count) charts, \(entries.values.filter { $0.kind == .dataset }.count) datasets, "
          + "\(entries.values.filter { $0.kind == .database }.count) connections (\(assets) files; generated and stored in \(Int(generate)) ms)\n")

    let author = GitAuthor(startedBy: "bench")
    let (first, firstMs) = try await timed {
        try await git.commit(environment: env, assets: Array(entries.values), author: author, taskID: UUID(), now: now, on: app.db)
    }
    print("| step | Ferry (ms) | floor (ms) | ratio |")
    print("|---|---|---|---|")
    print("| first commit of the whole environment (\(first.added.count) dashboards) | \(Int(firstMs)) | | |")

    // 10 changed dashboards per commit.
    var round = 0
    func change(_ indices: [Int]) throws {
        round += 1
        for i in indices {
            var chart = chartOf[i]!
            chart.name = "Chart \(i).0 r\(round)"
            chartOf[i] = chart
            try store(chart, changedOn: "t\(round)")
        }
    }
    var tenMs: [Double] = [], floorMs: [Double] = []
    let rows = try await GitDashboardModel.query(on: app.db).filter(\.$environmentID == env.id).all()
    let dirs: [String: String] = Dictionary(rows.map { ($0.title, $0.dir) }, uniquingKeysWith: { a, _ in a })
    for r in 0..<5 {
        let picked = (0..<10).map { ($0 * 97 + r * 13) % n }
        try change(picked)
        let (result, t) = try await timed {
            try await git.commit(environment: env, assets: Array(entries.values), author: author, taskID: UUID(), now: now, on: app.db)
        }
        precondition(result.changed.count == 10, "\(result.message)")
        tenMs.append(t)
        // The floor: the same number of folders changed with the bare CLI.
        let others = (0..<10).map { ($0 * 89 + r * 7 + 5) % n }
        for i in others {
            let folder = git.repository.root.appendingPathComponent(dirs["Dashboard \(i)"]!).appendingPathComponent("charts")
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).prefix(1) {
                let url = folder.appendingPathComponent(file)
                var text = try String(contentsOf: url, encoding: String.Encoding.utf8)
                text += "# floor \(r)\n"
                try text.write(to: url, atomically: false, encoding: String.Encoding.utf8)
            }
        }
        let (_, f) = try await timed {
            _ = try await git.repository.git(["add", "-A", "--", "dev"])
            _ = try await git.repository.git(["commit", "-q", "-m", "floor \(r)"])
        }
        floorMs.append(f)
    }
    tenMs.sort(); floorMs.sort()
    print("| commit with 10 changed dashboards (median of 5; max \(Int(tenMs.last!))) | \(Int(tenMs[2])) | \(Int(floorMs[2])) | \(String(format: "%.2f", tenMs[2] / floorMs[2])) |")

    // The history grown to `total` commits.
    let have = Int(try await git.repository.git(["rev-list", "--count", "HEAD"]).text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    // Grown with the bare CLI (a chart file of 3 dashboards edited per commit, round robin over
    // 100): Ferry's own commits cost ~0.8 s each at this size (timed above), and the history
    // and diff below only read what is in the repository.
    let (_, growMs) = try await timed {
        var k = 0
        for c in have..<total {
            for i in (0..<3).map({ (k + $0) % 100 }) {
                let folder = git.repository.root.appendingPathComponent(dirs["Dashboard \(i)"]!).appendingPathComponent("charts")
                let file = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()[0]
                let url = folder.appendingPathComponent(file)
                var text = try String(contentsOf: url, encoding: String.Encoding.utf8)
                text += "# edit \(c)\n"
                try text.write(to: url, atomically: false, encoding: String.Encoding.utf8)
            }
            k += 3
            _ = try await git.repository.git(["add", "-A", "--", "dev"])
            _ = try await git.repository.commit(message: "grow \(c)", author: author, trailers: [("Ferry-Task", UUID().uuidString.lowercased())])
        }
    }
    let count = try await git.repository.git(["rev-list", "--count", "HEAD"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
    print("| grow the history to \(count) commits (bare CLI, 3 dashboards each) | \(Int(growMs)) total, \(Int(growMs / Double(max(1, total - have)))) per commit | | |")

    // History and diff through the app.
    var headers = HTTPHeaders()
    headers.bearerAuthorization = BearerAuthorization(token: token)
    let responder = app.responder
    func get(_ path: String) async throws -> Double {
        let req = Request(application: app, method: .GET, url: URI(string: path), headers: headers, on: app.eventLoopGroup.any())
        let (res, t) = try await timed { try await responder.respond(to: req).get() }
        guard res.status == .ok else { fatalError("\(path): \(res.status) \(res.body.string ?? "")") }
        return t
    }
    let row = try await GitHistory.row(environment: env.id, dashboard: entries.values.first { $0.kind == .dashboard && $0.name == "Dashboard 1" }!.uuid, on: app.db)!
    let revisions = try await git.history(of: row, limit: 1000, skip: 0)
    let (a, b) = (revisions[revisions.count / 2].sha, revisions[0].sha)
    var api: [Double] = [], rawLog: [Double] = [], diff: [Double] = [], rawDiff: [Double] = []
    let logArgs = ["log", "--no-color", "--format=%H%x1f%an%x1f%ae%x1f%at%x1f%s%x1f%(trailers:key=Ferry-Task,valueonly,separator=%x2c)%x1e",
                   "--max-count=50", "HEAD", "--", row.dir]
    for i in 0..<230 {
        let h = try await get("/api/git/history?environment=dev&dashboard=\(row.dashboardUUID)&per_page=50")
        let (_, l) = try await timed { _ = try await git.repository.git(logArgs) }
        let d = try await get("/api/git/diff?environment=dev&dashboard=\(row.dashboardUUID)&from=\(a)&to=\(b)")
        let (_, rd) = try await timed { _ = try await git.repository.git(["diff", "--no-color", a, b, "--", row.dir]) }
        if i >= 30 { api.append(h); rawLog.append(l); diff.append(d); rawDiff.append(rd) }  // after warm-up
    }
    for i in [api, rawLog, diff, rawDiff].indices { _ = i }
    api.sort(); rawLog.sort(); diff.sort(); rawDiff.sort()
    let f = { (x: Double) in String(format: "%.1f", x) }
    print("| a dashboard's history, GET /api/git/history (\(revisions.count) revisions of it, 50 shown): p50 \(f(percentile(api, 0.5))) | p95 **\(f(percentile(api, 0.95)))** | p95 \(f(percentile(rawLog, 0.95))) (`git log -- folder`) | \(String(format: "%.2f", percentile(api, 0.95) / percentile(rawLog, 0.95))) |")
    print("| a diff of two revisions, GET /api/git/diff: p50 \(f(percentile(diff, 0.5))) | p95 **\(f(percentile(diff, 0.95)))** | p95 \(f(percentile(rawDiff, 0.95))) (`git diff A B -- folder`) | \(String(format: "%.2f", percentile(diff, 0.95) / percentile(rawDiff, 0.95))) |")
    let size = try await git.repository.git(["count-objects", "-vH"]).text.split(separator: "\n").filter { $0.hasPrefix("size") }.joined(separator: ", ")
    print("\nRepository: \(count) commits, \(size)")
}
