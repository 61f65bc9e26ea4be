/// What a timer does when it fires.
public enum TimerKind: UInt8, CaseIterable, Sendable, Comparable, BinaryCodable {
    /// Page the next escalation level of an unacknowledged incident.
    case escalation
    /// Re-escalate an acknowledged incident that was not resolved in time.
    case acknowledgeTimeout
    /// Flag the SLA acknowledge deadline as breached.
    case slaAcknowledge
    /// Flag the SLA resolve deadline as breached.
    case slaResolve

    public static func < (lhs: TimerKind, rhs: TimerKind) -> Bool { lhs.rawValue < rhs.rawValue }

    public var name: String { ["escalation", "acknowledge_timeout", "sla_acknowledge", "sla_resolve"][Int(rawValue)] }
}

/// Identifies one arming of a timer. Every arming gets a new generation, so a `fireTimer` for a
/// timer that was cancelled or re-armed since (stale), or that already fired (duplicate), no
/// longer matches and is a no-op.
public struct TimerID: Hashable, Comparable, Sendable, BinaryCodable, CustomStringConvertible {
    public var incident: UInt64
    public var kind: TimerKind
    public var generation: UInt32

    public init(incident: UInt64, kind: TimerKind, generation: UInt32) {
        self.incident = incident
        self.kind = kind
        self.generation = generation
    }

    public var description: String { "\(incident)/\(kind.name)/\(generation)" }

    public static func < (lhs: TimerID, rhs: TimerID) -> Bool {
        (lhs.incident, lhs.kind.rawValue, lhs.generation) < (rhs.incident, rhs.kind.rawValue, rhs.generation)
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(varint: incident)
        writer.write(kind)
        writer.write(generation)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(incident: try reader.read(), kind: try reader.read(), generation: try reader.read())
    }
}

/// A timer in state: fire `id` at `dueAt`. Timers live only in replicated state; the leader's
/// scheduler mirrors them in a heap and proposes `fireTimer` when they are due.
public struct ArmedTimer: Hashable, Sendable, BinaryCodable {
    public var id: TimerID
    public var dueAt: Timestamp

    public init(id: TimerID, dueAt: Timestamp) {
        self.id = id
        self.dueAt = dueAt
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(dueAt)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(id: try reader.read(), dueAt: try reader.read())
    }
}
