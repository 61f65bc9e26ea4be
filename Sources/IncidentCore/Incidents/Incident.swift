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

    public var team: String?
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
    public var sla: SLAState

    public var alerts: [AlertRecord]
    public var untrackedAlertCount: UInt64
    public var timeline: BoundedLog<TimelineEntry>
    /// Everyone paged so far; they also receive acknowledged/resolved messages.
    public var recipients: [Recipient]
    /// Outbox entries of this incident not yet delivered, failed or cancelled.
    public var liveNotifications: [UInt64]
    public var timers: [ArmedTimer]
    public var timerGeneration: UInt32

    /// Fields that most incidents leave at their initial values for most of their life (set by
    /// acknowledging, resolving, notes, merges, suppression, grouping, finished pages), kept out of
    /// line: nil while all of them are initial. An incident is about 700 bytes with them inline
    /// and about 400 without, which is most of the per-incident memory an idle open incident costs.
    /// Always nil rather than a box holding only initial values, so equal incidents compare equal.
    var rare: RareFields?

    public var correlationID: String { get { if let rare { rare.values.correlationID } else { RareFields.Values.initial.correlationID } } set { updateRare { $0.correlationID = newValue } } }
    public var assignee: String? { get { if let rare { rare.values.assignee } else { RareFields.Values.initial.assignee } } set { updateRare { $0.assignee = newValue } } }
    public var acknowledgedAt: Timestamp? { get { if let rare { rare.values.acknowledgedAt } else { RareFields.Values.initial.acknowledgedAt } } set { updateRare { $0.acknowledgedAt = newValue } } }
    public var acknowledgedBy: Actor? { get { if let rare { rare.values.acknowledgedBy } else { RareFields.Values.initial.acknowledgedBy } } set { updateRare { $0.acknowledgedBy = newValue } } }
    public var resolvedAt: Timestamp? { get { if let rare { rare.values.resolvedAt } else { RareFields.Values.initial.resolvedAt } } set { updateRare { $0.resolvedAt = newValue } } }
    public var closedAt: Timestamp? { get { if let rare { rare.values.closedAt } else { RareFields.Values.initial.closedAt } } set { updateRare { $0.closedAt = newValue } } }
    public var relatedIncidents: [IncidentID] { get { if let rare { rare.values.relatedIncidents } else { RareFields.Values.initial.relatedIncidents } } set { updateRare { $0.relatedIncidents = newValue } } }
    public var duplicateOf: IncidentID? { get { if let rare { rare.values.duplicateOf } else { RareFields.Values.initial.duplicateOf } } set { updateRare { $0.duplicateOf = newValue } } }
    public var resolution: Resolution? { get { if let rare { rare.values.resolution } else { RareFields.Values.initial.resolution } } set { updateRare { $0.resolution = newValue } } }
    /// Why pages are suppressed (`maintenance:<id>` or `routing:<id>`), nil when they are not.
    public var suppressedBy: String? { get { if let rare { rare.values.suppressedBy } else { RareFields.Values.initial.suppressedBy } } set { updateRare { $0.suppressedBy = newValue } } }
    /// The grouping key the incident collects alerts under, if a grouping rule opened it.
    public var groupKey: String? { get { if let rare { rare.values.groupKey } else { RareFields.Values.initial.groupKey } } set { updateRare { $0.groupKey = newValue } } }
    public var notes: BoundedLog<Note> { get { if let rare { rare.values.notes } else { RareFields.Values.initial.notes } } set { updateRare { $0.notes = newValue } } }
    /// Notifications that reached a final state.
    public var notificationHistory: BoundedLog<NotificationIntent> {
        get { if let rare { rare.values.notificationHistory } else { RareFields.Values.initial.notificationHistory } }
        set { updateRare { $0.notificationHistory = newValue } }
    }

    /// (The getters above read their one field where it is: `rareFields.x` copied all of them,
    /// a dozen times per incident when a snapshot encoded it. Written out on purpose: a `_read`
    /// accessor here encoded 17 % slower, and a key-path helper measured slower on the dedup path.)
    private var rareFields: RareFields.Values { rare?.values ?? RareFields.Values.initial }

    private mutating func updateRare(_ change: (inout RareFields.Values) -> Void) {
        var values = rareFields
        change(&values)
        rare = values == RareFields.Values.initial ? nil : RareFields(values)
    }

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
        escalationLevel = 0
        escalationCycle = 0
        occurrenceCount = 1
        firstSeen = event.timestamp
        lastSeen = event.timestamp
        createdAt = at
        updatedAt = at
        self.sla = sla
        alerts = [AlertRecord(fingerprint: fingerprint, title: event.title, firstSeen: event.timestamp, lastSeen: event.timestamp)]
        untrackedAlertCount = 0
        timeline = BoundedLog(headCapacity: Limits.timelineHead, tailCapacity: Limits.timelineTail)
        recipients = []
        liveNotifications = []
        timers = []
        timerGeneration = 0
        rare = nil
        correlationID = event.correlationID
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

/// The out-of-line part of an `Incident` (see `Incident.rare`): immutable, replaced whole when
/// one of its fields changes.
final class RareFields: Sendable, Equatable {
    struct Values: Sendable, Equatable {
        var correlationID = ""
        var assignee: String?
        var acknowledgedAt: Timestamp?
        var acknowledgedBy: Actor?
        var resolvedAt: Timestamp?
        var closedAt: Timestamp?
        var relatedIncidents: [IncidentID] = []
        var duplicateOf: IncidentID?
        var resolution: Resolution?
        var suppressedBy: String?
        var groupKey: String?
        var notes = BoundedLog<Note>(headCapacity: Incident.Limits.notesHead, tailCapacity: Incident.Limits.notesTail)
        var notificationHistory = BoundedLog<NotificationIntent>(
            headCapacity: Incident.Limits.historyHead, tailCapacity: Incident.Limits.historyTail)

        static let initial = Values()
    }

    let values: Values

    init(_ values: Values) { self.values = values }

    static func == (a: RareFields, b: RareFields) -> Bool { a === b || a.values == b.values }
}
