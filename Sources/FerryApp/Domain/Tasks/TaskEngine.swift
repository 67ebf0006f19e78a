import Fluent
import FluentPostgresDriver
import Foundation
import Logging
import SupersetKit
import Vapor

public struct TaskEngineConfiguration: Sendable {
    /// Tasks run at once by this node.
    public var concurrency = 2
    /// Running tasks touching one environment at once, on this node.
    public var perEnvironmentLimit = 1
    /// Seconds a claim holds without a heartbeat (heartbeats come every third of it).
    public var lease: TimeInterval = 30
    /// Seconds between looks at the queue when nothing woke the workers (other nodes' submits).
    public var pollInterval: TimeInterval = 1
    /// Default seconds a task waits for input before failing.
    public var inputTimeout: TimeInterval = 900
    /// Seconds between log batches.
    public var logFlushInterval: TimeInterval = 0.1
    /// Seconds between looks for due schedules.
    public var schedulerInterval: TimeInterval = 1
    /// Seconds between looks at the store for what other nodes committed while their
    /// notifications are heard (PostgreSQL): a task's WebSocket followers' looks, and the node's
    /// own for lost status notifications. A lost notification costs this much.
    public var remotePollInterval: TimeInterval = 5
    /// This process's name in claims.
    public var nodeID = "node-" + UUID().uuidString.prefix(8).lowercased()

    public init() {}
}

/// Runs tasks: claims pending ones from the store, runs their plugins with a context, records
/// every status change before announcing it, and recovers what a dead node left behind.
///
/// Invariants: a task runs on one node at a time (compare-and-set claims; `SKIP LOCKED` on
/// PostgreSQL); at most `concurrency` tasks run here, and at most `perEnvironmentLimit` per
/// environment; a finished task's log is flushed before its final status is written.
/// Side effects: store writes, Superset calls through plugins, spawned tasks.
final class TaskEngine: @unchecked Sendable {
    let configuration: TaskEngineConfiguration
    let registry: PluginRegistry
    let hub: TaskHub
    let slots: EnvironmentSlots
    private let databases: @Sendable () -> any Database
    /// Where log batches are written during a run (SQLite: connections of their own).
    private let logDatabase: @Sendable () -> any Database
    private let dependencies: FerryDependencies
    private let box: SecretBox
    private let supersetTimeout: Double
    let logger: Logger
    private let signal = WorkSignal()
    private let lock = NSLock()
    private var loops: [Task<Void, Never>] = []
    private var running: [UUID: Task<PluginOutcome, Error>] = [:]
    private var inputs: [UUID: InputMailbox] = [:]
    private var stopping = false

    /// Other nodes' events (PostgreSQL only); nil on SQLite, where one process runs everything.
    private(set) var listener: TaskListener?

    init(
        configuration: TaskEngineConfiguration, registry: PluginRegistry, databases: @escaping @Sendable () -> any Database,
        logDatabase: (@Sendable () -> any Database)? = nil, dependencies: FerryDependencies, box: SecretBox, supersetTimeout: Double, logger: Logger,
        listen: (configuration: PostgresConnection.Configuration, eventLoop: any EventLoop)? = nil
    ) {
        self.configuration = configuration
        self.registry = registry
        self.hub = TaskHub()
        self.slots = EnvironmentSlots(limit: configuration.perEnvironmentLimit)
        self.databases = databases
        self.logDatabase = logDatabase ?? databases
        self.dependencies = dependencies
        self.box = box
        self.supersetTimeout = supersetTimeout
        var logger = logger
        logger[metadataKey: "node"] = .string(configuration.nodeID)
        self.logger = logger
        if let listen {
            let hub = self.hub, signal = self.signal
            listener = TaskListener(configuration: listen.configuration, node: configuration.nodeID, eventLoop: listen.eventLoop,
                                    logger: logger) { note in
                hub.remote(note.task, status: note.status)
                if note.status == .pending { signal.notify() }
            }
        }
    }

    var db: any Database { databases() }

    // MARK: Lifecycle

    /// Recovers what a previous run left, then starts the workers and the maintenance loop.
    func start() async throws {
        startListening()
        try await recover(onlyExpired: TaskStore.isPostgres(db))
        lock.withLock {
            for i in 0..<max(1, configuration.concurrency) {
                loops.append(Task { [weak self] in await self?.workerLoop(index: i) })
            }
            loops.append(Task { [weak self] in await self?.maintenanceLoop() })
            loops.append(Task { [weak self] in await self?.schedulerLoop() })
        }
    }

    /// Stops claiming; running tasks are cancelled and end `interrupted` (or pending again if
    /// their plugin can resume), so another node or the next start picks them up.
    func shutdown() async {
        let (all, work) = lock.withLock { () -> ([Task<Void, Never>], [Task<PluginOutcome, Error>]) in
            stopping = true
            return (loops, Array(running.values))
        }
        for t in work { t.cancel() }
        for t in all { t.cancel() }
        signal.notify()
        for t in all { await t.value }
        await listener?.stop()
        hub.finishAll()
    }

    /// Whether other nodes' events arrive as they happen (followers then poll the store rarely).
    var hearsOtherNodes: Bool { listener?.isListening ?? false }

    /// Starts hearing other nodes' events (PostgreSQL), also on a node that runs no workers,
    /// and watching the store for those whose notification never came.
    func startListening() {
        guard let listener, !isStopping else { return }
        listener.start()
        lock.withLock {
            guard !stopping, !watchingStatuses else { return }
            watchingStatuses = true
            hub.watchStatuses()
            loops.append(Task { [weak self] in await self?.watchStatuses() })
        }
    }

    private var watchingStatuses = false
    /// The most tasks of each kind (unfinished, recently finished) one look at the store reads.
    static let watchLimit = 1_000

    /// Looks at the store every `remotePollInterval` (every `pollInterval` while other nodes
    /// can't be heard) for status changes another node committed whose notification never
    /// came (a `NOTIFY` is only a hint: a failed `pg_notify`, a dropped listening connection),
    /// and announces them here through the hub (`TaskHub.reconcile`). One look per node,
    /// whatever the number of followers: two indexed reads (unfinished tasks; tasks finished
    /// since the previous look, less a margin for other nodes' clocks).
    private func watchStatuses() async {
        var lastLook: Date?
        while !Task.isCancelled {
            let before = hub.statusArrivals()
            let now = dependencies.now()
            let since = (lastLook ?? now).addingTimeInterval(-30)
            if let found = try? await TaskStore.statuses(finishedSince: since, limit: Self.watchLimit, on: db) {
                hub.reconcile(found.rows, arrivalsBefore: before, first: lastLook == nil, complete: found.complete)
                lastLook = now
            }
            let interval = hearsOtherNodes ? configuration.remotePollInterval : configuration.pollInterval
            try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
        }
    }

    /// Announces a status or progress event here and, on PostgreSQL, to the other nodes.
    /// Call after the change is committed.
    func announce(_ event: TaskEvent) {
        hub.announce(event)
        switch event.kind {
        case .status: notifyOthers(event.taskId, .status, status: event.status)
        case .progress: notifyOthers(event.taskId, .progress)
        case .logs: break  // lines are announced by the writer's flush
        }
    }

    /// `NOTIFY`s the other nodes (PostgreSQL only; fire and forget: a lost hint costs latency).
    func notifyOthers(_ task: UUID, _ kind: TaskListener.Kind, status: TaskStatus? = nil) {
        guard listener != nil else { return }
        let payload = TaskListener.payload(node: configuration.nodeID, task: task, kind: kind, status: status)
        let db = self.db
        Task { try? await TaskStore.sql(db).raw("SELECT pg_notify(\(bind: TaskListener.channel), \(bind: payload))").run() }
    }

    var isStopping: Bool { lock.withLock { stopping } }

    // MARK: Submitting and controlling

    /// Validates and queues a task. Throws a 422 naming each invalid field.
    func submit(pluginID: String, params: BundleValue, user: String, scheduleID: UUID? = nil, on db: any Database) async throws -> TaskModel {
        let task = try await makeTask(pluginID: pluginID, params: params, user: user, scheduleID: scheduleID, on: db)
        try await task.create(on: db)
        announceQueued(task)
        return task
    }

    /// Tells subscribers and idle workers about a committed new task.
    func announceQueued(_ task: TaskModel) {
        logger.info("task queued", metadata: ["task_id": .string(task.id!.uuidString), "plugin": .string(task.pluginID)])
        announce(TaskEvent(kind: .status, taskId: task.id!, status: .pending))
        signal.notify()
    }

    /// The plugin `pluginID`, `params` validated against its schema with every environment
    /// param resolved from a name or id to the id, and the task's scope read from what the
    /// params name. 422 for an unknown plugin, invalid params, an unknown environment, or params
    /// that disagree with the stored resource they name; with `admitting`, also when that
    /// resource isn't waiting for a new task (`Plugin.admitsNewTask`).
    func prepare(pluginID: String, params: BundleValue, admitting: Bool = false, on db: any Database) async throws
        -> (plugin: any Plugin, params: BundleValue, scope: TaskScope)
    {
        guard let plugin = registry.plugin(pluginID) else {
            throw AppError.validation([FieldError(field: "plugin", code: "unknown", key: "no_plugin", ["id": pluginID])])
        }
        let problems = plugin.paramsSchema.validate(params, at: "params")
        if !problems.isEmpty { throw AppError.validation(problems) }
        var resolved = params
        let named = plugin.environmentParams.filter { params[$0]?.stringValue != nil }
        if !named.isEmpty {
            let directory = try await EnvironmentDirectory.load(on: db)
            var unknown: [FieldError] = []
            for key in named {
                let value = params[key]!.stringValue!
                if let ref = directory.resolve(value) { resolved[key] = .string(ref.id.key) } else {
                    unknown.append(FieldError(field: "params.\(key)", code: "unknown", key: "no_environment", ["name": value]))
                }
            }
            if !unknown.isEmpty { throw AppError.validation(unknown) }
        }
        let scope = try await plugin.scope(of: resolved, on: db)
        if admitting { try await plugin.admitsNewTask(resolved, on: db) }
        return (plugin, resolved, scope)
    }

    /// A validated, not yet stored task (params sealed where secret).
    func makeTask(pluginID: String, params: BundleValue, user: String, scheduleID: UUID?, on db: any Database) async throws -> TaskModel {
        let (plugin, resolved, scope) = try await prepare(pluginID: pluginID, params: params, admitting: true, on: db)
        var stored = plugin.paramsSchema.applyingDefaults(resolved)
        for secret in plugin.paramsSchema.secretProperties {
            if let value = stored[secret]?.stringValue { stored[secret] = .map(["$sealed": .string(try box.seal(value))]) }
        }
        let envs = scope.touches.map(\.key)
        let task = TaskModel()
        task.id = dependencies.uuid()
        task.pluginID = plugin.id
        task.params = stored.jsonText()
        task.createdBy = user
        task.environments = envs.joined(separator: ",")
        task.status = TaskStatus.pending.rawValue
        task.progress = 0
        task.step = TaskText.english("queued")
        task.createdAt = dependencies.now()
        task.cancelRequested = false
        task.scheduleID = scheduleID
        task.logCount = 0
        return task
    }

    /// Cancels a task: a pending one at once; a running one cooperatively at its next step
    /// boundary (on whichever node runs it).
    func cancel(_ id: UUID, on db: any Database) async throws -> TaskModel {
        guard let task = try await TaskModel.find(id, on: db) else { throw AppError.notFound(.task, "\(id)") }
        let status = TaskStatus(rawValue: task.status) ?? .failed
        switch status {
        case .pending:
            if try await TaskStore.transition(id, from: [.pending], to: .cancelled, changes: ["finished_at": dependencies.now(), "step": TaskText.english("cancelled_before_start")], on: db) {
                await recordReport(id)
                announce(TaskEvent(kind: .status, taskId: id, status: .cancelled))
            }
        case .running, .awaitingInput:
            try await TaskStore.sql(db).update("tasks").set("cancel_requested", to: true).where("id", .equal, id).run()
            lock.withLock { running[id] }?.cancel()
        default:
            throw AppError(.conflict, code: "task_finished", key: "task_finished", ["id": id.uuidString, "status": status.rawValue])
        }
        return try await TaskModel.find(id, on: db) ?? task
    }

    /// Delivers an operator's answer to a task awaiting input, after validating it.
    func provideInput(_ id: UUID, value: BundleValue, on db: any Database) async throws {
        guard let task = try await TaskModel.find(id, on: db) else { throw AppError.notFound(.task, "\(id)") }
        guard task.status == TaskStatus.awaitingInput.rawValue, let request = task.inputRequest,
              let schema = (try? BundleValue.parseJSON(Data(request.utf8)))?["schema"]
        else {
            throw AppError(.conflict, code: "not_awaiting_input", key: "not_awaiting_input", ["id": id.uuidString, "status": task.status])
        }
        let problems = JSONSchema(schema).validate(value).map { problem in
            var named = problem
            named.field = problem.field.isEmpty ? "input" : problem.field
            return named
        }
        if !problems.isEmpty { throw AppError.validation(problems) }
        guard let mailbox = lock.withLock({ inputs.removeValue(forKey: id) }) else {
            throw AppError(.conflict, code: "input_elsewhere",
                           key: "input_elsewhere", ["id": "\(id)", "node": task.claimedBy ?? "?"])
        }
        mailbox.deliver(.success(value))
    }

    /// Whether this process runs workers (`ferry serve` does; the CLI and some tests don't).
    var runsWorkers: Bool { lock.withLock { !loops.isEmpty && !stopping } }

    /// Runs one queued task now, outside the worker pool, and returns when it ends: for a
    /// process that runs no workers but must finish work it queued (the inventory sync of an
    /// environment added from the CLI). Claimed like a worker claims, so nobody else runs it;
    /// it waits for its environments' slots. Does nothing if the task is no longer pending.
    func runNow(_ id: UUID) async {
        guard let pending = try? await TaskModel.find(id, on: db) else { return }
        let envs = pending.environmentKeys
        while !slots.tryAcquire(envs) {
            if Task.isCancelled || isStopping { return }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        guard let task = try? await TaskStore.claim(id, node: configuration.nodeID, lease: configuration.lease, now: dependencies.now(), on: db)
        else {
            slots.release(envs)
            return
        }
        await execute(task)
    }

    // MARK: Workers

    private func workerLoop(index: Int) async {
        while !Task.isCancelled && !isStopping {
            do {
                if var task = try await TaskStore.claimNext(
                    node: configuration.nodeID, lease: configuration.lease, now: dependencies.now(), slots: slots, on: db)
                {
                    // Each task's final commit also claims the next one (one transaction fewer
                    // per task), while there is one and this node isn't stopping.
                    let handoff = Handoff()
                    while true {
                        await execute(task, handoff: handoff)
                        guard let next = handoff.take() else { break }
                        task = next
                    }
                    continue
                }
            } catch {
                logger.error("claiming a task failed", metadata: ["error": .string(String(reflecting: error))])
            }
            await signal.wait(timeout: configuration.pollInterval)
        }
    }

    private func schedulerLoop() async {
        while !Task.isCancelled && !isStopping {
            do { try await ScheduleService.fireDue(now: dependencies.now(), engine: self, on: db) } catch {
                logger.warning("firing schedules failed", metadata: ["error": .string(String(reflecting: error))])
            }
            try? await Task.sleep(nanoseconds: UInt64(configuration.schedulerInterval * 1e9))
        }
    }

    private func maintenanceLoop() async {
        let every = max(0.2, configuration.lease / 3)
        while !Task.isCancelled && !isStopping {
            try? await Task.sleep(nanoseconds: UInt64(every * 1e9))
            if Task.isCancelled { return }
            do { try await recover(onlyExpired: true) } catch {
                logger.warning("task recovery failed", metadata: ["error": .string(String(reflecting: error))])
            }
        }
    }

    /// Running or awaiting tasks whose node is gone become `interrupted` (then `pending` when
    /// their plugin can resume). `onlyExpired`: only those whose lease ran out (other nodes may
    /// be alive); otherwise all of them (a single SQLite process starting up).
    func recover(onlyExpired: Bool) async throws {
        let now = dependencies.now()
        var query = TaskModel.query(on: db).filter(\.$status ~~ [TaskStatus.running.rawValue, TaskStatus.awaitingInput.rawValue])
        if onlyExpired { query = query.filter(\.$leaseUntil < now) }
        for task in try await query.all() {
            guard let id = task.id, lock.withLock({ running[id] == nil }) else { continue }
            let moved = try await TaskStore.transition(id, from: [.running, .awaitingInput], to: .interrupted, changes: [
                "finished_at": now, "error": "Ferry node \(task.claimedBy ?? "?") stopped while the task was \(task.status.replacingOccurrences(of: "_", with: " ")).",
                "next_action": "Check what the task's log says was done, then start it again.", "input_request": Optional<String>.none,
            ], on: db)
            guard moved else { continue }
            logger.warning("task interrupted", metadata: ["task_id": .string(id.uuidString), "plugin": .string(task.pluginID)])
            // A task that stays interrupted has its report; one queued again gets it when it ends.
            let resumes = registry.plugin(task.pluginID)?.resumable == true
            if !resumes { await recordReport(id) }
            announce(TaskEvent(kind: .status, taskId: id, status: .interrupted))
            if resumes,
               try await TaskStore.transition(id, from: [.interrupted], to: .pending, changes: [
                   "claimed_by": Optional<String>.none, "lease_until": Optional<Date>.none, "step": TaskText.english("resuming"),
                   "finished_at": Optional<Date>.none, "error": Optional<String>.none, "next_action": Optional<String>.none,
               ], on: db)
            {
                announce(TaskEvent(kind: .status, taskId: id, status: .pending))
                signal.notify()
            } else if resumes {
                await recordReport(id)
            }
        }
    }

    // MARK: Running one task

    private func execute(_ task: TaskModel, handoff: Handoff? = nil) async {
        let id = task.id!
        let envs = task.environmentKeys
        defer { slots.release(envs) }
        var log = logger
        log[metadataKey: "task_id"] = .string(id.uuidString)
        log[metadataKey: "plugin"] = .string(task.pluginID)
        if let env = envs.first { log[metadataKey: "environment"] = .string(env) }
        let writer = TaskLogWriter(task: id, startSeq: task.logCount, hub: hub, db: logDatabase(), now: dependencies.now,
                                   interval: configuration.logFlushInterval, logger: log,
                                   flushed: { [weak self] in self?.notifyOthers(id, .logs) })
        writer.start()
        announce(TaskEvent(kind: .status, taskId: id, status: .running, progress: 0, step: TaskText.english("starting")))
        writer.log(.info, "started on \(configuration.nodeID)", source: "engine", metadata: [:])

        guard let plugin = registry.plugin(task.pluginID) else {
            writer.log(.error, "no plugin '\(task.pluginID)' on this node", source: "engine", metadata: [:])
            await finish(id, writer: writer, handoff: handoff, status: .failed, changes: [
                "error": "Plugin '\(task.pluginID)' is not installed on node \(configuration.nodeID).",
                "next_action": "Run the same Ferry version on every node, then start the task again.",
            ])
            return
        }
        let params: BundleValue
        do { params = try unseal(BundleValue.parseJSON(Data(task.params.utf8))) } catch {
            await finish(id, writer: writer, handoff: handoff, status: .failed, changes: [
                "error": "The task's stored params can't be read: \(error).", "next_action": "Start a new task with fresh params.",
            ])
            return
        }
        let taskLogger = log
        let context = TaskContext(
            taskID: id, startedBy: task.createdBy, now: dependencies.now, newID: dependencies.uuid, params: params, db: db, logger: taskLogger, writer: writer,
            progress: { [weak self] percent, step in await self?.progress(id, percent: percent, step: step) },
            client: { [weak self] environment in
                guard let self else { throw CancellationError() }
                return try await self.client(for: environment, logger: taskLogger)
            },
            input: { [weak self] prompt, schema, timeout in
                guard let self else { throw CancellationError() }
                return try await self.awaitInput(id, prompt: prompt, schema: schema, timeout: timeout, writer: writer)
            })
        let work = Task { try await plugin.run(context) }
        lock.withLock { running[id] = work }
        let heartbeat = Task { [weak self] in await self?.heartbeat(id, work: work) }
        let result = await work.result
        heartbeat.cancel()
        await heartbeat.value
        lock.withLock { running[id] = nil }

        switch result {
        case .success(let outcome):
            let status: TaskStatus = outcome.kind == .succeeded ? .succeeded : .partial
            writer.log(.info, "finished: \(status.rawValue)", source: "engine", metadata: [:])
            await finish(id, writer: writer, handoff: handoff, status: status, changes: ["result": outcome.summary.jsonText(), "progress": 100, "step": TaskText.english("done")])
        case .failure(let error):
            let done = context.completedSteps
            let doneText = done.isEmpty ? "no step had completed" : "steps reached: " + done.joined(separator: ", ")
            if error is CancellationError || (work.isCancelled && !(error is TaskFailure)) {
                let interrupted = isStopping
                writer.log(.warning, (interrupted ? "stopped by a Ferry shutdown; " : "cancelled; ") + doneText, source: "engine", metadata: [:])
                await finish(id, writer: writer, handoff: handoff, status: interrupted ? .interrupted : .cancelled, changes: [
                    "step": TaskText.english(interrupted ? "interrupted" : "cancelled"), "input_request": Optional<String>.none,
                    "error": interrupted ? "Ferry stopped while the task was running (\(doneText))." : Optional<String>.none,
                    "next_action": interrupted ? "Start it again once Ferry is back." : Optional<String>.none,
                ])
            } else {
                let (message, next) = Self.describe(error)
                writer.log(.error, message, source: "engine", metadata: ["next_action": next])
                await finish(id, writer: writer, handoff: handoff, status: .failed, changes: [
                    "error": message, "next_action": next, "input_request": Optional<String>.none,
                ])
            }
        }
    }

    /// Commits the rest of the log and the final status in one transaction, then announces it.
    private func finish(
        _ id: UUID, writer: TaskLogWriter, handoff: Handoff? = nil, status: TaskStatus, changes: [String: any Encodable & Sendable]
    ) async {
        await writer.stopLoop()
        var all = changes
        all["finished_at"] = dependencies.now()
        all["lease_until"] = Optional<Date>.none
        let lines = hub.unflushed(id)
        let claimedBox = LockedBox<TaskModel?>(nil)
        do {
            let claimNext = handoff != nil && !isStopping
            let (node, lease, now, slots) = (configuration.nodeID, configuration.lease, dependencies.now(), slots)
            let moved = try await db.writeTransaction { [all] tx in
                try await TaskStore.appendRows(lines, task: id, on: tx)
                let moved = try await TaskStore.transition(id, from: [.running, .awaitingInput], to: status, changes: all, on: tx)
                if claimNext {
                    let next = try await TaskStore.claimNext(inTransaction: tx, node: node, lease: lease, now: now, slots: slots)
                    claimedBox.update { $0 = next }
                }
                return moved
            }
            if let last = lines.last { hub.flushed(id, through: last.seq) }
            if moved {
                // Written before anyone hears of the end, so whoever follows the task finds its report.
                await recordReport(id)
                announce(TaskEvent(kind: .status, taskId: id, status: status))
            }
            if let next = claimedBox.value { handoff?.give(next) }
        } catch {
            logger.error("recording a task's end failed", metadata: ["task_id": .string(id.uuidString), "error": .string(String(reflecting: error))])
            // A task claimed in the rolled-back transaction is still pending: free its slots.
            if let next = claimedBox.value { slots.release(next.environmentKeys) }
        }
    }

    /// Passes the task claimed by a finishing task's commit back to its worker.
    final class Handoff: @unchecked Sendable {
        private let box = LockedBox<TaskModel?>(nil)
        func give(_ task: TaskModel) { box.update { $0 = task } }
        func take() -> TaskModel? { box.update { t in defer { t = nil }; return t } }
    }

    static func describe(_ error: Error) -> (String, String) {
        switch error {
        case let f as TaskFailure: return (f.message, f.nextAction)
        case let s as SupersetError:
            // SupersetKit words the cause (its `failure.superset_*` templates read it back).
            let next: String
            switch s {
            case .badCredentials: next = "superset_credentials"
            case .unreachable, .timeout, .tls: next = "superset_unreachable"
            case .forbidden: next = "superset_forbidden"
            default: next = "superset_other"
            }
            return (s.errorDescription ?? s.code, TaskText.text("failure.\(next).next"))
        case let a as AppError: return (a.detail, TaskText.text("failure.bad_params.next"))
        default:
            let f = TaskFailure(key: "unexpected", ["detail": "\(error)"])
            return (f.message, f.nextAction)
        }
    }

    private func progress(_ id: UUID, percent: Int, step: String) async {
        do {
            try await TaskStore.sql(db).update("tasks").set("progress", to: percent).set("step", to: step)
                .where("id", .equal, id).run()
            announce(TaskEvent(kind: .progress, taskId: id, progress: percent, step: step))
        } catch {
            logger.warning("recording progress failed", metadata: ["task_id": .string(id.uuidString), "error": .string(String(reflecting: error))])
        }
    }

    /// Extends the claim and looks for a cancel requested on another node.
    private func heartbeat(_ id: UUID, work: Task<PluginOutcome, Error>) async {
        let every = max(0.05, configuration.lease / 3)
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(every * 1e9))
            if Task.isCancelled { return }
            do {
                struct Row: Decodable { var cancel_requested: Bool }
                let rows = try await TaskStore.sql(db).update("tasks")
                    .set("lease_until", to: dependencies.now().addingTimeInterval(configuration.lease))
                    .where("id", .equal, id).where("claimed_by", .equal, configuration.nodeID)
                    .returning("cancel_requested").all(decoding: Row.self)
                if rows.first?.cancel_requested == true { work.cancel() }
            } catch {
                logger.warning("task heartbeat failed", metadata: ["task_id": .string(id.uuidString), "error": .string(String(reflecting: error))])
            }
        }
    }

    private func client(for environment: UUID, logger: Logger) async throws -> SupersetClient {
        guard let env = try await EnvironmentModel.find(environment, on: db) else {
            throw TaskFailure(key: "environment_deleted")
        }
        return try EnvironmentService.client(for: env, box: box, timeout: supersetTimeout, dependencies: dependencies, logger: logger)
    }

    private func awaitInput(_ id: UUID, prompt: String, schema: JSONSchema, timeout: TimeInterval?, writer: TaskLogWriter) async throws -> BundleValue {
        let wait = timeout ?? configuration.inputTimeout
        let deadline = dependencies.now().addingTimeInterval(wait)
        let request = BundleValue.map(["prompt": .string(prompt), "schema": schema.document]).jsonText()
        // The mailbox exists before the status says "awaiting input", so an answer that arrives
        // right after the status change always finds it.
        let mailbox = InputMailbox()
        lock.withLock { inputs[id] = mailbox }
        defer { lock.withLock { if inputs[id] === mailbox { inputs[id] = nil } } }
        guard try await TaskStore.transition(id, from: [.running], to: .awaitingInput, changes: [
            "input_request": request, "input_deadline": deadline, "step": TaskText.english("waiting_for_input", ["prompt": prompt]),
        ], on: db) else { throw CancellationError() }
        writer.log(.info, "waiting for input: \(prompt)", source: "engine", metadata: ["timeout_s": String(Int(wait))])
        announce(TaskEvent(kind: .status, taskId: id, status: .awaitingInput, step: prompt))
        let timeout = Task {
            try? await Task.sleep(nanoseconds: UInt64(wait * 1e9))
            mailbox.deliver(.failure(TaskFailure(key: "input_timeout", ["seconds": String(format: "%g", wait), "prompt": prompt])))
        }
        defer { timeout.cancel() }
        let value = try await withTaskCancellationHandler {
            try await mailbox.value()
        } onCancel: {
            mailbox.deliver(.failure(CancellationError()))
        }
        guard try await TaskStore.transition(id, from: [.awaitingInput], to: .running, changes: [
            "input_request": Optional<String>.none, "input_deadline": Optional<Date>.none, "step": TaskText.english("input_received"),
        ], on: db) else { throw CancellationError() }
        writer.log(.info, "input received", source: "engine", metadata: [:])
        announce(TaskEvent(kind: .status, taskId: id, status: .running, step: TaskText.english("input_received")))
        return value
    }

    /// Decrypts params stored sealed (`{"$sealed": ...}`).
    private func unseal(_ value: BundleValue) throws -> BundleValue {
        guard var object = value.mapValue else { return value }
        for (k, v) in object {
            if let sealed = v["$sealed"]?.stringValue { object[k] = .string(try box.open(sealed)) }
        }
        return .map(object)
    }
}

/// Wakes idle workers when work arrives; a wake with no one waiting is remembered once.
final class WorkSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    private var permits = 0

    func notify() {
        let woken = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            if waiters.isEmpty { permits = min(permits + 1, 64) }
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for c in woken { c.resume() }
    }

    func wait(timeout: TimeInterval) async {
        let id = UUID()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let immediate = lock.withLock { () -> Bool in
                if permits > 0 { permits -= 1; return true }
                waiters[id] = c
                return false
            }
            if immediate { c.resume(); return }
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                self?.resume(id)
            }
        }
    }

    private func resume(_ id: UUID) {
        lock.withLock { waiters.removeValue(forKey: id) }?.resume()
    }
}

extension Application {
    private struct TaskEngineKey: StorageKey { typealias Value = TaskEngine }

    var taskEngine: TaskEngine {
        get { required(TaskEngineKey.self, "TaskEngine") }
        set { storage[TaskEngineKey.self] = newValue }
    }
}

/// One answer for a task waiting for input: whichever comes first of the operator's value, the
/// timeout, or cancellation. Later deliveries are ignored.
final class InputMailbox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<BundleValue, Error>?
    private var waiter: CheckedContinuation<BundleValue, Error>?

    func deliver(_ r: Result<BundleValue, Error>) {
        let w = lock.withLock { () -> CheckedContinuation<BundleValue, Error>? in
            guard result == nil else { return nil }
            result = r
            defer { waiter = nil }
            return waiter
        }
        w?.resume(with: r)
    }

    func value() async throws -> BundleValue {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<BundleValue, Error>) in
            let ready = lock.withLock { () -> Result<BundleValue, Error>? in
                if let result { return result }
                waiter = c
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
    }
}
