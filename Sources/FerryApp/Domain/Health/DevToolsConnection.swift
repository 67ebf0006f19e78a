import Foundation
import SupersetKit
#if canImport(Glibc)
import Glibc
#endif

/// A DevTools protocol error, or chromium gone, hung or saying something Ferry can't read.
struct DevToolsError: Error, CustomStringConvertible, Sendable {
    var description: String
}

/// One DevTools protocol connection to a `ChromiumProcess`: commands with ids and their answers,
/// and events (per target session) kept for whoever asks.
///
/// Every command has a deadline: an answer that doesn't come in time fails the command, and a
/// closed pipe (chromium crashed or was killed) fails every pending command at once, so a caller
/// never waits on a browser that is gone. A reader thread of its own blocks on the pipe.
///
/// Invariant: at most `maxMessage` bytes are buffered for one message (a screenshot of the
/// largest page Ferry asks for stays well under it); a longer one ends the connection.
final class DevToolsConnection: @unchecked Sendable {
    static let maxMessage = 64 << 20
    private let process: ChromiumProcess
    private let lock = NSLock()
    private var nextID = 1
    private var pending: [Int: CheckedContinuation<BundleValue, any Error>] = [:]
    private var closedReason: String?
    /// Events by session id ("" for the browser), oldest first; bounded per session.
    private var events: [String: [(method: String, params: BundleValue)]] = [:]
    static let maxEventsPerSession = 100
    /// The events anyone reads (console errors); the rest are dropped as they come.
    static let kept: Set<String> = ["Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded"]

    /// An event's params with every text cut to 500 characters and lists to 20 items: what a
    /// page logs can't make Ferry hold much.
    static func trimmed(_ value: BundleValue, depth: Int = 0) -> BundleValue {
        switch value {
        case .string(let s): return s.count > 500 ? .string(String(s.prefix(500)) + "…") : value
        case .list(let l): return depth > 4 ? .list([]) : .list(l.prefix(20).map { trimmed($0, depth: depth + 1) })
        case .map(let m): return depth > 4 ? .map([:]) : .map(m.mapValues { trimmed($0, depth: depth + 1) })
        default: return value
        }
    }

    /// Forgets what a closed page's session kept.
    func forget(session: String) {
        lock.withLock { _ = events.removeValue(forKey: session) }
    }

    init(process: ChromiumProcess) {
        self.process = process
        let box = WeakConnection(self)
        let thread = Thread { [events = process.events] in Self.readLoop(fd: events, connection: box) }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Sends `method` and waits at most `timeout` seconds for its result.
    func send(_ method: String, _ params: BundleValue = .map([:]), session: String? = nil, timeout: TimeInterval = 30) async throws -> BundleValue {
        let id: Int = lock.withLock { defer { nextID += 1 }; return nextID }
        var message: BundleValue = .map(["id": .int(id), "method": .string(method), "params": params])
        if let session { message["sessionId"] = .string(session) }
        let text = message.jsonText()
        return try await withCheckedThrowingContinuation { continuation in
            let refused: String? = lock.withLock {
                if let closedReason { return closedReason }
                pending[id] = continuation
                return nil
            }
            if let refused { continuation.resume(throwing: DevToolsError(description: refused)); return }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [weak self] in
                self?.fail(id, DevToolsError(description: "chromium didn't answer \(method) within \(Int(timeout)) s"))
            }
            var bytes = Array(text.utf8)
            bytes.append(0)
            if !process.write(bytes) {
                fail(id, DevToolsError(description: "chromium closed its DevTools pipe"))
            }
        }
    }

    /// The events `session` received so far whose method is in `methods`, and forgets them.
    func take(_ methods: Set<String>, session: String) -> [BundleValue] {
        lock.withLock {
            let all = events[session] ?? []
            events[session] = all.filter { !methods.contains($0.method) }
            return all.filter { methods.contains($0.method) }.map(\.params)
        }
    }

    var isClosed: Bool { lock.withLock { closedReason != nil } }

    private func fail(_ id: Int, _ error: any Error) {
        let continuation = lock.withLock { pending.removeValue(forKey: id) }
        continuation?.resume(throwing: error)
    }

    private func deliver(_ data: [UInt8]) {
        guard let message = try? BundleValue.parseJSON(Data(data)) else { return }
        if let id = message["id"]?.intValue {
            let continuation = lock.withLock { pending.removeValue(forKey: id) }
            if let error = message["error"] {
                let text = error["message"]?.stringValue ?? "unknown error"
                continuation?.resume(throwing: DevToolsError(description: "chromium refused: \(text)"))
            } else {
                continuation?.resume(returning: message["result"] ?? .map([:]))
            }
        } else if let method = message["method"]?.stringValue, Self.kept.contains(method) {
            let session = message["sessionId"]?.stringValue ?? ""
            lock.withLock {
                var list = events[session] ?? []
                list.append((method, Self.trimmed(message["params"] ?? .map([:]))))
                if list.count > Self.maxEventsPerSession { list.removeFirst(list.count - Self.maxEventsPerSession) }
                events[session] = list
            }
        }
    }

    private func close(_ reason: String) {
        let waiting = lock.withLock { () -> [CheckedContinuation<BundleValue, any Error>] in
            if closedReason == nil { closedReason = reason }
            defer { pending = [:] }
            return Array(pending.values)
        }
        for c in waiting { c.resume(throwing: DevToolsError(description: reason)) }
    }

    private static func readLoop(fd: Int32, connection box: WeakConnection) {
        var message: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        defer {
            Glibc.close(fd)
            box.value?.close("chromium exited (its DevTools pipe closed)")
        }
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            var start = 0
            for i in 0..<n where buffer[i] == 0 {
                message.append(contentsOf: buffer[start..<i])
                box.value?.deliver(message)
                message.removeAll(keepingCapacity: true)
                start = i + 1
            }
            message.append(contentsOf: buffer[start..<n])
            if message.count > maxMessage {
                box.value?.close("chromium sent a DevTools message over \(maxMessage >> 20) MiB")
                return
            }
        }
    }
}

/// The reader thread's reference to its connection: weak, so a connection nobody holds is freed
/// (and its `ChromiumProcess` killed by its deinit) though the thread still blocks on the pipe.
private final class WeakConnection: @unchecked Sendable {
    weak var value: DevToolsConnection?
    init(_ value: DevToolsConnection) { self.value = value }
}
