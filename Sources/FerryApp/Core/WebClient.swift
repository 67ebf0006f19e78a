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
        } catch where droppedWithoutAnswer(error) {
            return try await once()
        }
    }

    /// The connection ended before any answer: closed by the server as the request went out
    /// (`remoteConnectionClosed`), found closed when writing to it (`ioOnClosedChannel`, seen
    /// against oidc-provider-mock as "I/O on closed channel"), at end of input, or reset by the
    /// peer (a server closing with the request unread sends a reset).
    static func droppedWithoutAnswer(_ error: any Error) -> Bool {
        if let e = error as? HTTPClientError { return e == .remoteConnectionClosed }
        if let e = error as? ChannelError { return e == .ioOnClosedChannel || e == .eof || e == .alreadyClosed }
        if let e = error as? IOError { return e.errnoCode == ECONNRESET || e.errnoCode == EPIPE }
        return false
    }
}
