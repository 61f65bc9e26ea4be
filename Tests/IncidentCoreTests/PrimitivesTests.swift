import XCTest

@testable import IncidentCore

final class PrimitivesTests: XCTestCase {
    func testTimeZonesAreIANANamesOnly() {
        for name in ["UTC", "Asia/Kolkata", "Asia/Calcutta", "America/Argentina/Buenos_Aires", "Etc/GMT-2", "Europe/Berlin"] {
            XCTAssertNotNil(TimeZoneRules(identifier: name), name)
        }
        for name in ["", "BST", "PST", "IST", "GMT+2", "UTC+3", "utc", "Mars/Olympus_Mons", "/Berlin", "Europe/", "Europe/Berlin; rm -rf /"] {
            XCTAssertNil(TimeZoneRules(identifier: name), name)
        }
    }

    func testCivilDatesRoundTripAcrossCenturies() {
        var rng = TestRNG(seed: 7)
        for _ in 0..<10_000 {
            let days = Int64.random(in: -800_000...800_000, using: &rng)
            let date = CivilDate(daysSinceEpoch: days)
            XCTAssertTrue(date.isValid)
            XCTAssertEqual(date.daysSinceEpoch, days)
        }
        XCTAssertEqual(CivilDate(year: 2026, month: 11, day: 25).weekday, .wednesday)
        XCTAssertEqual(CivilDate(year: 2000, month: 2, day: 29).isValid, true)
        XCTAssertEqual(CivilDate(year: 1900, month: 2, day: 29).isValid, false)
        XCTAssertEqual(CivilDate(iso: "2026-02-30"), nil)
        XCTAssertEqual(Timestamp(millisecondsSinceEpoch: 1_795_586_400_123).rfc3339, "2026-11-25T06:00:00.123Z")
        XCTAssertEqual(Timestamp(millisecondsSinceEpoch: -1).rfc3339, "1969-12-31T23:59:59.999Z")
        _ = Timestamp(millisecondsSinceEpoch: .min).rfc3339  // must not trap
        _ = Timestamp(millisecondsSinceEpoch: .max).rfc3339
    }

    func testIncidentIDsAreReadableAndParseBack() {
        let id = IncidentID(number: 42, createdAt: Timestamp(millisecondsSinceEpoch: 1_795_586_400_000))
        XCTAssertEqual(id.description, "INC-20261125-000042")
        XCTAssertEqual(IncidentID("INC-20261125-000042"), id)
        XCTAssertEqual(IncidentID("INC-20261125-1234567")?.number, 1_234_567)
        for bad in ["INC-20261125-42", "INC-20261125-0000042", "INC-20261325-000042", "inc-20261125-000042", "INC-20261125-000000", "INC-2026112-000042", "INC-20261125-00004a"] {
            XCTAssertNil(IncidentID(bad), bad)
        }
    }

    /// `description` writes the id in place; it is the text the general formula gives, over
    /// the days and numbers ids take (and the formula itself beyond them).
    func testIncidentIDTextIsTheFormulasText() {
        var generator = SystemRandomNumberGenerator()
        var days: [Int64] = [0, 1, -1, 20_419, 2_932_896, -719_528, -719_529, 2_932_897]
        var numbers: [UInt64] = [0, 1, 9, 999_999, 1_000_000, 123_456_789, UInt64(Int.max), UInt64(Int.max) + 1, .max]
        for _ in 0..<500 {
            days.append(Int64.random(in: -800_000...3_000_000, using: &generator))
            numbers.append(generator.next() >> UInt64.random(in: 0...63, using: &generator))
        }
        for day in days {
            for number in numbers.prefix(12) + numbers.shuffled(using: &generator).prefix(3) {
                let id = IncidentID(number: number, day: day)
                let formula = "INC-\(CivilDate(daysSinceEpoch: day).compactString)-\(pad(Int(clamping: number), 6))"
                XCTAssertEqual(id.description, formula, "day \(day), number \(number)")
            }
        }
    }

    func testBoundedLogKeepsFirstAndLatest() {
        var log = BoundedLog<Int>(headCapacity: 3, tailCapacity: 4)
        for i in 1...100 { log.append(i) }
        XCTAssertEqual(log.elements, [1, 2, 3, 97, 98, 99, 100])
        XCTAssertEqual(log.totalCount, 100)
        XCTAssertEqual(log.omittedCount, 93)
        let decoded = try? BoundedLog<Int>(binary: log.binaryEncoded())
        XCTAssertEqual(decoded, log)
    }

    func testVarintsRejectOverlongAndTruncatedInput() {
        var reader = BinaryReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])
        XCTAssertThrowsError(try reader.readVarint())
        reader = BinaryReader([0x80])
        XCTAssertThrowsError(try reader.readVarint())
        for value: Int64 in [0, 1, -1, .max, .min, 300, -300] {
            XCTAssertEqual(try Int64(binary: value.binaryEncoded()), value)
        }
    }

    func testStringsRoundTripAndInvalidUTF8IsRejected() throws {
        var writer = BinaryWriter()
        for text in ["", "ascii only", "héllo wörld", "日本語", "emoji 🚨 mid-string"] { writer.write(string: text) }
        var reader = BinaryReader(writer.bytes)
        for text in ["", "ascii only", "héllo wörld", "日本語", "emoji 🚨 mid-string"] { XCTAssertEqual(try reader.readString(), text) }
        XCTAssertEqual(reader.offset, writer.bytes.count)

        for invalid: [UInt8] in [[0xFF], [0x61, 0xC3], [0xED, 0xA0, 0x80], [0x61, 0x62, 0x80]] {
            var bad = BinaryReader([UInt8(invalid.count)] + invalid)
            XCTAssertThrowsError(try bad.readString()) { error in
                XCTAssertEqual((error as? DecodingError)?.code, .invalidUTF8, "\(invalid)")
            }
        }
    }
}
