import Foundation

/// Runs CPU-heavy or blocking `body` (decoding a screenshot, a child process) on a thread of its
/// own, not on one of Swift's few cooperative threads, which serve every request and task.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
