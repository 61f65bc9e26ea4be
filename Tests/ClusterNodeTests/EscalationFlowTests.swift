import ClusterNode
import IncidentCore
import XCTest

/// The leader's scheduler and dispatcher, end to end inside one node: a page for level 1, the
/// timer fires level 2, acknowledging cancels the rest; state survives a restart mid-escalation.
final class EscalationFlowTests: XCTestCase {
    private static let minute: Int64 = 60_000

    func testLevelTwoFiresOnTimeAndAcknowledgeCancelsTheRest() async throws {
        let directory = TemporaryDirectory()
        let delivery = RecordingDelivery()
        let clock = ManualClock()
        let node = try makeNode(directory, delivery: delivery, clock: clock)
        try await configureOnCall(node)
        let incident = try await node.submit(.ingest(events: [event("model p99 latency")], actor: .user("test"))).eventResults[0].incident!

        let paged = await eventually { delivery.requests.contains { $0.intent.kind == .triggered } }
        XCTAssertTrue(paged, "level 1 was not paged")
        clock.advance(byMilliseconds: 4 * Self.minute)
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertFalse(delivery.requests.contains { $0.intent.kind == .escalated }, "level 2 fired before level 1's delay ran out")
        clock.advance(byMilliseconds: Self.minute + 1)
        let escalated = await eventually { delivery.requests.contains { $0.intent.kind == .escalated } }
        XCTAssertTrue(escalated, "level 2 did not fire")
        let level = try await node.read { $0.state.machine.incident(incident)?.escalationLevel }
        XCTAssertEqual(level, 1, "0-based: the second level")

        _ = try await node.submit(.transition(incident: incident, action: .acknowledge, comment: "", rootCause: "", actor: .user("bob")))
        let settled = try await eventually { try await node.read { $0.state.machine.liveNotifications().isEmpty } }
        XCTAssertTrue(settled, "outbox did not drain")
        let pages = delivery.requests.filter { $0.intent.kind.isPage }.count
        clock.advance(byMilliseconds: 30 * Self.minute)
        try await Task.sleep(nanoseconds: 500_000_000)
        XCTAssertEqual(delivery.requests.filter { $0.intent.kind.isPage }.count, pages, "a page went out after the acknowledgement")
        let timeline = try await node.read { $0.state.machine.incident(incident)?.timeline.elements.map { "\($0)" } ?? [] }
        XCTAssertFalse(timeline.isEmpty)
        await node.shutdown()
    }

    func testATimerDueWhileTheNodeWasDownFiresOnceAfterRestart() async throws {
        let directory = TemporaryDirectory()
        var delivery = RecordingDelivery()
        let clock = ManualClock()
        var node = try makeNode(directory, delivery: delivery, clock: clock)
        try await configureOnCall(node)
        let incident = try await node.submit(.ingest(events: [event("safety filter bypass")], actor: .user("test"))).eventResults[0].incident!
        _ = await eventually { delivery.requests.contains { $0.intent.kind == .triggered } }
        await node.shutdown()

        clock.advance(byMilliseconds: 6 * Self.minute)  // level 2 became due while the node was down
        delivery = RecordingDelivery()
        node = try makeNode(directory, delivery: delivery, clock: clock)
        let escalated = await eventually { delivery.requests.contains { $0.intent.kind == .escalated } }
        XCTAssertTrue(escalated, "the overdue level-2 timer did not fire after restart")
        try await Task.sleep(nanoseconds: 500_000_000)
        XCTAssertEqual(delivery.requests.filter { $0.intent.kind == .escalated }.count, 1, "level 2 paged more than once")
        let level = try await node.read { $0.state.machine.incident(incident)?.escalationLevel }
        XCTAssertEqual(level, 1, "0-based: the second level")
        await node.shutdown()
    }
}
