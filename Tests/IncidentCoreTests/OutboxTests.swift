import XCTest

@testable import IncidentCore

/// The replicated notification outbox: delivery states, retries, cancellation.
final class OutboxTests: XCTestCase {
    private func firstPending(_ h: Harness) -> NotificationIntent { h.machine.pendingNotifications().first! }

    func testDispatchDeliverMovesIntentToHistory() {
        var h = Harness()
        h.installOnCall()
        let id = h.open(sampleEvent())
        let intent = firstPending(h)
        XCTAssertEqual(intent.idempotencyKey, "\(id)/ntf-\(intent.id)")
        XCTAssertEqual(intent.address, "alice", "webhook recipients are addressed by user id")
        XCTAssertEqual(h.ok(.recordDelivery(notification: intent.id, report: .dispatched, actor: .system)).result, .deliveryRecorded(true))
        XCTAssertEqual(h.machine.notification(intent.id)?.state, .dispatched)
        XCTAssertEqual(h.machine.notification(intent.id)?.attempts, 1)
        XCTAssertTrue(h.machine.pendingNotifications().isEmpty, "a dispatched intent is not handed out twice")
        XCTAssertEqual(h.ok(.recordDelivery(notification: intent.id, report: .delivered, actor: .system)).result, .deliveryRecorded(true))
        XCTAssertNil(h.machine.notification(intent.id))
        XCTAssertEqual(h.incident(id).notificationHistory.elements.map(\.state), [.delivered])
        XCTAssertEqual(h.incident(id).timeline.last?.kind, .notificationDelivered)
        // A late duplicate report changes nothing.
        XCTAssertEqual(h.ok(.recordDelivery(notification: intent.id, report: .delivered, actor: .system)).result, .deliveryRecorded(false))
    }

    func testRetryableFailuresReturnToPendingUntilAttemptsRunOut() {
        var h = Harness()
        h.installOnCall()
        let id = h.open(sampleEvent())
        let intent = firstPending(h)
        let attempts = h.machine.settings.maxDeliveryAttempts
        for attempt in 1...attempts {
            h.ok(.recordDelivery(notification: intent.id, report: .dispatched, actor: .system))
            h.ok(.recordDelivery(notification: intent.id, report: .failed(error: "HTTP 503", retryable: true), actor: .system))
            if attempt < attempts {
                XCTAssertEqual(h.machine.notification(intent.id)?.state, .pending)
                XCTAssertEqual(h.machine.notification(intent.id)?.lastError, "HTTP 503")
            }
        }
        XCTAssertNil(h.machine.notification(intent.id))
        let record = h.incident(id).notificationHistory.elements.last!
        XCTAssertEqual(record.state, .failed)
        XCTAssertEqual(record.attempts, attempts)
        XCTAssertEqual(h.incident(id).timeline.last?.kind, .notificationFailed)
    }

    func testPermanentFailureIsFinalAtOnce() {
        var h = Harness()
        h.installOnCall()
        _ = h.open(sampleEvent())
        let intent = firstPending(h)
        h.ok(.recordDelivery(notification: intent.id, report: .dispatched, actor: .system))
        h.ok(.recordDelivery(notification: intent.id, report: .failed(error: "HTTP 400 bad payload", retryable: false), actor: .system))
        XCTAssertNil(h.machine.notification(intent.id))
    }

    func testAcknowledgeCancelsDispatchedAndPendingPagesButNotStatusMessages() throws {
        var h = Harness()
        h.installOnCall()
        let id = h.open(sampleEvent())
        h.now = h.now.adding(milliseconds: Harness.level1Delay)
        h.fireDueTimers()
        let pages = h.machine.pendingNotifications()
        XCTAssertEqual(pages.count, 3)
        h.ok(.recordDelivery(notification: pages[0].id, report: .dispatched, actor: .system))
        let ack = try h.act(id, .acknowledge).get()
        XCTAssertEqual(Set(ack.effects.notificationsCancelled), Set(pages.map(\.id)))
        XCTAssertTrue(h.machine.liveNotifications().allSatisfy { $0.kind == .acknowledged })
        XCTAssertEqual(h.incident(id).notificationHistory.elements.filter { $0.state == .cancelled }.count, 3)
        // Resolving does not cancel the acknowledgement messages still on their way.
        XCTAssertNoThrow(try h.act(id, .resolve).get())
        XCTAssertEqual(h.machine.liveNotifications().filter { $0.kind == .acknowledged }.count, 3)
        XCTAssertEqual(h.machine.liveNotifications().filter { $0.kind == .resolved }.count, 3)
    }

    func testChannelPreferencesAndDisabledChannels() {
        var h = Harness()
        h.installOnCall()
        // Email wants no acknowledgements by default; a disabled channel gets nothing.
        h.create(.channel(NotificationChannel(id: "mail", name: "mail", type: .email, url: "smtp://127.0.0.1:2525", emailFrom: "incidentd@example.com")))
        h.create(.channel(NotificationChannel(id: "off", name: "off", type: .webhook, url: "http://127.0.0.1:9/off", enabled: false)))
        h.create(.escalationPolicy(EscalationPolicy(
            id: "mail-first", name: "mail first",
            levels: [EscalationLevel(delayMilliseconds: Milliseconds.hour, targets: [.user("alice"), .channel("off")], channels: ["mail"])])))
        h.ok(.updateConfig(.team(Team(id: "sre", name: "SRE", escalationPolicy: "mail-first")), actor: Harness.admin))
        let id = h.open(sampleEvent())
        XCTAssertEqual(h.pending(), ["mail→user:alice triggered"])
        XCTAssertEqual(h.machine.pendingNotifications().first?.address, "alice@example.com")
        XCTAssertNoThrow(try h.act(id, .acknowledge).get())
        XCTAssertEqual(h.pending(), [], "email channels do not send acknowledgements by default")
        XCTAssertNoThrow(try h.act(id, .resolve).get())
        XCTAssertEqual(h.pending(), ["mail→user:alice resolved"])
    }

    func testRoutingChannelsAreNotifiedOnceAtCreation() {
        var h = Harness()
        h.installOnCall()
        let rule = RoutingRule(id: "broadcast", name: "broadcast", position: -1, match: EventMatcher(severities: [.p0]), channels: ["slack"], continue: true)
        h.create(.routingRule(rule))
        let id = h.open(sampleEvent(severity: "critical"))
        XCTAssertEqual(h.pending(), ["slack→channel triggered", "hook→user:alice triggered"])
        XCTAssertEqual(h.incident(id).team, "sre", "continue lets the next rule set the team")
        XCTAssertEqual(h.incident(id).recipients.count, 2)
        // Repeats never page again.
        for _ in 0..<5 { h.ingest(sampleEvent(severity: "critical"), after: 1000) }
        XCTAssertEqual(h.pending().count, 2)
    }
}
