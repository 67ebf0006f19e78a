import Foundation
import Logging

/// How Ferry logs in to one Superset.
public struct SupersetCredentials: Sendable {
    public enum Provider: String, Sendable, Codable, CaseIterable { case db, ldap }
    public var username: String
    public var password: String
    public var provider: Provider

    public init(username: String, password: String, provider: Provider = .db) {
        self.username = username
        self.password = password
        self.provider = provider
    }
}

public struct SupersetClientConfiguration: Sendable {
    public var baseURL: URL
    public var credentials: SupersetCredentials
    /// Seconds allowed for one exchange.
    public var timeout: Double = 30
    /// Seconds allowed for one import or export exchange.
    public var bulkTimeout: Double = 300
    public var retry: RetryPolicy = RetryPolicy()
    /// Access tokens live 15 minutes on Superset; refresh ahead of that.
    public var refreshAfter: Double = 12 * 60
    public var pageSize: Int = 100
    /// Requests Ferry may send this Superset at once in a parallel phase (export batches, chart
    /// checks, filter writes). Above 1 pays only when Superset serves requests side by side:
    /// several gunicorn workers on a PostgreSQL or MySQL metadata store.
    public var parallelRequests: Int = 1
    public var exportBatchSize: Int = 50
    /// Seconds between the first requests of a parallel export. Sent in the same instant, they
    /// can all be accepted by one gunicorn worker before the others wake; a short gap lets the
    /// first one get busy, so an idle worker takes the next (see `connectionPerRequest`).
    public var parallelStartGap: Double = 0.05

    public init(baseURL: URL, credentials: SupersetCredentials) {
        self.baseURL = baseURL
        self.credentials = credentials
    }
}

/// A session with one Superset environment.
///
/// Purpose: every REST exchange Ferry has with a Superset goes through here.
/// Invariants: at most one login is in flight; the access token is refreshed after
/// `refreshAfter` seconds and re-obtained once on a 401; every write carries the CSRF token, the
/// session cookie it came with, and a Referer. Transient failures (429, 502-504, connection
/// errors) are retried within `retry`; timeouts are retried for reads only.
/// Side effects: HTTP through the injected transport; the clock is injected.
/// Secrets: the password and tokens are never logged nor put in errors.
public actor SupersetClient {
    public let configuration: SupersetClientConfiguration
    let transport: HTTPTransport
    let now: @Sendable () -> Date
    var logger: Logger

    var accessToken: String?
    var refreshToken: String?
    var tokenObtainedAt: Date?
    var csrfToken: String?
    var cookies: [String: String] = [:]
    var loginTask: Task<Void, Error>?

    public init(
        configuration: SupersetClientConfiguration, transport: HTTPTransport,
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "ferry.superset")
    ) {
        self.configuration = configuration
        self.transport = transport
        self.now = now
        self.logger = logger
        self.logger[metadataKey: "superset"] = .string(configuration.baseURL.absoluteString)
    }

    // MARK: Session

    /// Logs in now, replacing any session.
    public func login() async throws {
        if let loginTask { return try await loginTask.value }
        let task = Task { try await self.performLogin() }
        loginTask = task
        defer { loginTask = nil }
        try await task.value
    }

    private func performLogin() async throws {
        let creds = configuration.credentials
        let body: [String: BundleValue] = [
            "username": .string(creds.username), "password": .string(creds.password),
            "provider": .string(creds.provider.rawValue), "refresh": .bool(true),
        ]
        let response = try await exchange(
            method: "POST", path: "/api/v1/security/login", body: Data(BundleValue.map(body).jsonText().utf8),
            contentType: "application/json", authorized: false, timeout: configuration.timeout, idempotent: true)
        switch response.status {
        case 200:
            guard let json = try? BundleValue.parseJSON(response.body), let token = json["access_token"]?.stringValue else {
                throw SupersetError.notSuperset("the login endpoint did not return an access token")
            }
            accessToken = token
            refreshToken = json["refresh_token"]?.stringValue
            tokenObtainedAt = now()
            csrfToken = nil
            logger.debug("logged in", metadata: ["user": .string(creds.username)])
        case 400, 401, 403:
            let message = Self.message(from: response) ?? "not authorized"
            if (try? BundleValue.parseJSON(response.body)) == nil {
                throw SupersetError.notSuperset("the login endpoint answered HTTP \(response.status) without JSON")
            }
            throw SupersetError.badCredentials(
                "user '\(creds.username)' with provider '\(creds.provider.rawValue)': \(message)")
        case 404, 405:
            throw SupersetError.notSuperset("no Superset login API at \(configuration.baseURL.absoluteString)")
        default:
            throw Self.error(for: response, context: "login")
        }
    }

    /// Refreshes the access token with the refresh token, or logs in again when that fails.
    func ensureSession() async throws {
        if let loginTask { try await loginTask.value }
        guard accessToken != nil, let obtained = tokenObtainedAt else { return try await login() }
        guard now().timeIntervalSince(obtained) >= configuration.refreshAfter else { return }
        if let refreshToken {
            let response = try await exchange(
                method: "POST", path: "/api/v1/security/refresh", body: nil, contentType: nil, authorized: false,
                timeout: configuration.timeout, idempotent: true, bearer: refreshToken)
            if response.status == 200, let token = (try? BundleValue.parseJSON(response.body))?["access_token"]?.stringValue {
                accessToken = token
                tokenObtainedAt = now()
                logger.debug("access token refreshed")
                return
            }
        }
        try await login()
    }

    func ensureCSRF() async throws -> String {
        if let csrfToken { return csrfToken }
        let response = try await authorized(method: "GET", path: "/api/v1/security/csrf_token/", write: false)
        guard response.status == 200, let token = (try? BundleValue.parseJSON(response.body))?["result"]?.stringValue else {
            throw Self.error(for: response, context: "CSRF token")
        }
        csrfToken = token
        return token
    }

    // MARK: Requests

    /// An authorised request: session, CSRF for writes, one re-login on 401.
    func authorized(
        method: String, path: String, query: String? = nil, body: Data? = nil, contentType: String? = nil,
        write: Bool, timeout: Double? = nil
    ) async throws -> HTTPResponse {
        try await ensureSession()
        var csrf: String? = nil
        if write { csrf = try await ensureCSRF() }
        let response = try await exchange(
            method: method, path: path, query: query, body: body, contentType: contentType, authorized: true,
            timeout: timeout ?? configuration.timeout, idempotent: method == "GET", csrf: csrf)
        guard response.status == 401 || (write && Self.isCSRFFailure(response)) else { return response }
        // The token expired or was revoked (or the CSRF session was lost): one fresh session.
        logger.info("session rejected; logging in again", metadata: ["status": .stringConvertible(response.status)])
        accessToken = nil
        cookies = [:]
        csrfToken = nil
        try await login()
        if write { csrf = try await ensureCSRF() }
        return try await exchange(
            method: method, path: path, query: query, body: body, contentType: contentType, authorized: true,
            timeout: timeout ?? configuration.timeout, idempotent: method == "GET", csrf: csrf)
    }

    static func isCSRFFailure(_ response: HTTPResponse) -> Bool {
        response.status == 400 && String(decoding: response.body.prefix(500), as: UTF8.self).contains("CSRF")
    }

    /// One logical exchange with retries.
    func exchange(
        method: String, path: String, query: String? = nil, body: Data?, contentType: String?, authorized: Bool,
        timeout: Double, idempotent: Bool, csrf: String? = nil, bearer: String? = nil
    ) async throws -> HTTPResponse {
        let url = try makeURL(path: path, query: query)
        var attempt = 1
        while true {
            try Task.checkCancellation()
            var headers: [(String, String)] = [("Accept", "application/json"), ("Referer", configuration.baseURL.absoluteString + "/")]
            if let token = bearer ?? (authorized ? accessToken : nil) { headers.append(("Authorization", "Bearer \(token)")) }
            if let csrf { headers.append(("X-CSRFToken", csrf)) }
            if let contentType { headers.append(("Content-Type", contentType)) }
            if Self.connectionPerRequest { headers.append(("Connection", "close")) }
            if !cookies.isEmpty {
                headers.append(("Cookie", cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")))
            }
            let started = now()
            do {
                let response = try await transport.send(HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: timeout))
                storeCookies(response)
                logger.trace("superset call", metadata: [
                    "method": .string(method), "path": .string(path), "status": .stringConvertible(response.status),
                    "ms": .stringConvertible(Int(now().timeIntervalSince(started) * 1000)),
                ])
                if RetryPolicy.retryableStatuses.contains(response.status), attempt < configuration.retry.maxAttempts {
                    let retryAfter = response.header("Retry-After").flatMap(Double.init)
                    let delay = configuration.retry.delay(beforeAttempt: attempt + 1, retryAfter: retryAfter)
                    logger.info("transient status; retrying", metadata: [
                        "path": .string(path), "status": .stringConvertible(response.status),
                        "attempt": .stringConvertible(attempt), "delay": .stringConvertible(delay),
                    ])
                    attempt += 1
                    try await configuration.retry.sleep(delay)
                    continue
                }
                if response.status == 429 { throw SupersetError.rateLimited }
                return response
            } catch let error as SupersetError {
                let retryable: Bool
                switch error {
                case .unreachable: retryable = true
                case .timeout: retryable = idempotent
                default: retryable = false
                }
                guard retryable, attempt < configuration.retry.maxAttempts else { throw error }
                let delay = configuration.retry.delay(beforeAttempt: attempt + 1, retryAfter: nil)
                logger.info("transient failure; retrying", metadata: [
                    "path": .string(path), "error": .string(error.code), "attempt": .stringConvertible(attempt),
                ])
                attempt += 1
                try await configuration.retry.sleep(delay)
            }
        }
    }

    func makeURL(path: String, query: String?) throws -> URL {
        var text = configuration.baseURL.absoluteString + path
        if let query { text += "?" + query }
        guard let url = URL(string: text) else { throw SupersetError.invalidURL(text) }
        return url
    }

    func storeCookies(_ response: HTTPResponse) {
        for header in response.headers("Set-Cookie") {
            guard let pair = header.split(separator: ";", maxSplits: 1).first,
                let eq = pair.firstIndex(of: "=")
            else { continue }
            let name = pair[..<eq].trimmingCharacters(in: .whitespaces)
            let value = String(pair[pair.index(after: eq)...])
            if value.isEmpty { cookies.removeValue(forKey: name) } else { cookies[name] = value }
        }
    }

    // MARK: Errors

    /// Superset's message from an error body: `message`, `msg`, or the `errors[].message` list.
    static func message(from response: HTTPResponse) -> String? {
        guard let json = try? BundleValue.parseJSON(response.body) else { return nil }
        if let m = json["message"] {
            if let s = m.stringValue { return s }
            return m.jsonText()
        }
        if let m = json["msg"]?.stringValue { return m }
        if let errors = json["errors"]?.listValue {
            let messages = errors.compactMap { $0["message"]?.stringValue }
            if !messages.isEmpty { return messages.joined(separator: "; ") }
        }
        return nil
    }

    static func error(for response: HTTPResponse, context: String) -> SupersetError {
        let message = message(from: response) ?? Self.snippet(response.body)
        switch response.status {
        case 401: return .badCredentials("\(context): \(message)")
        case 403: return .forbidden("\(context): \(message)")
        case 404: return .notFound("\(context): \(message)")
        case 429: return .rateLimited
        default: return .http(status: response.status, message: "\(context): \(message)")
        }
    }

    static func snippet(_ body: Data) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "empty response" : text
    }

    /// Decodes a JSON body or throws `invalidResponse` naming the call.
    static func json(_ response: HTTPResponse, context: String) throws -> BundleValue {
        do {
            return try BundleValue.parseJSON(response.body)
        } catch {
            throw SupersetError.invalidResponse("\(context): the body is not JSON (\(snippet(response.body)))")
        }
    }
}
