import Foundation

/// Rate limits on attempts that check a password (the sign-in form, the password change), per
/// client address and for all clients together: token buckets that hold `perMinute` attempts
/// and refill at `perMinute` a minute. Every attempt counts, whether the username exists or not,
/// so the limits don't tell whether an account exists.
///
/// Time comes from the caller (`app.ferry.now`). At most `maxAddresses` addresses are
/// remembered; beyond that the idle ones (full buckets) are forgotten, and if that isn't enough
/// all of them are (the global limit still holds then). Thread-safe.
final class SignInLimiter: @unchecked Sendable {
    /// Why an attempt is refused, and when to try again.
    struct Refusal: Equatable, Sendable {
        enum Scope: String, Sendable { case address, global }
        var scope: Scope
        /// Whole seconds until the bucket holds an attempt again (at least 1).
        var retryAfter: Int
    }

    static let maxAddresses = 50_000

    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    let perAddress: Int
    let global: Int
    private let lock = NSLock()
    private var buckets: [String: Bucket] = [:]
    private var all: Bucket?

    init(perAddress: Int, global: Int) {
        self.perAddress = max(1, perAddress)
        self.global = max(1, global)
    }

    /// Takes one attempt from `address`'s bucket and the global one: nil when allowed, the
    /// refusal otherwise (a refused attempt takes nothing).
    func take(address: String, now: Date) -> Refusal? {
        lock.withLock {
            var mine = Self.refilled(buckets[address], capacity: perAddress, now: now)
            var everyone = Self.refilled(all, capacity: global, now: now)
            defer {
                remember(address, mine, now: now)
                all = everyone
            }
            if mine.tokens < 1 { return Refusal(scope: .address, retryAfter: Self.wait(mine, capacity: perAddress)) }
            if everyone.tokens < 1 { return Refusal(scope: .global, retryAfter: Self.wait(everyone, capacity: global)) }
            mine.tokens -= 1
            everyone.tokens -= 1
            return nil
        }
    }

    /// Addresses currently remembered (for tests of the bound).
    var rememberedAddresses: Int { lock.withLock { buckets.count } }

    /// Caller holds `lock`.
    private func remember(_ address: String, _ bucket: Bucket, now: Date) {
        if buckets[address] == nil, buckets.count >= Self.maxAddresses {
            // Buckets untouched for a minute are full again: forgetting them changes nothing.
            buckets = buckets.filter { now.timeIntervalSince($0.value.updated) < 60 }
            if buckets.count >= Self.maxAddresses { buckets.removeAll(keepingCapacity: true) }
        }
        buckets[address] = bucket
    }

    private static func refilled(_ bucket: Bucket?, capacity: Int, now: Date) -> Bucket {
        guard var b = bucket else { return Bucket(tokens: Double(capacity), updated: now) }
        let elapsed = max(0, now.timeIntervalSince(b.updated))
        b.tokens = min(Double(capacity), b.tokens + elapsed * Double(capacity) / 60)
        b.updated = now
        return b
    }

    private static func wait(_ bucket: Bucket, capacity: Int) -> Int {
        max(1, Int(((1 - bucket.tokens) * 60 / Double(capacity)).rounded(.up)))
    }
}
