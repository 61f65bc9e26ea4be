import XCTest

@testable import IncidentCore

/// Maintenance windows (one-off, or weekly in a zone with optional bounds), matched by service
/// and labels: incidents created inside one are recorded but suppressed, and nobody is paged.
final class MaintenanceWindowTests: XCTestCase {
    private func window(_ schedule: MaintenanceSchedule, id: String = "deploy", match: EventMatcher = EventMatcher(services: ["chat-api"])) -> ConfigItem {
        .maintenanceWindow(MaintenanceWindow(id: id, name: id, match: match, schedule: schedule))
    }

    private func utc(_ text: String) -> Timestamp {
        let parts = text.split(separator: " ")
        let date = CivilDate(iso: String(parts[0]))!
        let hm = parts[1].split(separator: ":").map { Int($0)! }
        return Timestamp(millisecondsSinceEpoch: CivilDateTime(date: date, hour: hm[0], minute: hm[1]).secondsSinceEpochAsUTC * 1_000)
    }

    func testMatchingIncidentsAreRecordedButNobodyIsPaged() {
        var h = Harness()
        h.installOnCall()
        h.create(window(.oneOff(start: h.now, end: h.now.adding(milliseconds: Milliseconds.hour))))
        let results = h.ingest(sampleEvent(), sampleEvent(title: "billing errors", resourceID: "billing-api"))
        XCTAssertEqual(results.map(\.disposition), [.suppressed, .created])
        let quiet = h.incident(results[0].incident!)
        XCTAssertEqual(quiet.suppressedBy, "maintenance:deploy")
        XCTAssertEqual(quiet.team, "sre", "routed as usual")
        XCTAssertEqual(quiet.escalationPolicy, "payments")
        XCTAssertTrue(quiet.timers.isEmpty, "no escalation, no SLA timers")
        XCTAssertEqual(quiet.timeline.elements.map(\.kind), [.created, .suppressed])
        XCTAssertEqual(quiet.timeline.last?.reason, "maintenance:deploy")
        XCTAssertEqual(h.machine.pendingNotifications().map(\.incident), [results[1].incident!], "only the other service pages")
    }

    func testServicesMatchTheResourceNameTooAndLabelsSelect() throws {
        var h = Harness()
        h.create(window(.oneOff(start: h.now, end: h.now.adding(milliseconds: Milliseconds.hour))))
        let eu = EventMatcher(labels: [try LabelMatcher(key: "cluster", value: "eu-1")])
        h.create(window(.oneOff(start: h.now, end: h.now.adding(milliseconds: Milliseconds.hour)), id: "eu", match: eu))
        var byName = sampleEvent(title: "by name", resourceID: "i-0abc")
        byName.resource.name = "chat-api"
        let labelled = sampleEvent(title: "eu", resourceID: "embed-api", labels: ["cluster": "eu-1"])
        let other = sampleEvent(title: "us", resourceID: "embed-api", labels: ["cluster": "us-1"])
        let results = h.ingest(byName, labelled, other)
        XCTAssertEqual(results.map(\.disposition), [.suppressed, .suppressed, .created])
        XCTAssertEqual(h.incident(results[1].incident!).suppressedBy, "maintenance:eu")
    }

    func testOneOffBoundsAreStartInclusiveEndExclusive() {
        var h = Harness()
        let start = h.now.adding(milliseconds: 10 * Milliseconds.minute)
        let end = start.adding(milliseconds: 10 * Milliseconds.minute)
        h.create(window(.oneOff(start: start, end: end)))
        let instants: [(Timestamp, EventDisposition)] = [
            (start.adding(milliseconds: -1), .created), (start, .suppressed), (end.adding(milliseconds: -1), .suppressed), (end, .created),
        ]
        for (n, (instant, expected)) in instants.enumerated() {
            h.now = instant
            XCTAssertEqual(h.ingest(sampleEvent(title: "alert \(n)")).first?.disposition, expected, "\(instant)")
        }
    }

    func testSuppressionOutlastsTheWindowAndRepeatsStaySilent() throws {
        var h = Harness()
        h.installOnCall()
        h.create(window(.oneOff(start: h.now, end: h.now.adding(milliseconds: 30 * Milliseconds.minute))))
        let id = h.open(sampleEvent())
        h.now = h.now.adding(milliseconds: Milliseconds.hour)
        XCTAssertEqual(h.ingest(sampleEvent(severity: "critical")).first?.disposition, .deduplicated)
        XCTAssertEqual(h.incident(id).severity, .p0, "still counted and classified")
        XCTAssertTrue(h.incident(id).isSuppressed, "created inside the window, suppressed for good")
        XCTAssertTrue(h.incident(id).timers.isEmpty, "a severity change arms no SLA timers for it")
        XCTAssertEqual(h.pending(), [])
        // Responders can still work it; nobody was paged, so nobody is told.
        XCTAssertNoThrow(try h.act(id, .acknowledge).get())
        XCTAssertNoThrow(try h.act(id, .resolve).get())
        XCTAssertEqual(h.pending(), [])
        // After the window a new incident pages normally.
        XCTAssertEqual(h.ingest(sampleEvent()).first?.disposition, .created)
        XCTAssertEqual(h.pending(), ["hook→user:alice triggered"])
    }

    func testWindowsApplyToIncidentsCreatedInsideThemOnly() {
        var h = Harness()
        h.installOnCall()
        let id = h.open(sampleEvent())
        h.create(window(.oneOff(start: h.now, end: h.now.adding(milliseconds: Milliseconds.hour))))
        h.now = h.now.adding(milliseconds: Harness.level1Delay)
        h.fireDueTimers()
        XCTAssertFalse(h.incident(id).isSuppressed)
        XCTAssertEqual(h.incident(id).escalationLevel, 1, "an incident from before the window keeps escalating")
    }

    func testWeeklyWindowFollowsTheZoneAcrossDST() {
        // Sundays 01:00–05:00 in New York, from 2026-03-01 until 2026-12-01.
        let sundayNight = ZonedTimeWindow(timeZone: "America/New_York", range: DailyTimeRange(days: [.sunday], startMinute: 60, endMinute: 300))
        let schedule = MaintenanceSchedule.weekly(window: sundayNight, from: utc("2026-03-01 00:00"), until: utc("2026-12-01 00:00"))
        let expectations: [(String, Bool, String)] = [
            ("2026-11-29 06:00", true, "Sunday 01:00 EST"),
            ("2026-11-29 05:59", false, "Sunday 00:59 EST"),
            ("2026-11-29 09:59", true, "Sunday 04:59 EST"),
            ("2026-11-29 10:00", false, "Sunday 05:00 EST"),
            ("2026-11-28 06:00", false, "Saturday 01:00 EST"),
            ("2026-03-08 08:59", true, "spring forward: 04:59 EDT, three elapsed hours in"),
            ("2026-03-08 09:00", false, "spring forward: 05:00 EDT"),
            ("2026-08-02 05:00", true, "Sunday 01:00 EDT"),
            ("2026-02-22 06:00", false, "a Sunday before `from`"),
            ("2026-12-06 06:00", false, "a Sunday after `until`"),
        ]
        for (instant, active, why) in expectations {
            XCTAssertEqual(schedule.isActive(at: utc(instant)), active, why)
        }

        var h = Harness()
        h.create(window(schedule))
        h.now = utc("2026-11-29 07:30")
        XCTAssertEqual(h.ingest(sampleEvent()).first?.disposition, .suppressed)
        h.now = utc("2026-11-29 11:30")
        XCTAssertEqual(h.ingest(sampleEvent(title: "later that morning")).first?.disposition, .created)
    }

    func testMaintenanceIsNamedBeforeARoutingSuppression() {
        var h = Harness()
        h.create(.routingRule(RoutingRule(id: "mute", name: "mute", suppress: true)))
        h.create(window(.oneOff(start: h.now, end: h.now.adding(milliseconds: Milliseconds.hour))))
        XCTAssertEqual(h.opened(sampleEvent()).suppressedBy, "maintenance:deploy")
        XCTAssertEqual(h.opened(sampleEvent(title: "elsewhere", resourceID: "billing-api")).suppressedBy, "routing:mute")
    }

    func testInvalidWindowsAreRefused() {
        var h = Harness()
        let t = h.now
        let range = DailyTimeRange(startMinute: 0, endMinute: 60)
        let cases: [(MaintenanceSchedule, String)] = [
            (.oneOff(start: t, end: t), "end"),
            (.oneOff(start: t, end: t.adding(milliseconds: -1)), "end"),
            (.weekly(window: ZonedTimeWindow(timeZone: "EST", range: range), from: nil, until: nil), "window.time_zone"),
            (.weekly(window: ZonedTimeWindow(timeZone: "UTC", range: DailyTimeRange(startMinute: 0, endMinute: 1_441)), from: nil, until: nil), "window.range.end_minute"),
            (.weekly(window: ZonedTimeWindow(timeZone: "UTC", range: range), from: t, until: t), "until"),
        ]
        for (schedule, field) in cases {
            XCTAssertEqual(h.fail(.createConfig(window(schedule), actor: Harness.admin)).field, field)
        }
        XCTAssertEqual(h.machine.config.maintenanceWindows.count, 0)
        XCTAssertEqual(h.ingest(sampleEvent()).first?.disposition, .created)
    }
}
