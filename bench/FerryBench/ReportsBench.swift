// Issue 16's reports figure, the store half: fills a Ferry store with reports for bench/reports.sh,
// which then starts `ferry serve` on it and times GET /api/reports over HTTP.
//
//   swift run FerryBench reports-seed DATA_DIR [reports]     (default 10,000; DATABASE_URL: PostgreSQL)
//
// Five environments (dev, stage, prod, qa, analytics; stages dev, stage, prod, dev, prod) and N
// reports written through `ReportService.save`, as the engine writes them: kinds weighted as a
// busy Ferry makes them (syncs every 15 minutes, checks, backups, some promotions...), statuses
// mostly succeeded, finish times spread over the last year, typed details of realistic size.
// Deterministic (a fixed seed), so two runs measure the same store. Prints the environments'
// ids and one report id as JSON on the last line.
@testable import FerryApp
import Fluent
import Foundation
import Vapor

/// A small deterministic generator (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func reportsSeed(dataDirectory: String, count: Int) async throws {
    var config = try FerryConfiguration.from(environment: ProcessInfo.processInfo.environment)
    config.dataDirectory = dataDirectory
    config.syncInterval = 0
    config.logLevel = "error"
    let app = try await Application.make(.production)
    do {
        try await configure(app, configuration: config)
        let line = try await seed(app, count: count)
        try await app.asyncShutdown()
        print(line)
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
}

private func seed(_ app: Application, count: Int) async throws -> String {
    let now = Date()
    var envs: [(id: UUID, name: String)] = []
    for (name, stage) in [("dev", "dev"), ("stage", "stage"), ("prod", "prod"), ("qa", "dev"), ("analytics", "prod")] {
        let env = try await EnvironmentService.create(
            EnvironmentInput(name: name, url: "http://127.0.0.1:9", authProvider: "db", username: "admin", password: "x", stage: stage),
            on: app.db, box: app.secretBox, now: now, id: UUID())
        envs.append((env.id!, name))
    }
    var rng = SeededGenerator(state: 16_006)
    let kinds: [(ReportKind, Int)] = [(.sync, 40), (.dashboardCheck, 20), (.backup, 20), (.promotion, 8), (.plan, 5), (.restore, 2), (.rollback, 1), (.git, 2), (.other, 2)]
    let statuses: [(ReportStatus, Int)] = [(.succeeded, 85), (.failed, 7), (.partial, 5), (.cancelled, 2), (.interrupted, 1)]
    func pick<T>(_ weighted: [(T, Int)]) -> T {
        var n = Int.random(in: 0..<weighted.reduce(0) { $0 + $1.1 }, using: &rng)
        for (value, weight) in weighted {
            if n < weight { return value }
            n -= weight
        }
        return weighted[0].0
    }
    let titles = ["Sales overview", "Exec summary", "Orders", "Revenue by region", "Funnel", "Churn", "Inventory", "Support tickets"]
    var sample: UUID?
    let started = Date()
    for i in 0..<count {
        let kind = pick(kinds)
        var status = pick(statuses)
        let at = now.addingTimeInterval(-Double.random(in: 0..<(365 * 86_400), using: &rng))
        let env = envs[Int.random(in: 0..<envs.count, using: &rng)]
        var other = envs[Int.random(in: 0..<envs.count, using: &rng)]
        if other.id == env.id { other = envs[(envs.firstIndex { $0.id == env.id }! + 1) % envs.count] }
        var details = ReportDetails()
        var environments = [env.id]
        var title = env.name
        var outcome: HealthStatus?
        var summary = ReportLine(.generic, ["plugin": "diagnostics.sleep"])
        let dashboards = (0..<5).map { _ in titles[Int.random(in: 0..<titles.count, using: &rng)] }
        switch kind {
        case .sync:
            details.sync = SyncReport(environmentId: env.id, dashboards: 120, charts: 900, datasets: 80, databases: 4)
            summary = ReportLine(.sync, ["dashboards": "120", "charts": "900", "datasets": "80", "databases": "4"])
        case .dashboardCheck:
            let fail = Int.random(in: 0..<3, using: &rng), warn = Int.random(in: 0..<4, using: &rng)
            outcome = fail > 0 ? .fail : warn > 0 ? .warn : .pass
            details.dashboardCheck = DashboardCheckReport(environmentId: env.id, dashboards: 20, pass: 20 - fail - warn, warn: warn, fail: fail, rendered: true,
                                                          worst: dashboards.prefix(fail + warn).enumerated().map { n, t in
                .init(checkId: UUID(), dashboardId: n + 1, title: t, status: n < fail ? .fail : .warn, issues: 2, firstIssue: "Orders: relation \"orders\" does not exist")
            })
            summary = ReportLine(.dashboardCheck, ["dashboards": "20", "pass": String(20 - fail - warn), "warn": String(warn), "fail": String(fail)])
        case .backup:
            details.backup = BackupReport(operation: .run, environmentId: env.id, backupId: UUID(), full: i % 7 == 0, assets: 1200, newAssets: 14, exported: 20,
                                          totalBytes: 48_000_000, newBytes: 420_000, gitCommit: "0123456789abcdef0123456789abcdef01234567")
            summary = ReportLine(i % 7 == 0 ? .backupFull : .backupIncremental, ["assets": "1200", "new": "14"], bytes: ["bytes": 420_000])
        case .promotion, .restore, .plan, .rollback:
            environments = kind == .rollback ? [other.id] : [env.id, other.id]
            title = "\(env.name) → \(other.name): " + dashboards.prefix(3).joined(separator: ", ")
            details.promotion = PromotionReport(sourceId: env.id, targetId: other.id, origin: kind == .restore ? .backup : .environment, created: 3, updated: 9,
                                                unchanged: 40, conflicts: 0, imported: 5, chartsChecked: 40, chartsFailed: status == .partial ? 2 : 0,
                                                verified: status != .partial, dashboards: dashboards.enumerated().map { n, t in
                .init(uuid: UUID().uuidString, title: t, targetId: n + 1, passed: true, reasons: [], charts: 8, chartsFailed: 0)
            })
            summary = ReportLine(.promotion, ["dashboards": "5", "target": other.name, "charts": "40", "failed": "0"])
        case .git:
            environments = []
            title = "git.push · main"
            details.git = GitReport(operation: .push, commit: "0123456789abcdef", branch: "main")
            summary = ReportLine(.gitPush, ["commit": "0123456789ab", "branch": "main"])
        case .other:
            details.generic = GenericReport(rows: [.init(key: "slept", value: "10"), .init(key: "logLines", value: "0")])
            title = "diagnostics.sleep"
            environments = []
        }
        if kind != .promotion && kind != .restore && status == .partial { status = .succeeded }
        let id = UUID()
        let failed = status == .failed || status == .interrupted
        try await ReportService.save(ReportRecord(
            id: id, taskID: id, pluginID: "bench.\(kind.rawValue)", kind: kind, status: status, outcome: outcome, environmentIDs: environments, title: title,
            summary: failed ? ReportLine(.failed, ["step": "exporting dashboards 1-50 of 120"]) : summary, details: details,
            cause: failed ? "Superset didn't answer within 30 s." : nil,
            nextAction: failed ? "Check that Superset is up and reachable from Ferry (test the connection), then run the task again." : nil,
            createdBy: "bench", startedAt: at.addingTimeInterval(-42), finishedAt: at), on: app.db)
        if kind == .promotion, sample == nil { sample = id }
        if (i + 1) % 1000 == 0 {
            FileHandle.standardError.write(Data("\(i + 1) reports stored (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)\n".utf8))
        }
    }
    let out: [String: String] = Dictionary(uniqueKeysWithValues: envs.map { ($0.name, $0.id.key) } + [("report", (sample ?? UUID()).key)])
    return String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self)
}
