import Foundation

extension SupersetClient {
    /// Whether requests made in the current task ask Superset to close their connection after the
    /// answer.
    ///
    /// Purpose: gunicorn keeps a kept-alive connection with the worker process that accepted it,
    /// so parallel requests over a few kept-alive connections can all sit on one process while the
    /// others idle (measured on a 2-worker Superset: one run's whole CPU time on one worker). A new
    /// connection per request is accepted by whichever process is free.
    /// Cost: a connection set-up (TCP, and TLS on https) per request, small beside a Superset API
    /// call (15 ms or more), so only phases that send requests in parallel pay it; sequential work
    /// keeps its connection. Behind a proxy that spreads requests itself it buys nothing.
    /// Set through `spreading(_:_:)`; child tasks inherit it.
    @TaskLocal public static var connectionPerRequest = false

    /// Runs `body` with `connectionPerRequest` on when `concurrency` is above 1 (or already on).
    public static func spreading<T>(
        _ concurrency: Int, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async rethrows -> T {
        try await $connectionPerRequest.withValue(concurrency > 1 || connectionPerRequest) { try await body() }
    }

    /// Requests to send at once in a parallel phase: `asked` (a task's `concurrency`) bounded by
    /// `configuration.parallelRequests`, or that value when nothing is asked.
    public nonisolated func parallelism(asked: Int?) -> Int {
        let limit = max(1, configuration.parallelRequests)
        return min(max(asked ?? limit, 1), limit)
    }
}
