import Foundation
import Vapor

/// Puts the navigation's red count (dashboards whose latest check FAILed, in the environments
/// the user may read) on the request, for pages only: a signed-in GET of a routed page that
/// wants HTML. A failure to count leaves the count out; it never fails the page.
struct NavCountsMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: AsyncResponder) async throws -> Response {
        if req.method == .GET, req.route != nil, let principal = req.principal, principal.can(.inventoryRead),
           !req.url.path.hasPrefix("/api"), !req.url.path.hasPrefix("/ws"), ProblemMiddleware.acceptsHTML(req) {
            do {
                let counts = try await req.application.healthFailureCount.counts(on: req.db)
                if !counts.isEmpty {
                    let directory = try await req.environmentDirectory()
                    req.storage[HealthFailuresKey.self] = counts.reduce(0) { sum, entry in
                        let visible = directory.byID[entry.key].map { principal.can(.inventoryRead, environment: $0) } ?? false
                        return sum + (visible ? entry.value : 0)
                    }
                }
            } catch {
                req.logger.warning("could not count failing dashboards for the navigation", metadata: ["error": .string(String(describing: error))])
            }
        }
        if req.method == .GET, req.route != nil, let principal = req.principal, principal.can(.tasksRead),
           !req.url.path.hasPrefix("/api"), !req.url.path.hasPrefix("/ws"), ProblemMiddleware.acceptsHTML(req) {
            do {
                let active = try await TaskActivity.active(user: principal.username, on: req.db)
                var count = 0, awaiting = 0
                for task in active where await req.permits(.tasksRead, environmentIDs: task.environmentIDs) {
                    count += 1
                    if task.isAwaitingInput { awaiting += 1 }
                }
                req.storage[ActiveTasksKey.self] = (count, awaiting)
            } catch {
                req.logger.warning("could not count the user's running tasks for the navigation", metadata: ["error": .string(String(describing: error))])
            }
        }
        return try await next.respond(to: req)
    }
}

/// The user's unfinished tasks and those waiting for input, read by `Request.pageContext`.
struct ActiveTasksKey: StorageKey { typealias Value = (active: Int, awaiting: Int) }

/// The red count of `NavCountsMiddleware`, read by `Request.pageContext`.
struct HealthFailuresKey: StorageKey { typealias Value = Int }

extension Application {
    private struct HealthFailureCountKey: StorageKey { typealias Value = HealthFailureCount }

    /// The process's cache of failing dashboards per environment (set by `configure`).
    var healthFailureCount: HealthFailureCount {
        get { required(HealthFailureCountKey.self, "The failing-dashboards count") }
        set { storage[HealthFailureCountKey.self] = newValue }
    }
}
