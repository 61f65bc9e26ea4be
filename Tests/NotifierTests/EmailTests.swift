import Foundation
import IncidentCore
import Notifier
import XCTest

/// Email goes through our SMTP client to a local SMTP server that records the session.
final class EmailTests: XCTestCase {
    private func emailChannel(_ receiver: SMTPReceiver, username: String = "", password: String = "", template: String = "") -> NotificationChannel {
        Fixture.channel(
            .email, url: receiver.url, secret: password, template: template, emailFrom: "Incidents <incidents@example.com>",
            emailTo: ["oncall@example.com", "sre@example.com"], username: username)
    }

    func testSendsEnvelopeAndMultipartMessage() async throws {
        let receiver = try await SMTPReceiver.start()
        try await withNotifier { notifier in
            let outcome = await notifier.deliver(Fixture.notification(emailChannel(receiver)))
            XCTAssertEqual(outcome, .delivered)
        }
        let transcript = receiver.transcript
        XCTAssertEqual(transcript.commands.first, "EHLO localhost")
        XCTAssertEqual(transcript.mailFrom, "incidents@example.com")
        XCTAssertEqual(transcript.recipients, ["oncall@example.com", "sre@example.com"])
        XCTAssertTrue(transcript.commands.contains("DATA"))
        XCTAssertNil(transcript.authPlain, "no credentials, no AUTH")
        XCTAssertFalse(transcript.commands.contains { $0.hasPrefix("AUTH") })

        let message = try XCTUnwrap(transcript.message)
        let (headerText, body) = try split(message)
        let headers = headerText.replacingOccurrences(of: "\r\n ", with: " ").components(separatedBy: "\r\n")
        XCTAssertTrue(headers.contains("From: Incidents <incidents@example.com>"))
        XCTAssertTrue(headers.contains("Subject: [P1] Triggered: Model latency above SLO"))
        XCTAssertTrue(headers.contains("Date: Sun, 01 Mar 2026 12:01:01 +0000"))
        XCTAssertTrue(headers.contains("Message-ID: <INC-20260301-000042/ntf-7@example.com>"))
        XCTAssertTrue(headers.contains("MIME-Version: 1.0"))
        let contentType = try XCTUnwrap(headers.first { $0.hasPrefix("Content-Type: multipart/alternative; boundary=\"") })
        let boundary = String(contentType.split(separator: "\"")[1])

        let parts = body.components(separatedBy: "--\(boundary)")
        XCTAssertEqual(parts.count, 4, "preamble, text, html, closing")
        XCTAssertTrue(parts[3].hasPrefix("--"), "closing delimiter")
        let (textHeaders, textBody) = try split(parts[1])
        XCTAssertTrue(textHeaders.contains("Content-Type: text/plain; charset=utf-8"))
        XCTAssertTrue(textHeaders.contains("Content-Transfer-Encoding: quoted-printable"))
        let text = decodeQuotedPrintable(textBody)
        XCTAssertTrue(text.hasPrefix("[P1] Triggered: Model latency above SLO\r\n"), text)
        XCTAssertTrue(text.contains("Severity: P1 (high)"))
        XCTAssertTrue(text.contains("Open the incident: https://incidents.example.com/incidents/INC-20260301-000042"))
        let (htmlHeaders, htmlBody) = try split(parts[2])
        XCTAssertTrue(htmlHeaders.contains("Content-Type: text/html; charset=utf-8"))
        XCTAssertTrue(decodeQuotedPrintable(htmlBody).contains("<a href=\"https://incidents.example.com/incidents/INC-20260301-000042\">"))
        XCTAssertTrue(textBody.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 }, "quoted-printable line limit")
        try await receiver.waitForQuit()
        try await receiver.close()
    }

    func testLinesStartingWithADotAreStuffed() async throws {
        let receiver = try await SMTPReceiver.start()
        try await withNotifier { notifier in
            let channel = emailChannel(receiver, template: "first\n.hidden line\n.\nlast {{incident.id}}")
            let outcome = await notifier.deliver(Fixture.notification(channel))
            XCTAssertEqual(outcome, .delivered)
        }
        let transcript = receiver.transcript
        XCTAssertTrue(transcript.rawDataLines.contains("..hidden line"), "a leading dot is doubled on the wire")
        XCTAssertTrue(transcript.rawDataLines.contains(".."), "a lone dot line does not end the data")
        let message = try XCTUnwrap(transcript.message)
        XCTAssertTrue(message.contains("\r\n.hidden line\r\n.\r\nlast INC-20260301-000042"), "the receiver gets the text back")
        try await receiver.close()
    }

    func testAuthPlainSendsTheChannelsCredentials() async throws {
        let receiver = try await SMTPReceiver.start()
        try await withNotifier { notifier in
            let channel = emailChannel(receiver, username: "alerts@example.com", password: "pa55 word")
            let outcome = await notifier.deliver(Fixture.notification(channel))
            XCTAssertEqual(outcome, .delivered)
        }
        let transcript = receiver.transcript
        let auth = try XCTUnwrap(transcript.authPlain)
        XCTAssertEqual(auth.0, "")
        XCTAssertEqual(auth.1, "alerts@example.com")
        XCTAssertEqual(auth.2, "pa55 word")
        try await receiver.waitForQuit()
        let order = receiver.transcript.commands.map { $0.split(separator: " ").first.map(String.init) ?? "" }
        XCTAssertEqual(order, ["EHLO", "AUTH", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"])
        try await receiver.close()
    }

    func testRefusedCredentialsArePermanent() async throws {
        var behaviour = SMTPBehaviour()
        behaviour.authReply = "535 5.7.8 Authentication credentials invalid"
        let receiver = try await SMTPReceiver.start(behaviour)
        try await withNotifier { notifier in
            let result = await notifier.deliver(Fixture.notification(emailChannel(receiver, username: "u", password: "bad")))
            XCTAssertEqual(result, .failed(error: "smtp_rejected: AUTH PLAIN: 535 5.7.8 Authentication credentials invalid", retryable: false))
        }
        XCTAssertNil(receiver.transcript.mailFrom)
        try await receiver.close()
    }

    func testCredentialsWithoutAuthSupportFailPermanently() async throws {
        var behaviour = SMTPBehaviour()
        behaviour.advertiseAuth = false
        let receiver = try await SMTPReceiver.start(behaviour)
        try await withNotifier { notifier in
            let result = await notifier.deliver(Fixture.notification(emailChannel(receiver, username: "u", password: "p")))
            guard case .failed(let error, false) = result else { return XCTFail("\(result)") }
            XCTAssertTrue(error.contains("AUTH PLAIN"), error)
        }
        try await receiver.close()
    }

    func testUserTargetGoesToTheResolvedAddressOnly() async throws {
        let receiver = try await SMTPReceiver.start()
        try await withNotifier { notifier in
            let notification = Fixture.notification(emailChannel(receiver), target: .user("ana"), address: "ana@example.com")
            let outcome = await notifier.deliver(notification)
            XCTAssertEqual(outcome, .delivered)
        }
        XCTAssertEqual(receiver.transcript.recipients, ["ana@example.com"])
        XCTAssertTrue(receiver.transcript.message?.contains("To: ana@example.com\r\n") ?? false)
        try await receiver.close()
    }

    func testRejectedRecipientIsSkippedWhileAnotherIsAccepted() async throws {
        var behaviour = SMTPBehaviour()
        behaviour.rejectedRecipients = ["sre@example.com": "550 5.1.1 no such user"]
        let receiver = try await SMTPReceiver.start(behaviour)
        try await withNotifier { notifier in
            let outcome = await notifier.deliver(Fixture.notification(emailChannel(receiver)))
            XCTAssertEqual(outcome, .delivered)
        }
        XCTAssertEqual(receiver.transcript.recipients, ["oncall@example.com"])
        try await receiver.close()
    }

    func testTransientAndPermanentRefusals() async throws {
        var transient = SMTPBehaviour()
        transient.mailFromReply = "451 4.3.0 try again later"
        var permanent = SMTPBehaviour()
        permanent.dataEndReply = "554 5.6.0 message rejected"
        for (behaviour, expected) in [(transient, "smtp_rejected: MAIL FROM: 451 4.3.0 try again later"), (permanent, "smtp_rejected: message: 554 5.6.0 message rejected")] {
            let receiver = try await SMTPReceiver.start(behaviour)
            try await withNotifier { notifier in
                let result = await notifier.deliver(Fixture.notification(emailChannel(receiver)))
                XCTAssertEqual(result, .failed(error: expected, retryable: expected.contains(": 4")))
            }
            try await receiver.close()
        }
    }

    func testServerSizeLimitIsRespected() async throws {
        var behaviour = SMTPBehaviour()
        behaviour.sizeLimit = 100
        let receiver = try await SMTPReceiver.start(behaviour)
        try await withNotifier { notifier in
            let result = await notifier.deliver(Fixture.notification(emailChannel(receiver)))
            guard case .failed(let error, false) = result else { return XCTFail("\(result)") }
            XCTAssertTrue(error.hasPrefix("message_too_large"), error)
        }
        XCTAssertNil(receiver.transcript.mailFrom)
        try await receiver.close()
    }

    func testSilentServerTimesOut() async throws {
        var behaviour = SMTPBehaviour()
        behaviour.silentAfter = "DATA"
        let receiver = try await SMTPReceiver.start(behaviour)
        var config = NotifierConfig.test
        config.smtp.replyTimeoutMilliseconds = 200
        let notification = Fixture.notification(emailChannel(receiver))
        try await withNotifier(config) { notifier in
            let started = ContinuousClock.now
            let result = try await withWatchdog(seconds: 5) { await notifier.deliver(notification) }
            XCTAssertEqual(result, .failed(error: "timeout: no SMTP reply within 200 ms", retryable: true))
            XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(1_500))
        }
        try await receiver.close()
    }

    func testNonASCIISubjectIsAnEncodedWord() async throws {
        let receiver = try await SMTPReceiver.start()
        try await withNotifier { notifier in
            var notification = Fixture.notification(emailChannel(receiver))
            notification.incident.title = "Latenz über SLO – Modell überlastet"
            let outcome = await notifier.deliver(notification)
            XCTAssertEqual(outcome, .delivered)
        }
        let message = try XCTUnwrap(receiver.transcript.message)
        let headerText = try split(message).0
        // Unfold, then decode each =?UTF-8?B?…?= word.
        let unfolded = headerText.replacingOccurrences(of: "\r\n ", with: " ")
        let subject = try XCTUnwrap(unfolded.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") })
        XCTAssertTrue(subject.hasPrefix("Subject: =?UTF-8?B?"), subject)
        let decoded = subject.dropFirst("Subject: ".count).split(separator: " ").map { word -> String in
            let payload = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return String(decoding: Data(base64Encoded: String(payload)) ?? Data(), as: UTF8.self)
        }.joined()
        XCTAssertEqual(decoded, "[P1] Triggered: Latenz über SLO – Modell überlastet")
        XCTAssertTrue(headerText.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 }, headerText)
        try await receiver.close()
    }

    func testNoRecipientsIsAConfigurationError() async throws {
        try await withNotifier { notifier in
            let channel = Fixture.channel(.email, url: "smtp://127.0.0.1:1", emailFrom: "a@example.com")
            let result = await notifier.deliver(Fixture.notification(channel))
            XCTAssertEqual(result, .failed(error: "invalid_configuration: no email recipients", retryable: false))
        }
    }

    private func decodeQuotedPrintable(_ text: String) -> String {
        let joined = Array(text.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var bytes: [UInt8] = []
        var i = 0
        while i < joined.count {
            if joined[i] == UInt8(ascii: "="), i + 2 < joined.count, let value = UInt8(String(decoding: joined[i + 1...i + 2], as: UTF8.self), radix: 16) {
                bytes.append(value)
                i += 3
            } else {
                bytes.append(joined[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func split(_ message: String) throws -> (String, String) {
        let range = try XCTUnwrap(message.range(of: "\r\n\r\n"), "no header/body separator")
        return (String(message[..<range.lowerBound]), String(message[range.upperBound...]))
    }
}
