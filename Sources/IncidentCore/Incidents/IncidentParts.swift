/// One entry of an incident's audit trail: who did what, when, and why.
public struct TimelineEntry: Sendable, Equatable, BinaryCodable {
    public enum Kind: UInt8, Sendable, BinaryCodable, CaseIterable {
        case created, alertGrouped, alertResolved, severityChanged, statusChanged, assigned, noteAdded
        case escalated, acknowledgeTimeout, slaBreached, notificationQueued, notificationDelivered
        case notificationFailed, notificationsCancelled, merged, updated, suppressed, escalationExhausted

        public var name: String {
            [
                "created", "alert_grouped", "alert_resolved", "severity_changed", "status_changed", "assigned",
                "note_added", "escalated", "acknowledge_timeout", "sla_breached", "notification_queued",
                "notification_delivered", "notification_failed", "notifications_cancelled", "merged", "updated",
                "suppressed", "escalation_exhausted",
            ][Int(rawValue)]
        }
    }

    public var at: Timestamp
    public var actor: Actor
    public var kind: Kind
    /// What changed, e.g. `status new → acknowledged`.
    public var change: String
    /// Why, when known: a note, a rule id, `sla acknowledge deadline passed`.
    public var reason: String

    public init(at: Timestamp, actor: Actor, kind: Kind, change: String, reason: String = "") {
        self.at = at
        self.actor = actor
        self.kind = kind
        self.change = change
        self.reason = reason
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(at)
        writer.write(actor)
        writer.write(kind)
        writer.write(change)
        writer.write(reason)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(at: try reader.read(), actor: try reader.read(), kind: try reader.read(), change: try reader.read(), reason: try reader.read())
    }
}

/// One distinct alert (fingerprint) attached to an incident. Non-grouped incidents have one.
public struct AlertRecord: Sendable, Equatable, BinaryCodable {
    public var fingerprint: Fingerprint
    public var title: String
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var count: UInt64
    public var resolved: Bool

    public init(fingerprint: Fingerprint, title: String, firstSeen: Timestamp, lastSeen: Timestamp, count: UInt64 = 1, resolved: Bool = false) {
        self.fingerprint = fingerprint
        self.title = title
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.count = count
        self.resolved = resolved
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(fingerprint)
        writer.write(title)
        writer.write(firstSeen)
        writer.write(lastSeen)
        writer.write(varint: count)
        writer.write(bool: resolved)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            fingerprint: try reader.read(), title: try reader.read(), firstSeen: try reader.read(),
            lastSeen: try reader.read(), count: try reader.read(), resolved: try reader.read())
    }
}

/// A responder's note.
public struct Note: Sendable, Equatable, BinaryCodable {
    public var at: Timestamp
    public var author: Actor
    public var text: String

    public init(at: Timestamp, author: Actor, text: String) {
        self.at = at
        self.author = author
        self.text = text
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(at)
        writer.write(author)
        writer.write(text)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(at: try reader.read(), author: try reader.read(), text: try reader.read())
    }
}

/// How an incident was resolved.
public struct Resolution: Sendable, Equatable, BinaryCodable {
    public var rootCause: String
    public var notes: String
    public var resolvedBy: Actor

    public init(rootCause: String = "", notes: String = "", resolvedBy: Actor) {
        self.rootCause = rootCause
        self.notes = notes
        self.resolvedBy = resolvedBy
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(rootCause)
        writer.write(notes)
        writer.write(resolvedBy)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(rootCause: try reader.read(), notes: try reader.read(), resolvedBy: try reader.read())
    }
}

/// Service-level deadlines of an incident, from its creation time and severity.
public struct SLAState: Sendable, Equatable, BinaryCodable {
    public var acknowledgeBy: Timestamp
    public var resolveBy: Timestamp
    /// Set when the acknowledge deadline passed with the incident unacknowledged.
    public var acknowledgeBreached: Bool
    /// Set when the resolve deadline passed with the incident open.
    public var resolveBreached: Bool

    public init(acknowledgeBy: Timestamp, resolveBy: Timestamp, acknowledgeBreached: Bool = false, resolveBreached: Bool = false) {
        self.acknowledgeBy = acknowledgeBy
        self.resolveBy = resolveBy
        self.acknowledgeBreached = acknowledgeBreached
        self.resolveBreached = resolveBreached
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(acknowledgeBy)
        writer.write(resolveBy)
        writer.write(bool: acknowledgeBreached)
        writer.write(bool: resolveBreached)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(acknowledgeBy: try reader.read(), resolveBy: try reader.read(), acknowledgeBreached: try reader.read(), resolveBreached: try reader.read())
    }
}
