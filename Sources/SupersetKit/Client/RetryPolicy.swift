import Foundation

/// Bounded retries with exponential backoff and full jitter.
///
/// Invariant: at most `maxAttempts` sends per call; the wait before attempt n (n >= 2) is a
/// random duration in [0, min(maxDelay, baseDelay * 2^(n-2))], or the server's `Retry-After`
/// when it is given and below `maxDelay`.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// Returns a number in [0, 1); injectable for tests.
    public var random: @Sendable () -> Double
    /// Waits the given seconds; injectable for tests.
    public var sleep: @Sendable (Double) async throws -> Void

    public init(
        maxAttempts: Int = 4, baseDelay: Double = 0.25, maxDelay: Double = 5,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        sleep: @escaping @Sendable (Double) async throws -> Void = { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.random = random
        self.sleep = sleep
    }

    public static let none = RetryPolicy(maxAttempts: 1)

    /// The delay before the given attempt (2 is the first retry).
    public func delay(beforeAttempt attempt: Int, retryAfter: Double?) -> Double {
        if let retryAfter, retryAfter >= 0, retryAfter <= maxDelay { return retryAfter }
        let cap = min(maxDelay, baseDelay * pow(2, Double(max(0, attempt - 2))))
        return cap * random()
    }

    public static let retryableStatuses: Set<Int> = [429, 502, 503, 504]
}
