import IncidentCore
import Notifier
import XCTest

/// Slack incoming webhooks get a Block Kit message: header, fields, context and a dashboard link.
final class SlackTests: XCTestCase {
    private func deliver(_ channel: NotificationChannel, config: NotifierConfig = .test, kind: NotificationKind = .triggered) async throws -> [String: Any] {
        let receiver = try await HTTPReceiver.start()
        var slack = channel
        slack.url = receiver.url("/services/T000/B000/XXXX")
        try await withNotifier(config) { notifier in
            let outcome = await notifier.deliver(Fixture.notification(slack, kind: kind, severity: .p0))
            XCTAssertEqual(outcome, .delivered)
        }
        let request = try XCTUnwrap(receiver.requests.first)
        XCTAssertEqual(request.header("Idempotency-Key"), "INC-20260301-000042/ntf-7")
        try await receiver.close()
        return try jsonObject(request.body)
    }

    func testBlockKitShape() async throws {
        let body = try await deliver(Fixture.channel(.slack, url: ""))
        XCTAssertEqual(body["text"] as? String, "[P0] Triggered: Model latency above SLO")
        let blocks = try XCTUnwrap(body["blocks"] as? [[String: Any]])
        XCTAssertEqual(blocks.map { $0["type"] as? String }, ["header", "section", "context", "actions"])

        let header = try XCTUnwrap(blocks[0]["text"] as? [String: Any])
        XCTAssertEqual(header["type"] as? String, "plain_text")
        XCTAssertTrue((header["text"] as? String)?.hasSuffix("[P0] Triggered: Model latency above SLO") ?? false)

        let fields = try XCTUnwrap(blocks[1]["fields"] as? [[String: Any]]).compactMap { $0["text"] as? String }
        XCTAssertEqual(fields, ["*Severity*\nP0 (critical)", "*Status*\nnew", "*Team*\nml-platform", "*Source*\nllm-sentinel"])
        let section = try XCTUnwrap(blocks[1]["text"] as? [String: Any])
        XCTAssertEqual(section["type"] as? String, "mrkdwn")
        XCTAssertEqual(section["text"] as? String, "p95 latency 2.4s over 800ms")

        let context = try XCTUnwrap(blocks[2]["elements"] as? [[String: Any]])
        XCTAssertTrue((context.first?["text"] as? String)?.contains("INC-20260301-000042") ?? false)

        let button = try XCTUnwrap((blocks[3]["elements"] as? [[String: Any]])?.first)
        XCTAssertEqual(button["type"] as? String, "button")
        XCTAssertEqual(button["url"] as? String, "https://incidents.example.com/incidents/INC-20260301-000042")
    }

    func testNoLinkButtonWithoutDashboardURL() async throws {
        var config = NotifierConfig.test
        config.dashboardBaseURL = ""
        let body = try await deliver(Fixture.channel(.slack, url: ""), config: config)
        let blocks = try XCTUnwrap(body["blocks"] as? [[String: Any]])
        XCTAssertEqual(blocks.map { $0["type"] as? String }, ["header", "section", "context"])
    }

    func testTemplateReplacesTextAndIsEscapedForMrkdwn() async throws {
        let channel = Fixture.channel(.slack, url: "", template: "<!channel> {{incident.title}} & {{incident.labels.model}}")
        let body = try await deliver(channel, kind: .resolved)
        XCTAssertEqual(body["text"] as? String, "<!channel> Model latency above SLO & gpt-4o")
        let blocks = try XCTUnwrap(body["blocks"] as? [[String: Any]])
        let section = try XCTUnwrap(blocks[1]["text"] as? [String: Any])
        XCTAssertEqual(section["text"] as? String, "&lt;!channel&gt; Model latency above SLO &amp; gpt-4o")
    }
}
