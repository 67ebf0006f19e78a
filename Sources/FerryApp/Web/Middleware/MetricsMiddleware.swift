import Foundation
import Metrics
import Vapor

/// Counts requests and times them by route pattern (not by raw path, so ids don't explode the
/// label space).
struct MetricsMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        var status = 500
        defer {
            let route = request.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "unmatched"
            let dims = [("method", request.method.rawValue), ("route", route), ("status", String(status))]
            Counter(label: "ferry_http_requests_total", dimensions: dims).increment()
            Timer(label: "ferry_http_request_duration_seconds", dimensions: [("method", request.method.rawValue), ("route", route)])
                .recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
        }
        do {
            let response = try await next.respond(to: request)
            status = Int(response.status.code)
            return response
        } catch let e as AbortError {
            status = Int(e.status.code)
            throw e
        } catch let e as AppError {
            status = Int(e.status.code)
            throw e
        }
    }
}
