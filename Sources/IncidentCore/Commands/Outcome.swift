/// Why a command was rejected. A rejected command changed nothing.
public struct CommandError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, BinaryCodable {
        /// The lifecycle action is not allowed from the incident's status (`status`, `allowed`).
        case invalidTransition = "invalid_transition"
        case notFound = "not_found"
        /// The item already exists, or the request contradicts current state.
        case conflict
        /// Input failed validation (`field` names what).
        case invalid
        /// The item is referenced by others and cannot be deleted (`references`).
        case inUse = "in_use"
        case limitExceeded = "limit_exceeded"
        /// The log index was applied before (a driver replaying entries); nothing happened.
        case alreadyApplied = "already_applied"

        public func encode(to writer: inout BinaryWriter) { writer.write(rawValue) }
        public init(from reader: inout BinaryReader) throws(DecodingError) {
            let start = reader.offset
            guard let code = Code(rawValue: try reader.readString()) else { throw DecodingError(.invalidValue, at: start) }
            self = code
        }
    }

    public var code: Code
    public var message: String
    public var field: String?
    public var status: IncidentStatus?
    public var allowed: [LifecycleAction]
    public var references: [String]

    public init(_ code: Code, _ message: String, field: String? = nil, status: IncidentStatus? = nil, allowed: [LifecycleAction] = [], references: [String] = []) {
        self.code = code
        self.message = message
        self.field = field
        self.status = status
        self.allowed = allowed
        self.references = references
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static func invalid(_ error: ValidationError, under prefix: String? = nil) -> CommandError {
        let nested = prefix.map { error.nested(under: $0) } ?? error
        return CommandError(.invalid, nested.description, field: nested.field)
    }

    static func incidentNotFound(_ id: IncidentID) -> CommandError { CommandError(.notFound, "incident \(id) not found") }
}

/// What happened to one ingested event.
public enum EventDisposition: UInt8, Sendable, BinaryCodable, CaseIterable {
    /// A new incident was opened.
    case created
    /// A repeat of an open incident's alert: counted, no new incident.
    case deduplicated
    /// A new alert attached to an open incident by a grouping rule.
    case grouped
    case acknowledged
    case resolved
    /// A new incident was opened but pages are suppressed (maintenance window or routing rule).
    case suppressed
    /// An acknowledge/resolve for a fingerprint with no open incident.
    case ignored

    public var name: String {
        ["created", "deduplicated", "grouped", "acknowledged", "resolved", "suppressed", "ignored"][Int(rawValue)]
    }
}

/// The answer for one ingested event.
public struct EventResult: Sendable, Equatable {
    public var eventID: String?
    public var incident: IncidentID?
    public var fingerprint: Fingerprint
    public var disposition: EventDisposition
}

/// What a successfully applied command did.
public enum CommandResult: Sendable, Equatable {
    case ingested([EventResult])
    /// The incident acted on (or opened: `created`).
    case incident(IncidentID, created: Bool)
    case configChanged(ConfigKind, id: String)
    case slaPolicyUpdated
    /// A timer fired (`true`) or was stale, repeated or not yet due (`false`, nothing changed).
    case timerFired(Bool)
    /// A delivery report was recorded (`false`: the intent is no longer live, nothing changed).
    case deliveryRecorded(Bool)
    case purged(count: Int)
}

/// Side effects the runtime must mirror: the scheduler's heap and the dispatcher's queue.
public struct Effects: Sendable, Equatable {
    public var timersArmed: [ArmedTimer] = []
    public var timersCancelled: [TimerID] = []
    public var notificationsQueued: [UInt64] = []
    public var notificationsCancelled: [UInt64] = []

    public init() {}

    public var isEmpty: Bool {
        timersArmed.isEmpty && timersCancelled.isEmpty && notificationsQueued.isEmpty && notificationsCancelled.isEmpty
    }
}

/// A successfully applied command.
public struct Applied: Sendable, Equatable {
    public var result: CommandResult
    public var effects: Effects

    public init(result: CommandResult, effects: Effects) {
        self.result = result
        self.effects = effects
    }
}

/// The typed result of `IncidentStateMachine.apply(_:at:index:)`.
public typealias Outcome = Result<Applied, CommandError>
