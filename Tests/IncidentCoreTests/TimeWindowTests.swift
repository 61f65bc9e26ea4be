import XCTest

@testable import IncidentCore

/// `DailyTimeRange` (pure wall-clock ranges) and `ZonedTimeWindow` (the same in an IANA zone).
final class TimeWindowTests: XCTestCase {
    // MARK: DailyTimeRange

    func testStartIsInclusiveAndEndExclusive() {
        let business = DailyTimeRange(startMinute: 9 * 60, endMinute: 17 * 60)
        // 2026-03-04 is a Wednesday.
        XCTAssertFalse(business.contains(wallClock("2026-03-04 08:59")))
        XCTAssertTrue(business.contains(wallClock("2026-03-04 09:00")))
        XCTAssertTrue(business.contains(wallClock("2026-03-04 16:59:59")))
        XCTAssertFalse(business.contains(wallClock("2026-03-04 17:00")))
    }

    func testEndMinute1440RunsToMidnight() {
        let lateEvening = DailyTimeRange(startMinute: 22 * 60, endMinute: 1_440)
        XCTAssertTrue(lateEvening.contains(wallClock("2026-03-04 23:59:59")))
        XCTAssertFalse(lateEvening.contains(wallClock("2026-03-05 00:00")))
        XCTAssertFalse(lateEvening.contains(wallClock("2026-03-04 21:59")))
    }

    func testOvernightRangeBelongsToTheDayItStarts() {
        // "Friday 22:00–06:00": Friday night into Saturday morning, nothing else.
        let fridayNight = DailyTimeRange(days: [.friday], startMinute: 22 * 60, endMinute: 6 * 60)
        XCTAssertFalse(fridayNight.contains(wallClock("2026-03-06 21:59")))  // Fri
        XCTAssertTrue(fridayNight.contains(wallClock("2026-03-06 22:00")))  // Fri
        XCTAssertTrue(fridayNight.contains(wallClock("2026-03-07 03:00")))  // Sat, from Fri
        XCTAssertTrue(fridayNight.contains(wallClock("2026-03-07 05:59")))  // Sat
        XCTAssertFalse(fridayNight.contains(wallClock("2026-03-07 06:00")))  // Sat, ended
        XCTAssertFalse(fridayNight.contains(wallClock("2026-03-06 03:00")))  // Fri morning is Thursday's
        XCTAssertFalse(fridayNight.contains(wallClock("2026-03-07 22:30")))  // Sat evening
    }

    func testOvernightRangeFromSundayWrapsIntoMonday() {
        let sundayNight = DailyTimeRange(days: [.sunday], startMinute: 22 * 60, endMinute: 2 * 60)
        XCTAssertTrue(sundayNight.contains(wallClock("2026-03-09 01:00")))  // Mon
        XCTAssertFalse(sundayNight.contains(wallClock("2026-03-08 01:00")))  // Sun morning is Saturday's
    }

    func testStartEqualEndCoversTwentyFourHoursFromStart() {
        let mondayFromNine = DailyTimeRange(days: [.monday], startMinute: 9 * 60, endMinute: 9 * 60)
        XCTAssertFalse(mondayFromNine.contains(wallClock("2026-03-02 08:59")))  // Mon
        XCTAssertTrue(mondayFromNine.contains(wallClock("2026-03-02 09:00")))
        XCTAssertTrue(mondayFromNine.contains(wallClock("2026-03-03 08:59")))  // Tue
        XCTAssertFalse(mondayFromNine.contains(wallClock("2026-03-03 09:00")))

        let always = DailyTimeRange(startMinute: 0, endMinute: 0)
        for day in 1...7 {
            XCTAssertTrue(always.contains(wallClock("2026-03-0\(day) 00:00")))
            XCTAssertTrue(always.contains(wallClock("2026-03-0\(day) 23:59:59")))
        }
    }

    func testDaysFilter() {
        let weekdays = DailyTimeRange(
            days: [.monday, .tuesday, .wednesday, .thursday, .friday], startMinute: 9 * 60, endMinute: 17 * 60)
        XCTAssertTrue(weekdays.contains(wallClock("2026-03-06 12:00")))  // Fri
        XCTAssertFalse(weekdays.contains(wallClock("2026-03-07 12:00")))  // Sat
        XCTAssertFalse(weekdays.contains(wallClock("2026-03-08 12:00")))  // Sun
        XCTAssertTrue(weekdays.contains(wallClock("2026-03-09 12:00")))  // Mon
    }

    func testRangeValidation() {
        XCTAssertNoThrow(try DailyTimeRange(startMinute: 1_439, endMinute: 1_440).validate())
        XCTAssertEqual(validationField { try DailyTimeRange(startMinute: 1_440, endMinute: 0).validate() }, "start_minute")
        XCTAssertEqual(validationField { try DailyTimeRange(startMinute: -1, endMinute: 0).validate() }, "start_minute")
        XCTAssertEqual(validationField { try DailyTimeRange(startMinute: 0, endMinute: 1_441).validate() }, "end_minute")
        XCTAssertEqual(validationField { try DailyTimeRange(startMinute: 0, endMinute: -5).validate() }, "end_minute")
    }

    // MARK: ZonedTimeWindow

    func testBusinessHoursFollowTheZoneAcrossSeasons() {
        let window = ZonedTimeWindow(
            timeZone: "America/New_York",
            range: DailyTimeRange(
                days: [.monday, .tuesday, .wednesday, .thursday, .friday], startMinute: 9 * 60, endMinute: 17 * 60))
        // Mon 2026-01-05 is EST (UTC-5): 09:00 local = 14:00Z.
        XCTAssertFalse(window.contains(instantUTC("2026-01-05T13:59:59Z")))
        XCTAssertTrue(window.contains(instantUTC("2026-01-05T14:00Z")))
        XCTAssertFalse(window.contains(instantUTC("2026-01-05T22:00Z")))  // 17:00 EST
        // Mon 2026-07-06 is EDT (UTC-4): 09:00 local = 13:00Z.
        XCTAssertTrue(window.contains(instantUTC("2026-07-06T13:00Z")))
        XCTAssertTrue(window.contains(instantUTC("2026-07-06T20:59Z")))  // 16:59 EDT
        XCTAssertFalse(window.contains(instantUTC("2026-07-06T21:00Z")))  // 17:00 EDT
        XCTAssertFalse(window.contains(instantUTC("2026-07-11T13:30Z")))  // Sat 09:30 EDT
    }

    func testWindowOnSpringForwardNightIsAnHourShorter() {
        // Europe/Berlin, Sun 2026-03-29: 02:00 CET (UTC+1) jumps to 03:00 CEST (UTC+2) at 01:00Z.
        // 01:00–04:00 local is 00:00Z–02:00Z: two elapsed hours.
        let window = ZonedTimeWindow(timeZone: "Europe/Berlin", range: DailyTimeRange(startMinute: 60, endMinute: 240))
        XCTAssertFalse(window.contains(instantUTC("2026-03-28T23:59:59Z")))  // 00:59:59 CET
        XCTAssertTrue(window.contains(instantUTC("2026-03-29T00:00Z")))  // 01:00 CET
        XCTAssertTrue(window.contains(instantUTC("2026-03-29T00:59:59Z")))  // 01:59:59 CET
        XCTAssertTrue(window.contains(instantUTC("2026-03-29T01:00Z")))  // 03:00 CEST
        XCTAssertTrue(window.contains(instantUTC("2026-03-29T01:59:59Z")))  // 03:59:59 CEST
        XCTAssertFalse(window.contains(instantUTC("2026-03-29T02:00Z")))  // 04:00 CEST
    }

    func testWindowOnFallBackNightIsAnHourLonger() {
        // Europe/Berlin, Sun 2026-10-25: 03:00 CEST (UTC+2) falls back to 02:00 CET (UTC+1) at
        // 01:00Z. 01:00–04:00 local is 23:00Z–03:00Z: four elapsed hours, 02:xx seen twice.
        let window = ZonedTimeWindow(timeZone: "Europe/Berlin", range: DailyTimeRange(startMinute: 60, endMinute: 240))
        XCTAssertFalse(window.contains(instantUTC("2026-10-24T22:59:59Z")))  // 00:59:59 CEST
        XCTAssertTrue(window.contains(instantUTC("2026-10-24T23:00Z")))  // 01:00 CEST
        XCTAssertTrue(window.contains(instantUTC("2026-10-25T00:30Z")))  // 02:30 CEST
        XCTAssertTrue(window.contains(instantUTC("2026-10-25T01:30Z")))  // 02:30 CET
        XCTAssertTrue(window.contains(instantUTC("2026-10-25T02:59:59Z")))  // 03:59:59 CET
        XCTAssertFalse(window.contains(instantUTC("2026-10-25T03:00Z")))  // 04:00 CET
    }

    func testUnknownZoneContainsNothingAndFailsValidation() {
        let window = ZonedTimeWindow(timeZone: "Mars/Olympus_Mons", range: DailyTimeRange(startMinute: 0, endMinute: 0))
        XCTAssertFalse(window.contains(instantUTC("2026-03-04T12:00Z")))
        XCTAssertEqual(validationField { try window.validate() }, "time_zone")
    }

    func testExtremeInstantsAreOutsideEveryWindow() {
        let always = ZonedTimeWindow(timeZone: "Asia/Kolkata", range: DailyTimeRange(startMinute: 0, endMinute: 0))
        XCTAssertFalse(always.contains(Timestamp(millisecondsSinceEpoch: .min)))
        XCTAssertFalse(always.contains(Timestamp(millisecondsSinceEpoch: .max)))
        XCTAssertTrue(always.contains(instantUTC("9999-12-31T12:00Z")))
    }

    func testWindowValidationNestsRangeErrors() {
        let window = ZonedTimeWindow(timeZone: "Europe/Berlin", range: DailyTimeRange(startMinute: 0, endMinute: 2_000))
        XCTAssertEqual(validationField { try window.validate() }, "range.end_minute")
        XCTAssertNoThrow(
            try ZonedTimeWindow(timeZone: "Europe/Berlin", range: DailyTimeRange(startMinute: 0, endMinute: 60)).validate())
    }

    // MARK: Encoding

    func testEncodingRoundTripsAndIsCanonical() throws {
        let window = ZonedTimeWindow(
            timeZone: "Australia/Sydney",
            range: DailyTimeRange(days: [.sunday, .monday, .friday], startMinute: 1_320, endMinute: 360))
        let bytes = window.binaryEncoded()
        XCTAssertEqual(try ZonedTimeWindow(binary: bytes), window)
        // Equal sets built in a different order encode identically.
        var reordered = window
        reordered.range.days = Set([Weekday.friday, .monday, .sunday])
        XCTAssertEqual(reordered.binaryEncoded(), bytes)
    }

    func testBadWeekdayBytesFailToDecode() {
        // A set of one weekday with raw value 7.
        XCTAssertEqual(decodingCode { try Set<Weekday>(binary: [1, 7]) }, .invalidTag)
        // Tuesday before Monday: not canonical.
        XCTAssertEqual(decodingCode { try Set<Weekday>(binary: [2, 1, 0]) }, .invalidValue)
    }
}

// MARK: - Helpers shared by the schedule tests

/// A UTC literal such as `2026-03-08T07:00Z` or `2026-03-08T06:59:59Z`, converted with civil-date
/// arithmetic only, so expected instants never go through the zone code under test.
func instantUTC(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Timestamp {
    let parts = text.split(separator: "T")
    guard parts.count == 2, text.hasSuffix("Z"), let date = CivilDate(iso: String(parts[0])) else {
        XCTFail("bad UTC literal \(text)", file: file, line: line)
        return .epoch
    }
    let clock = parts[1].dropLast().split(separator: ":").compactMap { Int64($0) }
    guard clock.count == 2 || clock.count == 3 else {
        XCTFail("bad UTC literal \(text)", file: file, line: line)
        return .epoch
    }
    let seconds = date.daysSinceEpoch * 86_400 + clock[0] * 3_600 + clock[1] * 60 + (clock.count == 3 ? clock[2] : 0)
    return Timestamp(millisecondsSinceEpoch: seconds * 1_000)
}

/// A zone-free wall-clock time, `2026-03-06 22:00` or `2026-03-06 22:00:30`.
func wallClock(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> CivilDateTime {
    let parts = text.split(separator: " ")
    let clock = parts.count == 2 ? parts[1].split(separator: ":").compactMap { Int($0) } : []
    guard let date = CivilDate(iso: String(parts[0])), clock.count == 2 || clock.count == 3 else {
        XCTFail("bad wall-clock literal \(text)", file: file, line: line)
        return CivilDateTime(date: CivilDate(year: 1970, month: 1, day: 1), hour: 0, minute: 0)
    }
    return CivilDateTime(date: date, hour: clock[0], minute: clock[1], second: clock.count == 3 ? clock[2] : 0)
}

/// The field path of the `ValidationError` that `body` throws, or nil if it does not throw.
func validationField(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String? {
    do {
        try body()
        return nil
    } catch let error as ValidationError {
        return error.field
    } catch {
        XCTFail("expected a ValidationError, got \(error)", file: file, line: line)
        return nil
    }
}

/// The code of the `DecodingError` that `body` throws, or nil if it decodes.
func decodingCode<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> DecodingError.Code? {
    do {
        _ = try body()
        return nil
    } catch let error as DecodingError {
        return error.code
    } catch {
        XCTFail("expected a DecodingError, got \(error)", file: file, line: line)
        return nil
    }
}
