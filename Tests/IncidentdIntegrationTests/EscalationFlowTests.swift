import Foundation
import IncidentdTesting
import XCTest

/// The whole paging loop through the real binary: configuration over REST, an event, signed
/// webhook and email pages, escalation on time (the drill clock moves minutes in milliseconds),
/// acknowledgement stopping the pages, resolution telling everyone paged, and the timeline as
/// the audit trail of it all.
final class EscalationFlowTests: IncidentdTestCase {
    func testAnUnacknowledgedIncidentPagesLevelOneThenLevelTwoAndStopsWhenAcknowledged() async throws {
        let webhook = try await WebhookReceiver.start(cleanup: cleanup)
        let mail = try await MailReceiver.start(cleanup: cleanup)
        let node = try await startedNode()
        try await OnCallConfiguration.apply(to: node, webhook: webhook, mail: mail)

        // An event opens an incident routed to the ML platform team.
        let posted = try await node.admin.post("/api/v1/events", OnCallConfiguration.event(title: "p99 latency above 2s on chat-api"))
        XCTAssertEqual(posted.status, 202, "\(posted)")
        XCTAssertEqual(posted.json["outcome"], "created")
        let incident = try XCTUnwrap(posted.json["incident_id"]?.string, "\(posted)")

        // Level 1 pages alice: a signed webhook and an email.
        let levelOnePaged = await eventually { !webhook.requests(event: "incident.triggered").isEmpty && !mail.mails.isEmpty }
        XCTAssertTrue(levelOnePaged, "level 1 was not paged\n\(node.logs.suffix(2_000))")
        let page = try XCTUnwrap(webhook.requests(event: "incident.triggered").first)
        assertSignedPage(page, incident: incident, node: node)
        XCTAssertEqual(page.json["incident"]?["id"]?.string, incident)
        XCTAssertEqual(page.json["incident"]?["team"], "ml-platform")
        XCTAssertEqual(page.notification?["target"], "user:alice")
        XCTAssertEqual(page.notification?["level"], 0)
        let firstMail = try XCTUnwrap(mail.mails.first)
        XCTAssertEqual(firstMail.recipients, ["alice@example.com"], "a page to a user goes to their address")
        XCTAssertEqual(firstMail.from, "incidentd@example.com")
        XCTAssertTrue(firstMail.subject.contains("Triggered: p99 latency above 2s on chat-api"), firstMail.subject)
        XCTAssertEqual(firstMail.header("X-Incident-ID"), incident)

        // Not before level 1's delay has run out...
        try node.advanceClock(byMilliseconds: OnCallConfiguration.levelOneDelayMilliseconds - 60_000)
        try await Task.sleep(nanoseconds: 400_000_000)
        XCTAssertEqual(webhook.requests(event: "incident.escalated").count, 0, "level 2 paged before level 1's delay ran out")

        // ...but once it has, level 2 pages bob, once.
        try node.advanceClock(byMilliseconds: 61_000)
        let escalated = await eventually { !webhook.requests(event: "incident.escalated").isEmpty && mail.mails.count >= 2 }
        XCTAssertTrue(escalated, "level 2 was not paged after level 1's delay\n\(node.logs.suffix(2_000))")
        try await Task.sleep(nanoseconds: 500_000_000)
        let levelTwo = webhook.requests(event: "incident.escalated")
        XCTAssertEqual(levelTwo.count, 1, "level 2 paged more than once")
        XCTAssertEqual(levelTwo.first?.notification?["target"], "user:bob")
        XCTAssertEqual(levelTwo.first?.notification?["level"], 1)
        if let levelTwoPage = levelTwo.first { assertSignedPage(levelTwoPage, incident: incident, node: node) }
        XCTAssertEqual(mail.mails.map(\.recipients), [["alice@example.com"], ["bob@example.com"]])
        let incidentNow = try await node.admin.get("/api/v1/incidents/\(incident)")
        XCTAssertEqual(incidentNow.json["escalation_level"], 1, "0-based: the second level")

        // Bob acknowledges: everyone paged hears it on the webhook; no page follows, however
        // long we wait (the policy would otherwise repeat from level 1 after 10 minutes).
        let acknowledged = try await node.admin.post("/api/v1/incidents/\(incident)/acknowledge", #"{"comment": "bob is on it"}"#)
        XCTAssertEqual(acknowledged.status, 200, "\(acknowledged)")
        XCTAssertEqual(acknowledged.json["status"], "acknowledged")
        let heard = await eventually { webhook.requests(event: "incident.acknowledged").count == 2 }
        XCTAssertTrue(heard, "alice and bob were not told about the acknowledgement: \(webhook.requests.compactMap(\.event))")
        let pagesBefore = pages(webhook)
        let mailsBefore = mail.mails.count
        try node.advanceClock(byMilliseconds: 30 * 60_000)
        try await Task.sleep(nanoseconds: 800_000_000)
        XCTAssertEqual(pages(webhook), pagesBefore, "a page went out after the acknowledgement")
        XCTAssertEqual(mail.mails.count, mailsBefore, "an email went out after the acknowledgement (email channels skip acknowledged)")

        // Resolving tells everyone paged, on both channels.
        let resolved = try await node.admin.post(
            "/api/v1/incidents/\(incident)/resolve", #"{"comment": "rolled back", "root_cause": "a bad gateway deploy"}"#)
        XCTAssertEqual(resolved.status, 200, "\(resolved)")
        XCTAssertEqual(resolved.json["status"], "resolved")
        let resolvedHeard = await eventually {
            webhook.requests(event: "incident.resolved").count == 2 && mail.mails.filter { $0.subject.contains("Resolved") }.count == 2
        }
        XCTAssertTrue(resolvedHeard, "the resolution was not sent to alice and bob on both channels\n\(node.logs.suffix(2_000))")
        for resolution in webhook.requests(event: "incident.resolved") { assertSignedPage(resolution, incident: incident, node: node) }

        // The timeline records every delivery (the dispatcher reports them through the log).
        let expected = [
            "delivered triggered via hook to user:alice", "delivered triggered via mail to user:alice",
            "delivered escalated via hook to user:bob", "delivered escalated via mail to user:bob",
            "delivered acknowledged via hook to user:alice", "delivered acknowledged via hook to user:bob",
            "delivered resolved via hook to user:alice", "delivered resolved via hook to user:bob",
            "delivered resolved via mail to user:alice", "delivered resolved via mail to user:bob",
        ]
        var deliveries: [String] = []
        let recorded = try await eventually {
            let timeline = try await node.admin.get("/api/v1/incidents/\(incident)/timeline")
            deliveries = (timeline.json["entries"]?.array ?? []).filter { $0["kind"] == "notification_delivered" }.compactMap { $0["change"]?.string }
            return Set(deliveries) == Set(expected)
        }
        XCTAssertTrue(recorded, "timeline deliveries: \(deliveries)")
        XCTAssertEqual(deliveries.count, expected.count, "each delivery is recorded once: \(deliveries)")
    }

    /// Pages (not status messages) the webhook got so far.
    private func pages(_ webhook: WebhookReceiver) -> Int {
        webhook.requests.filter { ["incident.triggered", "incident.escalated", "incident.reminder"].contains($0.event ?? "") }.count
    }

    /// A webhook delivery a receiver can trust: a valid HMAC over the exact body, signed at the
    /// node's (drill) time, and an `Idempotency-Key` header equal to the payload's key.
    private func assertSignedPage(_ request: ReceivedRequest, incident: String, node: IncidentdNode, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(request.method, "POST", file: file, line: line)
        XCTAssertEqual(request.uri, "/hooks/incidents", file: file, line: line)
        XCTAssertEqual(request.header("Content-Type"), "application/json", file: file, line: line)
        let signedAt = WebhookSignature.verify(request.header("X-Incident-Signature"), body: request.body, secret: OnCallConfiguration.webhookSecret)
        XCTAssertNotNil(signedAt, "bad or missing signature: \(request.header("X-Incident-Signature") ?? "none")", file: file, line: line)
        if let signedAt {
            let skew = abs(signedAt * 1_000 - node.nodeTimeMilliseconds)
            XCTAssertLessThan(skew, 5 * 60_000, "signed at \(signedAt), node time \(node.nodeTimeMilliseconds / 1_000)", file: file, line: line)
        }
        let key = request.header("Idempotency-Key")
        XCTAssertNotNil(key, "no Idempotency-Key", file: file, line: line)
        XCTAssertEqual(key, request.notification?["idempotency_key"]?.string, file: file, line: line)
        XCTAssertTrue(key?.hasPrefix("\(incident)/ntf-") ?? false, "\(key ?? "")", file: file, line: line)
    }
}
