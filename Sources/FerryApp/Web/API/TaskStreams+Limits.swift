import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Vapor

/// The limits on task WebSockets: at most `FERRY_WS_PER_USER` connections per user (one more
/// is refused with 429 before the upgrade, or, when two race for the last place, closed right
/// after it with a reason), and a bounded send queue per connection (`FrameOutbox`): a client
/// that doesn't read its frames is disconnected instead of making Ferry buffer without end.
extension TaskStreams {
    /// Registers a WebSocket route at `url` whose connections count against the caller's limit.
    /// `follow` runs once the connection is up, with the socket and its bounded outbox.
    static func liveRoute(
        _ app: Application, _ url: SiteURL, follow: @escaping @Sendable (Request, WebSocket, FrameOutbox) async -> Void
    ) {
        app.on(.GET, url.pathComponents) { req async throws -> Response in
            try upgrade(req, follow: follow)
        }.guarded(url, .GET)
    }

    /// The upgrade response for `req`, or 429 when its user holds all their connections.
    static func upgrade(_ req: Request, follow: @escaping @Sendable (Request, WebSocket, FrameOutbox) async -> Void) throws -> Response {
        guard let user = req.principal?.userID else { throw AuthErrors.unauthenticated }
        let limiter = req.application.webSocketLimiter
        guard limiter.hasRoom(user) else { throw tooMany(limiter.perUser) }
        let response = Response(status: .switchingProtocols)
        response.upgrader = ClosableWebSocketUpgrader { ws, channel in
            guard limiter.acquire(user) else {
                // Another connection took the last place between the check and the upgrade.
                let frame = (try? JSONEncoder.ferry.encode(["error": tooMany(limiter.perUser).detail]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? #"{"error":"too many connections"}"#
                ws.send(frame, promise: nil)
                ws.close(code: .policyViolation, promise: nil)
                return
            }
            channel.closeFuture.whenComplete { _ in limiter.release(user) }
            let outbox = FrameOutbox(
                write: { text, written in
                    let promise = channel.eventLoop.makePromise(of: Void.self)
                    promise.futureResult.whenComplete { _ in written() }
                    ws.send(text, promise: promise)
                },
                close: {
                    // The client stopped reading: a close frame would wait behind the frames it
                    // doesn't read, so the connection itself is closed.
                    req.logger.warning("closing a task WebSocket whose client does not keep up", metadata: ["user": .string(user.uuidString)])
                    channel.close(mode: .all, promise: nil)
                })
            Task { await follow(req, ws, outbox) }
        }
        return response
    }

    static func tooMany(_ limit: Int) -> AppError {
        AppError(.tooManyRequests, code: "too_many_connections", key: "stream_limit", ["limit": "\(limit)"], retryAfter: 5)
    }
}

/// Vapor's WebSocket upgrade, also handing over the connection's channel: closing that is the
/// only way to drop a client that has stopped reading (a close frame would queue behind what it
/// doesn't read).
struct ClosableWebSocketUpgrader: Upgrader {
    var maxFrameSize = 1 << 14
    let onUpgrade: @Sendable (WebSocket, any Channel) -> Void

    init(onUpgrade: @escaping @Sendable (WebSocket, any Channel) -> Void) {
        self.onUpgrade = onUpgrade
    }

    func applyUpgrade(req: Request, res: Response) -> any HTTPServerProtocolUpgrader {
        let onUpgrade = self.onUpgrade
        return NIOWebSocketServerUpgrader(
            maxFrameSize: maxFrameSize, automaticErrorHandling: false,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders?.some(HTTPHeaders())) },
            upgradePipelineHandler: { channel, _ in
                WebSocket.server(on: channel) { ws in onUpgrade(ws, channel) }
            })
    }
}
