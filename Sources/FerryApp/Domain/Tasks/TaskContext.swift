import Fluent
import Foundation
import Logging
import SupersetKit

/// What a running plugin gets: its params, a log, progress, Superset clients, the store,
/// structured input from an operator, and cancellation at step boundaries.
///
/// Invariant: every log line gets the next sequence number of its task, with no gaps.
public final class TaskContext: Sendable {
    public let taskID: UUID
    /// Who started the task (a user name, or `scheduler`).
    public let startedBy: String
    /// The injected clock.
    public let now: @Sendable () -> Date
    /// The injected id generator.
    public let newID: @Sendable () -> UUID
    /// Validated params, defaults applied, secrets decrypted.
    public let params: BundleValue
    /// The store (for plugins that keep their own records).
    public let db: any Database
    /// The process log, with the task id, plugin and environment as metadata (the task's own
    /// log is `log(_:_:)`).
    public let logger: Logger
    let writer: TaskLogWriter
    private let progressSink: @Sendable (Int, String) async -> Void
    private let clientFactory: @Sendable (UUID) async throws -> SupersetClient
    private let inputHandler: @Sendable (String, JSONSchema, TimeInterval?) async throws -> BundleValue
    private let steps = LockedBox<[String]>([])

    init(
        taskID: UUID, startedBy: String, now: @escaping @Sendable () -> Date, newID: @escaping @Sendable () -> UUID, params: BundleValue, db: any Database,
        logger: Logger, writer: TaskLogWriter,
        progress: @escaping @Sendable (Int, String) async -> Void,
        client: @escaping @Sendable (UUID) async throws -> SupersetClient,
        input: @escaping @Sendable (String, JSONSchema, TimeInterval?) async throws -> BundleValue
    ) {
        self.taskID = taskID
        self.startedBy = startedBy
        self.now = now
        self.newID = newID
        self.params = params
        self.db = db
        self.logger = logger
        self.writer = writer
        self.progressSink = progress
        self.clientFactory = client
        self.inputHandler = input
    }

    public func log(_ level: LogLevel, _ message: String, source: String = "plugin", metadata: [String: String] = [:]) {
        writer.log(level, message, source: source, metadata: metadata)
    }

    /// Marks a step boundary: honours cancellation, records the step, reports progress.
    public func step(_ name: String, progress: Int) async throws {
        try Task.checkCancellation()
        steps.update { $0.append(name) }
        log(.info, name, source: "engine", metadata: ["progress": String(progress)])
        await progressSink(max(0, min(100, progress)), name)
    }

    /// `step(_:progress:)` with the catalogue's step `key` (`step.<key>`) and its values: the
    /// task keeps the English text; pages show it in their reader's language.
    public func step(key: String, _ values: [String: String] = [:], progress: Int) async throws {
        try await step(TaskText.english(key, values), progress: progress)
    }

    /// The steps reached so far, in order.
    public var completedSteps: [String] { steps.value }

    /// A logged-in client for an environment (by id).
    public func superset(_ environment: UUID) async throws -> SupersetClient { try await clientFactory(environment) }

    /// The environment an id param (`environment`, `source`, `target`) names, read from the
    /// store; a failure with advice when it is missing or was deleted since.
    public func environment(_ param: String) async throws -> EnvironmentRef {
        guard let id = params[param]?.stringValue.flatMap(UUID.init(uuidString:)),
              let env = try await EnvironmentModel.find(id, on: db) else {
            throw TaskFailure(key: "environment_deleted")
        }
        return env.ref
    }

    /// Pauses the task until an operator answers `prompt` with a value valid against `schema`
    /// (`POST /api/tasks/{id}/input`), or fails it after `timeout` (default: the engine's).
    /// The answer is never persisted.
    public func awaitInput(prompt: String, schema: JSONSchema, timeout: TimeInterval? = nil) async throws -> BundleValue {
        try await inputHandler(prompt, schema, timeout)
    }
}

/// A value behind a lock.
final class LockedBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: T
    init(_ value: T) { _value = value }
    var value: T { lock.withLock { _value } }
    func update<R>(_ body: (inout T) -> R) -> R { lock.withLock { body(&_value) } }
}

/// Numbers, publishes and batches one task's log lines into the store.
///
/// Lines are published at once (live subscribers see them immediately) and written in batches
/// every `interval` or when `batchSize` lines wait, never one insert per line.
final class TaskLogWriter: @unchecked Sendable {
    let task: UUID
    private let hub: TaskHub
    private let db: any Database
    private let now: @Sendable () -> Date
    private let interval: TimeInterval
    private let batchSize: Int
    private let lock = NSLock()
    private var nextSeq: Int
    private var waiting = 0
    private var loop: Task<Void, Never>?
    private let logger: Logger

    /// Called after each committed batch (the engine tells other nodes).
    private let onFlush: @Sendable () -> Void

    init(task: UUID, startSeq: Int, hub: TaskHub, db: any Database, now: @escaping @Sendable () -> Date, interval: TimeInterval = 0.1,
         batchSize: Int = 2_000, logger: Logger, flushed: @escaping @Sendable () -> Void = {}) {
        self.onFlush = flushed
        self.task = task
        self.nextSeq = startSeq
        self.hub = hub
        self.db = db
        self.now = now
        self.interval = interval
        self.batchSize = batchSize
        self.logger = logger
    }

    func log(_ level: LogLevel, _ message: String, source: String, metadata: [String: String]) {
        lock.withLock {
            let line = TaskLogLine(seq: nextSeq, at: now(), level: level, source: source, message: message, metadata: metadata)
            nextSeq += 1
            waiting += 1
            hub.publish(line, task: task)
        }
    }

    func start() {
        loop = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                // Cancelled while waiting: return without a flush; `stop` (or the caller's final
                // transaction) writes the rest.
                do { try await Task.sleep(nanoseconds: UInt64(self.interval * 1e9)) } catch { return }
                await self.flush()
            }
        }
    }

    /// Writes every published line not yet in the store.
    func flush() async {
        let lines = hub.unflushed(task)
        guard let last = lines.last else { return }
        do {
            for start in stride(from: 0, to: lines.count, by: batchSize) {
                let batch = Array(lines[start..<min(start + batchSize, lines.count)])
                try await TaskStore.append(batch, task: task, on: db)
                hub.flushed(task, through: batch.last!.seq)
            }
            lock.withLock { waiting = max(0, waiting - lines.count) }
            onFlush()
        } catch {
            logger.error("task log flush failed; will retry", metadata: ["task_id": .string(task.uuidString), "error": .string("\(error)"),
                                                                      "through_seq": .stringConvertible(last.seq)])
        }
    }

    /// Stops the batching loop and writes what is left.
    func stop() async {
        await stopLoop()
        await flush()
    }

    /// Stops the batching loop only (the caller writes the rest in its own transaction).
    func stopLoop() async {
        loop?.cancel()
        await loop?.value
    }
}
