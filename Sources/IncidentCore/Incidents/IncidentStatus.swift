/// Where an incident is in its lifecycle.
public enum IncidentStatus: UInt8, CaseIterable, Sendable, Comparable, BinaryCodable, CustomStringConvertible {
    case new, acknowledged, inProgress, escalated, resolved, closed

    public static func < (lhs: IncidentStatus, rhs: IncidentStatus) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Snake-case name used by the API and docs.
    public var name: String { ["new", "acknowledged", "in_progress", "escalated", "resolved", "closed"][Int(rawValue)] }
    public var description: String { name }

    public init?(name: String) {
        guard let status = IncidentStatus.allCases.first(where: { $0.name == name }) else { return nil }
        self = status
    }

    /// Open incidents are the ones events deduplicate into and escalation works on.
    public var isOpen: Bool { self != .resolved && self != .closed }

    /// Whether a responder has taken the incident (pages stop; ack-timeout may run).
    public var isAcknowledged: Bool { self == .acknowledged || self == .inProgress }
}

/// A lifecycle action a responder (or a source) can take on an incident.
public enum LifecycleAction: UInt8, CaseIterable, Sendable, BinaryCodable, CustomStringConvertible {
    case acknowledge, startWork, escalate, deescalate, resolve, close, reopen

    public var name: String {
        ["acknowledge", "start", "escalate", "deescalate", "resolve", "close", "reopen"][Int(rawValue)]
    }
    public var description: String { name }

    public init?(name: String) {
        guard let action = LifecycleAction.allCases.first(where: { $0.name == name }) else { return nil }
        self = action
    }

    /// The lifecycle table: the status an action leads to from each status, nil where it is not
    /// allowed. This is the single source of truth for transitions (docs/ARCHITECTURE.md draws it).
    public func target(from status: IncidentStatus) -> IncidentStatus? {
        switch (self, status) {
        case (.acknowledge, .new), (.acknowledge, .escalated): return .acknowledged
        // Starting work implies taking the incident, so it is allowed before an explicit ack.
        case (.startWork, .new), (.startWork, .acknowledged), (.startWork, .escalated): return .inProgress
        // Escalating an escalated incident pages the next tier.
        case (.escalate, .new), (.escalate, .acknowledged), (.escalate, .inProgress), (.escalate, .escalated): return .escalated
        case (.deescalate, .escalated): return .inProgress
        case (.resolve, _) where status.isOpen: return .resolved
        case (.close, .resolved): return .closed
        case (.reopen, .resolved), (.reopen, .closed): return .new
        default: return nil
        }
    }

    /// The actions allowed from `status`, in declaration order (for error details).
    public static func allowed(from status: IncidentStatus) -> [LifecycleAction] {
        allCases.filter { $0.target(from: status) != nil }
    }
}
