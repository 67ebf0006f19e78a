import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Where and how notification e-mail is handed over: one SMTP server (a relay or a mailbox
/// provider's submission port), its transport security and, optionally, a login.
///
/// `security`: `.none` is plain SMTP (port 25, or a relay on loopback), `.starttls` upgrades the
/// connection after the greeting (port 587), `.tls` speaks TLS from the first byte (port 465).
/// A username that is nil or empty means no login. `timeout` bounds the connection attempt and
/// every single read and write, not the whole conversation.
struct SMTPSettings: Sendable, Equatable {
    typealias Security = SMTPSecurity
    var host: String
    var port: Int
    var security: SMTPSecurity
    var username: String?
    var password: String?
    var from: String
    var verifyTLS: Bool = true
    var timeout: TimeInterval = 20

    /// Whether a login is configured (an empty username counts as none).
    var hasCredentials: Bool { !(username ?? "").isEmpty }
}

/// One notification e-mail: plain text, the same for every recipient.
struct SMTPMessage: Sendable {
    var to: [String]
    var subject: String
    var text: String
}

/// Why an e-mail was not handed over, naming the step that failed (`stage`: `message`,
/// `connect`, `ehlo`, `starttls`, `auth`, `mail`, `rcpt`, `data`) and, when the server said no,
/// its reply code and words (`message` then ends with e.g. "550 5.1.1 User unknown").
///
/// `permanent`: trying again with the same settings and message can't help (the message or the
/// settings are invalid, or the server answered with a 5xx code). Never carries the password.
struct SMTPError: Error, CustomStringConvertible, Sendable {
    var stage: String
    var message: String
    /// The server's reply code when the failure is its answer.
    var code: Int? = nil
    var permanent: Bool = false

    var description: String { "SMTP \(stage): \(message)" }
}

/// A minimal SMTP client (RFC 5321) for notification e-mail, on SwiftNIO and swift-nio-ssl:
/// connect, greeting, EHLO, STARTTLS when asked for, AUTH PLAIN or LOGIN, MAIL, RCPT, DATA,
/// QUIT. One connection per `send`; no pipelining, no connection reuse.
///
/// Preconditions checked before any network traffic (`prepare`): valid addresses, no line
/// break in a header value, a host and a port, and no password over an unencrypted connection
/// unless the server is on loopback.
///
/// Invariants: every read and write has a deadline (`settings.timeout`), so a server that stops
/// answering fails the send with "didn't answer within N s"; a reply is bounded
/// (`SMTPReply.maxBytes`, `SMTPReply.maxLines`), so a hostile server can't exhaust memory; the
/// connection is closed on every path, including cancellation of the calling task.
/// Side effects: one TCP connection (and a TLS session) per call.
enum SMTPClient {
    /// The name Ferry gives itself in EHLO.
    static let clientName = "ferry"

    /// Sends `message` through the server `settings` names, using one event loop of `group`
    /// (which must be able to open TCP connections: a `MultiThreadedEventLoopGroup`, such as
    /// Vapor's). Returns once the server accepted the message after DATA: it is then the
    /// server's to deliver. Throws `SMTPError` (or `CancellationError`).
    static func send(_ message: SMTPMessage, settings: SMTPSettings, group: any EventLoopGroup) async throws {
        let payload = try prepare(message, settings: settings)
        try Task.checkCancellation()
        let tls: NIOSSLContext? = if settings.security == SMTPSecurity.none { nil } else { try tlsContext(settings) }
        let channel = try await connect(settings, implicitTLS: settings.security == .tls ? tls : nil, group: group)
        defer { channel.close(promise: nil) }
        do {
            try await withTaskCancellationHandler {
                let session = try await SMTPSession(channel: channel, timeout: settings.timeout)
                try await converse(session, message: message, payload: payload, settings: settings, tls: tls)
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw error
        }
    }

    /// Every check that needs no network, and the DATA payload for `message` (dot-stuffed,
    /// ending with the lone "."). Pure apart from the defaults of `date` and `messageID`.
    static func prepare(_ message: SMTPMessage, settings: SMTPSettings, date: Date = Date(), messageID: UUID = UUID()) throws -> String {
        let host = settings.host
        guard !host.isEmpty, host.utf8.count <= 253, host.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw SMTPError(stage: "connect", message: "'\(SMTPFormat.printable(host, limit: 100))' is not a host name", permanent: true)
        }
        guard (1...65535).contains(settings.port) else {
            throw SMTPError(stage: "connect", message: "the port must be between 1 and 65535, not \(settings.port)", permanent: true)
        }
        if settings.hasCredentials && settings.security == SMTPSecurity.none && !isLoopback(host) {
            throw SMTPError(stage: "auth", message: "refusing to send the password unencrypted to \(host): use STARTTLS or TLS", permanent: true)
        }
        let formatted = try SMTPFormat.message(message, from: settings.from, date: date, messageID: messageID)
        return SMTPFormat.dataPayload(formatted)
    }

    /// Whether `host` names this machine, where a password can't be overheard on the wire.
    static func isLoopback(_ host: String) -> Bool {
        ["127.0.0.1", "::1", "localhost"].contains(host.lowercased())
    }

    /// The name to send in SNI and check the certificate against: nil for an IP address (SNI
    /// can't carry one; NIOSSL then checks the certificate against the peer's address).
    static func serverHostname(_ host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil ? nil : host
    }

    /// `seconds` bounded to something an event loop can schedule (1 ms - 1 day).
    static func clamped(_ seconds: TimeInterval) -> TimeInterval {
        seconds.isNaN ? 20 : min(max(seconds, 0.001), 86400)
    }

    static func amount(_ seconds: TimeInterval) -> TimeAmount {
        .nanoseconds(Int64(clamped(seconds) * 1e9))
    }

    /// "20" for 20 s, "0.5" for half a second.
    static func secondsText(_ seconds: TimeInterval) -> String {
        let s = clamped(seconds)
        return s == s.rounded() ? String(Int(s)) : String(format: "%.1f", s)
    }

    // MARK: - Conversation

    private static func converse(_ s: SMTPSession, message: SMTPMessage, payload: String, settings: SMTPSettings, tls: NIOSSLContext?) async throws {
        try expect(try await s.read("connect"), [220], "connect", "the server refused the session")
        var extensions = try await hello(s, settings: settings, stage: "ehlo")
        var encrypted = settings.security == .tls
        if settings.security == .starttls {
            guard extensions.startTLS else {
                throw SMTPError(stage: "starttls", message: "the server offers no STARTTLS", permanent: true)
            }
            guard let tls else { throw SMTPError(stage: "starttls", message: "no TLS context") }
            try expect(try await s.command("STARTTLS", "starttls"), [220], "starttls", "the server refused STARTTLS")
            try await s.startTLS(tls, serverHostname: serverHostname(settings.host))
            // The handshake runs now; its failure surfaces as this read's error.
            extensions = try await hello(s, settings: settings, stage: "starttls")
            encrypted = true
        }
        if settings.hasCredentials, let username = settings.username {
            guard encrypted || isLoopback(settings.host) else {
                throw SMTPError(stage: "auth", message: "refusing to send the password unencrypted to \(settings.host): use STARTTLS or TLS", permanent: true)
            }
            try await authenticate(s, username: username, password: settings.password ?? "", extensions: extensions)
        }
        try expect(try await s.command("MAIL FROM:<\(settings.from)>", "mail"), [250], "mail", "the server refused the sender \(settings.from)")
        for recipient in message.to {
            try expect(try await s.command("RCPT TO:<\(recipient)>", "rcpt"), [250, 251], "rcpt", "the server refused the recipient \(recipient)")
        }
        try expect(try await s.command("DATA", "data"), [354], "data", "the server refused DATA")
        try await s.write(payload, "data")
        try expect(try await s.read("data"), [250], "data", "the server refused the message")
        // Accepted: a QUIT that fails (a server hanging up first) changes nothing.
        _ = try? await s.command("QUIT", "quit")
    }

    /// EHLO, or HELO for a server too old for EHLO when plain SMTP without a login will do.
    private static func hello(_ s: SMTPSession, settings: SMTPSettings, stage: String) async throws -> SMTPExtensions {
        let reply = try await s.command("EHLO \(clientName)", stage)
        if reply.code == 250 { return SMTPExtensions(ehlo: reply) }
        if [500, 501, 502, 504].contains(reply.code) && settings.security == SMTPSecurity.none && !settings.hasCredentials {
            try expect(try await s.command("HELO \(clientName)", stage), [250], stage, "the server refused HELO")
            return SMTPExtensions()
        }
        throw failure(reply, stage, "the server refused EHLO")
    }

    /// AUTH PLAIN when the server offers it (one round trip), AUTH LOGIN otherwise.
    private static func authenticate(_ s: SMTPSession, username: String, password: String, extensions: SMTPExtensions) async throws {
        if extensions.authMechanisms.contains("PLAIN") {
            var plain: [UInt8] = [0]
            plain += username.utf8
            plain.append(0)
            plain += password.utf8
            let token = Data(plain).base64EncodedString()
            try expect(try await s.command("AUTH PLAIN \(token)", "auth"), [235], "auth", "the server refused the login")
        } else {
            try expect(try await s.command("AUTH LOGIN", "auth"), [334], "auth", "the server refused AUTH LOGIN")
            try expect(try await s.command(Data(username.utf8).base64EncodedString(), "auth"), [334], "auth", "the server refused the username")
            try expect(try await s.command(Data(password.utf8).base64EncodedString(), "auth"), [235], "auth", "the server refused the login")
        }
    }

    private static func expect(_ reply: SMTPReply, _ codes: Set<Int>, _ stage: String, _ what: String) throws {
        guard codes.contains(reply.code) else { throw failure(reply, stage, what) }
    }

    private static func failure(_ reply: SMTPReply, _ stage: String, _ what: String) -> SMTPError {
        SMTPError(stage: stage, message: "\(what): \(reply.summary)", code: reply.code, permanent: reply.code >= 500)
    }

    // MARK: - Connection

    /// A client TLS context: the system's trust roots and the host name checked, or no check at
    /// all when `verifyTLS` is off (a self-signed relay); TLS 1.2 at least.
    static func tlsContext(_ settings: SMTPSettings) throws -> NIOSSLContext {
        // makeClientConfiguration: full verification against `.default` trust roots (the system's).
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = settings.verifyTLS ? .fullVerification : .none
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SMTPError(stage: settings.security == .tls ? "connect" : "starttls", message: "couldn't set up TLS: \(error)")
        }
    }

    /// A connected channel whose pipeline is [TLS (with `implicitTLS`)], `SMTPReplyHandler`.
    private static func connect(_ settings: SMTPSettings, implicitTLS: NIOSSLContext?, group: any EventLoopGroup) async throws -> any Channel {
        guard let bootstrap = ClientBootstrap(validatingGroup: group) else {
            throw SMTPError(stage: "connect", message: "the event loop group can't open TCP connections")
        }
        let serverName = serverHostname(settings.host)
        do {
            return try await bootstrap
                .connectTimeout(amount(settings.timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if let implicitTLS {
                            try pipeline.addHandler(NIOSSLClientHandler(context: implicitTLS, serverHostname: serverName))
                        }
                        try pipeline.addHandler(SMTPReplyHandler())
                    }
                }
                .connect(host: settings.host, port: settings.port)
                .get()
        } catch {
            throw SMTPError(stage: "connect", message: describeConnectFailure(error, settings))
        }
    }

    private static func describeConnectFailure(_ error: any Error, _ settings: SMTPSettings) -> String {
        let target = "\(settings.host):\(settings.port)"
        if let e = error as? ChannelError, case .connectTimeout = e {
            return "couldn't connect to \(target) within \(secondsText(settings.timeout)) s"
        }
        if let e = error as? NIOConnectionError {
            if !e.connectionErrors.isEmpty {
                var reasons: [String] = []
                for failure in e.connectionErrors where !reasons.contains("\(failure.error)") { reasons.append("\(failure.error)") }
                return "couldn't connect to \(target): " + SMTPFormat.printable(reasons.joined(separator: "; "))
            }
            if let dns = e.dnsAError ?? e.dnsAAAAError {
                return "couldn't resolve \(settings.host): " + SMTPFormat.printable("\(dns)")
            }
        }
        return "couldn't connect to \(target): " + SMTPFormat.printable("\(error)")
    }

    /// An error met while talking, in words (the stage is added by the caller).
    static func describe(_ error: any Error) -> String {
        switch error {
        case let e as SMTPError:
            return e.message
        case is SMTPReplyHandler.Closed:
            return "the server closed the connection"
        case let e as SMTPReply.Malformed:
            return "the server's reply is not SMTP (\(e.description))"
        case let e as ChannelError:
            switch e {
            case .ioOnClosedChannel, .alreadyClosed, .eof, .inputClosed, .outputClosed: return "the server closed the connection"
            default: return SMTPFormat.printable("\(e)")
            }
        case let e as NIOSSLError:
            if e == .uncleanShutdown { return "the server closed the connection" }
            return "TLS failed: " + SMTPFormat.printable("\(e)")
        case is NIOSSLExtraError, is BoringSSLError:
            return "TLS failed: " + SMTPFormat.printable("\(error)")
        default:
            return SMTPFormat.printable("\(error)")
        }
    }
}

/// One SMTP conversation on a connected channel: commands out, replies in, each step with a
/// deadline. The reply handler is only touched on the channel's event loop (`NIOLoopBound`).
private struct SMTPSession: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<SMTPReplyHandler>
    let timeout: TimeInterval

    init(channel: any Channel, timeout: TimeInterval) async throws {
        self.channel = channel
        self.timeout = timeout
        do {
            handler = try await channel.eventLoop.submit {
                try NIOLoopBound(channel.pipeline.syncOperations.handler(type: SMTPReplyHandler.self), eventLoop: channel.eventLoop)
            }.get()
        } catch {
            throw SMTPError(stage: "connect", message: SMTPClient.describe(error))
        }
    }

    /// The next complete reply (replies that came unasked wait in order).
    func read(_ stage: String) async throws -> SMTPReply {
        let handler = self.handler
        let loop = channel.eventLoop
        let future = loop.flatSubmit { handler.value.next(on: loop) }
        return try await within(future, stage, "the server didn't answer within \(SMTPClient.secondsText(timeout)) s")
    }

    /// Writes `text` as is (a command needs its CRLF).
    func write(_ text: String, _ stage: String) async throws {
        let future: EventLoopFuture<Void> = channel.writeAndFlush(ByteBuffer(string: text))
        try await within(future, stage, "the server didn't take what Ferry sent within \(SMTPClient.secondsText(timeout)) s")
    }

    func command(_ line: String, _ stage: String) async throws -> SMTPReply {
        try await write(line + "\r\n", stage)
        return try await read(stage)
    }

    /// Puts TLS in front of the pipeline, after the server's 220 to STARTTLS. Refuses when the
    /// server already sent more: bytes that came in plaintext after the 220 would otherwise be
    /// taken for answers given under TLS (the STARTTLS command injection attack).
    func startTLS(_ context: NIOSSLContext, serverHostname: String?) async throws {
        let handler = self.handler
        let channel = self.channel
        let future = channel.eventLoop.submit {
            guard !handler.value.hasUnreadInput else {
                throw SMTPError(stage: "starttls", message: "the server sent more after its STARTTLS reply; refusing what could be injected plaintext")
            }
            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname), position: .first)
        }
        try await within(future, "starttls", "TLS couldn't start within \(SMTPClient.secondsText(timeout)) s")
    }

    /// `future`'s value, or `SMTPError(stage, timeoutMessage)` once `timeout` passed; other
    /// failures become `SMTPError`s of `stage`.
    private func within<T: Sendable>(_ future: EventLoopFuture<T>, _ stage: String, _ timeoutMessage: String) async throws -> T {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: T.self)
        let timedOut = SMTPError(stage: stage, message: timeoutMessage)
        let timer = loop.scheduleTask(in: SMTPClient.amount(timeout)) { promise.fail(timedOut) }
        future.cascade(to: promise)
        promise.futureResult.whenComplete { _ in timer.cancel() }
        do {
            return try await promise.futureResult.get()
        } catch let error as SMTPError {
            throw error
        } catch {
            throw SMTPError(stage: stage, message: SMTPClient.describe(error))
        }
    }
}

/// Turns the bytes a server sends into `SMTPReply`s and hands them to whoever waits
/// (`next(on:)`). Lives on its channel's event loop, never touched elsewhere.
///
/// Invariants: at most `maxUnread` replies wait unasked and one reply is bounded by
/// `SMTPReplyAssembler`; more, or bytes that aren't SMTP, close the connection. Once the
/// connection fails or closes, replies already received are still handed out, then every
/// `next` fails with the first error.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    struct Closed: Error, CustomStringConvertible, Sendable {
        var description: String { "the server closed the connection" }
    }

    static let maxUnread = 8
    private var assembler = SMTPReplyAssembler()
    private var unread: [SMTPReply] = []
    private var waiting: EventLoopPromise<SMTPReply>?
    private var failure: (any Error)?

    /// Whether anything came that nobody asked for yet (a whole reply or part of one).
    var hasUnreadInput: Bool { !unread.isEmpty || !assembler.isEmpty }

    func next(on loop: any EventLoop) -> EventLoopFuture<SMTPReply> {
        if !unread.isEmpty { return loop.makeSucceededFuture(unread.removeFirst()) }
        if let failure { return loop.makeFailedFuture(failure) }
        // Only one reader at a time; one left over from a timed-out read is done with.
        waiting?.fail(SMTPError(stage: "read", message: "superseded"))
        let promise = loop.makePromise(of: SMTPReply.self)
        waiting = promise
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard failure == nil else { return }
        let buffer = unwrapInboundIn(data)
        do {
            for reply in try assembler.append(buffer.readableBytesView) {
                if let waiting {
                    self.waiting = nil
                    waiting.succeed(reply)
                } else {
                    unread.append(reply)
                    if unread.count > Self.maxUnread {
                        throw SMTPReply.Malformed(description: "more than \(Self.maxUnread) replies nobody asked for")
                    }
                }
            }
        } catch {
            fail(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(Closed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(Closed())
    }

    private func fail(_ error: any Error) {
        let first = failure ?? error
        failure = first
        if let waiting {
            self.waiting = nil
            waiting.fail(first)
        }
    }
}

// MARK: - Replies

/// One server reply: its three-digit code and the text of each line, without the code and the
/// separator ("250-PIPELINING" gives "PIPELINING"). Multi-line replies ("250-..." lines, then
/// "250 ...") are one reply.
struct SMTPReply: Sendable, Equatable {
    /// A reply longer than this (all lines with their CRLFs), or with more lines, is refused.
    static let maxBytes = 64 * 1024
    static let maxLines = 100

    var code: Int
    var lines: [String]

    /// Bytes that aren't an SMTP reply, or a reply over the bounds.
    struct Malformed: Error, CustomStringConvertible, Sendable {
        var description: String
    }

    /// "550 5.1.1 User unknown": the code and the lines on one line, control characters
    /// replaced, at most 300 characters (for error messages and logs).
    var summary: String {
        SMTPFormat.printable(([String(code)] + lines.filter { !$0.isEmpty }).joined(separator: " "))
    }

    /// Parses `text`, which must be exactly one complete reply (CRLF after every line).
    static func parse(_ text: String) throws -> SMTPReply {
        var assembler = SMTPReplyAssembler()
        let replies = try assembler.append(text.utf8)
        guard replies.count == 1, assembler.isEmpty else {
            throw Malformed(description: replies.isEmpty ? "an incomplete reply" : "more than one reply")
        }
        return replies[0]
    }

    /// One line without its line ending: its code, whether it ends the reply ("250 " or a bare
    /// "250") rather than continues it ("250-"), and its text.
    static func parseLine(_ line: some Collection<UInt8>) throws -> (code: Int, last: Bool, text: String) {
        let bytes = Array(line)
        func digit(_ i: Int) -> Int? {
            guard i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) else { return nil }
            return Int(bytes[i] - UInt8(ascii: "0"))
        }
        guard let a = digit(0), let b = digit(1), let c = digit(2), (2...5).contains(a) else {
            throw Malformed(description: "a line without a reply code: '\(SMTPFormat.printable(String(decoding: bytes.prefix(60), as: UTF8.self), limit: 60))'")
        }
        let code = a * 100 + b * 10 + c
        if bytes.count == 3 { return (code, true, "") }
        switch bytes[3] {
        case UInt8(ascii: " "): return (code, true, String(decoding: bytes[4...], as: UTF8.self))
        case UInt8(ascii: "-"): return (code, false, String(decoding: bytes[4...], as: UTF8.self))
        default:
            throw Malformed(description: "a line whose code isn't followed by a space or '-': '\(SMTPFormat.printable(String(decoding: bytes.prefix(60), as: UTF8.self), limit: 60))'")
        }
    }
}

/// Splits a byte stream into lines (CRLF, a bare LF too) and lines into replies. Pure; fed by
/// `SMTPReplyHandler` as bytes arrive, in chunks cut anywhere.
///
/// Invariant: it never holds more than `SMTPReply.maxBytes` of a reply nor more than
/// `SMTPReply.maxLines` lines; past either, `append` throws (and the assembler is then spent).
struct SMTPReplyAssembler {
    private var line: [UInt8] = []
    private var lines: [String] = []
    private var code: Int?
    /// Bytes of the current reply's complete lines, line endings counted as two.
    private var bytes = 0

    /// Whether no part of a reply is held.
    var isEmpty: Bool { line.isEmpty && lines.isEmpty }

    /// The replies `input` completes, in order.
    mutating func append(_ input: some Sequence<UInt8>) throws -> [SMTPReply] {
        var replies: [SMTPReply] = []
        for byte in input {
            if byte == UInt8(ascii: "\n") {
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                if let reply = try endLine() { replies.append(reply) }
                continue
            }
            line.append(byte)
            if bytes + line.count > SMTPReply.maxBytes {
                throw SMTPReply.Malformed(description: "a reply over \(SMTPReply.maxBytes / 1024) KiB")
            }
        }
        return replies
    }

    private mutating func endLine() throws -> SMTPReply? {
        let parsed = try SMTPReply.parseLine(line)
        bytes += line.count + 2
        line.removeAll(keepingCapacity: true)
        if bytes > SMTPReply.maxBytes { throw SMTPReply.Malformed(description: "a reply over \(SMTPReply.maxBytes / 1024) KiB") }
        if let code, code != parsed.code {
            throw SMTPReply.Malformed(description: "a reply whose lines have different codes (\(code), then \(parsed.code))")
        }
        code = parsed.code
        lines.append(parsed.text)
        if lines.count > SMTPReply.maxLines {
            throw SMTPReply.Malformed(description: "a reply of more than \(SMTPReply.maxLines) lines")
        }
        guard parsed.last else { return nil }
        let reply = SMTPReply(code: parsed.code, lines: lines)
        lines = []
        code = nil
        bytes = 0
        return reply
    }
}

/// What the server's EHLO reply offers: the extension keywords (upper-cased; the first line,
/// the server's name, is no extension) and the AUTH mechanisms (also from the obsolete
/// "AUTH=PLAIN LOGIN" form some servers still send).
struct SMTPExtensions: Sendable, Equatable {
    var keywords: Set<String> = []
    var authMechanisms: Set<String> = []

    init() {}

    init(ehlo reply: SMTPReply) {
        for line in reply.lines.dropFirst() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.uppercased() }
            guard let keyword = words.first else { continue }
            if keyword == "AUTH" {
                authMechanisms.formUnion(words.dropFirst())
            } else if keyword.hasPrefix("AUTH=") {
                authMechanisms.insert(String(keyword.dropFirst(5)))
                authMechanisms.formUnion(words.dropFirst())
            }
            keywords.insert(keyword.hasPrefix("AUTH=") ? "AUTH" : keyword)
        }
        authMechanisms.remove("")
    }

    var startTLS: Bool { keywords.contains("STARTTLS") }
}

// MARK: - Message format

/// The e-mail itself (RFC 5322 with MIME): pure functions, tested on their own.
///
/// A message is headers From, To, Subject, Date, Message-ID, MIME-Version, Content-Type
/// (text/plain; charset=utf-8) and Content-Transfer-Encoding base64, then the body in base64
/// lines of 76 characters. Every line ends with CRLF and is plain ASCII: a subject that is not
/// short printable ASCII goes as RFC 2047 encoded-words (`=?UTF-8?B?...?=`), folded; base64
/// leaves no 8-bit byte, overlong line or leading dot in the body.
enum SMTPFormat {
    static let maxAddressLength = 254
    static let maxRecipients = 100
    /// UTF-8 bytes per encoded-word: 56 base64 characters, so "Subject: " and one word fit 78.
    static let bytesPerEncodedWord = 42

    /// The message for `message` from `from`. Throws `SMTPError` (stage `message`) for a line
    /// break in the subject or an address, or an address that isn't one.
    static func message(_ message: SMTPMessage, from: String, date: Date, messageID: UUID) throws -> String {
        try checkAddress(from, role: "sender")
        guard !message.to.isEmpty else { throw SMTPError(stage: "message", message: "there is no recipient", permanent: true) }
        guard message.to.count <= maxRecipients else {
            throw SMTPError(stage: "message", message: "more than \(maxRecipients) recipients", permanent: true)
        }
        for recipient in message.to { try checkAddress(recipient, role: "recipient") }
        if message.subject.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw SMTPError(stage: "message", message: "the subject contains a line break", permanent: true)
        }
        var lines = ["From: \(from)"]
        lines += addressHeader("To", message.to)
        lines += subjectHeader(message.subject)
        lines += [
            "Date: \(Self.date(date))",
            "Message-ID: <\(messageID.uuidString.lowercased())@ferry>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
        ]
        lines += body(message.text)
        return lines.map { $0 + "\r\n" }.joined()
    }

    /// Throws unless `address` is one bare address: one "@" with something on each side, at most
    /// 254 characters, ASCII without spaces, control characters or any of `<>,;"`.
    static func checkAddress(_ address: String, role: String) throws {
        func refuse(_ why: String) -> SMTPError {
            SMTPError(stage: "message", message: "the \(role) address '\(printable(address, limit: 100))' \(why)", permanent: true)
        }
        if address.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) { throw refuse("contains a line break") }
        if address.isEmpty { throw SMTPError(stage: "message", message: "the \(role) address is empty", permanent: true) }
        if address.utf8.count > maxAddressLength { throw refuse("is longer than \(maxAddressLength) characters") }
        if !address.unicodeScalars.allSatisfy(\.isASCII) {
            throw refuse("is not ASCII (write an internationalized domain in punycode, xn--...)")
        }
        if address.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) { throw refuse("contains a space or a control character") }
        if address.contains(where: { "<>,;\"".contains($0) }) { throw refuse("contains one of < > , ; \"") }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty { throw refuse("is not an e-mail address (name@domain)") }
    }

    /// "To: a@x, b@y", folded before a line would pass 78 characters.
    static func addressHeader(_ name: String, _ addresses: [String]) -> [String] {
        var lines: [String] = []
        var line = "\(name):"
        for (i, address) in addresses.enumerated() {
            let token = address + (i == addresses.count - 1 ? "" : ",")
            if line != "\(name):" && line.utf8.count + 1 + token.utf8.count > 78 {
                lines.append(line)
                line = ""
            }
            line += " " + token
        }
        lines.append(line)
        return lines
    }

    /// The Subject header: as is when short printable ASCII, else encoded-words, one per line.
    static func subjectHeader(_ subject: String) -> [String] {
        let plain = subject.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }
            && !subject.contains("=?") && subject.utf8.count <= 78 - "Subject: ".count
        if plain { return ["Subject: " + subject] }
        return encodedWords(subject).enumerated().map { $0.offset == 0 ? "Subject: " + $0.element : " " + $0.element }
    }

    /// `text` as RFC 2047 encoded-words (`=?UTF-8?B?...?=`), each whole characters (never a
    /// UTF-8 sequence cut in two) of at most `maxBytes` bytes. Decoders join adjacent words.
    static func encodedWords(_ text: String, maxBytes: Int = bytesPerEncodedWord) -> [String] {
        func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?=" }
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(Character(scalar)).utf8)
            if !chunk.isEmpty && chunk.count + bytes.count > maxBytes {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words
    }

    /// The body: `text` with CRLF line endings, in base64 lines of 76 characters.
    static func body(_ text: String) -> [String] {
        let encoded = Array(Data(crlf(text)).base64EncodedString().utf8)
        return stride(from: 0, to: encoded.count, by: 76).map { String(decoding: encoded[$0..<min($0 + 76, encoded.count)], as: UTF8.self) }
    }

    /// `text`'s UTF-8 with every line ending (CRLF, LF, CR) made CRLF, the canonical form of
    /// text/plain. (CR and LF bytes never occur inside a multi-byte UTF-8 sequence.)
    static func crlf(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        var afterCR = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\r"):
                out += [0x0D, 0x0A]
                afterCR = true
            case UInt8(ascii: "\n"):
                if !afterCR { out += [0x0D, 0x0A] }
                afterCR = false
            default:
                out.append(byte)
                afterCR = false
            }
        }
        return out
    }

    /// RFC 5322 date in UTC: "Tue, 04 Mar 2025 05:06:07 +0000".
    static func date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int?) -> String { let n = n ?? 0; return n < 10 ? "0\(n)" : "\(n)" }
        let day = days[((c.weekday ?? 1) - 1 + 7) % 7]
        let month = months[((c.month ?? 1) - 1 + 12) % 12]
        return "\(day), \(two(c.day)) \(month) \(c.year ?? 1970) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }

    /// What follows DATA: `message` with a dot doubled at the start of every line (RFC 5321
    /// 4.5.2), ending in CRLF, then the lone "." that ends the data.
    static func dataPayload(_ message: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(message.utf8.count + 8)
        var lineStart = true
        for byte in message.utf8 {
            if lineStart && byte == UInt8(ascii: ".") { out.append(byte) }
            out.append(byte)
            lineStart = byte == UInt8(ascii: "\n")
        }
        if !out.isEmpty && !out.ends(with: [0x0D, 0x0A]) { out += [0x0D, 0x0A] }
        out += Array(".\r\n".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` safe to show on one line: control characters as "?", at most `limit` characters.
    static func printable(_ text: String, limit: Int = 300) -> String {
        var scalars = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            scalars.append(s.value < 0x20 || (0x7F...0x9F).contains(s.value) ? "?" : s)
        }
        let clean = String(scalars)
        return clean.count > limit ? String(clean.prefix(limit)) + "…" : clean
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
