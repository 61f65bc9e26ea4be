import IncidentCore
import Notifier
import XCTest

/// PagerDuty Events v2 follows the incident lifecycle on one dedup_key.
final class PagerDutyTests: XCTestCase {
    private func send(_ kind: NotificationKind, severity: Severity = .p1) async throws -> [String: Any] {
        let receiver = try await HTTPReceiver.start { _, _ in
            CannedResponse(status: 202, body: #"{"status":"success","message":"Event processed","dedup_key":"x"}"#)
        }
        try await withNotifier { notifier in
            let channel = Fixture.channel(.pagerduty, url: receiver.url("/v2/enqueue"), routingKey: "R0UT1NGKEY")
            let outcome = await notifier.deliver(Fixture.notification(channel, kind: kind, severity: severity))
            XCTAssertEqual(outcome, .delivered)
        }
        let request = try XCTUnwrap(receiver.requests.first)
        XCTAssertEqual(request.uri, "/v2/enqueue")
        XCTAssertEqual(request.header("Idempotency-Key"), "INC-20260301-000042/ntf-7")
        try await receiver.close()
        return try jsonObject(request.body)
    }

    func testActionPerKindOnTheIncidentsDedupKey() async throws {
        let expected: [(NotificationKind, String)] = [
            (.triggered, "trigger"), (.escalated, "trigger"), (.reminder, "trigger"),
            (.acknowledged, "acknowledge"), (.resolved, "resolve"),
        ]
        for (kind, action) in expected {
            let event = try await send(kind)
            XCTAssertEqual(event["event_action"] as? String, action, "\(kind)")
            XCTAssertEqual(event["dedup_key"] as? String, "INC-20260301-000042", "\(kind)")
            XCTAssertEqual(event["routing_key"] as? String, "R0UT1NGKEY", "\(kind)")
            XCTAssertEqual(event["payload"] != nil, action == "trigger", "payload only with triggers (\(kind))")
        }
    }

    func testTriggerPayload() async throws {
        let event = try await send(.triggered, severity: .p2)
        let payload = try XCTUnwrap(event["payload"] as? [String: Any])
        XCTAssertEqual(payload["summary"] as? String, "[P2] Triggered: Model latency above SLO")
        XCTAssertEqual(payload["source"] as? String, "llm-sentinel")
        XCTAssertEqual(payload["severity"] as? String, "warning")
        XCTAssertEqual(payload["timestamp"] as? String, "2026-03-01T12:00:00.000Z")
        XCTAssertEqual(payload["component"] as? String, "gpt-gateway")
        XCTAssertEqual(payload["group"] as? String, "ml-platform")
        XCTAssertEqual(payload["class"] as? String, "performance")
        let details = try XCTUnwrap(payload["custom_details"] as? [String: Any])
        XCTAssertEqual(details["incident_id"] as? String, "INC-20260301-000042")
        XCTAssertEqual(details["labels"] as? [String: String], ["region": "eu-west-1", "model": "gpt-4o"])
        let links = try XCTUnwrap(event["links"] as? [[String: Any]])
        XCTAssertEqual(links.first?["href"] as? String, "https://incidents.example.com/incidents/INC-20260301-000042")
    }

    func testSeverityMapping() async throws {
        let expected: [(Severity, String)] = [(.p0, "critical"), (.p1, "error"), (.p2, "warning"), (.p3, "info"), (.p4, "info")]
        for (severity, word) in expected {
            let payload = try await send(.triggered, severity: severity)["payload"] as? [String: Any]
            XCTAssertEqual(payload?["severity"] as? String, word, "\(severity)")
        }
    }

    func testTemplateBecomesSummary() async throws {
        let receiver = try await HTTPReceiver.start { _, _ in CannedResponse(status: 202) }
        try await withNotifier { notifier in
            let channel = Fixture.channel(
                .pagerduty, url: receiver.url(), routingKey: "K", template: "{{incident.team}}: {{incident.title}} ({{notification.kind}})")
            let outcome = await notifier.deliver(Fixture.notification(channel))
            XCTAssertEqual(outcome, .delivered)
        }
        let payload = try jsonObject(try XCTUnwrap(receiver.requests.first).body)["payload"] as? [String: Any]
        XCTAssertEqual(payload?["summary"] as? String, "ml-platform: Model latency above SLO (triggered)")
        try await receiver.close()
    }

    func testMissingRoutingKeyFailsPermanentlyWithoutSending() async throws {
        let receiver = try await HTTPReceiver.start()
        try await withNotifier { notifier in
            let result = await notifier.deliver(Fixture.notification(Fixture.channel(.pagerduty, url: receiver.url())))
            guard case .failed(let error, false) = result else { return XCTFail("\(result)") }
            XCTAssertTrue(error.hasPrefix("invalid_configuration"), error)
        }
        XCTAssertTrue(receiver.requests.isEmpty)
        try await receiver.close()
    }

    func testInvalidEventAnswerIsPermanent() async throws {
        let receiver = try await HTTPReceiver.start { _, _ in
            CannedResponse(status: 400, body: #"{"status":"invalid event","message":"Event object is invalid"}"#)
        }
        try await withNotifier { notifier in
            let result = await notifier.deliver(Fixture.notification(Fixture.channel(.pagerduty, url: receiver.url(), routingKey: "K")))
            guard case .failed(let error, false) = result else { return XCTFail("\(result)") }
            XCTAssertTrue(error.contains("HTTP 400"), error)
            XCTAssertTrue(error.contains("Event object is invalid"), error)
        }
        try await receiver.close()
    }
}
