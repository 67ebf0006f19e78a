import Foundation
import Vapor

extension Request {
    /// Whether the browser reaches Ferry over HTTPS: `FERRY_PUBLIC_URL` is https, or the proxy in
    /// front says so (`X-Forwarded-Proto: https`). Decides Secure cookies and HSTS.
    var cameOverHTTPS: Bool {
        application.ferryConfiguration.publicURL?.hasPrefix("https://") == true
            || headers.first(name: .xForwardedProto)?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
    }

    /// The TCP peer's address: what rate limits count by (headers such as X-Forwarded-For are
    /// the client's to write, so they never decide a limit).
    var limitAddress: String {
        remoteAddress?.ipAddress ?? "-"
    }
}

extension Response {
    /// Marks the response as not to be kept by the browser or any cache (`Cache-Control:
    /// no-store`): the API, and pages that show a secret or take a password.
    func noStore() {
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
    }
}
