import Fluent
import Foundation
import SupersetKit
import Vapor

/// `WS /ws/tasks/{id}?from=N`: the task's log from line N (backlog from the store, then live),
/// with progress and status; `WS /ws/tasks`: status changes of all tasks.
///
/// Lines travel in `logs` frames, each a run of consecutive lines.
/// Guarantee: each line is sent once, in seq order, with no gap: the hub's unflushed lines and
/// the live stream are taken atomically, the store supplies everything older, and lines are
/// de-duplicated by seq. Lines and statuses of a task running on another node are read from the
/// store when that node's NOTIFY arrives (`TaskListener`), and by a fallback poll.
enum TaskStreams {
    static let pollInterval: TimeInterval = 0.5

    /// The fallback poll: often while other nodes can't be heard (or on SQLite, for a task's
    /// follower), rarely (`TaskEngineConfiguration.remotePollInterval`) while they can.
    static func fallbackInterval(_ engine: TaskEngine) -> TimeInterval {
        engine.hearsOtherNodes ? engine.configuration.remotePollInterval : pollInterval
    }

    /// Reads what another node committed for a follower: lines after the last one sent, and the
    /// status and progress when they changed.
    ///
    /// Invariant: one refresh reads and sends at a time. The fallback poll and a notification
    /// both ask for one; a request while one runs makes it read once more when done instead of
    /// reading beside it, so an older read is never sent after a newer one (a follower never
    /// sees a task running again after it saw it end). What this node's hub announces goes
    /// through here too (`heard`): a read that overlapped an announcement may predate it, so it
    /// is dropped, not sent.
    actor Refresher {
        /// A task's status, progress and step as the store holds them now.
        struct Snapshot: Sendable { var status: String; var progress: Int; var step: String }
        typealias Read = @Sendable (_ id: UUID, _ db: any Database) async -> Snapshot?

        let id: UUID
        let sender: Sender
        let hub: TaskHub
        let db: any Database
        let read: Read
        var status: String
        var progress: Int
        var step: String
        private var refreshing = false
        private var again = false
        /// How many of the hub's announcements were sent: a read is sent only if none came meanwhile.
        private var announcements = 0

        init(id: UUID, sender: Sender, hub: TaskHub, db: any Database, status: String, progress: Int, step: String, read: @escaping Read = Refresher.stored) {
            self.id = id
            self.sender = sender
            self.hub = hub
            self.db = db
            self.read = read
            self.status = status
            self.progress = progress
            self.step = step
        }

        /// The store's row.
        static let stored: Read = { id, db in
            (try? await TaskModel.find(id, on: db)).map { Snapshot(status: $0.status, progress: $0.progress, step: $0.step) }
        }

        func refresh() async {
            if refreshing { again = true; return }
            refreshing = true
            defer { refreshing = false }
            repeat {
                again = false
                await refreshOnce()
            } while again
        }

        /// Sends an event this node's hub announced, and keeps it as what the follower saw.
        func heard(_ event: TaskEvent) async {
            announcements += 1
            if let s = event.status { status = s.rawValue }
            if let p = event.progress { progress = p }
            if let s = event.step { step = s }
            await sender.send(event)
        }

        private func refreshOnce() async {
            await catchUp(id, sender: sender, pending: hub.unflushed(id), db: db)
            let before = announcements
            guard let now = await read(id, db) else { return }
            // The hub told of a change while this read: the read may be older, so it is not sent
            // (the next notification or poll reads again).
            if announcements != before { return }
            // Kept before sending: an announcement heard during the send is newer and stays.
            let statusChanged = now.status != status, progressChanged = now.progress != progress || now.step != step
            (status, progress, step) = (now.status, now.progress, now.step)
            if statusChanged {
                await sender.send(TaskEvent(kind: .status, taskId: id, status: TaskStatus(rawValue: now.status), progress: now.progress, step: now.step))
            } else if progressChanged {
                await sender.send(TaskEvent(kind: .progress, taskId: id, progress: now.progress, step: now.step))
            }
        }
    }

    static func register(_ app: Application) {
        // Each connection counts against its user's limit and sends through a bounded outbox
        // (TaskStreams+Limits.swift).
        liveRoute(app, .wsTask(.key)) { req, ws, outbox in
            await followTask(req, ws, outbox)
        }
        liveRoute(app, .wsTasks) { req, ws, outbox in
            await followAll(req, ws, outbox)
        }
    }

    /// Serialises sends and remembers the last line sent. Frames go through the connection's
    /// bounded outbox, which disconnects a client that stops reading.
    actor Sender {
        let outbox: FrameOutbox
        /// The reader's language: a step goes out in it (the task keeps it in English).
        let localizer: Localizer
        private(set) var lastSeq: Int
        init(outbox: FrameOutbox, from: Int, localizer: Localizer) {
            self.outbox = outbox
            self.localizer = localizer
            self.lastSeq = from - 1
        }

        /// Sends the lines of `batch` after the last one sent, as one frame (the hub's shared
        /// encoding when none were sent already). Returns false, sending nothing, when the batch
        /// starts beyond the next line: lines are missing here, and the caller fills them from
        /// the store first.
        func send(_ batch: LogBatch, task: UUID) -> Bool {
            guard let first = batch.lines.first, let last = batch.lines.last, last.seq > lastSeq else { return true }
            if first.seq > lastSeq + 1 { return false }
            if first.seq == lastSeq + 1 {
                outbox.send(batch.frame)
            } else {
                send(TaskEvent(kind: .logs, taskId: task, lines: batch.lines.filter { $0.seq > lastSeq }))
            }
            lastSeq = last.seq
            return true
        }

        /// Enqueues without suspending: frames go out in the order this actor handles them
        /// (an `await` here would let another send overtake across the actor's reentrancy).
        func send(_ event: TaskEvent) {
            var event = event
            if let step = event.step { event.step = localizer.step(step) }
            guard let data = try? JSONEncoder.ferry.encode(event) else { return }
            outbox.send(String(decoding: data, as: UTF8.self))
        }
    }

    static func followTask(_ req: Request, _ ws: WebSocket, _ outbox: FrameOutbox) async {
        // The same lookup and tasks:read check as the API; a refusal is sent as the first frame.
        let task: TaskModel
        do {
            task = try await TasksAPI.find(req)
        } catch {
            let detail = (error as? AppError)?.detail ?? "no such task"
            let frame = (try? JSONEncoder.ferry.encode(["error": detail])).map { String(decoding: $0, as: UTF8.self) } ?? #"{"error":"no such task"}"#
            try? await ws.send(frame)
            try? await ws.close(code: .policyViolation)
            return
        }
        let id = task.id!
        let from = max(0, (try? req.query.get(Int.self, at: "from")) ?? 0)
        let engine = req.application.taskEngine
        let hub = engine.hub
        let (pending, events, endStream) = hub.subscribe(task: id)
        let sender = Sender(outbox: outbox, from: from, localizer: req.localizer)
        let db = req.db
        await sender.send(TaskEvent(kind: .status, taskId: id, status: TaskStatus(rawValue: task.status), progress: task.progress, step: task.step))
        await catchUp(id, sender: sender, pending: pending, db: db)

        let refresher = Refresher(id: id, sender: sender, hub: hub, db: db, status: task.status, progress: task.progress, step: task.step)
        let poller = Task {
            // Covers tasks running on other nodes when no notification came (SQLite has a
            // single node; on PostgreSQL notifications usually arrive first, see TaskListener).
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(fallbackInterval(engine) * 1e9))
                await refresher.refresh()
            }
        }
        let closed = LockedBox(false)
        ws.onClose.whenComplete { _ in
            closed.update { $0 = true }
            poller.cancel()
            endStream()
        }
        for await item in events {
            if ws.isClosed || closed.value || outbox.isClosed { break }
            switch item {
            case .logs(let batch):
                if !(await sender.send(batch, task: id)) {
                    await catchUp(id, sender: sender, pending: hub.unflushed(id), db: db)
                    _ = await sender.send(batch, task: id)
                }
            case .event(let event):
                await refresher.heard(event)
            case .stored:
                await refresher.refresh()
            }
        }
        poller.cancel()
        await poller.value
    }

    /// Sends every line after the last one sent: first from the store, then from `pending`.
    static func catchUp(_ id: UUID, sender: Sender, pending: [TaskLogLine], db: any Database) async {
        while true {
            let from = await sender.lastSeq + 1
            guard let lines = try? await TaskStore.logs(id, filter: .init(from: from, limit: 1000), on: db), !lines.isEmpty else { break }
            guard await sender.send(LogBatch(task: id, lines: lines), task: id) else { break }
            if lines.count < 1000 { break }
        }
        let last = await sender.lastSeq
        let rest = pending.filter { $0.seq > last }
        if !rest.isEmpty { _ = await sender.send(LogBatch(task: id, lines: rest), task: id) }
    }

    static func followAll(_ req: Request, _ ws: WebSocket, _ outbox: FrameOutbox) async {
        // Other nodes' statuses arrive through the hub too: heard by NOTIFY, or found in the
        // store when a notification never came (TaskEngine.watchStatuses).
        let events = req.application.taskEngine.hub.subscribeAll()
        let sender = Sender(outbox: outbox, from: 0, localizer: req.localizer)
        // A caller whose tasks:read is limited to some environments hears only those tasks.
        let limited = !(req.principal?.canEverywhere(.tasksRead) ?? false)
        let loop = Task {
            var readable: [UUID: Bool] = [:]
            for await event in events {
                if ws.isClosed || outbox.isClosed { break }
                if limited {
                    if readable[event.taskId] == nil {
                        var allowed = false
                        if let task = try? await TaskModel.find(event.taskId, on: req.db) {
                            allowed = await req.permits(.tasksRead, environmentIDs: task.environmentIDs)
                        }
                        readable[event.taskId] = allowed
                    }
                    if readable[event.taskId] != true { continue }
                }
                await sender.send(event)
            }
        }
        // A closed connection stops listening at once, not at the next event.
        ws.onClose.whenComplete { _ in loop.cancel() }
        await loop.value
    }
}
