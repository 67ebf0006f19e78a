import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import FerryApp

/// A raw TCP server: it closes its first connection as soon as a request arrives (or, with
/// `atOnce`, as soon as it is accepted), without an answer, and answers `200 {}` on every later
/// one. Counts connections.
private final class DroppingServer: ChannelInboundHandler, @unchecked Sendable {
    let atOnce: Bool
    init(atOnce: Bool = false) { self.atOnce = atOnce }
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let lock = NSLock()
    private var connections = 0
    private var channel: Channel?
    var connectionCount: Int { lock.withLock { connections } }
    var url: String { "http://127.0.0.1:\(channel?.localAddress?.port ?? 0)/token" }

    func channelActive(context: ChannelHandlerContext) {
        let first = lock.withLock { connections += 1; return connections == 1 }
        if first && atOnce { context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let first = lock.withLock { connections == 1 }
        if first { context.close(promise: nil); return }
        let reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply))).whenComplete { _ in context.close(promise: nil) }
    }

    func start() async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { [self] ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(self) } }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func stop() async throws { try await channel?.close() }
}

@Suite struct WebClientTests {
    /// The identity provider's calls survive a connection dropped without an answer (seen as a
    /// flaky sign-in against oidc-provider-mock): one more attempt on a new connection.
    @Test func aConnectionClosedWithoutAnAnswerIsTriedOnceMore() async throws {
        for (method, atOnce) in [("GET", false), ("POST", false), ("GET", true), ("POST", true)] {
            let server = DroppingServer(atOnce: atOnce)
            try await server.start()
            let response = try await WebClient.live.send(method, server.url, [("Content-Type", "application/x-www-form-urlencoded")],
                                                         method == "POST" ? Data("code=x".utf8) : nil, 5)
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "{}")
            #expect(server.connectionCount == 2, "the first connection was dropped (at once: \(atOnce)), the second answered")
            try await server.stop()
        }
    }
}
