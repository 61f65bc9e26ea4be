import IncidentCore
import Notifier
import XCTest

/// Delivery outcomes, reported through the outbox, show on the incident timeline.
final class TimelineTests: XCTestCase {
    private var machine = IncidentStateMachine()
    private var index: UInt64 = 0
    private let now = Timestamp(millisecondsSinceEpoch: 1_772_366_400_000)

    private func apply(_ command: Command) throws {
        index += 1
        if case .failure(let error) = machine.apply(command, at: now, index: index) { throw error }
    }

    /// A webhook channel paged by the only escalation policy, and one open incident.
    private func openIncident(channel: NotificationChannel) throws -> (Incident, NotificationIntent) {
        let admin = Actor.user("root")
        try apply(.createConfig(.channel(channel), actor: admin))
        let policy = EscalationPolicy(id: "p", name: "p", levels: [EscalationLevel(delayMilliseconds: 60_000, targets: [.channel(channel.id)])])
        try apply(.createConfig(.escalationPolicy(policy), actor: admin))
        try apply(.createConfig(.routingRule(RoutingRule(id: "all", name: "all", escalationPolicy: "p")), actor: admin))
        let event = Event(source: "llm-sentinel", timestamp: now, category: .performance, title: "Model latency above SLO", rawSeverity: "high")
        try apply(.ingest(events: [event], actor: Actor(.source, "llm-sentinel")))
        let pending = try XCTUnwrap(machine.pendingNotifications().first)
        try apply(.recordDelivery(notification: pending.id, report: .dispatched, actor: .system))
        let intent = try XCTUnwrap(machine.notification(pending.id))
        return (try XCTUnwrap(machine.incident(intent.incident)), intent)
    }

    func testPermanentFailureIsRecordedWithItsReason() async throws {
        let receiver = try await HTTPReceiver.start { _, _ in CannedResponse(status: 400, body: "unknown hook") }
        let channel = NotificationChannel(id: "hook", name: "hook", type: .webhook, url: receiver.url())
        let (incident, intent) = try openIncident(channel: channel)
        var result = DeliveryResult.delivered
        try await withNotifier { notifier in
            result = await notifier.deliver(Delivery(intent: intent, channel: channel, incident: incident))
        }
        try apply(.recordDelivery(notification: intent.id, report: result.report, actor: .system))
        let entry = try XCTUnwrap(machine.incident(incident.id)?.timeline.elements.last)
        XCTAssertEqual(entry.kind, .notificationFailed)
        XCTAssertEqual(entry.reason, "http_status: HTTP 400: unknown hook")
        XCTAssertEqual(receiver.requests.first?.header("Idempotency-Key"), intent.idempotencyKey)
        try await receiver.close()
    }

    func testDeliveryIsRecorded() async throws {
        let receiver = try await HTTPReceiver.start()
        let channel = NotificationChannel(id: "hook", name: "hook", type: .webhook, url: receiver.url())
        let (incident, intent) = try openIncident(channel: channel)
        var result = DeliveryResult.failed(error: "not run", retryable: true)
        try await withNotifier { notifier in
            result = await notifier.deliver(Delivery(intent: intent, channel: channel, incident: incident))
        }
        try apply(.recordDelivery(notification: intent.id, report: result.report, actor: .system))
        XCTAssertEqual(machine.incident(incident.id)?.timeline.elements.last?.kind, .notificationDelivered)
        try await receiver.close()
    }
}
