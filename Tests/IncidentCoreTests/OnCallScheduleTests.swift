import XCTest

@testable import IncidentCore

/// Rotations, layer precedence, restrictions, overrides, validation and encoding of
/// `OnCallSchedule`. DST scenarios live in `OnCallScheduleDSTTests`.
final class OnCallScheduleTests: XCTestCase {
    // MARK: Rotations

    func testWeeklyRotationHandsOffAtLocalWallTimeAndWraps() {
        // Mondays 09:00 America/New_York; the second week spans the spring-forward (Sun 03-08).
        let schedule = schedule(
            "America/New_York",
            rotationLayer(["ann", "bob"], .weekly, handoff: 9 * 60, start: "2026-03-02"))
        XCTAssertNil(schedule.onCall(at: instantUTC("2026-03-02T13:59:59Z")))  // Mon 08:59:59 EST
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-02T14:00Z")), "ann")  // Mon 09:00 EST
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-08T12:00Z")), "ann")  // Sun, after the change
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-09T12:59:59Z")), "ann")  // Mon 08:59:59 EDT
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-09T13:00Z")), "bob")  // Mon 09:00 EDT: 167 h later
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-16T13:00Z")), "ann")  // wraps around
    }

    func testEveryThreeDays() {
        let schedule = schedule("UTC", rotationLayer(["ann", "bob"], .days(3), handoff: 0, start: "2026-01-01"))
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-01T00:00Z")), "ann")
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-03T23:59:59Z")), "ann")
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-04T00:00Z")), "bob")
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-06T23:59:59Z")), "bob")
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-07T00:00Z")), "ann")
    }

    func testRotationWrapsFarIntoTheFuture() {
        // 2026-01-01 + 1,000 days = 2028-09-27 (365 + 365 days to 2028-01-01, then 270 days of a
        // leap year). Shift 999 is users[0], shift 1000 is users[1].
        let schedule = schedule("UTC", rotationLayer(["ann", "bob", "cat"], .daily, handoff: 0, start: "2026-01-01"))
        XCTAssertEqual(schedule.onCall(at: instantUTC("2028-09-26T23:59:59Z")), "ann")
        XCTAssertEqual(schedule.onCall(at: instantUTC("2028-09-27T00:00Z")), "bob")
    }

    func testHourlyRotationCountsElapsedTimeAcrossDST() {
        // Every 12 h from Sat 2026-03-07 08:00 EST (13:00Z); New York springs forward Sun 07:00Z,
        // so the wall-clock handoff moves from 08:00/20:00 to 09:00/21:00.
        let schedule = schedule(
            "America/New_York",
            rotationLayer(["ann", "bob"], .hours(12), handoff: 8 * 60, start: "2026-03-07", end: "2026-03-10"))
        XCTAssertNil(schedule.onCall(at: instantUTC("2026-03-07T12:59:59Z")))  // Sat 07:59:59 EST
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-07T13:00Z")), "ann")  // Sat 08:00 EST
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-08T01:00Z")), "bob")  // Sat 20:00 EST
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-08T12:59:59Z")), "bob")
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-08T13:00Z")), "ann")  // Sun 09:00 EDT
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-09T01:00Z")), "bob")  // Sun 21:00 EDT
        // The layer ends at its local handoff time on endDate: Tue 2026-03-10 08:00 EDT = 12:00Z.
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-10T11:59:59Z")), "bob")
        XCTAssertNil(schedule.onCall(at: instantUTC("2026-03-10T12:00Z")))
    }

    func testNothingBeforeStartOrFromEndDate() {
        let schedule = schedule(
            "UTC", rotationLayer(["ann", "bob"], .daily, handoff: 9 * 60, start: "2026-01-05", end: "2026-01-08"))
        XCTAssertNil(schedule.onCall(at: instantUTC("2025-06-01T12:00Z")))
        XCTAssertNil(schedule.onCall(at: instantUTC("2026-01-05T08:59:59Z")))
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-05T09:00Z")), "ann")
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-08T08:59:59Z")), "ann")  // shift 2
        XCTAssertNil(schedule.onCall(at: instantUTC("2026-01-08T09:00Z")))
        XCTAssertNil(schedule.onCall(at: instantUTC("2030-01-01T00:00Z")))
    }

    func testEmptyScheduleHasNobody() {
        XCTAssertNil(OnCallSchedule(id: "s", name: "S", timeZone: "UTC").onCall(at: instantUTC("2026-01-01T00:00Z")))
    }

    // MARK: Layers and restrictions

    func testBusinessHoursLayerFallsThroughToTheLayerBelowOutsideItsHours() {
        // Europe/Berlin in winter (CET, UTC+1). Nights and weekends: "night"; weekdays 09–17: "day".
        let weekdays: Set<Weekday> = [.monday, .tuesday, .wednesday, .thursday, .friday]
        let schedule = schedule(
            "Europe/Berlin",
            rotationLayer(["night"], .weekly, handoff: 0, start: "2026-01-05"),
            rotationLayer(
                ["day"], .weekly, handoff: 0, start: "2026-01-05",
                restrictions: [DailyTimeRange(days: weekdays, startMinute: 9 * 60, endMinute: 17 * 60)]))
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-07T07:59:59Z")), "night")  // Wed 08:59:59
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-07T08:00Z")), "day")  // Wed 09:00
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-07T15:59:59Z")), "day")  // Wed 16:59:59
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-07T16:00Z")), "night")  // Wed 17:00
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-10T09:00Z")), "night")  // Sat 10:00
    }

    func testOvernightRestrictionBelongsToItsStartDay() {
        // "Friday 22:00–06:00" on top of a base layer, America/New_York in winter (EST, UTC-5).
        let schedule = schedule(
            "America/New_York",
            rotationLayer(["base"], .daily, handoff: 0, start: "2026-01-01"),
            rotationLayer(
                ["weekend"], .daily, handoff: 0, start: "2026-01-01",
                restrictions: [DailyTimeRange(days: [.friday], startMinute: 22 * 60, endMinute: 6 * 60)]))
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-09T08:00Z")), "base")  // Fri 03:00
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-10T02:59:59Z")), "base")  // Fri 21:59:59
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-10T03:00Z")), "weekend")  // Fri 22:00
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-10T08:00Z")), "weekend")  // Sat 03:00
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-10T11:00Z")), "base")  // Sat 06:00
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-11T03:30Z")), "base")  // Sat 22:30
    }

    func testRotationKeepsAdvancingThroughRestrictedTime() {
        // Daily ann/bob from Mon 2026-01-05, only covering 09:00–17:00 UTC. Every day advances
        // the rotation whether or not its hours were covered, so Sunday's shift (6) is ann's
        // and the next Monday's (7) is bob's.
        let schedule = schedule(
            "UTC",
            rotationLayer(
                ["ann", "bob"], .daily, handoff: 0, start: "2026-01-05",
                restrictions: [DailyTimeRange(days: [.monday, .sunday], startMinute: 9 * 60, endMinute: 17 * 60)]))
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-05T10:00Z")), "ann")
        XCTAssertNil(schedule.onCall(at: instantUTC("2026-01-06T10:00Z")))  // Tuesday: restricted
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-11T10:00Z")), "ann")
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-12T10:00Z")), "bob")
        XCTAssertNil(schedule.onCall(at: instantUTC("2026-01-12T17:00Z")))
    }

    func testHigherLayerWinsWhereItIsActive() {
        let schedule = schedule(
            "UTC",
            rotationLayer(["base"], .daily, handoff: 0, start: "2026-01-01"),
            rotationLayer(["holiday"], .daily, handoff: 0, start: "2026-01-10", end: "2026-01-12"))
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-09T23:59:59Z")), "base")
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-10T00:00Z")), "holiday")
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-12T00:00Z")), "base")
    }

    // MARK: Overrides

    func testOverridesBeatLayersAndTheLatestListedWins() {
        var schedule = schedule("UTC", rotationLayer(["ann"], .daily, handoff: 0, start: "2026-01-01"))
        schedule.overrides = [
            ScheduleOverride(user: "olga", start: instantUTC("2026-01-05T08:00Z"), end: instantUTC("2026-01-05T20:00Z")),
            ScheduleOverride(user: "pete", start: instantUTC("2026-01-05T12:00Z"), end: instantUTC("2026-01-05T14:00Z")),
            // Before the layer starts an override still puts someone on call.
            ScheduleOverride(user: "early", start: instantUTC("2025-12-31T00:00Z"), end: instantUTC("2026-01-01T00:00Z")),
        ]
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-05T07:59:59Z")), "ann")
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-05T08:00Z")), "olga")  // start inclusive
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-05T12:00Z")), "pete")  // later-listed overlap
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-05T14:00Z")), "olga")  // pete's end exclusive
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-05T20:00Z")), "ann")  // olga's end exclusive
        XCTAssertEqual(schedule.onCall(at: instantUTC("2025-12-31T12:00Z")), "early")
        XCTAssertNil(schedule.onCall(at: instantUTC("2025-12-30T12:00Z")))

        schedule.overrides.swapAt(0, 1)  // now olga is listed last and wins the overlap
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-05T12:00Z")), "olga")
    }

    func testUnknownZoneLeavesOnlyOverrides() {
        var schedule = schedule("Mars/Olympus_Mons", rotationLayer(["ann"], .daily, handoff: 0, start: "2026-01-01"))
        XCTAssertNil(schedule.onCall(at: instantUTC("2026-01-05T12:00Z")))
        schedule.overrides = [
            ScheduleOverride(user: "olga", start: instantUTC("2026-01-05T00:00Z"), end: instantUTC("2026-01-06T00:00Z"))
        ]
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-01-05T12:00Z")), "olga")
    }

    func testUnvalidatedLayersNeverTrap() {
        // Decoded or hand-built values that validate() would reject evaluate to "nobody".
        let broken = [
            rotationLayer([], .daily, handoff: 0, start: "2026-01-01"),
            rotationLayer(["a"], .days(0), handoff: 0, start: "2026-01-01"),
            rotationLayer(["a"], .hours(-3), handoff: 0, start: "2026-01-01"),
            rotationLayer(["a"], .hours(Int.max), handoff: 0, start: "2026-01-01"),
            rotationLayer(["a"], .daily, handoff: 99_999, start: "2026-01-01"),
            ScheduleLayer(name: "x", users: ["a"], rotation: .daily, startDate: CivilDate(year: .max, month: 1, day: 1)),
            ScheduleLayer(
                name: "x", users: ["a"], rotation: .daily, startDate: CivilDate(year: 2026, month: 1, day: 1),
                endDate: CivilDate(year: .min, month: 99, day: -4)),
        ]
        for layer in broken {
            let schedule = schedule("UTC", layer)
            XCTAssertNil(schedule.onCall(at: instantUTC("2026-06-01T00:00Z")), "\(layer)")
            XCTAssertNotNil(validationField { try schedule.validate() }, "\(layer)")
        }
        let fine = schedule("UTC", rotationLayer(["a"], .daily, handoff: 0, start: "2026-01-01"))
        XCTAssertNil(fine.onCall(at: Timestamp(millisecondsSinceEpoch: .min)))
        XCTAssertNil(fine.onCall(at: Timestamp(millisecondsSinceEpoch: .max)))
        XCTAssertEqual(fine.onCall(at: Timestamp(millisecondsSinceEpoch: 253_402_300_799_000)), "a")  // 9999-12-31
    }

    // MARK: Helpers

    private func schedule(_ zone: String, _ layers: ScheduleLayer...) -> OnCallSchedule {
        OnCallSchedule(id: "ops", name: "Ops primary", timeZone: zone, layers: layers)
    }
}

/// A layer with a short spelling for tests; dates are `YYYY-MM-DD`.
func rotationLayer(
    _ users: [String], _ rotation: Rotation, handoff: Int, start: String, end: String? = nil,
    restrictions: [DailyTimeRange] = []
) -> ScheduleLayer {
    ScheduleLayer(
        name: "layer", users: users, rotation: rotation, handoffMinute: handoff,
        startDate: CivilDate(iso: start)!, endDate: end.map { CivilDate(iso: $0)! }, restrictions: restrictions)
}
