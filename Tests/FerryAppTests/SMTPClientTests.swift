import Foundation
import Testing

@testable import FerryApp

/// The parts of the SMTP client that need no server: reading replies (whole, in pieces,
/// malformed, oversized), what EHLO offers, the message as it goes over the wire, and what is
/// refused before any connection.
@Suite struct SMTPClientTests {
    /// 2025-03-04 05:06:07 UTC, a Tuesday.
    static let date = Date(timeIntervalSince1970: 1_741_064_767)
    static let id = UUID(uuidString: "0B7C8C4E-3F0A-4D8B-9E1C-2A5D6F7E8091")!
    static let message = SMTPMessage(to: ["ops@example.com"], subject: "Backup finished", text: "All good.")
    static let settings = SMTPSettings(host: "smtp.example.com", port: 587, security: .starttls, username: "ferry", password: "s3cret",
                                       from: "ferry@example.com")

    /// The `SMTPError` `body` throws, nil when it throws nothing (or something else).
    static func error(_ body: () throws -> Void) -> SMTPError? {
        do {
            try body()
            return nil
        } catch let e as SMTPError {
            return e
        } catch {
            return nil
        }
    }

    static func format(_ message: SMTPMessage, from: String = "ferry@example.com") throws -> String {
        try SMTPFormat.message(message, from: from, date: date, messageID: id)
    }

    /// Every CR is followed by LF and every LF preceded by CR.
    static func onlyCRLF(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        for (i, b) in bytes.enumerated() {
            if b == 0x0D && (i + 1 == bytes.count || bytes[i + 1] != 0x0A) { return false }
            if b == 0x0A && (i == 0 || bytes[i - 1] != 0x0D) { return false }
        }
        return true
    }

    /// The header `name` with its continuation lines, without the "Name: " and the folding space.
    static func header(_ message: String, _ name: String) -> [String] {
        var out: [String] = []
        var inside = false
        for line in message.components(separatedBy: "\r\n") {
            if line.isEmpty { break }
            if line.hasPrefix(name + ": ") {
                inside = true
                out.append(String(line.dropFirst(name.count + 2)))
            } else if inside && line.hasPrefix(" ") {
                out.append(String(line.dropFirst()))
            } else {
                inside = false
            }
        }
        return out
    }

    // MARK: Replies

    @Test func readsAOneLineReply() throws {
        let reply = try SMTPReply.parse("220 mail.example.com ESMTP Postfix\r\n")
        #expect(reply == SMTPReply(code: 220, lines: ["mail.example.com ESMTP Postfix"]))
        #expect(reply.summary == "220 mail.example.com ESMTP Postfix")
        // A bare code is a whole reply too.
        #expect(try SMTPReply.parse("250\r\n") == SMTPReply(code: 250, lines: [""]))
        #expect(try SMTPReply.parse("354 End data with <CR><LF>.<CR><LF>\r\n").code == 354)
    }

    @Test func readsAMultiLineReplyAsOneAndWhatEHLOOffers() throws {
        let ehlo = "250-mail.example.com Hello ferry\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH LOGIN PLAIN\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
        let reply = try SMTPReply.parse(ehlo)
        #expect(reply.code == 250)
        #expect(reply.lines == ["mail.example.com Hello ferry", "PIPELINING", "SIZE 10240000", "AUTH LOGIN PLAIN", "STARTTLS", "8BITMIME"])
        let offer = SMTPExtensions(ehlo: reply)
        #expect(offer.startTLS)
        #expect(offer.authMechanisms == ["LOGIN", "PLAIN"])
        #expect(offer.keywords.isSuperset(of: ["PIPELINING", "SIZE", "AUTH", "STARTTLS", "8BITMIME"]))
        // The obsolete "AUTH=" form, lower case; the greeting line is no extension.
        let old = SMTPExtensions(ehlo: try SMTPReply.parse("250-STARTTLS.example.com\r\n250-auth=login\r\n250 HELP\r\n"))
        #expect(old.authMechanisms == ["LOGIN"] && !old.startTLS)
        #expect(SMTPExtensions(ehlo: try SMTPReply.parse("250 mail.example.com\r\n")) == SMTPExtensions())
    }

    @Test func assemblesRepliesFromPiecesCutAnywhere() throws {
        let stream = "250-mail.example.com\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n354 go ahead\r\n"
        var assembler = SMTPReplyAssembler()
        var replies: [SMTPReply] = []
        for byte in stream.utf8 { replies += try assembler.append([byte]) }
        #expect(replies == [SMTPReply(code: 250, lines: ["mail.example.com", "AUTH PLAIN", "STARTTLS"]), SMTPReply(code: 354, lines: ["go ahead"])])
        #expect(assembler.isEmpty)
        // Two replies in one read (a bare LF ends a line too), and part of a third kept for later.
        var other = SMTPReplyAssembler()
        #expect(try other.append(Array("221 bye\n250 ok\r\n235 2.7".utf8)).map(\.code) == [221, 250])
        #expect(!other.isEmpty)
        #expect(try other.append(Array(".0 Authentication successful\r\n".utf8)) == [SMTPReply(code: 235, lines: ["2.7.0 Authentication successful"])])
        #expect(other.isEmpty)
    }

    @Test func refusesWhatIsNoReply() {
        let bad = [
            "",  // nothing
            "250-only a continuation\r\n",  // never ends
            "250 ok",  // no line ending
            "hello\r\n", "25\r\n", "2a0 x\r\n", "650 x\r\n", "050 x\r\n",  // no valid code
            "250x ok\r\n", "250_ok\r\n",  // neither space nor "-" after the code
            "250-first\r\n251 second\r\n",  // the code changes inside a reply
            "250 one\r\n250 two\r\n",  // two replies where one was expected
        ]
        for text in bad {
            #expect(throws: SMTPReply.Malformed.self, "\(text.debugDescription)") { try SMTPReply.parse(text) }
        }
    }

    @Test func boundsAReplyInLinesAndBytes() throws {
        let hundred = String(repeating: "250-line\r\n", count: 99) + "250 last\r\n"
        #expect(try SMTPReply.parse(hundred).lines.count == SMTPReply.maxLines)
        let tooMany = String(repeating: "250-line\r\n", count: 100) + "250 last\r\n"
        #expect(throws: SMTPReply.Malformed.self) { try SMTPReply.parse(tooMany) }
        // Short lines adding up to over 64 KiB.
        let long = String(repeating: "250-" + String(repeating: "x", count: 990) + "\r\n", count: 70) + "250 end\r\n"
        #expect(throws: SMTPReply.Malformed.self) { try SMTPReply.parse(long) }
        // One endless line is refused as soon as it passes 64 KiB, before any line ending.
        #expect(throws: SMTPReply.Malformed.self) {
            var assembler = SMTPReplyAssembler()
            _ = try assembler.append(Array("250 ".utf8) + [UInt8](repeating: UInt8(ascii: "A"), count: SMTPReply.maxBytes))
        }
        // Just under the bound is fine.
        let under = "250 " + String(repeating: "y", count: SMTPReply.maxBytes - 6) + "\r\n"
        #expect(try SMTPReply.parse(under).lines[0].count == SMTPReply.maxBytes - 6)
    }

    @Test func summarizesAReplyOnOneSafeLine() {
        let reply = SMTPReply(code: 550, lines: ["5.1.1 <bob@example.com>:", "Recipient\u{1B}[31m unknown"])
        #expect(reply.summary == "550 5.1.1 <bob@example.com>: Recipient?[31m unknown")
        #expect(SMTPReply(code: 554, lines: [String(repeating: "y", count: 1000)]).summary.count == 301)
        let error = SMTPError(stage: "rcpt", message: "the server refused the recipient bob@example.com: \(reply.summary)", code: 550, permanent: true)
        #expect(error.description == "SMTP rcpt: the server refused the recipient bob@example.com: 550 5.1.1 <bob@example.com>: Recipient?[31m unknown")
    }

    // MARK: The message

    @Test func writesTheHeadersAsciiAndCRLF() throws {
        var message = Self.message
        message.to = ["ops@example.com", "dev@example.com"]
        let text = try Self.format(message)
        let head = text.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        #expect(head == [
            "From: ferry@example.com",
            "To: ops@example.com, dev@example.com",
            "Subject: Backup finished",
            "Date: Tue, 04 Mar 2025 05:06:07 +0000",
            "Message-ID: <0b7c8c4e-3f0a-4d8b-9e1c-2a5d6f7e8091@ferry>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
        ])
        #expect(Self.onlyCRLF(text) && text.hasSuffix("\r\n"))
        #expect(text.utf8.allSatisfy { $0 < 0x80 })
        #expect(SMTPFormat.date(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 +0000")
    }

    @Test func encodesARussianSubjectInEncodedWordsOfWholeCharacters() throws {
        let subject = "Проверка дашборда «Продажи по регионам» не прошла: 3 графика пустые 📉"
        var message = Self.message
        message.subject = subject
        let text = try Self.format(message)
        #expect(text.utf8.allSatisfy { $0 < 0x80 }, "the whole message is ASCII")
        let words = Self.header(text, "Subject")
        #expect(words.count > 1, "a long subject is folded over several lines")
        var decoded: [UInt8] = []
        for word in words {
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            #expect(word.utf8.count + "Subject: ".utf8.count <= 78)
            let data = try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
            #expect(String(data: data, encoding: .utf8) != nil, "each word holds whole characters")
            decoded += data
        }
        #expect(String(decoding: decoded, as: UTF8.self) == subject)
        // A short ASCII subject goes as is; one that looks like an encoded-word doesn't.
        #expect(SMTPFormat.subjectHeader("Backup finished") == ["Subject: Backup finished"])
        #expect(SMTPFormat.subjectHeader("=?UTF-8?B?eA==?=") != ["Subject: =?UTF-8?B?eA==?="])
        #expect(SMTPFormat.encodedWords("") == ["=?UTF-8?B??="])
    }

    @Test func encodesTheBodyInBase64LinesOf76() throws {
        let body = (1...40).map { "Строка \($0): дашборд «Продажи» — 12 графиков, 0 ошибок." }.joined(separator: "\n") + "\n.\nконец"
        var message = Self.message
        message.text = body
        let text = try Self.format(message)
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts.count == 2)
        let lines = parts[1].components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count > 10)
        #expect(lines.dropLast().allSatisfy { $0.count == 76 } && lines.last!.count <= 76)
        let data = try #require(Data(base64Encoded: lines.joined()))
        let canonical = body.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(String(decoding: data, as: UTF8.self) == canonical)
        #expect(SMTPFormat.crlf("a\nb\r\nc\rd\n\ne") == Array("a\r\nb\r\nc\r\nd\r\n\r\ne".utf8))
    }

    @Test func foldsALongRecipientList() throws {
        var message = Self.message
        message.to = (1...8).map { "recipient-number-\($0)@notifications.example.com" }
        let text = try Self.format(message)
        let to = text.components(separatedBy: "\r\n").drop { !$0.hasPrefix("To: ") }.prefix { $0.hasPrefix("To: ") || $0.hasPrefix(" ") }
        #expect(to.count > 1)
        #expect(to.allSatisfy { $0.utf8.count <= 78 })
        #expect(Self.header(text, "To").joined(separator: " ") == message.to.joined(separator: ", "))
    }

    @Test func dotStuffsAndEndsTheData() throws {
        #expect(SMTPFormat.dataPayload(".hidden\r\nok\r\n..x\r\n") == "..hidden\r\nok\r\n...x\r\n.\r\n")
        #expect(SMTPFormat.dataPayload("no line end") == "no line end\r\n.\r\n")
        let payload = try SMTPClient.prepare(Self.message, settings: Self.settings, date: Self.date, messageID: Self.id)
        #expect(payload == SMTPFormat.dataPayload(try Self.format(Self.message)))
        #expect(payload.hasSuffix("\r\n.\r\n") && payload.components(separatedBy: "\r\n.\r\n").count == 2)
    }

    // MARK: Refused before connecting

    @Test func refusesHeaderInjection() {
        var message = Self.message
        message.subject = "Hi\r\nBcc: victim@example.com"
        #expect(Self.error { _ = try Self.format(message) }?.stage == "message")
        message.subject = "Hi\nBcc: victim@example.com"
        #expect(Self.error { _ = try Self.format(message) }?.message.contains("line break") == true)
        message.subject = "Hi\rthere"
        #expect(Self.error { _ = try Self.format(message) } != nil)
        message = Self.message
        message.to = ["ops@example.com\r\nBcc: victim@example.com"]
        #expect(Self.error { _ = try Self.format(message) }?.message.contains("line break") == true)
        #expect(Self.error { _ = try Self.format(Self.message, from: "ferry@example.com\nBcc: victim@example.com") }?.permanent == true)
        // And so before any connection is tried.
        var settings = Self.settings
        settings.from = "ferry@example.com\r\nX: y"
        #expect(Self.error { _ = try SMTPClient.prepare(Self.message, settings: settings) }?.stage == "message")
    }

    @Test func refusesWhatIsNoAddress() throws {
        let bad = [
            "", "ops", "ops@", "@example.com", "a@b@example.com", "o ps@example.com", "ops\t@example.com",
            "<ops@example.com>", "Ops <ops@example.com>", "ops,evil@example.com", "ops;@example.com", "\"o\"@example.com",
            String(repeating: "a", count: 243) + "@example.com",  // 255 characters
            "опс@пример.рф",
        ]
        for address in bad {
            let error = Self.error { try SMTPFormat.checkAddress(address, role: "recipient") }
            #expect(error?.stage == "message" && error?.permanent == true, "\(address.debugDescription)")
        }
        for address in ["ops@example.com", "first.last+tag@mail.example.co.uk", "ops@xn--e1afmkfd.xn--p1ai", String(repeating: "a", count: 242) + "@example.com"] {
            #expect(Self.error { try SMTPFormat.checkAddress(address, role: "recipient") } == nil, "\(address)")
        }
        var message = Self.message
        message.to = []
        #expect(Self.error { _ = try Self.format(message) }?.message == "there is no recipient")
        message.to = (0...SMTPFormat.maxRecipients).map { "r\($0)@example.com" }
        #expect(Self.error { _ = try Self.format(message) } != nil)
    }

    @Test func refusesAPasswordOverPlaintextUnlessOnLoopback() {
        var settings = Self.settings
        settings.security = .none
        let error = Self.error { _ = try SMTPClient.prepare(Self.message, settings: settings) }
        #expect(error?.stage == "auth" && error?.permanent == true)
        #expect(error?.message.contains("STARTTLS or TLS") == true)
        #expect(error?.description.contains("s3cret") == false)
        for host in ["127.0.0.1", "::1", "localhost", "LocalHost"] {
            settings.host = host
            #expect(Self.error { _ = try SMTPClient.prepare(Self.message, settings: settings) } == nil, "\(host)")
        }
        // Without a login (an empty username is none), plaintext anywhere is the operator's choice.
        settings.host = "relay.example.com"
        settings.username = ""
        #expect(Self.error { _ = try SMTPClient.prepare(Self.message, settings: settings) } == nil)
        settings.username = nil
        #expect(Self.error { _ = try SMTPClient.prepare(Self.message, settings: settings) } == nil)
        // Encrypted either way: allowed.
        for security in [SMTPSecurity.starttls, .tls] {
            var s = Self.settings
            s.security = security
            #expect(Self.error { _ = try SMTPClient.prepare(Self.message, settings: s) } == nil)
        }
    }

    @Test func refusesAHostOrPortThatCantBe() {
        for (host, port) in [("", 25), ("smtp.example.com\r\n", 25), ("smtp example.com", 25), ("smtp.example.com", 0), ("smtp.example.com", 70000)] {
            var settings = Self.settings
            settings.host = host
            settings.port = port
            #expect(Self.error { _ = try SMTPClient.prepare(Self.message, settings: settings) }?.stage == "connect", "\(host.debugDescription):\(port)")
        }
    }

    @Test func namesTheServerForTLSUnlessItIsAnAddress() {
        #expect(SMTPClient.serverHostname("smtp.example.com") == "smtp.example.com")
        #expect(SMTPClient.serverHostname("192.0.2.10") == nil)
        #expect(SMTPClient.serverHostname("2001:db8::1") == nil)
        #expect(SMTPClient.isLoopback("::1") && !SMTPClient.isLoopback("10.0.0.1"))
        #expect(SMTPClient.secondsText(20) == "20" && SMTPClient.secondsText(0.5) == "0.5")
    }
}
