import Fluent
import Foundation
import SupersetKit

/// What a check stores beside its issues: every chart's query, what each tab showed, the
/// console errors of the page, and its LLM review when one was asked for.
struct DashboardCheckDetails: Codable, Sendable, Equatable {
    struct Tab: Codable, Sendable, Equatable { var name: String?; var charts: Int; var stillLoading: Int }
    var charts: [ChartProbe] = []
    var tabs: [Tab] = []
    var consoleErrors: [String] = []
    /// The review by an LLM provider (its verdict, or why there was none); nil when none was asked.
    var llmReview: LLMReviewRecord?
}

/// `dashboard.check`: checks an environment's dashboards (all, a list of ids, or those whose
/// title contains a search) and stores one `dashboard_checks` row per dashboard.
///
/// For each dashboard: its structure (layout, members, filters pointing at its own charts), its
/// charts' datasets and databases, every chart's saved query with its time, and, unless
/// `render` is false, what chromium shows (`DashboardRenderer`): error boxes, charts still
/// loading, uncaught errors, a screenshot per tab and its change from the last passing one.
/// With `llmProvider`, each checked dashboard's first screenshot and findings then go to that
/// provider for a review (`LLMReview`), whose issues join the check's.
///
/// Side effects: Superset reads and chart queries (each chart once per task), a chromium process
/// group for the task's life (killed when it ends, fails or is cancelled), screenshot files
/// (pruned to the quota and retention after each run), rows of `dashboard_checks`, and, only
/// when a provider is named, one call to it per dashboard.
struct DashboardCheckPlugin: Plugin {
    static let pluginID = "dashboard.check"
    let id = DashboardCheckPlugin.pluginID
    let name = "Check dashboards"
    let description = "Runs every chart's query, checks filters, datasets and databases, and renders each dashboard in chromium with a screenshot."
    let version = "1.0.0"
    let permission = Permission.healthRun.rawValue
    let resumable = true
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "required": ["environment"], "additionalProperties": false,
         "properties": {
           "environment": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The environment (id or name)"},
           "dashboards": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 2147483647}, "description": "Superset dashboard ids (all when absent)"},
           "search": {"type": "string", "maxLength": 200, "description": "Only dashboards whose title contains this"},
           "render": {"type": "boolean", "default": true, "description": "Render each dashboard in chromium (screenshots, error boxes)"},
           "slowMs": {"type": "integer", "minimum": 100, "maximum": 600000, "default": 10000, "description": "A chart query slower than this is a WARN"},
           "visualThreshold": {"type": "number", "minimum": 0, "maximum": 100, "default": 30, "description": "Percent of changed pixels from the last passing screenshot that is a WARN"},
           "parallel": {"type": "integer", "minimum": 1, "maximum": 4, "default": 2, "description": "Dashboards checked at once"},
           "llmProvider": {"type": "string", "pattern": "^[0-9A-Fa-f-]{36}$", "description": "An LLM provider's id: each dashboard's screenshot and findings go to it for a review (none when absent)"}}}
        """#)
    static let maxDashboardIDs = 1000

    let screenshots: HealthScreenshots
    let configuration: HealthConfiguration
    /// Where chromium's scratch profiles go (removed with each browser).
    let scratch: URL
    /// Reviews by an LLM provider, for checks that name one.
    let llm: LLMReview

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        let env = try await context.environment("environment")
        let params = context.params
        if let ids = params["dashboards"]?.listValue, ids.count > Self.maxDashboardIDs {
            throw TaskFailure(key: "too_many_dashboard_ids", ["count": String(ids.count), "max": String(Self.maxDashboardIDs)])
        }
        let slow = params["slowMs"]?.intValue ?? 10000
        let threshold = params["visualThreshold"]?.doubleValue ?? 30
        let parallel = min(max(params["parallel"]?.intValue ?? 2, 1), 4)
        try await context.step(key: "reading_dashboards", ["environment": env.name], progress: 5)
        let client = try await context.superset(env.id)
        let inventory = try await HealthInventory.read(client)
        var selected = inventory.dashboards
        if let ids = params["dashboards"]?.listValue?.compactMap(\.intValue), !ids.isEmpty {
            let wanted = Set(ids)
            selected = selected.filter { wanted.contains($0.id) }
            let missing = wanted.subtracting(selected.map(\.id)).sorted()
            if !missing.isEmpty { context.log(.warning, "no dashboard with id \(missing.map(String.init).joined(separator: ", ")) in \(env.name)", source: "health") }
        }
        if let search = params["search"]?.stringValue?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
            selected = selected.filter { $0.title.localizedCaseInsensitiveContains(search) }
        }
        selected.sort { $0.title.localizedStandardCompare($1.title) == .orderedAscending }
        guard !selected.isEmpty else {
            context.log(.warning, "no dashboard to check", source: "health")
            return .succeeded(.map(["environment": .string(env.id.key), "dashboards": .int(0), "pass": .int(0), "warn": .int(0), "fail": .int(0)]))
        }

        let rows = try await checks(of: selected, environment: env, client: client, inventory: inventory, render: params["render"]?.boolValue ?? true,
                                    slow: slow, threshold: threshold, parallel: parallel,
                                    llmProvider: params["llmProvider"]?.stringValue.flatMap(UUID.init(uuidString:)), context: context)
        let results = rows.map { HealthStatus(rawValue: $0.status) ?? .fail }
        let rendered = rows.contains { $0.renderMilliseconds != nil }
        let counts = Dictionary(grouping: results, by: { $0 }).mapValues(\.count)
        let pass = counts[.pass] ?? 0, warn = counts[.warn] ?? 0, fail = counts[.fail] ?? 0
        context.log(fail > 0 ? .error : warn > 0 ? .warning : .info, "\(selected.count) dashboard(s): \(pass) pass, \(warn) warn, \(fail) fail", source: "health")
        try await context.step(key: "done", progress: 100)
        return .succeeded(.map([
            "environment": .string(env.id.key), "dashboards": .int(selected.count), "pass": .int(pass), "warn": .int(warn), "fail": .int(fail),
            "rendered": .bool(rendered),
        ]))
    }

    /// Checks `selected` dashboards of `env` (`parallel` at once, in one chromium when `render`)
    /// and stores a row for each; returns the rows in `selected`'s order. With `llmProvider`
    /// (active), each dashboard is reviewed by it too. Used by this plugin and by policies
    /// (`HealthPolicyPlugin`).
    func checks(of selected: [HealthInventory.Dashboard], environment env: EnvironmentRef, client: SupersetClient, inventory: HealthInventory,
                render: Bool, slow: Int, threshold: Double, parallel: Int, llmProvider: UUID? = nil,
                context: TaskContext) async throws -> [DashboardCheckModel] {
        try Self.removeStaleProfiles(in: scratch)
        var llmTarget: LLMTarget?
        if let llmProvider {
            llmTarget = try await llm.target(llmProvider, on: context.db) { context.log(.warning, $0, source: "llm") }
            if case .ready(let e)? = llmTarget {
                context.log(.info, "each dashboard goes to LLM provider '\(e.name)' (\(e.model)) for a review", source: "llm",
                            metadata: ["provider": e.name, "model": e.model])
            }
        }
        var session: RenderSession?
        var renderProblem: String?
        if render {
            try await context.step(key: "starting_chromium", progress: 8)
            let model = try await EnvironmentModel.find(env.id, on: context.db)
            let superset = await client.configuration
            let s = RenderSession(executable: configuration.chromium, scratch: scratch, baseURL: superset.baseURL,
                                  username: superset.credentials.username, password: superset.credentials.password,
                                  ignoreCertificateErrors: model?.verifyTLS == false, commandTimeout: configuration.commandTimeout, chartsTimeout: configuration.chartsTimeout)
            do {
                try await s.start()
                session = s
            } catch {
                await s.close()
                renderProblem = "\(error)"
                context.log(.warning, "rendering is off for this check: \(error)", source: "chromium")
            }
        }
        let renderer = session, problem = renderProblem, chosen = selected, target = llmTarget, breaker = LLMBreaker()
        defer { if let renderer { Task { await renderer.close() } } }

        try await context.step(key: "checking_dashboards", ["count": String(selected.count)], progress: 10)
        let probes = ChartProbes(client: client)
        let done = LockedBox(0)
        let rows = try await SupersetClient.spreading(parallel) {
            try await chosen.concurrentMap(limit: parallel) { dashboard -> DashboardCheckModel in
                let row = try await check(dashboard, environment: env, inventory: inventory, probes: probes, renderer: renderer,
                                          renderProblem: problem, slow: slow, threshold: threshold, llm: target, breaker: breaker, context: context)
                let n = done.update { $0 += 1; return $0 }
                try await context.step(key: "checked_of", ["n": String(n), "total": String(chosen.count)], progress: 10 + 85 * n / chosen.count)
                return row
            }
        }
        if let renderer { await renderer.close() }
        try await prune(environment: env.id, context: context)
        return rows
    }

    /// Chromium profiles a killed Ferry left behind (a day old: never a running check's).
    static func removeStaleProfiles(in scratch: URL) throws {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: scratch.path) else { return }
        for name in names where name.hasPrefix("chromium-") {
            let url = scratch.appendingPathComponent(name)
            let modified = (try? fm.attributesOfItem(atPath: url.path)[.modificationDate] as? Date) ?? Date()
            if modified < Date(timeIntervalSinceNow: -86400) { try? fm.removeItem(at: url) }
        }
    }

    private func check(_ dashboard: HealthInventory.Dashboard, environment env: EnvironmentRef, inventory: HealthInventory, probes: ChartProbes,
                       renderer: RenderSession?, renderProblem: String?, slow: Int, threshold: Double, llm target: LLMTarget?, breaker: LLMBreaker,
                       context: TaskContext) async throws -> DashboardCheckModel {
        let meta = ["dashboard": String(dashboard.id)]
        var issues: [HealthIssue] = []
        var details = DashboardCheckDetails()
        var queryMilliseconds = 0
        var chartIDs: [Int] = []
        do {
            let detail = try await context.superset(env.id).dashboardDetail(id: dashboard.id)
            issues += DashboardChecker.structureIssues(detail, members: inventory.members[dashboard.id] ?? [], inventory: inventory)
            chartIDs = detail.layoutChartIDs.sorted()
        } catch let error as CancellationError {
            throw error
        } catch {
            issues.append(HealthIssue(.fail, .structure, "Superset didn't give the dashboard's layout: \(TaskEngine.describe(error).0)"))
        }
        for id in chartIDs where inventory.charts[id] != nil {
            let probe = await probes.probe(id: id, name: inventory.charts[id]?.name ?? "chart \(id)")
            try Task.checkCancellation()
            details.charts.append(probe)
            queryMilliseconds += probe.milliseconds
            issues += DashboardChecker.queryIssues(probe, slowMilliseconds: slow)
        }
        let checkID = context.newID()
        var shots: [HealthScreenshotRef] = []
        var renderMilliseconds: Int?
        var visualChange: Double?
        var firstScreenshot: Data?
        var noScreenshot = "the dashboard was not rendered (rendering is off for this check)"
        if let renderer {
            do {
                let rendering = try await renderer.render(dashboardID: dashboard.id)
                renderMilliseconds = rendering.milliseconds
                details.tabs = rendering.tabs.map { .init(name: $0.name, charts: $0.charts, stillLoading: $0.stillLoading) }
                details.consoleErrors = rendering.consoleErrors
                for (i, tab) in rendering.tabs.enumerated() {
                    shots.append(try screenshots.save(tab.png, check: checkID, index: i, tab: tab.name))
                }
                if let first = rendering.tabs.first?.png {
                    firstScreenshot = first
                    visualChange = try await changeFromLastPass(first, environment: env.id, dashboard: dashboard.uuid, on: context.db)
                } else {
                    noScreenshot = "the rendering took no screenshot"
                }
                issues += DashboardChecker.renderingIssues(rendering, visualChange: visualChange, visualThreshold: threshold)
            } catch let error as CancellationError {
                throw error
            } catch {
                issues.append(HealthIssue(.warn, .renderFailed, "rendering failed: \(error)"))
                context.log(.warning, "'\(dashboard.title)': rendering failed: \(error)", source: "chromium", metadata: meta)
                noScreenshot = "the rendering failed"
            }
        } else if let renderProblem {
            issues.append(HealthIssue(.warn, .renderFailed, "not rendered: \(renderProblem)"))
            noScreenshot = "the dashboard could not be rendered"
        }
        // At most 200 issues are stored: the review's come after Ferry's own and are always kept.
        var stored = Array(issues.prefix(200))
        if let target {
            let findings = LLMFindings(title: dashboard.title, status: HealthIssue.verdict(issues), issues: issues,
                                       chartErrors: details.charts.filter { $0.error != nil }, noScreenshot: firstScreenshot == nil ? noScreenshot : nil)
            let review = try await llm.review(findings, screenshot: firstScreenshot, target: target, breaker: breaker)
            details.llmReview = review.record
            stored = Array(issues.prefix(200 - review.issues.count)) + review.issues
            Self.logReview(review.record, dashboard: dashboard, context: context)
        }
        let status = HealthIssue.verdict(stored)
        let row = DashboardCheckModel()
        row.id = checkID
        row.taskID = context.taskID
        row.environmentID = env.id
        row.dashboardID = dashboard.id
        row.dashboardUUID = dashboard.uuid
        row.title = String(dashboard.title.prefix(500))
        row.status = status.rawValue
        row.issues = String(decoding: try JSONEncoder().encode(stored), as: UTF8.self)
        row.charts = chartIDs.count
        row.chartsFailed = Set(stored.filter { $0.severity == .fail && $0.chartID != nil }.compactMap(\.chartID)).count
        row.queryMilliseconds = queryMilliseconds
        row.renderMilliseconds = renderMilliseconds
        row.visualChange = visualChange
        row.screenshots = String(decoding: try JSONEncoder().encode(shots), as: UTF8.self)
        row.details = String(decoding: try JSONEncoder().encode(details), as: UTF8.self)
        row.checkedAt = context.now()
        try await row.create(on: context.db)
        let level: LogLevel = status == .fail ? .error : status == .warn ? .warning : .info
        let summary = stored.prefix(3).map { ($0.chart.map { "'\($0)': " } ?? "") + $0.message }.joined(separator: "; ")
        context.log(level, "'\(dashboard.title)': \(status.rawValue.uppercased())\(summary.isEmpty ? "" : " - " + summary)", source: "health", metadata: meta)
        return row
    }

    /// Writes a review to the task's log: provider, model, duration, and the verdict or why there
    /// was none (never the key), with the same as metadata.
    static func logReview(_ r: LLMReviewRecord, dashboard: HealthInventory.Dashboard, context: TaskContext) {
        var meta = ["dashboard": String(dashboard.id), "provider": r.provider, "model": r.model, "durationMs": String(r.milliseconds),
                    "screenshot": String(r.screenshot)]
        if let verdict = r.verdict {
            meta["verdict"] = verdict.rawValue
            context.log(verdict == .pass ? .info : .warning,
                        "'\(dashboard.title)': LLM review by '\(r.provider)' (\(r.model)) in \(r.milliseconds) ms: \(verdict.rawValue.uppercased())"
                            + (r.summary.map { $0.isEmpty ? "" : " - " + String($0.prefix(300)) } ?? ""),
                        source: "llm", metadata: meta)
        } else {
            meta["error"] = r.error ?? ""
            context.log(.warning, "'\(dashboard.title)': LLM review by '\(r.provider)' (\(r.model)) unavailable after \(r.milliseconds) ms: \(r.error ?? "")",
                        source: "llm", metadata: meta)
        }
    }

    /// Percent changed from the first screenshot of this dashboard's last passing check, or nil
    /// when there is none (or it went to retention, or can't be read).
    private func changeFromLastPass(_ png: Data, environment: UUID, dashboard: String, on db: any Database) async throws -> Double? {
        guard let last = try await DashboardCheckModel.query(on: db).filter(\.$environmentID == environment).filter(\.$dashboardUUID == dashboard)
            .filter(\.$status == HealthStatus.pass.rawValue).filter(\.$screenshots != "[]").sort(\.$checkedAt, .descending).first(),
            let refs = try? JSONDecoder().decode([HealthScreenshotRef].self, from: Data(last.screenshots.utf8)),
            let file = refs.first?.file, let previous = screenshots.load(file) else { return nil }
        return try? await onOwnThread {
            let a = try PNGImage(png), b = try PNGImage(previous)
            return a.percentChanged(from: b)
        }
    }

    /// Applies screenshot retention and quota, keeping each dashboard's last passing screenshots.
    private func prune(environment: UUID, context: TaskContext) async throws {
        let passing = try await DashboardCheckModel.query(on: context.db).filter(\.$status == HealthStatus.pass.rawValue)
            .filter(\.$screenshots != "[]").sort(\.$checkedAt, .descending).all()
        var seen = Set<String>(), keep = Set<String>()
        for row in passing where seen.insert("\(row.environmentID)|\(row.dashboardUUID)").inserted {
            for ref in (try? JSONDecoder().decode([HealthScreenshotRef].self, from: Data(row.screenshots.utf8))) ?? [] { keep.insert(ref.file) }
        }
        let removed = screenshots.prune(olderThan: Double(configuration.retentionDays) * 86400, quotaBytes: configuration.screenshotQuotaBytes, keep: keep)
        if removed > 0 { context.log(.info, "removed \(removed) old screenshot(s) (retention \(configuration.retentionDays) days, quota \(configuration.screenshotQuotaBytes >> 20) MiB)", source: "health") }
    }
}

/// Each chart's query once per task, however many dashboards show the chart.
actor ChartProbes {
    let client: SupersetClient
    private var running: [Int: Task<ChartProbe, Never>] = [:]

    init(client: SupersetClient) { self.client = client }

    func probe(id: Int, name: String) async -> ChartProbe {
        if let task = running[id] { return await task.value }
        let client = self.client
        let task = Task<ChartProbe, Never> {
            let clock = ContinuousClock()
            let start = clock.now
            do {
                let data = try await client.chartData(id: id)
                return ChartProbe(id: id, name: name, milliseconds: Self.milliseconds(clock.now - start), rows: data.rowCount)
            } catch {
                return ChartProbe(id: id, name: name, milliseconds: Self.milliseconds(clock.now - start), error: String(TaskEngine.describe(error).0.prefix(1000)))
            }
        }
        running[id] = task
        return await task.value
    }

    static func milliseconds(_ d: Duration) -> Int {
        let (s, atto) = d.components
        return Int(s) * 1000 + Int(atto / 1_000_000_000_000_000)
    }
}
