import Crypto
import IncidentCore
import Notifier
import XCTest

/// A generic webhook receiver gets a signed JSON document describing the incident.
final class WebhookTests: XCTestCase {
    func testBodyDescribesIncidentAndNotification() async throws {
        let receiver = try await HTTPReceiver.start()
        try await withNotifier { notifier in
            let channel = Fixture.channel(.webhook, url: receiver.url("/hooks/incidents"))
            let result = await notifier.deliver(Fixture.notification(channel, kind: .escalated))
            XCTAssertEqual(result, .delivered)
        }
        let request = try XCTUnwrap(receiver.requests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.uri, "/hooks/incidents")
        XCTAssertEqual(request.header("Content-Type"), "application/json")
        XCTAssertEqual(request.header("User-Agent"), "incidentd-notifier/1.0")
        let body = try jsonObject(request.body)
        XCTAssertEqual(body["event"] as? String, "incident.escalated")
        XCTAssertEqual(body["sent_at"] as? String, "2026-03-01T12:01:01.250Z")
        let incident = try XCTUnwrap(body["incident"] as? [String: Any])
        XCTAssertEqual(incident["id"] as? String, "INC-20260301-000042")
        XCTAssertEqual(incident["title"] as? String, "Model latency above SLO")
        XCTAssertEqual(incident["severity"] as? String, "P1")
        XCTAssertEqual(incident["status"] as? String, "new")
        XCTAssertEqual(incident["team"] as? String, "ml-platform")
        XCTAssertTrue(incident["assignee"] is NSNull)
        XCTAssertEqual(incident["occurrence_count"] as? Int, 3)
        XCTAssertEqual(incident["labels"] as? [String: String], ["region": "eu-west-1", "model": "gpt-4o"])
        XCTAssertEqual(incident["url"] as? String, "https://incidents.example.com/incidents/INC-20260301-000042")
        let notification = try XCTUnwrap(body["notification"] as? [String: Any])
        XCTAssertEqual(notification["id"] as? Int, 7)
        XCTAssertEqual(notification["kind"] as? String, "escalated")
        XCTAssertEqual(notification["level"] as? Int, 0)
        XCTAssertEqual(notification["target"] as? String, "channel")
        XCTAssertEqual(notification["attempt"] as? Int, 1)
        XCTAssertEqual(body["message"] as? String, "[P1] Escalated to level 1: Model latency above SLO")
        try await receiver.close()
    }

    func testSignatureIsHMACOfTimestampAndRawBody() async throws {
        let receiver = try await HTTPReceiver.start()
        try await withNotifier { notifier in
            let channel = Fixture.channel(.webhook, url: receiver.url(), secret: "s3cr3t")
            let outcome = await notifier.deliver(Fixture.notification(channel))
            XCTAssertEqual(outcome, .delivered)
        }
        let request = try XCTUnwrap(receiver.requests.first)
        let header = try XCTUnwrap(request.header("X-Incident-Signature"))
        let parts = Dictionary(uniqueKeysWithValues: header.split(separator: ",").map { part -> (String, String) in
            let pair = part.split(separator: "=", maxSplits: 1)
            return (String(pair[0]), String(pair[1]))
        })
        XCTAssertEqual(parts["t"], "1772366461")
        // Recompute as a receiver would: HMAC-SHA256(secret, "<t>.<raw body>").
        let signed = Array("\(parts["t"]!).".utf8) + request.body
        let expected = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Array("s3cr3t".utf8)))
        XCTAssertEqual(parts["v1"], expected.map { String(format: "%02x", $0) }.joined())
        let wrongKey = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Array("other".utf8)))
        XCTAssertNotEqual(parts["v1"], wrongKey.map { String(format: "%02x", $0) }.joined())
        try await receiver.close()
    }

    func testUnsignedWithoutSecret() async throws {
        let receiver = try await HTTPReceiver.start()
        try await withNotifier { notifier in
            let outcome = await notifier.deliver(Fixture.notification(Fixture.channel(.webhook, url: receiver.url())))
            XCTAssertEqual(outcome, .delivered)
        }
        XCTAssertNil(receiver.requests.first?.header("X-Incident-Signature"))
        try await receiver.close()
    }

    func testIdempotencyKeyIsTheIntentsKeyOnEveryAttempt() async throws {
        let receiver = try await HTTPReceiver.start { index, _ in CannedResponse(status: index == 0 ? 503 : 200) }
        try await withNotifier { notifier in
            let notification = Fixture.notification(Fixture.channel(.webhook, url: receiver.url()))
            let sleeps = SleepRecorder()
            let outcome = await notifier.deliver(withRetries: notification, sleep: sleeps.sleep)
            XCTAssertEqual(outcome, .delivered)
        }
        let keys = receiver.requests.map { $0.header("Idempotency-Key") }
        XCTAssertEqual(keys, ["INC-20260301-000042/ntf-7", "INC-20260301-000042/ntf-7"])
        let attempts = try receiver.requests.map { try jsonObject($0.body)["notification"].flatMap { ($0 as? [String: Any])?["attempt"] as? Int } }
        XCTAssertEqual(attempts, [1, 2])
        try await receiver.close()
    }

    func testCustomHeadersAreSentButCannotReplaceReservedOnes() async throws {
        let receiver = try await HTTPReceiver.start()
        try await withNotifier { notifier in
            let channel = Fixture.channel(
                .webhook, url: receiver.url(), secret: "k",
                headers: ["Authorization": "Bearer abc", "X-Team": "ml", "Idempotency-Key": "forged", "X-Incident-Signature": "forged"])
            let outcome = await notifier.deliver(Fixture.notification(channel))
            XCTAssertEqual(outcome, .delivered)
        }
        let request = try XCTUnwrap(receiver.requests.first)
        XCTAssertEqual(request.header("Authorization"), "Bearer abc")
        XCTAssertEqual(request.header("X-Team"), "ml")
        XCTAssertEqual(request.header("Idempotency-Key"), "INC-20260301-000042/ntf-7")
        XCTAssertTrue(request.header("X-Incident-Signature")?.hasPrefix("t=1772366461,v1=") ?? false)
        XCTAssertEqual(request.headers.filter { $0.name.lowercased() == "idempotency-key" }.count, 1)
        try await receiver.close()
    }

    func testHeaderWithLineBreakIsAPermanentConfigurationError() async throws {
        let receiver = try await HTTPReceiver.start()
        try await withNotifier { notifier in
            let channel = Fixture.channel(.webhook, url: receiver.url(), headers: ["X-Evil": "a\r\nInjected: yes"])
            let result = await notifier.deliver(Fixture.notification(channel))
            guard case .failed(let error, let retryable) = result else { return XCTFail("delivered \(result)") }
            XCTAssertFalse(retryable)
            XCTAssertTrue(error.hasPrefix("invalid_configuration"), error)
        }
        XCTAssertTrue(receiver.requests.isEmpty)
        try await receiver.close()
    }
}
