import Vapor

/// Chooses the page language (`?lang=`, cookie, Accept-Language, default) and remembers an
/// explicit choice in a cookie.
struct LanguageMiddleware: AsyncMiddleware {
    static let cookie = "ferry_lang"
    let fallback: String

    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        let explicit = try? request.query.get(String.self, at: "lang")
        let lang = Localizer.negotiate(
            query: explicit, cookie: request.cookies[Self.cookie]?.string,
            acceptLanguage: request.headers.first(name: .acceptLanguage), fallback: fallback)
        request.storage[LanguageKey.self] = lang
        let response = try await next.respond(to: request)
        if let explicit, Localizer.languages.contains(explicit) {
            response.cookies[Self.cookie] = HTTPCookies.Value(string: explicit, maxAge: 365 * 24 * 3600, path: "/", isHTTPOnly: true, sameSite: .lax)
        }
        return response
    }
}

struct LanguageKey: StorageKey { typealias Value = String }

extension Request {
    var localizer: Localizer { Localizer(language: storage[LanguageKey.self] ?? "en") }
}
