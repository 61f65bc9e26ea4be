/// Rows in PostgreSQL's COPY text format, built in one contiguous buffer so that a whole batch
/// goes to the server in a few large PQputCopyData calls (not one call per row).
///
/// Fields are separated by tabs and rows end with a newline; NULL is `\N`. Inside a value,
/// backslash, tab, newline and carriage return are escaped (`\\`, `\t`, `\n`, `\r`), which is
/// all the format requires, so `\N` written as text stays text (`\\N`). PostgreSQL text cannot
/// hold NUL: a NUL character is stored as U+FFFD rather than failing the whole batch.
public struct CopyBuffer: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var rowCount = 0
    private var rowIsEmpty = true

    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    public var isEmpty: Bool { rowCount == 0 }

    /// Ends the current row. Every row must have as many fields as the COPY's column list.
    public mutating func endRow() {
        bytes.append(UInt8(ascii: "\n"))
        rowCount += 1
        rowIsEmpty = true
    }

    public mutating func appendNull() {
        separate()
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "N"))
    }

    public mutating func append(_ text: String?) {
        guard var text else { return appendNull() }
        separate()
        text.withUTF8 { appendEscaped($0) }
    }

    public mutating func append(_ value: Int64?) {
        guard let value else { return appendNull() }
        separate()
        appendDecimal(value)
    }

    public mutating func append(_ value: Int) { append(Int64(value)) }

    /// Milliseconds since the epoch as a timestamptz literal (`2025-03-01 12:34:56.789+00`).
    /// Times outside the years 1–9999 are clamped to them: no real incident time lies there,
    /// and one absurd source timestamp must not make a whole batch unwritable.
    public mutating func appendTimestamp(_ milliseconds: Int64?) {
        guard let milliseconds else { return appendNull() }
        separate()
        let clamped = min(max(milliseconds, Self.earliestTimestamp), Self.latestTimestamp)
        let (days, millisecondOfDay) = Self.floorDivision(clamped, 86_400_000)
        let (year, month, day) = Self.civilDate(daysSinceEpoch: days)
        appendDigits(year, count: 4)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2)
        bytes.append(UInt8(ascii: " "))
        appendDigits(millisecondOfDay / 3_600_000, count: 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(millisecondOfDay / 60_000 % 60, count: 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(millisecondOfDay / 1_000 % 60, count: 2)
        bytes.append(UInt8(ascii: "."))
        appendDigits(millisecondOfDay % 1_000, count: 3)
        bytes.append(UInt8(ascii: "+"))
        bytes.append(UInt8(ascii: "0"))
        bytes.append(UInt8(ascii: "0"))
    }

    /// 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
    static let earliestTimestamp: Int64 = -62_135_596_800_000
    static let latestTimestamp: Int64 = 253_402_300_799_999

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = value / divisor - (value % divisor < 0 ? 1 : 0)
        return (quotient, value - quotient * divisor)
    }

    /// Proleptic Gregorian date of a day count (Howard Hinnant's `civil_from_days`).
    static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private mutating func appendDigits(_ value: Int64, count: Int) {
        var divisor: Int64 = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    public mutating func append(_ value: Bool) {
        separate()
        bytes.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    /// JSON text for a jsonb column. PostgreSQL's jsonb rejects the escape `\u0000` (it cannot
    /// store NUL), which a JSON encoder produces for a NUL character; it becomes `\ufffd` so
    /// one such value cannot block the archive. Nothing else is checked here: the server
    /// validates the JSON.
    public mutating func appendJSON(_ json: String?) {
        guard let json else { return appendNull() }
        append(JSONText.replacingNULEscapes(json))
    }

    private mutating func separate() {
        if !rowIsEmpty { bytes.append(UInt8(ascii: "\t")) }
        rowIsEmpty = false
    }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        // Most values need no escaping: copy them in one go.
        guard utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\\") }) else {
            bytes.append(contentsOf: utf8)
            return
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\\"): appendEscape(UInt8(ascii: "\\"))
            case UInt8(ascii: "\t"): appendEscape(UInt8(ascii: "t"))
            case UInt8(ascii: "\n"): appendEscape(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): appendEscape(UInt8(ascii: "r"))
            case 0:  // U+FFFD
                bytes.append(0xEF)
                bytes.append(0xBF)
                bytes.append(0xBD)
            default: bytes.append(byte)
            }
        }
    }

    private mutating func appendEscape(_ letter: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(letter)
    }

    private mutating func appendDecimal(_ value: Int64) {
        // Up to 15 UTF-8 bytes a String is stored inline, so this does not allocate for
        // timestamps and log indexes.
        bytes.append(contentsOf: String(value).utf8)
    }
}

/// Helpers for JSON handed to jsonb columns.
enum JSONText {
    /// Replaces every `\u0000` escape of `json` with `\ufffd`. Escaped backslashes are skipped
    /// pairwise, so a literal backslash followed by `u0000` is left alone.
    static func replacingNULEscapes(_ json: String) -> String {
        guard json.utf8.contains(UInt8(ascii: "\\")) else { return json }
        var bytes = Array(json.utf8)
        var changed = false
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                index += 1
                continue
            }
            if bytes[index + 1] == UInt8(ascii: "u"), index + 5 < bytes.count,
                bytes[(index + 2)...(index + 5)].elementsEqual("0000".utf8)
            {
                bytes.replaceSubrange((index + 2)...(index + 5), with: "fffd".utf8)
                changed = true
            }
            index += 2
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : json
    }
}
