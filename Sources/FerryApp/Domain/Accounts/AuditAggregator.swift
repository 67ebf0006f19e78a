import Foundation

/// Collapses repeated anonymous refusals (401/403 to unauthenticated requests, failed or limited
/// sign-ins for unknown users, bad SSO answers) so that unauthenticated traffic can't fill the
/// disk with audit rows.
///
/// Per minute window (by the event's own time) and per (address, action, outcome): the first
/// event is written as it is; the rest of that minute are only counted, and when the window has
/// passed one summary event says how many more there were ("+N more …, aggregated").
/// At most `maxKeys` keys are tracked per window; events beyond them (an attacker who varies the
/// address a proxy header claims) are counted into one summary for the window.
///
/// Bound: at most 2 × `maxKeys` + 1 rows per minute, whatever the traffic. The log stays
/// append-only: the first row is never updated, the count comes as a row of its own.
/// Summaries are handed out by `admit` and `due` once their window is over, and by `drain` at
/// shutdown. Thread-safe.
final class AuditAggregator: @unchecked Sendable {
    static let window: TimeInterval = 60
    static let maxKeys = 100

    struct Key: Hashable {
        var address: String
        var action: String
        var outcome: AuditEntry.Outcome
    }

    private struct Counted {
        /// The event that was written; the summary repeats its address, action and outcome.
        var first: AuditEntry
        var more = 0
        var last: Date
    }

    private let lock = NSLock()
    private let maxKeys: Int
    private var windowIndex: Int64?
    private var counted: [Key: Counted] = [:]
    private var overflow: (first: AuditEntry, count: Int, last: Date)?

    init(maxKeys: Int = AuditAggregator.maxKeys) {
        self.maxKeys = maxKeys
    }

    /// The events to write now for the anonymous event `entry`: summaries of a window that has
    /// ended, then `entry` itself when it is the first of its kind in its window (nothing else).
    func admit(_ entry: AuditEntry) -> [AuditEntry] {
        lock.withLock {
            var out = rollOver(to: entry.at)
            let key = Key(address: entry.address ?? "-", action: entry.action, outcome: entry.outcome)
            if var c = counted[key] {
                c.more += 1
                c.last = max(c.last, entry.at)
                counted[key] = c
            } else if counted.count < maxKeys {
                counted[key] = Counted(first: entry, last: entry.at)
                out.append(entry)
            } else if var o = overflow {
                o.count += 1
                o.last = max(o.last, entry.at)
                overflow = o
            } else {
                overflow = (first: entry, count: 1, last: entry.at)
            }
            return out
        }
    }

    /// Summaries of a window that ended before `now` (written along with any other event).
    func due(now: Date) -> [AuditEntry] {
        lock.withLock { rollOver(to: now) }
    }

    /// Every pending summary, the current window's too (at shutdown).
    func drain() -> [AuditEntry] {
        lock.withLock {
            let out = summaries()
            windowIndex = nil
            return out
        }
    }

    /// Caller holds `lock`. Moves to the window of `time`, returning the summaries of the one left.
    private func rollOver(to time: Date) -> [AuditEntry] {
        let index = Int64((time.timeIntervalSince1970 / Self.window).rounded(.down))
        guard let current = windowIndex else {
            windowIndex = index
            return []
        }
        guard index != current else { return [] }
        let out = summaries()
        windowIndex = index
        return out
    }

    /// Caller holds `lock`. The summaries of the current window, which is then emptied.
    private func summaries() -> [AuditEntry] {
        var out: [AuditEntry] = []
        let from = windowIndex.map { Date(timeIntervalSince1970: Double($0) * Self.window) }
        let minute = from.map { " in the minute from " + ISO8601DateFormatter().string(from: $0) } ?? ""
        for c in counted.values.sorted(by: { $0.last < $1.last }) where c.more > 0 {
            var s = c.first
            s.at = c.last
            s.actorID = nil
            s.actor = "anonymous"
            s.target = nil
            s.detail = "aggregated: \(c.more) more like this from this address\(minute)"
            out.append(s)
        }
        if let o = overflow {
            var s = o.first
            s.at = o.last
            s.actorID = nil
            s.actor = "anonymous"
            s.address = "*"
            s.action = "anonymous requests"
            s.target = nil
            s.detail = "aggregated: \(o.count) anonymous refusals from more than \(maxKeys) addresses or actions\(minute)"
            out.append(s)
        }
        counted.removeAll(keepingCapacity: true)
        overflow = nil
        return out
    }
}
