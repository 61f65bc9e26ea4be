import XCTest

@testable import IncidentCore

/// Escalation as a responder lives it: pages, timers, acknowledgements, timeouts, SLAs.
final class EscalationTests: XCTestCase {
    private func escalationTimer(_ h: Harness, _ id: IncidentID) -> ArmedTimer? { h.incident(id).timer(.escalation) }

    func testWalkThroughCreateLevelOneTimerLevelTwoAckResolve() throws {
        var h = Harness()
        h.installOnCall()
        let created = h.ok(.ingest(events: [sampleEvent()], actor: Harness.source))
        guard case .ingested(let results) = created.result, let id = results.first?.incident else { return XCTFail("no incident") }
        XCTAssertEqual(results.first?.disposition, .created)

        // Level 1 pages alice at once; the timer towards level 2 is due after the level's delay.
        XCTAssertEqual(h.pending(), ["hook→user:alice triggered"])
        let timer = escalationTimer(h, id)!
        XCTAssertEqual(timer.dueAt, h.now.adding(milliseconds: Harness.level1Delay))
        XCTAssertTrue(created.effects.timersArmed.contains(timer), "the scheduler learns about armed timers from effects")
        XCTAssertEqual(h.incident(id).team, "sre")
        XCTAssertEqual(h.incident(id).escalationPolicy, "payments", "the team's default policy")

        // Not due yet: a fire proposed early changes nothing.
        XCTAssertEqual(h.ok(.fireTimer(timer.id, actor: .system), after: Harness.level1Delay - 1).result, .timerFired(false))
        XCTAssertEqual(h.incident(id).escalationLevel, 0)

        // Due: level 2 pages bob and the Slack channel.
        XCTAssertEqual(h.ok(.fireTimer(timer.id, actor: .system), after: 1).result, .timerFired(true))
        XCTAssertEqual(h.incident(id).escalationLevel, 1)
        XCTAssertEqual(h.pending(), ["hook→user:alice triggered", "hook→user:bob escalated", "slack→channel escalated"])
        XCTAssertEqual(h.incident(id).status, .new, "timer escalation pages the next level; the status stays unacknowledged")

        // A duplicate fire of the same timer is a no-op.
        XCTAssertEqual(h.ok(.fireTimer(timer.id, actor: .system)).result, .timerFired(false))
        XCTAssertEqual(h.pending().count, 3)

        // Acknowledge: every pending page is cancelled in the same apply, the timer with it, and
        // everyone paged is told (where their channel wants acknowledgements).
        let ack = h.act(id, .acknowledge, after: 30_000)
        let effects = try ack.get().effects
        XCTAssertEqual(effects.notificationsCancelled.count, 3)
        XCTAssertTrue(effects.timersCancelled.contains { $0.kind == .escalation })
        XCTAssertNil(escalationTimer(h, id))
        XCTAssertEqual(h.pending(), ["hook→user:alice acknowledged", "hook→user:bob acknowledged", "slack→channel acknowledged"])
        XCTAssertEqual(h.incident(id).acknowledgedBy, Harness.responder)
        XCTAssertEqual(h.incident(id).timeToAcknowledge, Harness.level1Delay + 30_000)

        // Nothing fires any more.
        h.now = h.now.adding(milliseconds: Milliseconds.day)
        XCTAssertEqual(h.fireDueTimers(), 1, "only the SLA resolve deadline remains")
        XCTAssertTrue(h.incident(id).sla.resolveBreached)
        XCTAssertEqual(h.incident(id).escalationLevel, 1)

        // Resolve: status messages go to everyone paged; no timers remain.
        XCTAssertNoThrow(try h.act(id, .resolve).get())
        XCTAssertEqual(h.pending().filter { $0.hasSuffix("resolved") }, ["hook→user:alice resolved", "hook→user:bob resolved", "slack→channel resolved"])
        XCTAssertTrue(h.incident(id).timers.isEmpty)
        XCTAssertTrue(h.machine.armedTimers().isEmpty)
    }

    func testRepeatsThenExhausts() {
        var h = Harness()
        h.installOnCall(repeatCount: 1)
        let id = h.open(sampleEvent())
        h.now = h.now.adding(milliseconds: Harness.level1Delay)
        XCTAssertEqual(h.fireDueTimers(), 1)
        XCTAssertEqual(h.incident(id).escalationLevel, 1)
        h.now = h.now.adding(milliseconds: Harness.level2Delay)
        XCTAssertEqual(h.fireDueTimers(), 2, "the repeat, and the SLA acknowledge deadline (15 min for P1)")
        XCTAssertTrue(h.incident(id).sla.acknowledgeBreached)
        XCTAssertEqual(h.incident(id).escalationLevel, 0, "repeat starts over at level 1")
        XCTAssertEqual(h.incident(id).escalationCycle, 1)
        XCTAssertTrue(h.pending().contains("hook→user:alice reminder"))
        h.now = h.now.adding(milliseconds: Harness.level1Delay)
        XCTAssertEqual(h.fireDueTimers(), 1)
        XCTAssertEqual(h.incident(id).escalationLevel, 1)
        h.now = h.now.adding(milliseconds: Harness.level2Delay)
        XCTAssertEqual(h.fireDueTimers(), 1)
        XCTAssertNil(h.incident(id).timer(.escalation), "exhausted after 1 + repeatCount rounds")
        XCTAssertEqual(h.incident(id).timeline.elements.last?.kind, .escalationExhausted)
    }

    func testAcknowledgeTimeoutReEscalates() {
        var h = Harness()
        h.installOnCall(acknowledgeTimeout: 30 * Milliseconds.minute)
        let id = h.open(sampleEvent())
        XCTAssertNoThrow(try h.act(id, .acknowledge, after: 60_000).get())
        let timeout = h.incident(id).timer(.acknowledgeTimeout)!
        XCTAssertEqual(timeout.dueAt, h.now.adding(milliseconds: 30 * Milliseconds.minute))
        h.now = timeout.dueAt
        XCTAssertEqual(h.fireDueTimers(), 1)
        XCTAssertEqual(h.incident(id).status, .escalated)
        XCTAssertEqual(h.incident(id).escalationLevel, 1)
        XCTAssertTrue(h.pending().contains("hook→user:bob escalated"))
        XCTAssertNotNil(h.incident(id).timer(.escalation), "escalation continues until someone acknowledges again")
        XCTAssertEqual(h.incident(id).timeToAcknowledge, 60_000, "MTTA counts the first acknowledgement")
        // Starting work stops it again.
        XCTAssertNoThrow(try h.act(id, .startWork).get())
        XCTAssertNil(h.incident(id).timer(.escalation))
        XCTAssertNotNil(h.incident(id).timer(.acknowledgeTimeout))
    }

    func testStaleTimerAfterReArmIsNoOp() {
        var h = Harness()
        h.installOnCall()
        let id = h.open(sampleEvent())
        let first = h.incident(id).timer(.escalation)!
        // Manual escalation re-arms the escalation timer with a new generation.
        XCTAssertNoThrow(try h.act(id, .escalate).get())
        let second = h.incident(id).timer(.escalation)!
        XCTAssertNotEqual(first.id, second.id)
        h.now = h.now.adding(milliseconds: Milliseconds.hour)
        XCTAssertEqual(h.ok(.fireTimer(first.id, actor: .system)).result, .timerFired(false))
        XCTAssertEqual(h.ok(.fireTimer(second.id, actor: .system)).result, .timerFired(true))
        // A timer of an incident that does not exist is a no-op too.
        XCTAssertEqual(h.ok(.fireTimer(TimerID(incident: 999, kind: .escalation, generation: 1), actor: .system)).result, .timerFired(false))
    }

    func testScheduleTargetPagesWhoeverIsOnCallWhenTheLevelFires() throws {
        var h = Harness()
        h.installOnCall()
        let start = CivilDateTime(utcMilliseconds: h.now.millisecondsSinceEpoch).date.adding(days: -1)
        let layer = ScheduleLayer(name: "primary", users: ["alice", "bob"], rotation: .daily, handoffMinute: 6 * 60 + 30, startDate: start)
        h.create(.schedule(OnCallSchedule(id: "primary", name: "Primary", timeZone: "UTC", layers: [layer])))
        h.create(.escalationPolicy(EscalationPolicy(
            id: "rotating", name: "Rotating",
            levels: [
                EscalationLevel(delayMilliseconds: 20 * Milliseconds.minute, targets: [.schedule("primary")], channels: ["hook"]),
                EscalationLevel(delayMilliseconds: 20 * Milliseconds.minute, targets: [.schedule("primary")], channels: ["hook"]),
            ], repeatCount: 1)))
        h.ok(.updateConfig(.team(Team(id: "sre", name: "SRE", members: ["alice", "bob"], escalationPolicy: "rotating")), actor: Harness.admin))
        // 06:00 UTC: yesterday 06:30 started alice's shift (day 0), bob takes over at 06:30 today.
        let id = h.open(sampleEvent())
        XCTAssertEqual(h.pending(), ["hook→user:alice triggered"])
        h.now = h.now.adding(milliseconds: 20 * Milliseconds.minute)  // 06:20: still alice
        h.fireDueTimers()
        h.now = h.now.adding(milliseconds: 20 * Milliseconds.minute)  // 06:40: bob (policy repeats from level 1)
        h.fireDueTimers()
        let pages = h.machine.pendingNotifications().filter { $0.incident == id && $0.kind.isPage }.map { "\($0.target)" }
        XCTAssertEqual(pages, ["user:alice", "user:alice", "user:bob"])
        XCTAssertEqual(h.machine.pendingNotifications().last?.address, "bob", "webhook channels address users by id")
    }

    func testSLADeadlinesFollowSeverityAndBreachOnlyWhenMissed() {
        var h = Harness()
        let id = h.open(sampleEvent(severity: "critical"))
        XCTAssertEqual(h.incident(id).sla.acknowledgeBy, h.now.adding(milliseconds: 5 * Milliseconds.minute))
        XCTAssertNoThrow(try h.apply(.changeSeverity(incident: id, severity: .p3, reason: "false alarm", actor: Harness.responder)).get())
        XCTAssertEqual(h.incident(id).sla.acknowledgeBy, h.now.adding(milliseconds: 4 * Milliseconds.hour))
        h.now = h.now.adding(milliseconds: 10 * Milliseconds.minute)
        XCTAssertEqual(h.fireDueTimers(), 0, "the old P0 deadline was re-armed for P3")
        XCTAssertNoThrow(try h.act(id, .acknowledge).get())
        h.now = h.now.adding(milliseconds: 5 * Milliseconds.hour)
        XCTAssertEqual(h.fireDueTimers(), 0)
        XCTAssertFalse(h.incident(id).sla.acknowledgeBreached)
        // Late resolve: the breach is flagged even if the resolve deadline timer never fired.
        h.now = h.now.adding(milliseconds: 80 * Milliseconds.hour)
        XCTAssertNoThrow(try h.act(id, .resolve).get())
        XCTAssertTrue(h.incident(id).sla.resolveBreached)
    }

    func testDueTimersQueryIsOrderedAndComplete() {
        var h = Harness()
        h.installOnCall()
        let a = h.open(sampleEvent(title: "a"))
        let b = h.open(sampleEvent(title: "b", severity: "critical"))
        let all = h.machine.armedTimers()
        XCTAssertEqual(all.count, 6, "escalation + SLA acknowledge + SLA resolve for each")
        XCTAssertEqual(all, all.sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) })
        let due = h.machine.dueTimers(at: h.now.adding(milliseconds: 5 * Milliseconds.minute))
        XCTAssertEqual(Set(due.map(\.id.incident)), [a.number, b.number])
        XCTAssertEqual(due.filter { $0.id.kind == .slaAcknowledge }.map(\.id.incident), [b.number], "only the P0 acknowledge deadline is 5 min")
    }

    func testReopenRestartsEscalationAndReclaimsFingerprintOnlyIfFree() {
        var h = Harness()
        h.installOnCall()
        let event = sampleEvent()
        let first = h.open(event)
        XCTAssertNoThrow(try h.act(first, .resolve).get())
        let second = h.open(event)
        XCTAssertNotEqual(first, second, "a trigger after resolve opens a new incident")
        XCTAssertNoThrow(try h.act(first, .reopen).get())
        XCTAssertEqual(h.incident(first).status, .new)
        XCTAssertNotNil(h.incident(first).timer(.escalation))
        XCTAssertEqual(h.machine.openIncident(fingerprint: Fingerprint(of: event))?.id, second, "the newer incident keeps the alert")
        XCTAssertEqual(h.ingest(event).first?.incident, second)
    }

    func testManualEscalationOfSuppressedIncidentLiftsSuppression() {
        var h = Harness()
        h.installOnCall()
        let window = MaintenanceWindow(id: "deploy", name: "deploy", schedule: .oneOff(start: h.now, end: h.now.adding(milliseconds: Milliseconds.hour)))
        h.create(.maintenanceWindow(window))
        let results = h.ingest(sampleEvent())
        XCTAssertEqual(results.first?.disposition, .suppressed)
        let id = results.first!.incident!
        XCTAssertTrue(h.pending().isEmpty)
        XCTAssertTrue(h.incident(id).timers.isEmpty)
        XCTAssertNoThrow(try h.act(id, .escalate).get())
        XCTAssertFalse(h.incident(id).isSuppressed)
        XCTAssertEqual(h.pending(), ["hook→user:bob escalated", "slack→channel escalated"])
    }
}
