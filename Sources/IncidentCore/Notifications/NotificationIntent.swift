/// Why a notification is sent.
public enum NotificationKind: UInt8, CaseIterable, Sendable, Comparable, BinaryCodable {
    case triggered, escalated, acknowledged, resolved, reminder

    public static func < (lhs: NotificationKind, rhs: NotificationKind) -> Bool { lhs.rawValue < rhs.rawValue }
    public var name: String { ["triggered", "escalated", "acknowledged", "resolved", "reminder"][Int(rawValue)] }
    public init?(name: String) {
        guard let kind = NotificationKind.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    /// Pages wake people up and are cancelled by acknowledge/resolve; the others are status messages.
    public var isPage: Bool { self == .triggered || self == .escalated || self == .reminder }
}

/// Whom a notification goes to through its channel.
public enum NotificationTarget: Hashable, Comparable, Sendable, BinaryCodable, CustomStringConvertible {
    /// The channel's own destination (a Slack webhook, a PagerDuty service, a mailing list).
    case channel
    /// A person, addressed on the channel by their contact details (email address, Slack id).
    case user(String)

    public var description: String {
        switch self {
        case .channel: return "channel"
        case .user(let id): return "user:\(id)"
        }
    }

    public func encode(to writer: inout BinaryWriter) {
        switch self {
        case .channel: writer.write(UInt8(0))
        case .user(let id):
            writer.write(UInt8(1))
            writer.write(id)
        }
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .channel
        case 1: self = .user(try reader.read())
        default: throw DecodingError(.invalidTag, at: start, "NotificationTarget")
        }
    }
}

/// Delivery state of an outbox entry: pending → dispatched → delivered | failed | cancelled.
/// A transient failure sends a dispatched intent back to pending with `attempts` counted.
public enum DeliveryState: UInt8, CaseIterable, Sendable, BinaryCodable {
    case pending, dispatched, delivered, failed, cancelled

    public var name: String { ["pending", "dispatched", "delivered", "failed", "cancelled"][Int(rawValue)] }
    public var isTerminal: Bool { self == .delivered || self == .failed || self == .cancelled }
}

/// An entry of the replicated notification outbox.
///
/// The dispatcher delivers it and reports back through commands; `idempotencyKey` is derived from
/// the incident and the intent id, so retries by any node after any failover carry the same key.
public struct NotificationIntent: Sendable, Equatable, BinaryCodable {
    public var id: UInt64
    public var incident: IncidentID
    public var channel: String
    public var target: NotificationTarget
    /// The resolved contact for a user target (email address, Slack member id); empty for `.channel`.
    public var address: String
    public var kind: NotificationKind
    /// The escalation level (0-based) that produced a page.
    public var level: Int
    public var state: DeliveryState
    public var attempts: UInt32
    public var lastError: String
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public var idempotencyKey: String { "\(incident)/ntf-\(id)" }

    public init(
        id: UInt64, incident: IncidentID, channel: String, target: NotificationTarget, address: String,
        kind: NotificationKind, level: Int, state: DeliveryState = .pending, attempts: UInt32 = 0,
        lastError: String = "", createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.incident = incident
        self.channel = channel
        self.target = target
        self.address = address
        self.kind = kind
        self.level = level
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(varint: id)
        writer.write(incident)
        writer.write(channel)
        writer.write(target)
        writer.write(address)
        writer.write(kind)
        writer.write(level)
        writer.write(state)
        writer.write(attempts)
        writer.write(lastError)
        writer.write(createdAt)
        writer.write(updatedAt)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            id: try reader.read(), incident: try reader.read(), channel: try reader.read(), target: try reader.read(),
            address: try reader.read(), kind: try reader.read(), level: try reader.read(), state: try reader.read(),
            attempts: try reader.read(), lastError: try reader.read(), createdAt: try reader.read(),
            updatedAt: try reader.read())
    }
}

/// A channel and recipient an incident has paged; they also get its acknowledged/resolved messages.
public struct Recipient: Hashable, Sendable, BinaryCodable {
    public var channel: String
    public var target: NotificationTarget
    public var address: String

    public init(channel: String, target: NotificationTarget, address: String) {
        self.channel = channel
        self.target = target
        self.address = address
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(channel)
        writer.write(target)
        writer.write(address)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(channel: try reader.read(), target: try reader.read(), address: try reader.read())
    }
}
