import Foundation

/// Why a call to a Superset failed, in terms an operator can act on.
///
/// Invariant: no case carries a password, token or cookie. Messages quote Superset's own
/// text where it gave one (per-file import messages included), never a bare "failed".
public enum SupersetError: Error, Sendable, Equatable {
    /// The URL is not a usable http(s) base URL.
    case invalidURL(String)
    /// Nothing answered: DNS failure, refused connection, reset.
    case unreachable(String)
    /// No answer within the configured time.
    case timeout(seconds: Double)
    /// TLS handshake or certificate verification failed.
    case tls(String)
    /// Something answered, but it is not a Superset (no `/health`, no security API).
    case notSuperset(String)
    /// Login was refused.
    case badCredentials(String)
    /// The user lacks a permission for the call.
    case forbidden(String)
    /// A 404 for a resource.
    case notFound(String)
    /// Rate limited and retries ran out.
    case rateLimited
    /// Any other HTTP error status, with Superset's message.
    case http(status: Int, message: String)
    /// The body could not be understood.
    case invalidResponse(String)
    /// An import was refused; one entry per file Superset complained about.
    case importFailed([ImportProblem])
    /// The bundle is not acceptable (hostile or malformed archive, missing files).
    case bundle(BundleError)

    /// A short machine-readable code, used by the API and the UI to pick a translation.
    public var code: String {
        switch self {
        case .invalidURL: return "invalid_url"
        case .unreachable: return "unreachable"
        case .timeout: return "timeout"
        case .tls: return "tls"
        case .notSuperset: return "not_superset"
        case .badCredentials: return "bad_credentials"
        case .forbidden: return "forbidden"
        case .notFound: return "not_found"
        case .rateLimited: return "rate_limited"
        case .http: return "http_error"
        case .invalidResponse: return "invalid_response"
        case .importFailed: return "import_failed"
        case .bundle: return "bad_bundle"
        }
    }

    /// Whether a retry might succeed.
    public var isTransient: Bool {
        switch self {
        case .unreachable, .timeout, .rateLimited: return true
        case .http(let status, _): return [502, 503, 504].contains(status)
        default: return false
        }
    }
}

/// One complaint of Superset's about one file of an imported bundle.
public struct ImportProblem: Sendable, Equatable, Codable {
    public var path: String?
    public var message: String
    public init(path: String?, message: String) {
        self.path = path
        self.message = message
    }
}

extension SupersetError: LocalizedError {
    public var errorDescription: String? {
        switch self {
        case .invalidURL(let m): return "Invalid Superset URL: \(m)"
        case .unreachable(let m): return "Superset is unreachable: \(m)"
        case .timeout(let s): return "Superset did not answer within \(Self.format(s)) s"
        case .tls(let m): return "TLS failed: \(m)"
        case .notSuperset(let m): return "The server does not look like Apache Superset: \(m)"
        case .badCredentials(let m): return "Superset refused the login: \(m)"
        case .forbidden(let m): return "Superset refused the call: \(m)"
        case .notFound(let m): return "Not found on Superset: \(m)"
        case .rateLimited: return "Superset kept rate-limiting the calls (HTTP 429)"
        case .http(let status, let m): return "Superset answered HTTP \(status): \(m)"
        case .invalidResponse(let m): return "Superset sent a response Ferry cannot read: \(m)"
        case .importFailed(let problems):
            let lines = problems.map { p in (p.path.map { "\($0): " } ?? "") + p.message }
            return "Superset refused the import: " + lines.joined(separator: "; ")
        case .bundle(let e): return e.errorDescription
        }
    }

    private static func format(_ s: Double) -> String {
        s.rounded() == s ? String(Int(s)) : String(format: "%.1f", s)
    }
}
