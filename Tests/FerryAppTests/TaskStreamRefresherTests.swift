import Foundation
import Testing
import Vapor

@testable import FerryApp

/// A follower's refresh of what another node committed: the fallback poll and a notification
/// may ask at once, and an older read must never be sent after a newer one.
@Suite struct TaskStreamRefresherTests {
    /// A follower's sender writing to a wire the test reads.
    static func follower() -> (LiveConnectionLimitTests.FakeTransport, TaskStreams.Sender) {
        let wire = LiveConnectionLimitTests.FakeTransport()
        let outbox = FrameOutbox(maxFrames: 100, maxBytes: 1 << 20, write: { wire.write($0, $1) }, close: { wire.close() })
        return (wire, TaskStreams.Sender(outbox: outbox, from: 0, localizer: Localizer(language: "en")))
    }

    static func events(_ wire: LiveConnectionLimitTests.FakeTransport) -> [TaskEvent] {
        wire.lock.withLock { wire.sent }.compactMap { try? JSONDecoder.ferry.decode(TaskEvent.self, from: Data($0.utf8)) }
    }

    @Test func aRefreshAskedWhileOneReadsReadsAgainAfterItInsteadOfBesideIt() async throws {
        try await withFerry(.sqlite) { t in
            let (wire, sender) = Self.follower()
            let firstEntered = AsyncStream<Void>.makeStream(), releaseFirst = AsyncStream<Void>.makeStream()
            let reads = LockedBox(0)
            // The first read is slow and sees the task still running; any later one sees it ended.
            let read: TaskStreams.Refresher.Read = { _, _ in
                let n = reads.update { $0 += 1; return $0 }
                guard n == 1 else { return .init(status: TaskStatus.succeeded.rawValue, progress: 100, step: "done") }
                firstEntered.continuation.yield()
                for await _ in releaseFirst.stream { break }
                return .init(status: TaskStatus.running.rawValue, progress: 40, step: "copying")
            }
            let refresher = TaskStreams.Refresher(id: UUID(), sender: sender, hub: t.app.taskEngine.hub, db: t.db,
                                                  status: TaskStatus.running.rawValue, progress: 0, step: "", read: read)
            let first = Task { await refresher.refresh() }
            for await _ in firstEntered.stream { break }
            await refresher.refresh()  // a notification while the poll's read waits
            releaseFirst.continuation.yield()
            await first.value

            let events = Self.events(wire)
            #expect(events.map(\.kind) == [.progress, .status], "\(events)")
            #expect(events.last?.status == .succeeded && events.last?.progress == 100)
            #expect(reads.value == 2, "the second ask became one more read after the first")
        }
    }

    /// The hub announces the end while a fallback read is under way: that read, older than the
    /// announcement, is not sent after it.
    @Test func aReadOverlappingTheHubsAnnouncementIsNotSentAfterIt() async throws {
        try await withFerry(.sqlite) { t in
            let (wire, sender) = Self.follower()
            let entered = AsyncStream<Void>.makeStream(), release = AsyncStream<Void>.makeStream()
            let read: TaskStreams.Refresher.Read = { _, _ in
                entered.continuation.yield()
                for await _ in release.stream { break }
                return .init(status: TaskStatus.running.rawValue, progress: 40, step: "copying")
            }
            let id = UUID()
            let refresher = TaskStreams.Refresher(id: id, sender: sender, hub: t.app.taskEngine.hub, db: t.db,
                                                  status: TaskStatus.pending.rawValue, progress: 0, step: "", read: read)
            let poll = Task { await refresher.refresh() }
            for await _ in entered.stream { break }
            await refresher.heard(TaskEvent(kind: .status, taskId: id, status: .succeeded, progress: 100, step: "done"))
            release.continuation.yield()
            await poll.value
            let events = Self.events(wire)
            #expect(events.map(\.status) == [.succeeded], "\(events)")
        }
    }
}
