import IncidentCore

/// The text forms of instants and durations the API reads and writes.
///
/// Instants are RFC 3339 (`2026-11-25T06:04:00Z`, fractional seconds and `±hh:mm` or `±hhmm`
/// offsets accepted; answers always use UTC with milliseconds). Durations are Go-style strings
/// (`90s`, `5m`, `1h30m`, `2d`, `250ms`) or a bare number of seconds; answers use the string form.
enum TimeText {
    /// Parses RFC 3339. Years 0001–9999 (Alertmanager's "zero" time `0001-01-01T00:00:00Z` too).
    static func instant(_ text: String) -> Timestamp? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 40 else { return nil }
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 else { return nil }
                value = value * 10 + Int(bytes[i] - 0x30)
            }
            return value
        }
        guard let year = digits(0..<4), bytes[4] == UInt8(ascii: "-"), let month = digits(5..<7), bytes[7] == UInt8(ascii: "-"),
            let day = digits(8..<10), [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(bytes[10]),
            let hour = digits(11..<13), bytes[13] == UInt8(ascii: ":"), let minute = digits(14..<16),
            bytes[16] == UInt8(ascii: ":"), let second = digits(17..<19)
        else { return nil }
        let date = CivilDate(year: year, month: month, day: day)
        guard year >= 1, date.isValid, hour < 24, minute < 60, second < 61 else { return nil }
        var index = 19
        var milliseconds = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                if index - start < 3 { milliseconds = milliseconds * 10 + Int(bytes[index] - 0x30) }
                index += 1
            }
            guard index > start else { return nil }
            for _ in min(3, index - start)..<3 { milliseconds *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            // `+hh:mm` (RFC 3339) or `+hhmm` (ISO 8601 basic, as in PagerDuty's examples).
            let colon = index + 3 < bytes.count && bytes[index + 3] == UInt8(ascii: ":")
            let minuteStart = index + (colon ? 4 : 3)
            guard let h = digits(index + 1..<index + 3), let m = digits(minuteStart..<minuteStart + 2), h < 24, m < 60 else { return nil }
            offsetSeconds = (h * 3600 + m * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index = minuteStart + 2
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        let wall = CivilDateTime(date: date, hour: hour, minute: minute, second: min(second, 59))
        let seconds = wall.secondsSinceEpochAsUTC - Int64(offsetSeconds)
        return Timestamp(millisecondsSinceEpoch: seconds * 1_000 + Int64(milliseconds))
    }

    /// Instants of years 0001–9999: numbers outside are refused rather than carried into state.
    static let civilMilliseconds: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    /// Parses a query parameter: RFC 3339 or whole milliseconds since the epoch.
    static func queryInstant(_ text: String) -> Timestamp? {
        if let ms = Int64(text) { return civilMilliseconds.contains(ms) ? Timestamp(millisecondsSinceEpoch: ms) : nil }
        return instant(text)
    }

    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("d", Milliseconds.day), ("h", Milliseconds.hour), ("m", Milliseconds.minute), ("s", Milliseconds.second),
    ]

    /// Parses `1h30m`, `90s`, `250ms`, `2d` into milliseconds; nil when malformed or beyond a year.
    static func duration(_ text: String) -> Int64? {
        var rest = Substring(text)
        var total: Int64 = 0
        guard !rest.isEmpty, rest.utf8.count <= 32 else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && $0.isNumber }
            guard !number.isEmpty, number.count <= 9, let value = Int64(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.suffix) }) else { return nil }
            rest = rest.dropFirst(unit.suffix.count)
            total += value * unit.milliseconds
            guard total <= 366 * Milliseconds.day else { return nil }
        }
        return total
    }

    /// `1h30m`, `45s`, `1500ms`: the largest units that divide the duration exactly.
    static func durationText(_ milliseconds: Int64) -> String {
        guard milliseconds > 0 else { return "0s" }
        if milliseconds % Milliseconds.second != 0 { return "\(milliseconds)ms" }
        var rest = milliseconds
        var text = ""
        for (suffix, size) in units.dropFirst() where rest >= size {
            text += "\(rest / size)\(suffix)"
            rest %= size
        }
        return text
    }
}
