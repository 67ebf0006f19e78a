import Vapor

/// Sets a strict Content-Security-Policy (no inline scripts or styles, nothing from other
/// origins) and the usual hardening headers on every response, and echoes the request id.
/// Over HTTPS (see `Request.cameOverHTTPS`) it adds Strict-Transport-Security; every `/api/`
/// response gets `Cache-Control: no-store` (pages that show secrets set it themselves).
struct SecurityHeadersMiddleware: AsyncMiddleware {
    static let hsts = "max-age=31536000"

    static let csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        response.headers.replaceOrAdd(name: "Content-Security-Policy", value: Self.csp)
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        if request.cameOverHTTPS {
            response.headers.replaceOrAdd(name: .strictTransportSecurity, value: Self.hsts)
        }
        if request.url.path == "/api" || request.url.path.hasPrefix("/api/") {
            response.noStore()
        }
        if let id = request.logger[metadataKey: "request-id"] {
            response.headers.replaceOrAdd(name: "X-Request-ID", value: "\(id)")
        }
        return response
    }
}
