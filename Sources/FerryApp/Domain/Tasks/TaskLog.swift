import Foundation
import SupersetKit

public enum LogLevel: String, Codable, CaseIterable, Sendable, Comparable {
    case debug, info, warning, error

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}

/// One line of a task's log. `seq` counts from 0 per task, without gaps.
public struct TaskLogLine: Codable, Sendable, Equatable {
    public var seq: Int
    public var at: Date
    public var level: LogLevel
    /// superset_api, bundle, git, storage, scheduler, plugin, engine...
    public var source: String
    public var message: String
    public var metadata: [String: String]
}

/// What live subscribers receive.
public struct TaskEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case status, progress, log }
    public var kind: Kind
    public var taskId: UUID
    public var status: TaskStatus?
    public var progress: Int?
    public var step: String?
    public var line: TaskLogLine?
}

/// In-process fan-out of task events, and the log lines not yet flushed to the store.
///
/// Invariant: for each task, `pending` holds every published line whose batch isn't committed
/// yet, in seq order; `subscribe` returns that backlog and the live stream atomically, so a
/// subscriber that also reads the store sees every line exactly once (after de-duplicating by seq).
final class TaskHub: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [UUID: [TaskLogLine]] = [:]
    private var taskSubscribers: [UUID: [UUID: AsyncStream<TaskEvent>.Continuation]] = [:]
    private var allSubscribers: [UUID: AsyncStream<TaskEvent>.Continuation] = [:]

    func publish(_ line: TaskLogLine, task: UUID) {
        lock.withLock {
            pending[task, default: []].append(line)
            let event = TaskEvent(kind: .log, taskId: task, line: line)
            for c in (taskSubscribers[task] ?? [:]).values { c.yield(event) }
        }
    }

    /// Status and progress events go to the task's subscribers and to the all-tasks stream.
    func announce(_ event: TaskEvent) {
        lock.withLock {
            for c in (taskSubscribers[event.taskId] ?? [:]).values { c.yield(event) }
            if event.kind == .status { for c in allSubscribers.values { c.yield(event) } }
        }
    }

    /// Lines to flush (a copy; they stay pending until `flushed`).
    func unflushed(_ task: UUID) -> [TaskLogLine] { lock.withLock { pending[task] ?? [] } }

    func flushed(_ task: UUID, through seq: Int) {
        lock.withLock {
            pending[task]?.removeAll { $0.seq <= seq }
            if pending[task]?.isEmpty == true { pending[task] = nil }
        }
    }

    private var closed = false

    /// Ends every live stream (shutdown): subscribers' loops finish.
    func finishAll() {
        let all = lock.withLock { () -> [AsyncStream<TaskEvent>.Continuation] in
            closed = true
            return taskSubscribers.values.flatMap(\.values) + Array(allSubscribers.values)
        }
        for c in all { c.finish() }
    }

    /// `end` finishes the returned stream (when the subscriber goes away).
    func subscribe(task: UUID) -> (backlog: [TaskLogLine], events: AsyncStream<TaskEvent>, end: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream<TaskEvent>.makeStream(bufferingPolicy: .bufferingNewest(50_000))
        let token = UUID()
        let backlog = lock.withLock { () -> [TaskLogLine] in
            if closed { continuation.finish() } else { taskSubscribers[task, default: [:]][token] = continuation }
            return pending[task] ?? []
        }
        continuation.onTermination = { [weak self] _ in
            self?.lock.withLock { _ = self?.taskSubscribers[task]?.removeValue(forKey: token) }
        }
        return (backlog, stream, { continuation.finish() })
    }

    func subscribeAll() -> AsyncStream<TaskEvent> {
        let (stream, continuation) = AsyncStream<TaskEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let token = UUID()
        lock.withLock { if closed { continuation.finish() } else { allSubscribers[token] = continuation } }
        continuation.onTermination = { [weak self] _ in
            self?.lock.withLock { _ = self?.allSubscribers.removeValue(forKey: token) }
        }
        return stream
    }
}
