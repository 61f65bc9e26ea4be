import NIOCore
import NIOEmbedded
import XCTest

@testable import Notifier

/// The SMTP client state machine and reply decoder, without sockets (TLS paths included).
final class SMTPSessionTests: XCTestCase {
    private let message = EmailMessage(sender: "a@example.com", recipients: ["b@example.com"], data: Array("Subject: x\r\n\r\nhi\r\n".utf8))

    private func settings(credentials: (String, String)? = nil, plaintext: Bool = false, tls: Bool = false) -> SMTPSession.Settings {
        SMTPSession.Settings(
            heloName: "node1.example.com", credentials: credentials, startTLSWhenOffered: !tls, tlsActive: tls,
            plaintextAuthenticationAllowed: plaintext)
    }

    private func ehlo(_ extensions: String...) -> SMTPReply { SMTPReply(code: 250, lines: ["mx greets you"] + extensions) }

    func testUpgradesWithSTARTTLSThenAuthenticates() {
        var session = SMTPSession(settings: settings(credentials: ("u", "p")), message: message)
        XCTAssertEqual(session.receive(SMTPReply(code: 220, lines: ["mx ESMTP"])), .send("EHLO node1.example.com"))
        XCTAssertEqual(session.receive(ehlo("STARTTLS", "AUTH PLAIN")), .send("STARTTLS"))
        XCTAssertEqual(session.receive(SMTPReply(code: 220, lines: ["go ahead"])), .startTLS)
        XCTAssertEqual(session.tlsEstablished(), .send("EHLO node1.example.com"))
        XCTAssertEqual(session.receive(ehlo("STARTTLS", "AUTH PLAIN LOGIN")), .send("AUTH PLAIN AHUAcA=="))
        XCTAssertEqual(session.receive(SMTPReply(code: 235, lines: ["ok"])), .send("MAIL FROM:<a@example.com>"))
        XCTAssertEqual(session.receive(SMTPReply(code: 250, lines: ["ok"])), .send("RCPT TO:<b@example.com>"))
        XCTAssertEqual(session.receive(SMTPReply(code: 250, lines: ["ok"])), .send("DATA"))
        XCTAssertEqual(session.receive(SMTPReply(code: 354, lines: ["go"])), .sendMessage(Array("Subject: x\r\n\r\nhi\r\n.\r\n".utf8)))
        XCTAssertEqual(session.receive(SMTPReply(code: 250, lines: ["queued"])), .delivered)
        XCTAssertEqual(session.receive(SMTPReply(code: 221, lines: ["bye"])), .none)
    }

    func testImplicitTLSDoesNotSendSTARTTLS() {
        var session = SMTPSession(settings: settings(tls: true), message: message)
        _ = session.receive(SMTPReply(code: 220, lines: [""]))
        XCTAssertEqual(session.receive(ehlo("STARTTLS")), .send("MAIL FROM:<a@example.com>"))
    }

    func testRefusesPlaintextAuthenticationToARemoteServer() {
        var session = SMTPSession(settings: settings(credentials: ("u", "p")), message: message)
        _ = session.receive(SMTPReply(code: 220, lines: [""]))
        guard case .failed(let error, quit: true) = session.receive(ehlo("AUTH PLAIN")) else { return XCTFail() }
        XCTAssertEqual(error.code, .invalidConfiguration)
        XCTAssertFalse(error.isRetryable)
    }

    func testAllRecipientsRejectedFailsWithTheRejection() {
        var session = SMTPSession(settings: settings(), message: message)
        _ = session.receive(SMTPReply(code: 220, lines: [""]))
        _ = session.receive(ehlo())
        _ = session.receive(SMTPReply(code: 250, lines: [""]))
        guard case .failed(let error, _) = session.receive(SMTPReply(code: 452, lines: ["4.2.2 mailbox full"])) else { return XCTFail() }
        XCTAssertEqual(error.description, "smtp_rejected: RCPT TO: 452 4.2.2 mailbox full")
        XCTAssertTrue(error.isRetryable)
    }

    func testDotStuffing() {
        let stuffed = SMTPSession.dotStuffed(Array(".a\r\nb\n..c\r\n.".utf8))
        XCTAssertEqual(String(decoding: stuffed, as: UTF8.self), "..a\r\nb\r\n...c\r\n..\r\n.\r\n")
    }

    func testDecoderJoinsMultiLineReplies() throws {
        var decoder = SMTPReplyDecoder()
        XCTAssertNil(try decoder.consume(Array("250-mx.example.com".utf8)))
        XCTAssertNil(try decoder.consume(Array("250-SIZE 35882577".utf8)))
        XCTAssertNil(try decoder.consume(Array("250-AUTH LOGIN PLAIN XOAUTH2".utf8)))
        let reply = try XCTUnwrap(try decoder.consume(Array("250 STARTTLS".utf8)))
        XCTAssertEqual(reply.code, 250)
        XCTAssertEqual(reply.lines.count, 4)
        XCTAssertTrue(reply.advertisesAuth("PLAIN"))
        XCTAssertTrue(reply.advertises("STARTTLS"))
        XCTAssertEqual(reply.sizeLimit, 35_882_577)
        XCTAssertEqual(try decoder.consume(Array("354".utf8)), SMTPReply(code: 354, lines: [""]))
        XCTAssertThrowsError(try decoder.consume(Array("25x oops".utf8)))
        var mixed = SMTPReplyDecoder()
        _ = try mixed.consume(Array("250-a".utf8))
        XCTAssertThrowsError(try mixed.consume(Array("251 b".utf8)))
    }

    func testDecoderOverChannel() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(SMTPReplyDecoder()))
        try channel.writeInbound(ByteBuffer(string: "220 ready\r\n250-one\r\n25"))
        XCTAssertEqual(try channel.readInbound(as: SMTPReply.self), SMTPReply(code: 220, lines: ["ready"]))
        XCTAssertNil(try channel.readInbound(as: SMTPReply.self))
        try channel.writeInbound(ByteBuffer(string: "0 two\n"))
        XCTAssertEqual(try channel.readInbound(as: SMTPReply.self), SMTPReply(code: 250, lines: ["one", "two"]))
        XCTAssertThrowsError(try channel.writeInbound(ByteBuffer(string: String(repeating: "x", count: 5_000))))
    }
}
