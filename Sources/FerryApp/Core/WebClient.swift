import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Plain HTTP calls (GET a JSON document, POST a form) to services other than Superset: the
/// identity provider's discovery document, keys and token endpoint.
public struct WebClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
    }

    /// Sends `method` to `url` with `headers` and `body`, waiting at most `timeout` seconds.
    public var send: @Sendable (_ method: String, _ url: String, _ headers: [(String, String)], _ body: Data?, _ timeout: Double) async throws -> Response

    public init(send: @escaping @Sendable (String, String, [(String, String)], Data?, Double) async throws -> Response) {
        self.send = send
    }

    /// AsyncHTTPClient's shared client; bodies above 1 MiB are refused.
    ///
    /// A connection the server closes without answering (typically a kept-alive one it dropped
    /// while idle, just as it was reused) is tried once more on a new connection. That is safe
    /// for the calls made here: GETs, and the token exchange, whose authorization code is single
    /// use, so a provider that did take the first attempt refuses the second (invalid_grant).
    public static let live = WebClient { method, url, headers, body, timeout in
        @Sendable func once() async throws -> Response {
            var request = HTTPClientRequest(url: url)
            request.method = HTTPMethod(rawValue: method)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return Response(status: Int(response.status.code), body: Data(buffer: bytes))
        }
        do {
            return try await once()
        } catch let error as HTTPClientError where error == .remoteConnectionClosed {
            return try await once()
        }
    }
}
