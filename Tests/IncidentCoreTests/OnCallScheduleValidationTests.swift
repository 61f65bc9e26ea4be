import XCTest

@testable import IncidentCore

/// Validation (with the field path each error names) and the binary encoding of schedules.
final class OnCallScheduleValidationTests: XCTestCase {
    // MARK: Validation

    func testValidScheduleValidates() {
        XCTAssertNoThrow(try complexSchedule().validate())
    }

    func testScheduleFieldErrors() {
        XCTAssertEqual(fieldOf { $0.id = "" }, "id")
        XCTAssertEqual(fieldOf { $0.id = String(repeating: "x", count: TextLimits.identifierBytes + 1) }, "id")
        XCTAssertEqual(fieldOf { $0.id = "has space" }, "id")
        XCTAssertEqual(fieldOf { $0.name = "" }, "name")
        XCTAssertEqual(fieldOf { $0.name = String(repeating: "x", count: TextLimits.titleBytes + 1) }, "name")
        XCTAssertEqual(fieldOf { $0.timeZone = "Mars/Olympus_Mons" }, "time_zone")
        XCTAssertEqual(fieldOf { $0.timeZone = "" }, "time_zone")
        XCTAssertEqual(fieldOf { $0.layers = Array(repeating: $0.layers[0], count: ScheduleLimits.maxLayers + 1) }, "layers")
        XCTAssertEqual(
            fieldOf { $0.overrides = Array(repeating: $0.overrides[0], count: ScheduleLimits.maxOverrides + 1) }, "overrides")
        XCTAssertNil(fieldOf { $0.layers = Array(repeating: $0.layers[0], count: ScheduleLimits.maxLayers) })
        XCTAssertNil(fieldOf { $0.layers = [] })
    }

    func testLayerFieldErrorsCarryTheirPath() {
        XCTAssertEqual(fieldOf { $0.layers[1].name = "" }, "layers[1].name")
        XCTAssertEqual(fieldOf { $0.layers[1].users = [] }, "layers[1].users")
        XCTAssertEqual(
            fieldOf { $0.layers[1].users = Array(repeating: "u", count: ScheduleLimits.maxUsersPerLayer + 1) },
            "layers[1].users")
        XCTAssertEqual(fieldOf { $0.layers[1].users[0] = "" }, "layers[1].users[0]")
        XCTAssertEqual(
            fieldOf { $0.layers[1].users[2] = String(repeating: "u", count: TextLimits.identifierBytes + 1) },
            "layers[1].users[2]")
        XCTAssertEqual(fieldOf { $0.layers[0].rotation = .days(0) }, "layers[0].rotation")
        XCTAssertEqual(fieldOf { $0.layers[0].rotation = .days(366) }, "layers[0].rotation")
        XCTAssertEqual(fieldOf { $0.layers[0].rotation = .hours(0) }, "layers[0].rotation")
        XCTAssertEqual(fieldOf { $0.layers[0].rotation = .hours(8_761) }, "layers[0].rotation")
        XCTAssertNil(fieldOf { $0.layers[0].rotation = .hours(8_760) })
        XCTAssertEqual(fieldOf { $0.layers[2].handoffMinute = 1_440 }, "layers[2].handoff_minute")
        XCTAssertEqual(fieldOf { $0.layers[2].handoffMinute = -1 }, "layers[2].handoff_minute")
        XCTAssertEqual(fieldOf { $0.layers[0].startDate = CivilDate(year: 2026, month: 2, day: 29) }, "layers[0].start_date")
        XCTAssertEqual(fieldOf { $0.layers[0].endDate = CivilDate(year: 2026, month: 13, day: 1) }, "layers[0].end_date")
        XCTAssertEqual(fieldOf { $0.layers[0].endDate = $0.layers[0].startDate }, "layers[0].end_date")
        XCTAssertEqual(
            fieldOf { $0.layers[2].restrictions[1].endMinute = 1_441 }, "layers[2].restrictions[1].end_minute")
        XCTAssertEqual(
            fieldOf {
                $0.layers[2].restrictions = Array(
                    repeating: $0.layers[2].restrictions[0], count: ScheduleLimits.maxRestrictionsPerLayer + 1)
            }, "layers[2].restrictions")
    }

    func testOverrideFieldErrorsCarryTheirPath() {
        XCTAssertEqual(fieldOf { $0.overrides[3].end = $0.overrides[3].start }, "overrides[3].end")
        XCTAssertEqual(fieldOf { $0.overrides[0].user = "" }, "overrides[0].user")
    }

    // MARK: Encoding

    func testComplexScheduleRoundTrips() throws {
        let schedule = complexSchedule()
        let bytes = schedule.binaryEncoded()
        let decoded = try OnCallSchedule(binary: bytes)
        XCTAssertEqual(decoded, schedule)
        XCTAssertEqual(decoded.binaryEncoded(), bytes)
        for rotation in [Rotation.daily, .weekly, .days(3), .hours(8_760)] {
            XCTAssertEqual(try Rotation(binary: rotation.binaryEncoded()), rotation)
        }
    }

    func testEveryTruncationFailsWithADecodingError() {
        let bytes = complexSchedule().binaryEncoded()
        for length in 0..<bytes.count {
            XCTAssertNotNil(decodingCode { try OnCallSchedule(binary: Array(bytes[..<length])) }, "prefix \(length)")
        }
        XCTAssertEqual(decodingCode { try OnCallSchedule(binary: bytes + [0]) }, .trailingBytes)
    }

    func testUnknownRotationTagIsRejected() {
        XCTAssertEqual(decodingCode { try Rotation(binary: [4, 2]) }, .invalidTag)
        XCTAssertEqual(decodingCode { try Rotation(binary: [0xFF]) }, .invalidTag)
        // Inside a whole schedule: find the weekly layer's rotation tag and corrupt it.
        let schedule = OnCallSchedule(
            id: "s", name: "S", timeZone: "UTC", layers: [rotationLayer(["a"], .weekly, handoff: 0, start: "2026-01-01")])
        var bytes = schedule.binaryEncoded()
        // id, name, zone (1-byte lengths), layer count, layer name, users: the tag follows.
        let tagOffset = 2 + 2 + 4 + 1 + 6 + 3
        XCTAssertEqual(bytes[tagOffset], 1)
        bytes[tagOffset] = 9
        XCTAssertEqual(decodingCode { try OnCallSchedule(binary: bytes) }, .invalidTag)
    }

    func testDecodedInvalidValuesAreLeftForValidation() throws {
        // The codec carries what was written; validate() is what rejects it.
        var schedule = complexSchedule()
        schedule.layers[0].startDate = CivilDate(year: 2026, month: 2, day: 31)
        schedule.layers[0].rotation = .days(-7)
        let decoded = try OnCallSchedule(binary: schedule.binaryEncoded())
        XCTAssertEqual(decoded, schedule)
        XCTAssertNotNil(validationField { try decoded.validate() })
    }

    // MARK: Fixtures

    /// Three layers (every rotation kind, an end date, restrictions) and four overrides.
    private func complexSchedule() -> OnCallSchedule {
        OnCallSchedule(
            id: "payments-primary", name: "Payments — primary 🚨", timeZone: "Europe/Berlin",
            layers: [
                rotationLayer(["ann", "bob", "cat"], .weekly, handoff: 9 * 60, start: "2026-01-05"),
                rotationLayer(["dan", "eve", "fay"], .days(3), handoff: 2 * 60 + 30, start: "2026-02-01", end: "2026-12-31"),
                rotationLayer(
                    ["gus"], .hours(12), handoff: 8 * 60, start: "2026-03-01",
                    restrictions: [
                        DailyTimeRange(days: [.saturday, .monday], startMinute: 9 * 60, endMinute: 17 * 60),
                        DailyTimeRange(days: [.friday], startMinute: 22 * 60, endMinute: 6 * 60),
                        DailyTimeRange(startMinute: 0, endMinute: 0),
                    ]),
            ],
            overrides: [
                ScheduleOverride(user: "olga", start: instantUTC("2026-03-01T00:00Z"), end: instantUTC("2026-03-02T00:00Z")),
                ScheduleOverride(user: "pete", start: instantUTC("1969-12-31T23:00Z"), end: instantUTC("1970-01-01T01:00Z")),
                ScheduleOverride(user: "olga", start: instantUTC("2026-03-01T06:00Z"), end: instantUTC("2026-03-01T07:00Z")),
                ScheduleOverride(user: "quin", start: instantUTC("2026-04-01T00:00Z"), end: instantUTC("2026-04-08T00:00Z")),
            ])
    }

    /// The field path of the error `validate()` throws after `change` is applied to the complex
    /// schedule, or nil if it still validates.
    private func fieldOf(_ change: (inout OnCallSchedule) -> Void) -> String? {
        var schedule = complexSchedule()
        change(&schedule)
        return validationField { try schedule.validate() }
    }
}
