/// An incident: the unit responders act on, made of one or more deduplicated alerts.
///
/// Every field is replicated state. Lists that events can grow are bounded (`Limits`), so the
/// state of an incident stays small however long an alert flaps.
public struct Incident: Sendable, Equatable {
    /// Bounds on the per-incident lists.
    public enum Limits {
        /// Distinct alerts tracked one by one; further alerts grouped in are only counted.
        public static let maxTrackedAlerts = 100
        public static let timelineHead = 16
        public static let timelineTail = 112
        public static let notesHead = 8
        public static let notesTail = 56
        public static let historyHead = 8
        public static let historyTail = 56
        public static let maxRelated = 64
        public static let maxRecipients = 64
    }

    public var id: IncidentID
    public var title: String
    public var description: String
    public var severity: Severity
    public var status: IncidentStatus
    public var category: EventCategory
    public var eventType: String
    public var environment: String
    public var source: String
    /// The fingerprint of the alert that opened the incident.
    public var fingerprint: Fingerprint
    public var resource: Resource
    public var labels: [String: String]
    public var tags: [String: String]
    public var correlationID: String

    public var team: String?
    public var assignee: String?
    public var escalationPolicy: String?
    /// The escalation level (0-based) most recently paged.
    public var escalationLevel: Int
    /// How many times the policy has been repeated from its first level.
    public var escalationCycle: Int

    public var occurrenceCount: UInt64
    /// Source time of the first and latest event (MTTD runs from `firstSeen` to `createdAt`).
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var acknowledgedAt: Timestamp?
    public var acknowledgedBy: Actor?
    public var resolvedAt: Timestamp?
    public var closedAt: Timestamp?
    public var sla: SLAState

    public var relatedIncidents: [IncidentID]
    public var duplicateOf: IncidentID?
    public var resolution: Resolution?
    /// Why pages are suppressed (`maintenance:<id>` or `routing:<id>`), nil when they are not.
    public var suppressedBy: String?
    /// The grouping key the incident collects alerts under, if a grouping rule opened it.
    public var groupKey: String?

    public var alerts: [AlertRecord]
    public var untrackedAlertCount: UInt64
    public var notes: BoundedLog<Note>
    public var timeline: BoundedLog<TimelineEntry>
    /// Everyone paged so far; they also receive acknowledged/resolved messages.
    public var recipients: [Recipient]
    /// Outbox entries of this incident not yet delivered, failed or cancelled.
    public var liveNotifications: [UInt64]
    /// Notifications that reached a final state.
    public var notificationHistory: BoundedLog<NotificationIntent>
    public var timers: [ArmedTimer]
    public var timerGeneration: UInt32

    public var isSuppressed: Bool { suppressedBy != nil }

    /// Whether any tracked alert still fires (untracked alerts cannot be resolved one by one).
    public var hasFiringAlerts: Bool { alerts.contains { !$0.resolved } }

    public func timer(_ kind: TimerKind) -> ArmedTimer? { timers.first { $0.id.kind == kind } }

    init(id: IncidentID, event: Event, fingerprint: Fingerprint, severity: Severity, category: EventCategory, at: Timestamp, sla: SLAState) {
        self.id = id
        title = event.title.isEmpty ? Incident.titleFromLabels(event.labels) : event.title
        description = event.description
        self.severity = severity
        status = .new
        self.category = category
        eventType = event.eventType
        environment = event.environment
        source = event.source
        self.fingerprint = fingerprint
        resource = event.resource
        labels = event.labels
        tags = event.tags
        correlationID = event.correlationID
        escalationLevel = 0
        escalationCycle = 0
        occurrenceCount = 1
        firstSeen = event.timestamp
        lastSeen = event.timestamp
        createdAt = at
        updatedAt = at
        self.sla = sla
        relatedIncidents = []
        alerts = [AlertRecord(fingerprint: fingerprint, title: event.title, firstSeen: event.timestamp, lastSeen: event.timestamp)]
        untrackedAlertCount = 0
        notes = BoundedLog(headCapacity: Limits.notesHead, tailCapacity: Limits.notesTail)
        timeline = BoundedLog(headCapacity: Limits.timelineHead, tailCapacity: Limits.timelineTail)
        recipients = []
        liveNotifications = []
        notificationHistory = BoundedLog(headCapacity: Limits.historyHead, tailCapacity: Limits.historyTail)
        timers = []
        timerGeneration = 0
    }

    /// `alertname` (or the first label) for events that identify themselves by labels only.
    static func titleFromLabels(_ labels: [String: String]) -> String {
        if let name = labels["alertname"] { return name }
        guard let key = labels.keys.min() else { return "(untitled)" }
        return "\(key)=\(labels[key]!)"
    }

    mutating func record(_ kind: TimelineEntry.Kind, at: Timestamp, by actor: Actor, _ change: String, reason: String = "") {
        timeline.append(TimelineEntry(at: at, actor: actor, kind: kind, change: change, reason: reason))
        updatedAt = at
    }

    mutating func addRelated(_ other: IncidentID) {
        if !relatedIncidents.contains(other) && relatedIncidents.count < Limits.maxRelated { relatedIncidents.append(other) }
    }
}
