/// When a maintenance window is in force.
public enum MaintenanceSchedule: Sendable, Equatable, BinaryCodable {
    /// From `start` (inclusive) to `end` (exclusive).
    case oneOff(start: Timestamp, end: Timestamp)
    /// Every week inside `window`, optionally only between `from` and `until`.
    case weekly(window: ZonedTimeWindow, from: Timestamp?, until: Timestamp?)

    public func isActive(at instant: Timestamp) -> Bool {
        switch self {
        case .oneOff(let start, let end): return start <= instant && instant < end
        case .weekly(let window, let from, let until):
            if let from, instant < from { return false }
            if let until, instant >= until { return false }
            return window.contains(instant)
        }
    }

    public func encode(to writer: inout BinaryWriter) {
        switch self {
        case .oneOff(let start, let end):
            writer.write(UInt8(0))
            writer.write(start)
            writer.write(end)
        case .weekly(let window, let from, let until):
            writer.write(UInt8(1))
            writer.write(window)
            writer.write(from)
            writer.write(until)
        }
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .oneOff(start: try reader.read(), end: try reader.read())
        case 1: self = .weekly(window: try reader.read(), from: try reader.read(), until: try reader.read())
        default: throw DecodingError(.invalidTag, at: start, "MaintenanceSchedule")
        }
    }
}

/// A planned-work window: matching incidents are still recorded (so nothing is lost and the
/// audit trail is complete) but marked suppressed, and no pages are sent for them.
///
/// Matching happens when an incident is created: an incident created during the window stays
/// suppressed after the window ends (its alerts keep deduplicating into it silently); a new
/// incident after the window pages normally.
public struct MaintenanceWindow: ConfigEntity {
    public static let kind = ConfigKind.maintenanceWindow

    public var id: String
    public var name: String
    /// Which events the window covers (typically `services` and `labels`); empty matches all.
    public var match: EventMatcher
    public var schedule: MaintenanceSchedule

    public init(id: String = "", name: String, match: EventMatcher = EventMatcher(), schedule: MaintenanceSchedule) {
        self.id = id
        self.name = name
        self.match = match
        self.schedule = schedule
    }

    public func validate() throws(ValidationError) {
        try Self.checkIdentity(id: id, name: name)
        do { try match.validate() } catch { throw error.nested(under: "match") }
        switch schedule {
        case .oneOff(let start, let end):
            if end <= start { throw ValidationError(field: "end", reason: "must be after start") }
        case .weekly(let window, let from, let until):
            do { try window.validate() } catch { throw error.nested(under: "window") }
            if let from, let until, until <= from { throw ValidationError(field: "until", reason: "must be after from") }
        }
    }

    public var references: [ConfigReference] { [] }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(match)
        writer.write(schedule)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(id: try reader.read(), name: try reader.read(), match: try reader.read(), schedule: try reader.read())
    }
}
