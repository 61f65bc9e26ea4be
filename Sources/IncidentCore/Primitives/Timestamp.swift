/// A point in time as whole milliseconds since the Unix epoch (UTC).
///
/// The state machine never reads a clock: every timestamp it sees arrives inside a command
/// (the leader's stamp on the log entry, or a time carried by an event). Milliseconds in an
/// `Int64` keep arithmetic exact and the binary encoding compact.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var millisecondsSinceEpoch: Int64

    @inlinable
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public static let epoch = Timestamp(millisecondsSinceEpoch: 0)

    @inlinable
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// This time moved by `milliseconds` (saturating, so absurd inputs cannot trap).
    @inlinable
    public func adding(milliseconds: Int64) -> Timestamp {
        let (sum, overflow) = millisecondsSinceEpoch.addingReportingOverflow(milliseconds)
        if overflow { return Timestamp(millisecondsSinceEpoch: milliseconds > 0 ? .max : .min) }
        return Timestamp(millisecondsSinceEpoch: sum)
    }

    /// Milliseconds from `earlier` to `self` (negative when `earlier` is later).
    @inlinable
    public func milliseconds(since earlier: Timestamp) -> Int64 {
        millisecondsSinceEpoch &- earlier.millisecondsSinceEpoch
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-25T06:04:00.000Z`.
    public var description: String { rfc3339 }

    public var rfc3339: String {
        let civil = CivilDateTime(utcMilliseconds: millisecondsSinceEpoch)
        let ms = Int(((millisecondsSinceEpoch % 1000) + 1000) % 1000)
        return "\(civil.date.isoString)T\(pad(civil.hour, 2)):\(pad(civil.minute, 2)):\(pad(civil.second, 2)).\(pad(ms, 3))Z"
    }
}

/// Common durations in milliseconds, for readable configuration defaults.
public enum Milliseconds {
    public static let second: Int64 = 1_000
    public static let minute: Int64 = 60_000
    public static let hour: Int64 = 3_600_000
    public static let day: Int64 = 86_400_000
}

@usableFromInline
func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
