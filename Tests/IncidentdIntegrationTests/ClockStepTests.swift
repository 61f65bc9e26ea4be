import Foundation
import IncidentdTesting
import XCTest

/// Clock-jump drills: the wall clock of a running node steps (NTP, a VM resumed, an operator),
/// and paging must go on. Replicated timers follow wall time by design; local delays such as
/// delivery retries must not.
final class ClockStepTests: IncidentdTestCase {
    func testAPageThatFailedOnceIsRetriedPromptlyAfterTheClockStepsBackAnHour() async throws {
        // The receiver is down for the first attempt only.
        let webhook = try await WebhookReceiver.start(cleanup: cleanup) { index, _ in index == 0 ? 503 : 200 }
        let node = try await startedNode()
        try await OnCallConfiguration.apply(to: node, webhook: webhook, mail: nil)
        let posted = try await node.admin.post("/api/v1/events", OnCallConfiguration.event(title: "moderation queue backlog"))
        let incident = try XCTUnwrap(posted.json["incident_id"]?.string, "\(posted)")

        let firstAttempt = await eventually { webhook.requests.count == 1 }
        XCTAssertTrue(firstAttempt, "level 1 was not attempted\n\(node.logs.suffix(2_000))")
        // Let the node record the failure and schedule the retry (1 s later), then step back.
        try await Task.sleep(nanoseconds: 300_000_000)
        try node.advanceClock(byMilliseconds: -3_600_000)

        let retried = await eventually(8) { webhook.requests.count >= 2 }
        XCTAssertTrue(retried, "the retry waited for the wall clock to catch up an hour\n\(node.logs.suffix(2_000))")
        let keys = webhook.requests.map { $0.header("Idempotency-Key") }
        XCTAssertEqual(Set(keys).count, 1, "a retry carries the same idempotency key: \(keys)")
        XCTAssertEqual(webhook.requests.map { $0.notification?["attempt"]?.int }, [1, 2], "receivers see which attempt it is")
        let delivered = try await eventually {
            let timeline = try await node.admin.get("/api/v1/incidents/\(incident)/timeline")
            return (timeline.json["entries"]?.array ?? []).contains { $0["change"] == "delivered triggered via hook to user:alice" }
        }
        XCTAssertTrue(delivered, "the retried page is not recorded as delivered")
    }
}
