import Foundation
import Vapor

/// Turns every error into a response: RFC 9457 problem details (JSON) for `/api`, the error page
/// for pages. Unexpected errors are logged with the request id and reported without internals.
struct ProblemMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let response = try Self.render(error, request: request)
            if let seconds = (error as? AppError)?.retryAfter {
                response.headers.replaceOrAdd(name: .retryAfter, value: String(seconds))
            }
            return response
        }
    }

    /// The error as the client wants it: problem JSON for the API and non-browsers, the error page otherwise.
    static func render(_ error: any Error, request: Request) throws -> Response {
        do {
            let problem = Self.problem(for: error, request: request)
            if problem.status >= 500 {
                request.logger.error("request failed", metadata: ["code": .string(problem.code), "error": .string(String(reflecting: error))])
            }
            if request.url.path.hasPrefix("/api") || !Self.acceptsHTML(request) {
                var headers = HTTPHeaders()
                headers.replaceOrAdd(name: .contentType, value: "application/problem+json; charset=utf-8")
                return Response(status: .init(statusCode: problem.status), headers: headers, body: .init(data: try JSONEncoder.ferry.encode(problem)))
            }
            let l = request.localizer
            let page = ErrorPage.View(model: .init(status: problem.status, title: l.t("error.\(problem.code)") == "error.\(problem.code)" ? problem.title : l.t("error.\(problem.code)"), detail: (error as? AppError).map(l.problemText) ?? l.taskText(problem.detail, .problem)))
            let response = Layout.response(page, request: request)
            response.status = .init(statusCode: problem.status)
            return response
        }
    }

    static func acceptsHTML(_ request: Request) -> Bool {
        (request.headers.first(name: .accept) ?? "").contains("text/html")
    }

    static func problem(for error: Error, request: Request) -> ProblemDetails {
        let requestID = request.headers.first(name: "X-Request-ID") ?? request.logger[metadataKey: "request-id"].map { "\($0)" }
        switch error {
        case let e as AppError:
            return ProblemDetails(type: "about:blank", title: e.status.reasonPhrase, status: Int(e.status.code), detail: e.detail, code: e.code,
                                  errors: e.fields.isEmpty ? nil : e.fields, requestId: requestID)
        case let e as DecodingError:
            return ProblemDetails(type: "about:blank", title: "Bad Request", status: 400, detail: "The request body is not valid: \(Self.describe(e))",
                                  code: "bad_request", errors: nil, requestId: requestID)
        case let e as AbortError:
            let code: String
            switch e.status {
            case .notFound: code = "not_found"
            case .payloadTooLarge: code = "too_large"
            case .unsupportedMediaType: code = "unsupported_media_type"
            default: code = e.status.code < 500 ? "bad_request" : "internal"
            }
            var detail = e.reason
            if e.status == .payloadTooLarge { detail = TaskText.text("problem.too_large") }
            if e.status == .notFound && detail == "Not Found" { detail = TaskText.text("problem.no_route", ["path": request.url.path]) }
            return ProblemDetails(type: "about:blank", title: e.status.reasonPhrase, status: Int(e.status.code), detail: detail, code: code,
                                  errors: nil, requestId: requestID)
        default:
            return ProblemDetails(type: "about:blank", title: "Internal Server Error", status: 500,
                                  detail: TaskText.text("problem.internal", ["id": requestID ?? "-"]),
                                  code: "internal", errors: nil, requestId: requestID)
        }
    }

    static func describe(_ e: DecodingError) -> String {
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "\(path): \(c.debugDescription)"
        @unknown default:
            return "malformed JSON"
        }
    }
}
