/// A local time-of-day range on chosen weekdays, with no zone of its own: "Mon–Fri 09:00–17:00"
/// or "Fri 22:00–06:00".
///
/// The range starts at `startMinute` on each selected day and ends at `endMinute`. When
/// `endMinute <= startMinute` the range crosses midnight and the part after midnight belongs to
/// the day it started on: `Fri 22:00–06:00` covers Saturday 03:00 but not Friday 03:00.
/// `startMinute == endMinute` means a whole 24 hours from `startMinute`. The start is inclusive
/// and the end exclusive, so adjacent ranges (`09:00–17:00`, `17:00–09:00`) never overlap.
///
/// Whoever owns the zone (a `ZonedTimeWindow`, a schedule layer) turns an instant into local
/// time first; a wall time skipped by a spring-forward gap is simply never seen.
public struct DailyTimeRange: Sendable, Hashable, BinaryCodable {
    /// Days on which the range starts; empty means every day.
    public var days: Set<Weekday>
    /// Local minute of day at which the range starts, `0..<1440` (inclusive).
    public var startMinute: Int
    /// Local minute of day at which the range ends, `0...1440` (exclusive). At or before
    /// `startMinute`, the end falls on the next day.
    public var endMinute: Int

    /// Minutes in a civil day, as far as wall clocks are concerned.
    public static let minutesPerDay = 1_440

    public init(days: Set<Weekday> = [], startMinute: Int, endMinute: Int) {
        self.days = days
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    /// Whether the wall-clock time `local` falls inside the range.
    public func contains(_ local: CivilDateTime) -> Bool {
        let minute = local.minuteOfDay
        let weekday = local.date.weekday
        if startMinute < endMinute {
            return startMinute <= minute && minute < endMinute && startsOn(weekday)
        }
        // Crosses midnight (or covers 24 h): the evening part of the start day, or the
        // morning part of the day after it.
        if minute >= startMinute { return startsOn(weekday) }
        if minute < endMinute { return startsOn(weekday.previous) }
        return false
    }

    public func validate() throws(ValidationError) {
        guard (0..<Self.minutesPerDay).contains(startMinute) else {
            throw ValidationError(field: "start_minute", reason: "must be in 0..<1440")
        }
        guard (0...Self.minutesPerDay).contains(endMinute) else {
            throw ValidationError(field: "end_minute", reason: "must be in 0...1440")
        }
    }

    private func startsOn(_ weekday: Weekday) -> Bool { days.isEmpty || days.contains(weekday) }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(days)
        writer.write(startMinute)
        writer.write(endMinute)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(days: try reader.read(), startMinute: try reader.read(), endMinute: try reader.read())
    }
}

/// A `DailyTimeRange` read in an IANA zone: "weekdays 09:00–17:00 Europe/Berlin".
///
/// Used for schedule restrictions, routing windows and maintenance windows. Because the range is
/// local, it follows the zone's DST changes: "09:00–17:00" is 8 hours of wall time on every day,
/// and a range over a DST change night is an hour shorter or longer in elapsed time.
public struct ZonedTimeWindow: Sendable, Hashable, BinaryCodable {
    /// IANA zone identifier, e.g. `Europe/Berlin`.
    public var timeZone: String
    public var range: DailyTimeRange

    public init(timeZone: String, range: DailyTimeRange) {
        self.timeZone = timeZone
        self.range = range
    }

    /// Whether `instant` falls inside the window. An unknown zone (`validate()` rejects it before
    /// such a window is ever stored) and instants outside years 1...9999 are never inside.
    public func contains(_ instant: Timestamp) -> Bool {
        guard TimeZoneRules.civilInstants.contains(instant.millisecondsSinceEpoch),
            let rules = TimeZoneRules(identifier: timeZone)
        else { return false }
        return range.contains(rules.localTime(at: instant))
    }

    public func validate() throws(ValidationError) {
        guard TimeZoneRules(identifier: timeZone) != nil else {
            throw ValidationError(field: "time_zone", reason: "unknown time zone")
        }
        do { try range.validate() } catch { throw error.nested(under: "range") }
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(timeZone)
        writer.write(range)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(timeZone: try reader.read(), range: try reader.read())
    }
}

extension Weekday: BinaryCodable {}

extension Weekday {
    /// The day before this one (Monday's is Sunday).
    var previous: Weekday { Weekday(rawValue: (rawValue + 6) % 7)! }
}
