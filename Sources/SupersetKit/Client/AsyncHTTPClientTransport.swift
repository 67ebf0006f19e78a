import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The production transport, on AsyncHTTPClient.
///
/// Owns two clients (TLS verified, and not verified for environments that opt out), shut down by
/// `shutdown()`. Response bodies are capped at `maxBodyBytes`.
public final class AsyncHTTPClientTransport: HTTPTransport, @unchecked Sendable {
    private let verifying: HTTPClient
    private let nonVerifying: HTTPClient
    private let verifyTLS: Bool
    public let maxBodyBytes: Int

    public init(verifyTLS: Bool = true, maxBodyBytes: Int = 128 << 20, shared: (HTTPClient, HTTPClient)? = nil) {
        self.verifyTLS = verifyTLS
        self.maxBodyBytes = maxBodyBytes
        if let shared {
            self.verifying = shared.0
            self.nonVerifying = shared.1
        } else {
            (self.verifying, self.nonVerifying) = Self.makeClients()
        }
    }

    /// A transport sharing this one's connection pools, with another TLS setting.
    public func with(verifyTLS: Bool) -> AsyncHTTPClientTransport {
        AsyncHTTPClientTransport(verifyTLS: verifyTLS, maxBodyBytes: maxBodyBytes, shared: (verifying, nonVerifying))
    }

    public static func makeClients() -> (HTTPClient, HTTPClient) {
        var config = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5)))
        config.decompression = .enabled(limit: .ratio(50))
        // Ferry's RetryPolicy owns retries; AHC's own connect retries would hold a refused
        // connection until the deadline and hide "unreachable" behind a timeout.
        config.connectionPool.retryConnectionEstablishment = false
        var insecure = config
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        insecure.tlsConfiguration = tls
        return (
            HTTPClient(eventLoopGroupProvider: .singleton, configuration: config),
            HTTPClient(eventLoopGroupProvider: .singleton, configuration: insecure)
        )
    }

    public func shutdown() async throws {
        try await verifying.shutdown()
        try await nonVerifying.shutdown()
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var req = HTTPClientRequest(url: request.url.absoluteString)
        req.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { req.headers.add(name: name, value: value) }
        if let body = request.body { req.body = .bytes(ByteBuffer(bytes: body)) }
        let client = verifyTLS ? verifying : nonVerifying
        let deadline = TimeAmount.milliseconds(Int64(request.timeout * 1000))
        do {
            let response = try await client.execute(req, timeout: deadline)
            let body = try await response.body.collect(upTo: maxBodyBytes)
            // AsyncHTTPClient inflates gzip and deflate bodies but keeps the headers that
            // described the compressed bytes; drop them so the headers describe `body`.
            let inflated = response.headers["Content-Encoding"].contains { ["gzip", "deflate"].contains($0.lowercased()) }
            return HTTPResponse(
                status: Int(response.status.code),
                headers: response.headers
                    .filter { !inflated || !["content-encoding", "content-length"].contains($0.name.lowercased()) }
                    .map { ($0.name, $0.value) },
                body: Data(body.readableBytesView))
        } catch {
            throw Self.classify(error, timeout: request.timeout, host: request.url.host ?? "")
        }
    }

    static func classify(_ error: Error, timeout: Double, host: String) -> Error {
        if error is SupersetError { return error }
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout:
                return SupersetError.timeout(seconds: timeout)
            case .remoteConnectionClosed:
                return SupersetError.unreachable("\(host) closed the connection")
            default:
                break
            }
            if String(describing: e).contains("bodyLengthMismatch") || String(describing: e).contains("tooMany") {
                return SupersetError.invalidResponse("the response body is too large or malformed")
            }
        }
        if error is NIOSSLError || String(describing: type(of: error)).contains("SSL")
            || String(describing: error).contains("handshake") || String(describing: error).contains("certificate")
        {
            return SupersetError.tls(String(describing: error))
        }
        if error is NIOTooManyBytesError {
            return SupersetError.invalidResponse("the response body is too large")
        }
        if error is CancellationError { return error }
        let text = String(describing: error)
        if String(reflecting: type(of: error)).contains("Decompression") || text.contains("inflationError") {
            return SupersetError.invalidResponse("the response body could not be decompressed (\(Self.shorten(text)))")
        }
        if text.contains("connectTimeout") || text.contains("Timeout") {
            return SupersetError.timeout(seconds: timeout)
        }
        return SupersetError.unreachable("cannot connect to \(host): \(Self.shorten(text))")
    }

    static func shorten(_ s: String) -> String { s.count > 200 ? String(s.prefix(200)) + "…" : s }
}
