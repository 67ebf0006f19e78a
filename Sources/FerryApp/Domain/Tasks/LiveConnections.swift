import Foundation

/// How many live connections (task WebSockets) each user holds, against a limit. A place is
/// taken once the connection is up and given back when it closes. Thread-safe.
final class ConnectionLimiter: @unchecked Sendable {
    let perUser: Int
    private let lock = NSLock()
    private var open: [UUID: Int] = [:]

    init(perUser: Int) {
        self.perUser = max(1, perUser)
    }

    /// Whether `user` may open one more (checked before the upgrade, to answer 429).
    func hasRoom(_ user: UUID) -> Bool {
        lock.withLock { (open[user] ?? 0) < perUser }
    }

    /// Takes a place for `user`; false when they hold `perUser` already.
    func acquire(_ user: UUID) -> Bool {
        lock.withLock {
            let n = open[user] ?? 0
            guard n < perUser else { return false }
            open[user] = n + 1
            return true
        }
    }

    /// Gives back a place taken by `acquire`.
    func release(_ user: UUID) {
        lock.withLock {
            let n = (open[user] ?? 0) - 1
            open[user] = n > 0 ? n : nil
        }
    }

    /// Connections `user` holds now.
    func count(_ user: UUID) -> Int {
        lock.withLock { open[user] ?? 0 }
    }
}

/// The frames a live connection has handed to the network and that aren't written out yet.
/// A client that reads too slowly lets them pile up; once more than `maxFrames` frames (or
/// `maxBytes` bytes, beyond a first frame) wait, the connection is closed instead of buffering
/// without end, and later frames are dropped.
///
/// `write` sends a frame and calls its completion once the frame is written (or failed);
/// `close` ends the connection. Both are the transport's (a WebSocket in production).
/// Thread-safe; callers send from one place at a time to keep frames in order.
final class FrameOutbox: @unchecked Sendable {
    static let defaultMaxFrames = 1000
    static let defaultMaxBytes = 16 << 20

    let maxFrames: Int
    let maxBytes: Int
    private let write: @Sendable (String, @escaping @Sendable () -> Void) -> Void
    private let close: @Sendable () -> Void
    private let lock = NSLock()
    private var frames = 0
    private var bytes = 0
    private var closed = false

    init(
        maxFrames: Int = FrameOutbox.defaultMaxFrames, maxBytes: Int = FrameOutbox.defaultMaxBytes,
        write: @escaping @Sendable (String, @escaping @Sendable () -> Void) -> Void, close: @escaping @Sendable () -> Void
    ) {
        self.maxFrames = max(1, maxFrames)
        self.maxBytes = max(1, maxBytes)
        self.write = write
        self.close = close
    }

    private enum Decision { case write, close, drop }

    /// Hands `text` to the transport. Returns false when the connection is closed for being
    /// too slow (now, or earlier): then nothing was sent.
    @discardableResult
    func send(_ text: String) -> Bool {
        let size = text.utf8.count
        let decision = lock.withLock { () -> Decision in
            if closed { return .drop }
            if frames >= maxFrames || (frames > 0 && bytes + size > maxBytes) {
                closed = true
                return .close
            }
            frames += 1
            bytes += size
            return .write
        }
        switch decision {
        case .drop:
            return false
        case .close:
            close()
            return false
        case .write:
            write(text) { [weak self] in self?.written(size) }
            return true
        }
    }

    /// Whether the connection was closed for being too slow.
    var isClosed: Bool { lock.withLock { closed } }

    /// Frames and bytes handed over and not yet written.
    var pending: (frames: Int, bytes: Int) { lock.withLock { (frames, bytes) } }

    private func written(_ size: Int) {
        lock.withLock {
            frames -= 1
            bytes -= size
        }
    }
}
