/// A manually opened incident (`POST /api/v1/incidents`).
public struct ManualIncident: Sendable, Equatable, BinaryCodable {
    public var title: String
    public var description: String
    public var severity: Severity
    public var category: EventCategory
    public var team: String?
    public var escalationPolicy: String?
    public var environment: String
    public var labels: [String: String]
    /// When set, the incident deduplicates like an event with this dedup key.
    public var dedupKey: String

    public init(
        title: String, description: String = "", severity: Severity, category: EventCategory = .other, team: String? = nil,
        escalationPolicy: String? = nil, environment: String = "", labels: [String: String] = [:], dedupKey: String = ""
    ) {
        self.title = title
        self.description = description
        self.severity = severity
        self.category = category
        self.team = team
        self.escalationPolicy = escalationPolicy
        self.environment = environment
        self.labels = labels
        self.dedupKey = dedupKey
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(title)
        writer.write(description)
        writer.write(severity)
        writer.write(category)
        writer.write(team)
        writer.write(escalationPolicy)
        writer.write(environment)
        writer.write(labels)
        writer.write(dedupKey)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            title: try reader.read(), description: try reader.read(), severity: try reader.read(), category: try reader.read(),
            team: try reader.read(), escalationPolicy: try reader.read(), environment: try reader.read(),
            labels: try reader.read(), dedupKey: try reader.read())
    }
}

/// What the notification dispatcher reports about one outbox entry.
public enum DeliveryReport: Sendable, Equatable, BinaryCodable {
    /// A node took the intent and is attempting delivery.
    case dispatched
    case delivered
    /// Delivery failed; a `retryable` failure goes back to pending until attempts run out.
    case failed(error: String, retryable: Bool)

    public func encode(to writer: inout BinaryWriter) {
        switch self {
        case .dispatched: writer.write(UInt8(0))
        case .delivered: writer.write(UInt8(1))
        case .failed(let error, let retryable):
            writer.write(UInt8(2))
            writer.write(error)
            writer.write(bool: retryable)
        }
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .dispatched
        case 1: self = .delivered
        case 2: self = .failed(error: try reader.read(), retryable: try reader.read())
        default: throw DecodingError(.invalidTag, at: start, "DeliveryReport")
        }
    }
}

/// Every mutation of the replicated incident state. Each carries the actor it is done for (the
/// audit trail); time and log position are supplied by `IncidentStateMachine.apply(_:at:index:)`.
public enum Command: Sendable, Equatable {
    /// Events from any producer, applied in order (one log entry for a whole request).
    case ingest(events: [Event], actor: Actor)
    case openIncident(ManualIncident, actor: Actor)
    /// A lifecycle action. `comment` goes to the timeline; `rootCause` is kept with a resolution.
    case transition(incident: IncidentID, action: LifecycleAction, comment: String, rootCause: String, actor: Actor)
    /// Assigns a person and/or a team (nil leaves that side unchanged, "" clears it).
    case assign(incident: IncidentID, user: String?, team: String?, actor: Actor)
    case addNote(incident: IncidentID, text: String, actor: Actor)
    case changeSeverity(incident: IncidentID, severity: Severity, reason: String, actor: Actor)
    case updateIncident(incident: IncidentID, title: String?, description: String?, actor: Actor)
    /// Marks `incident` a duplicate of `into`: it resolves and its alerts move to `into`.
    case merge(incident: IncidentID, into: IncidentID, actor: Actor)
    /// Proposed by the leader's scheduler when a timer is due; stale or repeated fires are no-ops.
    case fireTimer(TimerID, actor: Actor)
    case recordDelivery(notification: UInt64, report: DeliveryReport, actor: Actor)
    case createConfig(ConfigItem, actor: Actor)
    case updateConfig(ConfigItem, actor: Actor)
    case deleteConfig(kind: ConfigKind, id: String, actor: Actor)
    case setSLAPolicy(SLAPolicy, actor: Actor)
    /// Drops closed incidents closed before `closedBefore` (oldest first, at most `limit`), once the
    /// archive holds them; keeps state bounded over years of operation.
    case purgeClosedIncidents(closedBefore: Timestamp, limit: Int, actor: Actor)

    public var actor: Actor {
        switch self {
        case .ingest(_, let actor), .openIncident(_, let actor), .transition(_, _, _, _, let actor),
            .assign(_, _, _, let actor), .addNote(_, _, let actor), .changeSeverity(_, _, _, let actor),
            .updateIncident(_, _, _, let actor), .merge(_, _, let actor), .fireTimer(_, let actor),
            .recordDelivery(_, _, let actor), .createConfig(_, let actor), .updateConfig(_, let actor),
            .deleteConfig(_, _, let actor), .setSLAPolicy(_, let actor), .purgeClosedIncidents(_, _, let actor):
            return actor
        }
    }
}
