import Fluent
import Foundation
import NIOCore
import SQLKit
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

extension TestHarness {
    func submit(_ plugin: String = "test.script", _ params: BundleValue = .map([:])) async throws -> TaskDTO {
        let res = try await request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: plugin, params: params))
        #expect(res.status == .created, "\(res.body.string)")
        return try res.content.decode(TaskDTO.self, using: JSONDecoder.ferry)
    }

    func task(_ id: UUID) async throws -> TaskDTO {
        try await request(.GET, "/api/tasks/\(id)").content.decode(TaskDTO.self, using: JSONDecoder.ferry)
    }

    /// Polls until the task reaches one of `statuses` (real time: the engine runs for real).
    /// `seconds` only guards against a hang: a busy CI machine can make a live task slow, and
    /// speed belongs in bench/, so it is generous.
    func waitFor(_ id: UUID, _ statuses: Set<TaskStatus>, seconds: Double = 300) async throws -> TaskDTO {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let t = try await task(id)
            if statuses.contains(t.status) { return t }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let t = try await task(id)
        Issue.record("task \(id) is \(t.status) (step: \(t.step), error: \(t.error ?? "-")), not \(statuses)")
        return t
    }

    func logs(_ id: UUID, _ query: String = "") async throws -> TasksAPI.LogPage {
        try await request(.GET, "/api/tasks/\(id)/logs" + (query.isEmpty ? "" : "?" + query)).content.decode(TasksAPI.LogPage.self, using: JSONDecoder.ferry)
    }
}

func params(_ pairs: [String: BundleValue]) -> BundleValue { .map(pairs) }

@Suite struct TaskStateMachineTests {
    @Test func onlyTheDocumentedTransitionsAreAllowed() {
        let expected: [TaskStatus: Set<TaskStatus>] = [
            .pending: [.running, .cancelled],
            .running: [.awaitingInput, .succeeded, .partial, .failed, .cancelled, .interrupted],
            .awaitingInput: [.running, .failed, .cancelled, .interrupted],
            .interrupted: [.pending],
        ]
        for from in TaskStatus.allCases {
            for to in TaskStatus.allCases {
                #expect(from.canMove(to: to) == (expected[from]?.contains(to) ?? false), "\(from) -> \(to)")
            }
        }
        #expect(TaskStatus.allCases.filter(\.isFinished) == [.succeeded, .partial, .failed, .cancelled, .interrupted])
    }

    @Test(arguments: Store.available)
    func aTransitionIsACompareAndSet(store: Store) async throws {
        try await withFerry(store, plugins: [ScriptPlugin()]) { t in
            let task = try await t.submit()
            #expect(try await TaskStore.transition(task.id, from: [.pending], to: .running, on: t.db))
            #expect(try await TaskStore.transition(task.id, from: [.pending], to: .running, on: t.db) == false, "a second claim must lose")
            #expect(try await TaskStore.transition(task.id, from: [.running], to: .succeeded, changes: ["progress": 100], on: t.db))
            #expect(try await t.task(task.id).status == .succeeded)
            #expect(try await t.task(task.id).progress == 100)
        }
    }
}

@Suite struct TaskEngineTests {
    @Test(arguments: Store.available)
    func submitValidatesPluginAndEveryParam(store: Store) async throws {
        try await withFerry(store, plugins: [ScriptPlugin()]) { t in
            let unknown = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(plugin: "nope", params: nil))
            #expect(unknown.status == .unprocessableEntity)
            #expect(try unknown.json()["errors"]?.listValue?.first?["field"]?.stringValue == "plugin")
            let bad = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(
                plugin: "environment.health_check", params: params(["latencySamples": .int(500), "colour": .string("red")])))
            #expect(bad.status == .unprocessableEntity)
            let fields = Set((try bad.json()["errors"]?.listValue ?? []).compactMap { $0["field"]?.stringValue })
            #expect(fields == ["params.environment", "params.latencySamples", "params.colour"])
            let noEnv = try await t.request(.POST, "/api/tasks", json: TasksAPI.CreateBody(
                plugin: "environment.health_check", params: params(["environment": .string("ghost")])))
            #expect(noEnv.status == .unprocessableEntity)
            #expect(noEnv.body.string.contains("no environment 'ghost'"))
            #expect(try await TaskModel.query(on: t.db).count() == 0)
            let plugins = try await t.request(.GET, "/api/plugins").json()
            let ids = (plugins["items"]?.listValue ?? []).compactMap { $0["id"]?.stringValue }
            #expect(ids.contains("environment.health_check") && ids.contains("test.script"))
        }
    }

    @Test(arguments: Store.available)
    func aTaskRunsWithProgressLogsAndAResult(store: Store) async throws {
        try await withFerry(store, tasks: true, plugins: [ScriptPlugin()]) { t in
            let task = try await t.submit("test.script", params(["steps": .int(4), "linesPerStep": .int(30), "token": .string("tok-Secret-55")]))
            #expect(task.params["token"] == .string("***"))
            let done = try await t.waitFor(task.id, [.succeeded])
            #expect(done.progress == 100)
            #expect(done.result?["steps"] == .int(4))
            #expect(done.result?["hadToken"] == .bool(true), "the sealed secret reached the plugin")
            #expect(done.startedAt != nil && done.finishedAt != nil)
            let stored = try #require(try await TaskModel.find(task.id, on: t.db))
            #expect(!stored.params.contains("tok-Secret-55"), "secrets are stored encrypted")

            let all = try await t.logs(task.id, "limit=5000")
            #expect(all.items.map(\.seq) == Array(0..<all.items.count), "no gaps, in order")
            #expect(all.items.count == done.logLines)
            #expect(all.items.count >= 4 * 30 + 4)
            let warnings = try await t.logs(task.id, "level=warning&limit=5000")
            #expect(!warnings.items.isEmpty && warnings.items.allSatisfy { $0.level >= .warning })
            let bundle = try await t.logs(task.id, "source=bundle&search=LINE%204%20&limit=5000")
            #expect(bundle.items.count == 4)
            // Wildcards in the search text are literal characters.
            #expect(try await t.logs(task.id, "search=%25&limit=5000").items.isEmpty)
            #expect(try await t.logs(task.id, "search=line_0&limit=5000").items.isEmpty)
            let page = try await t.logs(task.id, "limit=10&from=10")
            #expect(page.items.map(\.seq) == Array(10..<20))
            #expect(page.next == 20)
            #expect(try await t.request(.GET, "/api/tasks/\(task.id)/logs?level=loud").status == .unprocessableEntity)
        }
    }

    @Test func failuresCarryTheCauseAndTheNextAction() async throws {
        try await withFerry(.sqlite, tasks: true, plugins: [ScriptPlugin()]) { t in
            let failed = try await t.waitFor(try await t.submit("test.script", params(["fail": .bool(true)])).id, [.failed])
            #expect(failed.error == "The target refused the bundle")
            #expect(failed.nextAction == "Fix the target and run again")
            let partial = try await t.waitFor(try await t.submit("test.script", params(["partial": .bool(true)])).id, [.partial])
            #expect(partial.result?["steps"] == .int(3))
        }
    }

    @Test(arguments: Store.available)
    func cancellingMidStepEndsCancelledAndSaysWhatWasDone(store: Store) async throws {
        try await withFerry(store, tasks: true, plugins: [ScriptPlugin()]) { t in
            let task = try await t.submit("test.script", params(["steps": .int(200), "delayMs": .int(20)]))
            _ = try await t.waitFor(task.id, [.running])
            while try await t.task(task.id).progress < 2 { try await Task.sleep(nanoseconds: 20_000_000) }
            let res = try await t.request(.POST, "/api/tasks/\(task.id)/cancel")
            #expect(res.status == .accepted)
            let ended = try await t.waitFor(task.id, [.cancelled])
            #expect(ended.progress < 100)
            let last = try #require(try await t.logs(task.id, "limit=5000").items.last)
            #expect(last.message.hasPrefix("cancelled; steps reached: step 1 of 200"))
            let again = try await t.request(.POST, "/api/tasks/\(task.id)/cancel")
            #expect(again.status == .conflict)
        }
    }

    @Test func aPendingTaskCancelsAtOnce() async throws {
        try await withFerry(.sqlite, tasks: false, plugins: [ScriptPlugin()]) { t in
            let task = try await t.submit()
            #expect(try await t.request(.POST, "/api/tasks/\(task.id)/cancel").status == .accepted)
            #expect(try await t.task(task.id).status == .cancelled)
        }
    }

    @Test(arguments: Store.available)
    func inputRoundTripValidatesAndNeverStoresTheAnswer(store: Store) async throws {
        try await withFerry(store, tasks: true, plugins: [ScriptPlugin()]) { t in
            let task = try await t.submit("test.script", params(["askInput": .bool(true), "steps": .int(1), "inputTimeoutMs": .int(60000)]))
            let waiting = try await t.waitFor(task.id, [.awaitingInput])
            #expect(waiting.inputRequest?["prompt"]?.stringValue == "Password for the Warehouse connection")
            #expect(waiting.inputRequest?["schema"]?["required"] == .list([.string("password")]))
            let bad = try await t.request(.POST, "/api/tasks/\(task.id)/input", json: params(["password": .int(7)]))
            #expect(bad.status == .unprocessableEntity)
            #expect(try bad.json()["errors"]?.listValue?.first?["field"]?.stringValue == "password")
            let ok = try await t.request(.POST, "/api/tasks/\(task.id)/input", json: params(["password": .string("Input-Secret-77")]))
            #expect(ok.status == .accepted, "\(ok.body.string)")
            let done = try await t.waitFor(task.id, [.succeeded])
            #expect(done.result?["inputLength"] == .int(15))
            #expect(done.inputRequest == nil)
            let row = try #require(try await TaskModel.find(task.id, on: t.db))
            let logs = try await t.logs(task.id, "limit=5000")
            #expect(!(row.params + (row.result ?? "") + (row.inputRequest ?? "")).contains("Input-Secret-77"))
            #expect(!logs.items.contains { $0.message.contains("Input-Secret-77") })
            let late = try await t.request(.POST, "/api/tasks/\(task.id)/input", json: params(["password": .string("again")]))
            #expect(late.status == .conflict)
        }
    }

    @Test func inputTimesOutWithAClearError() async throws {
        try await withFerry(.sqlite, tasks: true, plugins: [ScriptPlugin()]) { t in
            let task = try await t.submit("test.script", params(["askInput": .bool(true), "inputTimeoutMs": .int(300)]))
            let failed = try await t.waitFor(task.id, [.failed])
            #expect(failed.error?.contains("No input arrived within 0.3 s") == true)
            #expect(failed.nextAction?.contains("answer the input request in time") == true)
            #expect(failed.inputRequest == nil)
        }
    }

    @Test(arguments: Store.available)
    func tasksLeftRunningByADeadProcessAreInterruptedOrResumed(store: Store) async throws {
        let recorder = RunRecorder()
        try await withFerry(store, tasks: false, plugins: [ScriptPlugin(recorder: recorder), ScriptPlugin(id: "test.resumable", recorder: recorder, resumable: true)]) { t in
            let plain = try await t.submit("test.script")
            let resumable = try await t.submit("test.resumable")
            for id in [plain.id, resumable.id] {
                #expect(try await TaskStore.transition(id, from: [.pending], to: .running, changes: [
                    "claimed_by": "dead-node", "lease_until": t.clock.now().addingTimeInterval(-60)], on: t.db))
            }
            try await TaskStore.append([TaskLogLine(seq: 0, at: t.clock.now(), level: .info, source: "engine", message: "before the crash", metadata: [:])],
                                       task: plain.id, on: t.db)
            try await t.app.taskEngine.start()
            let interrupted = try await t.waitFor(plain.id, [.interrupted])
            #expect(interrupted.error?.contains("dead-node") == true)
            #expect(try await t.logs(plain.id).items.map(\.message) == ["before the crash"], "the log is intact and nothing else ran")
            _ = try await t.waitFor(resumable.id, [.succeeded])
            #expect(recorder.runCounts[plain.id] == nil)
            #expect(recorder.runCounts[resumable.id] == 1)
        }
    }

    @Test func thePerEnvironmentLimitHolds() async throws {
        let recorder = RunRecorder()
        try await withFerry(.sqlite, tasks: true, plugins: [ScriptPlugin(recorder: recorder)],
                            configure: { $0.tasks.concurrency = 4; $0.tasks.perEnvironmentLimit = 1 }) { t in
            let alpha = try await t.createEnvironment(sample("alpha"))
            let beta = try await t.createEnvironment(sample("beta"))
            var ids: [UUID] = []
            for i in 0..<6 {
                ids.append(try await t.submit("test.script", params(["environment": .string(i % 2 == 0 ? "alpha" : "beta"), "steps": .int(3), "delayMs": .int(15)])).id)
            }
            for id in ids { _ = try await t.waitFor(id, [.succeeded]) }
            // Tasks store the environment's id, whatever name the request used.
            #expect(recorder.peaks[alpha.id.key] == 1)
            #expect(recorder.peaks[beta.id.key] == 1)
        }
    }

    @Test(arguments: Store.available)
    func manyTasksDrainEachRunOnce(store: Store) async throws {
        let recorder = RunRecorder()
        try await withFerry(store, tasks: true, plugins: [ScriptPlugin(recorder: recorder)]) { t in
            var ids: [UUID] = []
            for _ in 0..<40 { ids.append(try await t.submit("test.script", params(["steps": .int(1)])).id) }
            for id in ids { _ = try await t.waitFor(id, [.succeeded]) }
            #expect(recorder.runCounts.count == 40)
            #expect(recorder.runCounts.values.allSatisfy { $0 == 1 })
            let list = try await t.request(.GET, "/api/tasks?status=succeeded&plugin=test.script&per_page=100").json()
            #expect(list["total"]?.intValue == 40)
        }
    }

    @Test func theHealthCheckReportsPerStepAgainstAFake() async throws {
        let fake = try await FakeSuperset.start(.healthy(dashboards: 12))
        defer { Task { await fake.stop() } }
        try await withFerry(.sqlite, tasks: true) { t in
            _ = try await t.createEnvironment(sample("fake", url: fake.url))
            let task = try await t.submit("environment.health_check", params(["environment": .string("fake"), "latencySamples": .int(2)]))
            let done = try await t.waitFor(task.id, [.succeeded])
            #expect(done.result?["counts"]?["dashboard"] == .int(12))
            #expect(done.result?["version"] == .string("6.1.0-fake"))
            let steps = try await t.logs(task.id, "source=engine").items.map(\.message)
            #expect(steps.contains("counting dashboards") && steps.contains("measuring API latency"))
            fake.mode = .status(503)
            let failed = try await t.waitFor(try await t.submit("environment.health_check", params(["environment": .string("fake")])).id, [.failed])
            #expect(failed.error?.contains("503") == true)
            #expect(failed.nextAction?.isEmpty == false)
        }
    }

    @Test(.enabled(if: LiveSuperset.enabled)) func theHealthCheckAgainstRealSuperset() async throws {
        let url = try LiveSuperset.url("dev")
        try await withFerry(.sqlite, tasks: true) { t in
            _ = try await t.createEnvironment(sample("dev", password: "admin", url: url))
            let task = try await t.submit("environment.health_check", params(["environment": .string("dev")]))
            let done = try await t.waitFor(task.id, [.succeeded])
            #expect(done.result?["version"] == .string("6.1.0"))
            #expect((done.result?["counts"]?["dashboard"]?.intValue ?? 0) >= 122)
        }
    }
}

/// Two engines (two nodes) on one PostgreSQL database: no task runs twice.
@Suite struct TaskScaleOutTests {
    @Test(.enabled(if: Store.available.contains(.postgres))) func twoNodesDrainOneQueueWithoutDoubleRuns() async throws {
        let recorder = RunRecorder()
        try await withFerry(.postgres, tasks: false, plugins: [ScriptPlugin(recorder: recorder)]) { t in
            var ids: [UUID] = []
            for _ in 0..<60 { ids.append(try await t.submit("test.script", params(["steps": .int(1), "delayMs": .int(5)])).id) }
            // A second node: another app on the same database, with its own engine.
            let url = try #require(t.app.ferryConfiguration.databaseURL)
            let other = try await Application.make(.testing)
            var config = t.app.ferryConfiguration
            config.databaseURL = url
            config.tasks.nodeID = "node-b"
            try await FerryApp.configure(other, configuration: config, dependencies: t.app.ferry, startTaskEngine: true,
                                         extraPlugins: [ScriptPlugin(recorder: recorder)])
            try await t.app.taskEngine.start()
            for id in ids { _ = try await t.waitFor(id, [.succeeded]) }
            try await other.asyncShutdown()
            #expect(recorder.runCounts.count == 60)
            #expect(recorder.runCounts.values.allSatisfy { $0 == 1 }, "a task ran twice")
            let nodes = try await TaskModel.query(on: t.db).all().compactMap(\.claimedBy)
            #expect(Set(nodes).count == 2, "both nodes took work: \(Set(nodes))")
        }
    }
}

@Suite struct TaskStreamTests {
    /// Starts the app on a loopback port and returns it.
    func serve(_ app: Application) async throws -> Int {
        app.http.server.configuration.port = 0
        try await app.server.start()
        return try #require(app.http.server.shared.localAddress?.port)
    }

    final class Collected: @unchecked Sendable {
        let lock = NSLock()
        var seqs: [Int] = []
        var statuses: [String] = []
        var progressEvents = 0
        func add(_ text: String) {
            guard let v = try? BundleValue.parseJSON(Data(text.utf8)) else { return }
            lock.withLock {
                if v["kind"]?.stringValue == "progress" { progressEvents += 1 }
                for line in v["lines"]?.listValue ?? [] { if let seq = line["seq"]?.intValue { seqs.append(seq) } }
                if v["kind"]?.stringValue == "status", let s = v["status"]?.stringValue { statuses.append(s) }
            }
        }
        var snapshot: ([Int], [String]) { lock.withLock { (seqs, statuses) } }
    }

    func follow(port: Int, path: String, on group: EventLoopGroup, into c: Collected, token: String?) async throws -> WebSocket {
        var headers = HTTPHeaders()
        if let token { headers.bearerAuthorization = BearerAuthorization(token: token) }
        return try await withCheckedThrowingContinuation { (k: CheckedContinuation<WebSocket, Error>) in
            // Log frames carry runs of lines (up to 1,000 from the store): more than the
            // client's default 16 KiB frame limit.
            WebSocket.connect(to: "ws://127.0.0.1:\(port)\(path)", headers: headers,
                              configuration: .init(maxFrameSize: 1 << 24), on: group) { ws in
                ws.onText { _, text in c.add(text) }
                k.resume(returning: ws)
            }.whenFailure { k.resume(throwing: $0) }
        }
    }

    @Test(arguments: Store.available)
    func lateSubscribersGetBacklogThenLiveWithoutGapsOrDuplicates(store: Store) async throws {
        try await withFerry(store, tasks: true, plugins: [ScriptPlugin()]) { t in
            let port = try await serve(t.app)
            let task = try await t.submit("test.script", params(["steps": .int(40), "linesPerStep": .int(50), "delayMs": .int(10)]))
            while try await t.task(task.id).progress < 30 { try await Task.sleep(nanoseconds: 10_000_000) }
            let late = Collected()
            let ws1 = try await follow(port: port, path: "/ws/tasks/\(task.id)?from=0", on: t.app.eventLoopGroup, into: late, token: t.adminToken)
            let resumed = Collected()
            let ws2 = try await follow(port: port, path: "/ws/tasks/\(task.id)?from=1000", on: t.app.eventLoopGroup, into: resumed, token: t.adminToken)
            let all = Collected()
            let ws3 = try await follow(port: port, path: "/ws/tasks", on: t.app.eventLoopGroup, into: all, token: t.adminToken)
            await #expect(throws: (any Error).self, "a WebSocket without a session or token must be refused") {
                _ = try await follow(port: port, path: "/ws/tasks", on: t.app.eventLoopGroup, into: Collected(), token: nil)
            }
            let done = try await t.waitFor(task.id, [.succeeded])
            let total = done.logLines
            let deadline = Date().addingTimeInterval(60)
            while late.snapshot.0.count < total || !late.snapshot.1.contains("succeeded"), Date() < deadline {
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            #expect(late.snapshot.0 == Array(0..<total), "backlog + live: every line once, in order")
            #expect(late.snapshot.1.last == "succeeded")
            #expect(resumed.snapshot.0 == Array(1000..<total), "resume from a sequence number")
            _ = all
            for ws in [ws1, ws2, ws3] { try await ws.close() }
            await t.app.server.shutdown()
        }
    }

    /// Node B: the same database as `t`'s app, listening for other nodes' events and serving
    /// WebSockets, running no task itself. The caller shuts it down.
    func nodeB(_ t: TestHarness, remotePollInterval: TimeInterval) async throws -> (Application, Int) {
        let other = try await Application.make(.testing)
        var config = t.app.ferryConfiguration
        config.tasks.nodeID = "node-b"
        config.tasks.remotePollInterval = remotePollInterval
        try await FerryApp.configure(other, configuration: config, dependencies: t.app.ferry, extraPlugins: [ScriptPlugin()])
        other.taskEngine.startListening()
        // Generous: under the whole suite a new connection can wait its turn for many seconds.
        let listening = Date().addingTimeInterval(60)
        while other.taskEngine.listener?.isListening != true, Date() < listening { try await Task.sleep(nanoseconds: 20_000_000) }
        #expect(other.taskEngine.listener?.isListening == true)
        return (other, try await serve(other))
    }

    @Test(.enabled(if: Store.available.contains(.postgres)))
    func aFollowerOnAnotherNodeHearsLinesAndStatusThroughNotify() async throws {
        try await withFerry(.postgres, tasks: true, plugins: [ScriptPlugin()]) { t in
            // B's fallback look at the store comes only after ten minutes: what B's followers
            // hear within the wait below came by NOTIFY.
            let (other, port) = try await nodeB(t, remotePollInterval: 600)
            let all = Collected()
            let wsAll = try await follow(port: port, path: "/ws/tasks", on: other.eventLoopGroup, into: all, token: t.adminToken)
            let task = try await t.submit("test.script", params(["steps": .int(40), "linesPerStep": .int(10), "delayMs": .int(25)]))
            let seen = Collected()
            let ws = try await follow(port: port, path: "/ws/tasks/\(task.id)?from=0", on: other.eventLoopGroup, into: seen, token: t.adminToken)
            let done = try await t.waitFor(task.id, [.succeeded])
            #expect(done.logLines > 400)
            // Generous: a loaded machine delivers a notification late (the CI once took over 4 s).
            let deadline = Date().addingTimeInterval(60)
            while seen.snapshot.0.count < done.logLines || !seen.snapshot.1.contains("succeeded") || !all.snapshot.1.contains("succeeded"),
                  Date() < deadline {
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            #expect(seen.snapshot.0 == Array(0..<done.logLines), "every line once, in order, from the other node")
            #expect(seen.snapshot.1.last == "succeeded")
            #expect(all.snapshot.1.contains("succeeded"), "the all-tasks stream on B hears A's status changes")
            #expect(seen.lock.withLock { seen.progressEvents } > 0, "progress made on A reaches B's follower")
            try await ws.close()
            try await wsAll.close()
            await other.server.shutdown()
            try await other.asyncShutdown()
        }
    }

    @Test(.enabled(if: Store.available.contains(.postgres)))
    func aStatusWhoseNotificationWasLostReachesTheAllTasksStreamByTheStore() async throws {
        try await withFerry(.postgres, tasks: false, plugins: [ScriptPlugin()]) { t in
            // A task that ended before B looked for the first time is history, not news.
            let old = try await t.submit("test.script", params(["steps": .int(1)]))
            let sql = try #require(t.app.db as? any SQLDatabase)
            try await sql.raw("UPDATE tasks SET status = 'succeeded', finished_at = \(bind: t.clock.now()) WHERE id = \(bind: old.id)").run()
            let (other, port) = try await nodeB(t, remotePollInterval: 0.2)
            let all = Collected()
            let wsAll = try await follow(port: port, path: "/ws/tasks", on: other.eventLoopGroup, into: all, token: t.adminToken)
            let task = try await t.submit("test.script", params(["steps": .int(1)]))
            // A node that commits without its NOTIFY arriving: the store changes, nobody is told.
            try await sql.raw("UPDATE tasks SET status = 'running', started_at = \(bind: t.clock.now()) WHERE id = \(bind: task.id)").run()
            try await Task.sleep(nanoseconds: 300_000_000)
            try await sql.raw("UPDATE tasks SET status = 'succeeded', finished_at = \(bind: t.clock.now()) WHERE id = \(bind: task.id)").run()
            let deadline = Date().addingTimeInterval(60)
            while !all.snapshot.1.contains("succeeded"), Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
            // Several more looks find nothing new: each status is sent once, never going back.
            try await Task.sleep(nanoseconds: 1_000_000_000)
            let heard = all.snapshot.1
            #expect(heard.last == "succeeded", "the store's look found the change no one announced: \(heard)")
            #expect(heard.filter { $0 == "succeeded" }.count == 1, "the task that ended before is not announced: \(heard)")
            #expect(Set(heard).isSubset(of: ["pending", "running", "succeeded"]), "\(heard)")
            try await wsAll.close()
            await other.server.shutdown()
            try await other.asyncShutdown()
        }
    }

    /// What the store shows of another node's task reaches the all-tasks stream once, and a
    /// notification overtaken by it (late, or a repeat) is not passed on: a task's statuses
    /// never go back from an end.
    @Test func theHubReconcilesTheStoreWithWhatItHeard() async throws {
        let hub = TaskHub()
        hub.watchStatuses()
        let stream = hub.subscribeAll()
        let a = UUID(), b = UUID(), gone = UUID()
        hub.reconcile([(a, .running), (gone, .pending)], arrivalsBefore: hub.statusArrivals(), first: true, complete: true)
        hub.remote(b, status: .running)
        hub.remote(b, status: .running)  // a repeat
        // A look finds a's end (its notification never came) and b as it was heard.
        hub.reconcile([(a, .succeeded), (b, .running), (gone, .pending)], arrivalsBefore: hub.statusArrivals(), first: false, complete: true)
        hub.remote(a, status: .running)  // late: a has ended
        // A look that read before a change was heard must not undo it.
        let c = UUID()
        hub.remote(c, status: .pending)
        let before = hub.statusArrivals()
        hub.remote(c, status: .running)
        hub.reconcile([(b, .running), (c, .pending)], arrivalsBefore: before, first: false, complete: true)
        hub.remote(b, status: .failed)
        hub.remote(b, status: .failed)  // a repeat of an end
        // The look above forgot `gone` (not seen, every unfinished task read): heard again, it is news.
        hub.remote(gone, status: .pending)
        hub.finishAll()
        var heard: [String] = []
        let names = [a: "a", b: "b", c: "c", gone: "gone"]
        for await event in stream { heard.append("\(names[event.taskId] ?? "?") \(event.status?.rawValue ?? "-")") }
        #expect(heard == ["b running", "a succeeded", "c pending", "c running", "b failed", "gone pending"])
    }

    @Test func theAllTasksStreamAnnouncesStatusChanges() async throws {
        try await withFerry(.sqlite, tasks: true, plugins: [ScriptPlugin()]) { t in
            let port = try await serve(t.app)
            let all = Collected()
            let ws = try await follow(port: port, path: "/ws/tasks", on: t.app.eventLoopGroup, into: all, token: t.adminToken)
            try await Task.sleep(nanoseconds: 100_000_000)
            let task = try await t.submit("test.script", params(["steps": .int(1)]))
            _ = try await t.waitFor(task.id, [.succeeded])
            let deadline = Date().addingTimeInterval(60)  // a guard against a hang: the whole suite on 2 cores once took over 5 s
            while !all.snapshot.1.contains("succeeded"), Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
            #expect(all.snapshot.1 == ["pending", "running", "succeeded"])
            try await ws.close()
            await t.app.server.shutdown()
        }
    }
}

@Suite struct TaskLogLineTests {
    @Test func timesGoOutWithMillisecondsAndReadBackEitherWay() throws {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for seconds in [0.0, 951_782_400.5, 1_796_100_188.215, 4_102_444_799.999, -86_400.25, 1_709_164_800.001] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = TaskLogLine.millisecondText(date)
            // Same shape as Foundation's, and the same instant to the millisecond (the two may
            // round a binary fraction of a millisecond differently).
            #expect(text.count == date.formatted(style).count && text.hasSuffix("Z"), "\(text)")
            let back = try #require(TaskLogLine.parse(text), "\(text)")
            #expect(abs(back.timeIntervalSince1970 - seconds) <= 0.001, "\(seconds) → \(text)")
            #expect(text.prefix(19) == date.formatted(style).prefix(19))
        }
        let line = TaskLogLine(seq: 3, at: Date(timeIntervalSince1970: 1_796_100_188.215), level: .info, source: "engine", message: "m", metadata: [:])
        let json = String(decoding: try JSONEncoder.ferry.encode(line), as: UTF8.self)
        #expect(json.contains("\"at\":\"2026-12-01T04:43:08.215Z\""), "\(json)")
        #expect(try JSONDecoder.ferry.decode(TaskLogLine.self, from: Data(json.utf8)).seq == 3)
        let whole = #"{"seq":1,"at":"2026-12-01T04:43:08Z","level":"info","source":"engine","message":"m","metadata":{}}"#
        #expect(try JSONDecoder.ferry.decode(TaskLogLine.self, from: Data(whole.utf8)).at == Date(timeIntervalSince1970: 1_796_100_188))
    }
}
