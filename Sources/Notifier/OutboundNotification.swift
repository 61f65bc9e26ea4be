import IncidentCore

/// One delivery to perform: an outbox intent, the channel it goes through and what the message
/// says about the incident.
///
/// The node's dispatcher builds it from replicated state (`NotificationIntent`, the channel's
/// `NotificationChannel` config and the incident) and hands it to `Notifier.deliver(_:)`.
/// (Named so that it never clashes with Foundation's `Notification`.)
public struct OutboundNotification: Sendable {
    public var intent: NotificationIntent
    public var channel: NotificationChannel
    public var incident: IncidentSummary
    /// Which attempt this is (1-based), shown to webhook receivers. The outbox counts an attempt
    /// when it marks the intent dispatched, so an intent read after that already carries it.
    public var attempt: Int

    public init(intent: NotificationIntent, channel: NotificationChannel, incident: IncidentSummary, attempt: Int? = nil) {
        self.intent = intent
        self.channel = channel
        self.incident = incident
        self.attempt = attempt ?? max(1, Int(intent.attempts))
    }

    public init(intent: NotificationIntent, channel: NotificationChannel, incident: Incident, attempt: Int? = nil) {
        self.init(intent: intent, channel: channel, incident: IncidentSummary(incident), attempt: attempt)
    }

    /// Email recipients: the resolved address of a user target, else the channel's list.
    public var emailRecipients: [String] {
        if case .user = intent.target, !intent.address.isEmpty { return [intent.address] }
        return channel.emailTo
    }
}

/// The incident fields a message may show; a copy, so a delivery never holds replicated state.
public struct IncidentSummary: Sendable, Equatable {
    /// `INC-YYYYMMDD-NNNNNN`; also the PagerDuty `dedup_key`.
    public var id: String
    public var title: String
    public var description: String
    public var severity: Severity
    public var status: IncidentStatus
    public var category: String
    public var team: String
    public var assignee: String
    public var source: String
    public var environment: String
    /// The affected resource's name (or id), used as PagerDuty's `component`.
    public var component: String
    public var labels: [String: String]
    public var occurrenceCount: UInt64
    public var escalationLevel: Int
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: String, title: String, description: String = "", severity: Severity, status: IncidentStatus,
        category: String = "", team: String = "", assignee: String = "", source: String = "",
        environment: String = "", component: String = "", labels: [String: String] = [:],
        occurrenceCount: UInt64 = 1, escalationLevel: Int = 0, createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.severity = severity
        self.status = status
        self.category = category
        self.team = team
        self.assignee = assignee
        self.source = source
        self.environment = environment
        self.component = component
        self.labels = labels
        self.occurrenceCount = occurrenceCount
        self.escalationLevel = escalationLevel
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public init(_ incident: Incident) {
        self.init(
            id: incident.id.description, title: incident.title, description: incident.description,
            severity: incident.severity, status: incident.status, category: incident.category.name,
            team: incident.team ?? "", assignee: incident.assignee ?? "", source: incident.source,
            environment: incident.environment,
            component: incident.resource.name.isEmpty ? incident.resource.id : incident.resource.name,
            labels: incident.labels, occurrenceCount: incident.occurrenceCount,
            escalationLevel: incident.escalationLevel, createdAt: incident.createdAt, updatedAt: incident.updatedAt)
    }
}
