import Foundation
@testable import SupersetKit

/// A transport that answers from a handler and records every request; for unit tests of the
/// client's session, retry and error logic. (Integration tests use real Superset.)
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var _requests: [HTTPRequest] = []
    let handler: @Sendable (HTTPRequest, Int) throws -> HTTPResponse

    init(_ handler: @escaping @Sendable (HTTPRequest, Int) throws -> HTTPResponse) {
        self.handler = handler
    }

    var requests: [HTTPRequest] { lock.withLock { _requests } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let n = lock.withLock { () -> Int in
            _requests.append(request)
            return _requests.count
        }
        return try handler(request, n)
    }
}

func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> HTTPResponse {
    HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Data(text.utf8))
}

extension HTTPRequest {
    func header(_ name: String) -> String? { headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1 }
    /// The path as sent, trailing slash included (`URL.path` would drop it).
    var path: String { URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? url.path }
}

final class Recorder<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func append(_ t: T) { lock.withLock { items.append(t) } }
    var all: [T] { lock.withLock { items } }
}

final class Clock: @unchecked Sendable {
    private let lock = NSLock()
    private var t = Date(timeIntervalSince1970: 1_700_000_000)
    var now: Date { lock.withLock { t } }
    func advance(_ s: Double) { lock.withLock { t += s } }
}

func makeClient(
    _ transport: HTTPTransport, clock: Clock = Clock(), sleeps: Recorder<Double> = Recorder(), attempts: Int = 4
) -> SupersetClient {
    var config = SupersetClientConfiguration(
        baseURL: URL(string: "http://superset.test")!, credentials: SupersetCredentials(username: "admin", password: "s3cret"))
    config.retry = RetryPolicy(maxAttempts: attempts, baseDelay: 0.1, maxDelay: 2, random: { 0.5 }, sleep: { sleeps.append($0) })
    return SupersetClient(configuration: config, transport: transport, now: { clock.now })
}

/// The usual answers of a healthy Superset for login and CSRF.
func standardAnswer(_ r: HTTPRequest) -> HTTPResponse? {
    switch r.path {
    case "/api/v1/security/login":
        return json(200, #"{"access_token":"A1","refresh_token":"R1"}"#)
    case "/api/v1/security/refresh":
        return json(200, #"{"access_token":"A2"}"#)
    case "/api/v1/security/csrf_token/":
        return json(200, #"{"result":"CSRF1"}"#, headers: [("Set-Cookie", "session=abc; HttpOnly; Path=/")])
    default:
        return nil
    }
}
