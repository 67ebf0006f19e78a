import Foundation
import SupersetKit

public enum LogLevel: String, Codable, CaseIterable, Sendable, Comparable {
    case debug, info, warning, error

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}

/// One line of a task's log. `seq` counts from 0 per task, without gaps.
///
/// `at` goes over the wire with milliseconds (`2026-12-01T04:43:08.123Z`): lines come many per
/// second, and whole seconds would hide their order in time. Decoding takes either form.
public struct TaskLogLine: Codable, Sendable, Equatable {
    public var seq: Int
    public var at: Date
    public var level: LogLevel
    /// superset_api, bundle, git, storage, scheduler, plugin, engine...
    public var source: String
    public var message: String
    public var metadata: [String: String]

    public init(seq: Int, at: Date, level: LogLevel, source: String, message: String, metadata: [String: String]) {
        self.seq = seq
        self.at = at
        self.level = level
        self.source = source
        self.message = message
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey { case seq, at, level, source, message, metadata }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seq, forKey: .seq)
        try c.encode(Self.millisecondText(at), forKey: .at)
        try c.encode(level, forKey: .level)
        try c.encode(source, forKey: .source)
        try c.encode(message, forKey: .message)
        try c.encode(metadata, forKey: .metadata)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seq = try c.decode(Int.self, forKey: .seq)
        let text = try c.decode(String.self, forKey: .at)
        guard let at = Self.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: .at, in: c, debugDescription: "not an ISO 8601 time: \(text)")
        }
        self.at = at
        level = try c.decode(LogLevel.self, forKey: .level)
        source = try c.decode(String.self, forKey: .source)
        message = try c.decode(String.self, forKey: .message)
        metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
    }

    /// UTC with milliseconds, by integer arithmetic (lines are encoded up to 100,000 a second;
    /// a format style per line would cost more than the rest of the frame).
    static func millisecondText(_ date: Date) -> String {
        guard let ms = Int64(exactly: (date.timeIntervalSince1970 * 1000).rounded(.down)), ms.magnitude < 1 << 60 else { return "?" }
        let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let msOfDay = ms - days * 86_400_000
        let (year, month, day) = UTCTimestamp.civil(days: days)
        func pad(_ v: Int64, _ width: Int) -> String {
            let t = String(v)
            return t.count >= width ? t : String(repeating: "0", count: width - t.count) + t
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(msOfDay / 3_600_000, 2)):\(pad(msOfDay / 60_000 % 60, 2)):"
            + "\(pad(msOfDay / 1000 % 60, 2)).\(pad(msOfDay % 1000, 3))Z"
    }

    static func parse(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}

/// What live subscribers receive: status and progress changes, and runs of log lines.
public struct TaskEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case status, progress, logs }
    public var kind: Kind
    public var taskId: UUID
    public var status: TaskStatus?
    public var progress: Int?
    public var step: String?
    /// `logs`: consecutive lines, in seq order.
    public var lines: [TaskLogLine]?
}

/// A run of consecutive log lines of one task, with its WebSocket frame encoded once for every
/// follower.
struct LogBatch: Sendable {
    let lines: [TaskLogLine]
    let frame: String

    init(task: UUID, lines: [TaskLogLine]) {
        self.lines = lines
        let data = (try? JSONEncoder.ferry.encode(TaskEvent(kind: .logs, taskId: task, lines: lines))) ?? Data()
        self.frame = String(decoding: data, as: UTF8.self)
    }
}

/// What a task's subscriber receives from the hub.
enum HubEvent: Sendable {
    case event(TaskEvent)
    case logs(LogBatch)
    /// Another node committed lines or a status of this task: read them from the store.
    case stored
}

/// In-process fan-out of task events, and the log lines not yet flushed to the store.
///
/// Lines reach subscribers in batches: the first line published into an empty outbox schedules
/// a delivery `coalesce` seconds later, which sends everything gathered by then as one
/// `LogBatch` (one JSON encoding, one frame, whatever the number of followers). A writer of
/// 100 lines per millisecond then costs a follower a few hundred frames a second, not 100,000.
///
/// Invariant: for each task, `pending` holds every published line whose batch isn't committed
/// yet, in seq order; `subscribe` returns that backlog and the live stream atomically, so a
/// subscriber that also reads the store sees every line exactly once (after de-duplicating by
/// seq). Lines are delivered before any status or progress event announced after them.
final class TaskHub: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [UUID: [TaskLogLine]] = [:]
    /// Published lines not yet delivered to subscribers (only while a task has some).
    private var outbox: [UUID: [TaskLogLine]] = [:]
    private var taskSubscribers: [UUID: [UUID: AsyncStream<HubEvent>.Continuation]] = [:]
    private var allSubscribers: [UUID: AsyncStream<TaskEvent>.Continuation] = [:]
    let coalesce: TimeInterval
    /// While the node watches the store for other nodes' status changes (PostgreSQL): the last
    /// status announced, heard or found of each task, and how many statuses of each arrived.
    private var watching = false
    private var lastStatus: [UUID: TaskStatus] = [:]
    private var arrivals: [UUID: Int] = [:]

    init(coalesce: TimeInterval = 0.003) {
        self.coalesce = coalesce
    }

    func publish(_ line: TaskLogLine, task: UUID) {
        let schedule = lock.withLock { () -> Bool in
            pending[task, default: []].append(line)
            guard taskSubscribers[task]?.isEmpty == false else { return false }
            let first = outbox[task] == nil
            outbox[task, default: []].append(line)
            return first
        }
        if schedule {
            let delay = UInt64(coalesce * 1e9)
            Task.detached { [weak self] in
                try? await Task.sleep(nanoseconds: delay)
                self?.lock.withLock { self?.deliverLocked(task) }
            }
        }
    }

    /// Sends the task's outbox as one batch. Caller holds `lock`.
    private func deliverLocked(_ task: UUID) {
        guard let lines = outbox.removeValue(forKey: task), !lines.isEmpty else { return }
        let batch = HubEvent.logs(LogBatch(task: task, lines: lines))
        for c in (taskSubscribers[task] ?? [:]).values { c.yield(batch) }
    }

    /// Status and progress events go to the task's subscribers (after the lines published
    /// before them) and status events to the all-tasks stream.
    func announce(_ event: TaskEvent) {
        lock.withLock {
            deliverLocked(event.taskId)
            for c in (taskSubscribers[event.taskId] ?? [:]).values { c.yield(.event(event)) }
            if event.kind == .status {
                if watching, let status = event.status {
                    // A look at the store may have found this node's own change first.
                    if lastStatus[event.taskId] == status { return }
                    noteLocked(event.taskId, status)
                }
                for c in allSubscribers.values { c.yield(event) }
            }
        }
    }

    /// Another node committed lines or a status change of `task` (heard through LISTEN): its
    /// followers here read the store; a status goes to the all-tasks stream too, unless it was
    /// already told (a repeat) or the task had already ended (a notification overtaken by what
    /// the store showed).
    func remote(_ task: UUID, status: TaskStatus?) {
        lock.withLock {
            if watching, let status {
                if let last = lastStatus[task], last == status || last.hasEnded { return tellRemoteLocked(task, nil) }
                noteLocked(task, status)
            }
            tellRemoteLocked(task, status)
        }
    }

    /// Tells of another node's committed `status` of `task`: its followers here read the store,
    /// the all-tasks stream hears the status. Caller holds `lock`.
    private func tellRemoteLocked(_ task: UUID, _ status: TaskStatus?) {
        for c in (taskSubscribers[task] ?? [:]).values { c.yield(.stored) }
        guard let status else { return }
        for c in allSubscribers.values { c.yield(TaskEvent(kind: .status, taskId: task, status: status)) }
    }

    // MARK: Watching the store

    /// Starts keeping each task's last status, for `reconcile`.
    func watchStatuses() { lock.withLock { watching = true } }

    /// How many statuses of each task arrived so far: taken before a look at the store.
    func statusArrivals() -> [UUID: Int] { lock.withLock { arrivals } }

    /// What a look at the store found (`rows`, read after `before` was taken): a task whose
    /// stored status differs from the last one announced or heard here, and of which no status
    /// arrived during the read, changed on another node without its notification arriving; it
    /// is announced as if heard. The first look only records the tasks nothing was heard of
    /// (their state is what the pages opened before it read). A task that has ended and that
    /// the look no longer covers is forgotten, and so, when the look saw every unfinished task
    /// (`complete`), is one it didn't see at all (deleted); never one heard of during the read.
    func reconcile(_ rows: [(id: UUID, status: TaskStatus)], arrivalsBefore before: [UUID: Int], first: Bool, complete: Bool) {
        lock.withLock {
            var seen = Set<UUID>()
            for row in rows {
                seen.insert(row.id)
                guard arrivals[row.id] == before[row.id], lastStatus[row.id] != row.status else { continue }
                let last = lastStatus[row.id]
                if let last, last.hasEnded { continue }
                lastStatus[row.id] = row.status
                if first && last == nil { continue }
                tellRemoteLocked(row.id, row.status)
            }
            for (id, status) in lastStatus where !seen.contains(id) && (status.hasEnded || complete) && arrivals[id] == before[id] {
                lastStatus[id] = nil
                arrivals[id] = nil
            }
        }
    }

    /// Caller holds `lock`.
    private func noteLocked(_ task: UUID, _ status: TaskStatus) {
        lastStatus[task] = status
        arrivals[task, default: 0] += 1
    }

    /// Lines to flush (a copy; they stay pending until `flushed`).
    func unflushed(_ task: UUID) -> [TaskLogLine] { lock.withLock { pending[task] ?? [] } }

    func flushed(_ task: UUID, through seq: Int) {
        lock.withLock {
            guard var lines = pending[task] else { return }
            // Lines are in seq order: drop the committed prefix.
            let keep = lines.firstIndex { $0.seq > seq } ?? lines.count
            lines.removeFirst(keep)
            pending[task] = lines.isEmpty ? nil : lines
        }
    }

    private var closed = false

    /// Ends every live stream (shutdown): subscribers' loops finish.
    func finishAll() {
        let (tasks, all) = lock.withLock { () -> ([AsyncStream<HubEvent>.Continuation], [AsyncStream<TaskEvent>.Continuation]) in
            closed = true
            return (taskSubscribers.values.flatMap(\.values), Array(allSubscribers.values))
        }
        for c in tasks { c.finish() }
        for c in all { c.finish() }
    }

    /// `end` finishes the returned stream (when the subscriber goes away).
    func subscribe(task: UUID) -> (backlog: [TaskLogLine], events: AsyncStream<HubEvent>, end: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream<HubEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let token = UUID()
        let backlog = lock.withLock { () -> [TaskLogLine] in
            if closed { continuation.finish() } else { taskSubscribers[task, default: [:]][token] = continuation }
            return pending[task] ?? []
        }
        continuation.onTermination = { [weak self] _ in
            self?.lock.withLock {
                _ = self?.taskSubscribers[task]?.removeValue(forKey: token)
                if self?.taskSubscribers[task]?.isEmpty == true {
                    self?.taskSubscribers[task] = nil
                    self?.outbox[task] = nil
                }
            }
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
