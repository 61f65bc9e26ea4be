/// Who caused a change: recorded on every timeline entry (audit trail).
public struct Actor: Sendable, Hashable, BinaryCodable, CustomStringConvertible {
    public enum Kind: UInt8, Sendable, BinaryCodable, CaseIterable {
        /// A person, usually identified through their API key's owner.
        case user
        /// An API key acting on its own (integrations, automation).
        case apiKey
        /// An event source (`llm-sentinel`, `alertmanager`, …).
        case source
        /// incidentd itself: timers, the notification dispatcher.
        case system

        public var name: String { ["user", "api_key", "source", "system"][Int(rawValue)] }
    }

    public var kind: Kind
    public var id: String

    public init(_ kind: Kind, _ id: String) {
        self.kind = kind
        self.id = id
    }

    public static let system = Actor(.system, "incidentd")
    public static func user(_ id: String) -> Actor { Actor(.user, id) }

    public var description: String { "\(kind.name):\(id)" }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(kind)
        writer.write(id)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(try reader.read(), try reader.read())
    }
}

/// The human-readable id of an incident, `INC-YYYYMMDD-NNNNNN`.
///
/// `number` is the incident's position in the sequence of incidents created in log order (1, 2,
/// …), so every replica assigns the same one; the date is the UTC date of the command that
/// created it. The number alone is unique; the date makes ids readable and is checked on parse.
public struct IncidentID: Hashable, Comparable, Sendable, BinaryCodable, CustomStringConvertible {
    public var number: UInt64
    /// Days since 1970-01-01 of the creating command's time (UTC).
    public var day: Int64

    public init(number: UInt64, createdAt: Timestamp) {
        self.number = number
        self.day = Self.day(of: createdAt)
    }

    /// Floor division that cannot overflow, even at `Int64.min`.
    private static func day(of instant: Timestamp) -> Int64 {
        let ms = instant.millisecondsSinceEpoch
        return ms / Milliseconds.day - (ms % Milliseconds.day < 0 ? 1 : 0)
    }

    /// The days any `Timestamp` falls on. Decoding refuses others: their date arithmetic (in
    /// `description`, used by error messages) would overflow.
    static let representableDays = day(of: Timestamp(millisecondsSinceEpoch: .min))...day(of: Timestamp(millisecondsSinceEpoch: .max))

    init(number: UInt64, day: Int64) {
        self.number = number
        self.day = day
    }

    public var description: String {
        let date = CivilDate(daysSinceEpoch: day)
        guard (0...9999).contains(date.year), number <= UInt64(Int.max) else {
            return "INC-\(date.compactString)-\(pad(Int(clamping: number), 6))"
        }
        // The same text written in place: every answer about an incident names it.
        var width = 1
        var rest = number / 10
        while rest > 0 {
            width += 1
            rest /= 10
        }
        width = max(6, width)
        return String(unsafeUninitializedCapacity: 13 + width) { out in
            func put(_ value: UInt64, digits: Int, at start: Int) {
                var value = value
                for i in stride(from: start + digits - 1, through: start, by: -1) {
                    out[i] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            for (i, letter) in "INC-".utf8.enumerated() { out[i] = letter }
            put(UInt64(date.year), digits: 4, at: 4)
            put(UInt64(date.month), digits: 2, at: 8)
            put(UInt64(date.day), digits: 2, at: 10)
            out[12] = UInt8(ascii: "-")
            put(number, digits: width, at: 13)
            return 13 + width
        }
    }

    /// Parses `INC-YYYYMMDD-NNNNNN` (six or more digits).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "INC", parts[1].count == 8, parts[2].count >= 6, parts[2].count <= 19,
            parts[1].allSatisfy(\.isASCIIDigit), parts[2].allSatisfy(\.isASCIIDigit),
            let y = Int(parts[1].prefix(4)), let m = Int(parts[1].dropFirst(4).prefix(2)),
            let d = Int(parts[1].suffix(2)), let number = UInt64(parts[2]), number > 0
        else { return nil }
        let date = CivilDate(year: y, month: m, day: d)
        guard date.isValid else { return nil }
        self.init(number: number, day: date.daysSinceEpoch)
        guard description == text else { return nil }  // canonical form only (no extra zero padding)
    }

    public static func < (lhs: IncidentID, rhs: IncidentID) -> Bool { lhs.number < rhs.number }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(varint: number)
        writer.write(zigzag: day)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let number = try reader.readVarint()
        let start = reader.offset
        let day = try reader.readZigzag()
        guard Self.representableDays.contains(day) else { throw DecodingError(.invalidValue, at: start, "incident id day out of range") }
        self.init(number: number, day: day)
    }
}

extension Character {
    var isASCIIDigit: Bool { asciiValue.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
}
