import XCTest

@testable import IncidentCore

/// Daily rotations across both DST transitions in three zones (two northern, one southern).
///
/// Each scenario is a layer handing off ann (Friday) → bob (Saturday) → cat (Sunday, the change)
/// → ann (Monday). Expected handoff instants are UTC literals worked out by hand from the zone's
/// offsets (noted beside each), never computed with the code under test.
///
/// With handoff 09:00 the shift spanning the change is 23 h (spring) or 25 h (autumn). With a
/// handoff inside the skipped hour, the handoff happens when the clock passes it (the jump), so
/// the lost hour is shared: the shifts either side are 23.5 h each. With a handoff inside the
/// repeated hour, it happens at the first pass and the repeat does not hand the shift back; the
/// shift starting on the change day is 25 h.
final class OnCallScheduleDSTTests: XCTestCase {
    // MARK: America/New_York

    func testNewYorkSpringForwardHandoffAt0900() {
        // Sun 2026-03-08: 02:00 EST (UTC-5) jumps to 03:00 EDT (UTC-4) at 07:00Z.
        assertDailyHandoffs(
            zone: "America/New_York", handoff: 9 * 60, firstDay: "2026-03-06",
            saturday: "2026-03-07T14:00Z",  // 09:00 EST
            sunday: "2026-03-08T13:00Z",  // 09:00 EDT
            monday: "2026-03-09T13:00Z",  // 09:00 EDT
            bobMinutes: 23 * 60, catMinutes: 24 * 60)
    }

    func testNewYorkSpringForwardHandoffInsideTheGap() {
        let schedule = assertDailyHandoffs(
            zone: "America/New_York", handoff: 2 * 60 + 30, firstDay: "2026-03-06",
            saturday: "2026-03-07T07:30Z",  // 02:30 EST
            sunday: "2026-03-08T07:00Z",  // 02:30 never shows; the clock passes it jumping to 03:00 EDT
            monday: "2026-03-09T06:30Z",  // 02:30 EDT
            bobMinutes: 23 * 60 + 30, catMinutes: 23 * 60 + 30)
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-08T06:59:59Z")), "bob")  // 01:59:59 EST
    }

    func testNewYorkFallBackHandoffAt0900() {
        // Sun 2026-11-01: 02:00 EDT (UTC-4) falls back to 01:00 EST (UTC-5) at 06:00Z.
        assertDailyHandoffs(
            zone: "America/New_York", handoff: 9 * 60, firstDay: "2026-10-30",
            saturday: "2026-10-31T13:00Z",  // 09:00 EDT
            sunday: "2026-11-01T14:00Z",  // 09:00 EST
            monday: "2026-11-02T14:00Z",  // 09:00 EST
            bobMinutes: 25 * 60, catMinutes: 24 * 60)
    }

    func testNewYorkFallBackHandoffAt0230AfterTheRepeatedHour() {
        // New York repeats 01:00–01:59, so 02:30 happens once, in EST.
        assertDailyHandoffs(
            zone: "America/New_York", handoff: 2 * 60 + 30, firstDay: "2026-10-30",
            saturday: "2026-10-31T06:30Z",  // 02:30 EDT
            sunday: "2026-11-01T07:30Z",  // 02:30 EST
            monday: "2026-11-02T07:30Z",  // 02:30 EST
            bobMinutes: 25 * 60, catMinutes: 24 * 60)
    }

    func testNewYorkFallBackHandoffInsideTheRepeatedHour() {
        let schedule = assertDailyHandoffs(
            zone: "America/New_York", handoff: 60 + 30, firstDay: "2026-10-30",
            saturday: "2026-10-31T05:30Z",  // 01:30 EDT
            sunday: "2026-11-01T05:30Z",  // 01:30 EDT, the first pass
            monday: "2026-11-02T06:30Z",  // 01:30 EST
            bobMinutes: 24 * 60, catMinutes: 25 * 60)
        // The clock shows 01:00–01:29 again in EST; cat keeps the shift.
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-11-01T06:00Z")), "cat")  // 01:00 EST
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-11-01T06:29:59Z")), "cat")  // 01:29:59 EST
    }

    // MARK: Europe/Berlin

    func testBerlinSpringForwardHandoffAt0900() {
        // Sun 2026-03-29: 02:00 CET (UTC+1) jumps to 03:00 CEST (UTC+2) at 01:00Z.
        assertDailyHandoffs(
            zone: "Europe/Berlin", handoff: 9 * 60, firstDay: "2026-03-27",
            saturday: "2026-03-28T08:00Z",  // 09:00 CET
            sunday: "2026-03-29T07:00Z",  // 09:00 CEST
            monday: "2026-03-30T07:00Z",  // 09:00 CEST
            bobMinutes: 23 * 60, catMinutes: 24 * 60)
    }

    func testBerlinSpringForwardHandoffInsideTheGap() {
        let schedule = assertDailyHandoffs(
            zone: "Europe/Berlin", handoff: 2 * 60 + 30, firstDay: "2026-03-27",
            saturday: "2026-03-28T01:30Z",  // 02:30 CET
            sunday: "2026-03-29T01:00Z",  // the jump from 02:00 CET to 03:00 CEST passes 02:30
            monday: "2026-03-30T00:30Z",  // 02:30 CEST
            bobMinutes: 23 * 60 + 30, catMinutes: 23 * 60 + 30)
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-03-29T00:59:59Z")), "bob")  // 01:59:59 CET
    }

    func testBerlinFallBackHandoffAt0900() {
        // Sun 2026-10-25: 03:00 CEST (UTC+2) falls back to 02:00 CET (UTC+1) at 01:00Z.
        assertDailyHandoffs(
            zone: "Europe/Berlin", handoff: 9 * 60, firstDay: "2026-10-23",
            saturday: "2026-10-24T07:00Z",  // 09:00 CEST
            sunday: "2026-10-25T08:00Z",  // 09:00 CET
            monday: "2026-10-26T08:00Z",  // 09:00 CET
            bobMinutes: 25 * 60, catMinutes: 24 * 60)
    }

    func testBerlinFallBackHandoffInsideTheRepeatedHour() {
        let schedule = assertDailyHandoffs(
            zone: "Europe/Berlin", handoff: 2 * 60 + 30, firstDay: "2026-10-23",
            saturday: "2026-10-24T00:30Z",  // 02:30 CEST
            sunday: "2026-10-25T00:30Z",  // 02:30 CEST, the first pass
            monday: "2026-10-26T01:30Z",  // 02:30 CET
            bobMinutes: 24 * 60, catMinutes: 25 * 60)
        // 02:00–02:29 CET repeats wall times before the handoff; cat keeps the shift.
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-10-25T01:00Z")), "cat")  // 02:00 CET
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-10-25T01:30Z")), "cat")  // 02:30 CET, second pass
    }

    // MARK: Australia/Sydney (southern hemisphere: DST ends in April, starts in October)

    func testSydneySpringForwardHandoffAt0900() {
        // Sun 2026-10-04: 02:00 AEST (UTC+10) jumps to 03:00 AEDT (UTC+11) at Sat 16:00Z.
        assertDailyHandoffs(
            zone: "Australia/Sydney", handoff: 9 * 60, firstDay: "2026-10-02",
            saturday: "2026-10-02T23:00Z",  // Sat 09:00 AEST
            sunday: "2026-10-03T22:00Z",  // Sun 09:00 AEDT
            monday: "2026-10-04T22:00Z",  // Mon 09:00 AEDT
            bobMinutes: 23 * 60, catMinutes: 24 * 60)
    }

    func testSydneySpringForwardHandoffInsideTheGap() {
        let schedule = assertDailyHandoffs(
            zone: "Australia/Sydney", handoff: 2 * 60 + 30, firstDay: "2026-10-02",
            saturday: "2026-10-02T16:30Z",  // Sat 02:30 AEST
            sunday: "2026-10-03T16:00Z",  // Sun: the jump from 02:00 AEST to 03:00 AEDT passes 02:30
            monday: "2026-10-04T15:30Z",  // Mon 02:30 AEDT
            bobMinutes: 23 * 60 + 30, catMinutes: 23 * 60 + 30)
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-10-03T15:59:59Z")), "bob")  // Sun 01:59:59 AEST
    }

    func testSydneyFallBackHandoffAt0900() {
        // Sun 2026-04-05: 03:00 AEDT (UTC+11) falls back to 02:00 AEST (UTC+10) at Sat 16:00Z.
        assertDailyHandoffs(
            zone: "Australia/Sydney", handoff: 9 * 60, firstDay: "2026-04-03",
            saturday: "2026-04-03T22:00Z",  // Sat 09:00 AEDT
            sunday: "2026-04-04T23:00Z",  // Sun 09:00 AEST
            monday: "2026-04-05T23:00Z",  // Mon 09:00 AEST
            bobMinutes: 25 * 60, catMinutes: 24 * 60)
    }

    func testSydneyFallBackHandoffInsideTheRepeatedHour() {
        let schedule = assertDailyHandoffs(
            zone: "Australia/Sydney", handoff: 2 * 60 + 30, firstDay: "2026-04-03",
            saturday: "2026-04-03T15:30Z",  // Sat 02:30 AEDT
            sunday: "2026-04-04T15:30Z",  // Sun 02:30 AEDT, the first pass
            monday: "2026-04-05T16:30Z",  // Mon 02:30 AEST
            bobMinutes: 24 * 60, catMinutes: 25 * 60)
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-04-04T16:00Z")), "cat")  // Sun 02:00 AEST
        XCTAssertEqual(schedule.onCall(at: instantUTC("2026-04-04T16:30Z")), "cat")  // Sun 02:30 AEST, second pass
    }

    // MARK: Helpers

    /// Builds a daily ann → bob → cat layer starting on Friday `firstDay` and checks the three
    /// following handoffs and the lengths of bob's (Saturday) and cat's (Sunday) shifts. The
    /// schedule is returned for scenario-specific checks.
    @discardableResult
    private func assertDailyHandoffs(
        zone: String, handoff: Int, firstDay: String,
        saturday: String, sunday: String, monday: String,
        bobMinutes: Int64, catMinutes: Int64,
        file: StaticString = #filePath, line: UInt = #line
    ) -> OnCallSchedule {
        let layer = ScheduleLayer(
            name: "primary", users: ["ann", "bob", "cat"], rotation: .daily, handoffMinute: handoff,
            startDate: CivilDate(iso: firstDay)!)
        let schedule = OnCallSchedule(id: "ops", name: "Ops", timeZone: zone, layers: [layer])
        XCTAssertNoThrow(try schedule.validate(), file: file, line: line)
        let (sat, sun, mon) = (instantUTC(saturday), instantUTC(sunday), instantUTC(monday))
        assertShift(schedule, "bob", from: sat, to: sun, minutes: bobMinutes, file: file, line: line)
        assertShift(schedule, "cat", from: sun, to: mon, minutes: catMinutes, file: file, line: line)
        XCTAssertEqual(schedule.onCall(at: sat.adding(milliseconds: -1)), "ann", "before Saturday", file: file, line: line)
        XCTAssertEqual(schedule.onCall(at: mon), "ann", "Monday wraps to ann", file: file, line: line)
        return schedule
    }

    /// `user` is on call from `start` (inclusive) to `end` (exclusive), without a gap (checked
    /// every five minutes and at both edges), and not just outside it; the shift is `minutes`
    /// long in elapsed time.
    private func assertShift(
        _ schedule: OnCallSchedule, _ user: String, from start: Timestamp, to end: Timestamp, minutes: Int64,
        file: StaticString, line: UInt
    ) {
        XCTAssertEqual(end.milliseconds(since: start), minutes * Milliseconds.minute, "\(user)'s shift length", file: file, line: line)
        XCTAssertNotEqual(schedule.onCall(at: start.adding(milliseconds: -1)), user, "just before \(start)", file: file, line: line)
        XCTAssertNotEqual(schedule.onCall(at: end), user, "at \(end)", file: file, line: line)
        XCTAssertEqual(schedule.onCall(at: end.adding(milliseconds: -1)), user, "just before \(end)", file: file, line: line)
        var instant = start
        while instant < end {
            XCTAssertEqual(schedule.onCall(at: instant), user, "at \(instant)", file: file, line: line)
            instant = instant.adding(milliseconds: 5 * Milliseconds.minute)
        }
    }
}
