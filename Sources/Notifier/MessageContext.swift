import IncidentCore

/// What every channel's message is made of: the notification, its links and its texts.
///
/// `message` is the channel template rendered (when the channel has one) or the default line;
/// channels put it where their format has a summary (webhook `message`, Slack text, PagerDuty
/// `summary`, the email body's first paragraph).
struct MessageContext: Sendable {
    let notification: OutboundNotification
    /// `<dashboard base>/incidents/<id>`, or empty when no base is configured.
    let incidentURL: String
    let sentAt: Timestamp
    /// The channel template rendered, or the headline when the channel has no template.
    private(set) var message = ""

    init(_ notification: OutboundNotification, dashboardBaseURL: String, sentAt: Timestamp) {
        self.notification = notification
        self.sentAt = sentAt
        var base = dashboardBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        incidentURL = base.isEmpty ? "" : "\(base)/incidents/\(notification.incident.id)"
        let template = notification.channel.template
        message = template.isEmpty ? headline : MessageTemplate(template).render(value(of:))
    }

    var incident: IncidentSummary { notification.incident }
    var intent: NotificationIntent { notification.intent }

    /// `incident.triggered`, `incident.escalated`, …
    var eventName: String { "incident.\(intent.kind.name)" }

    /// `Triggered`, `Escalated to level 2`, `Acknowledged`, `Resolved`, `Reminder`.
    var kindTitle: String {
        switch intent.kind {
        case .triggered: return "Triggered"
        case .escalated: return "Escalated to level \(intent.level + 1)"
        case .acknowledged: return "Acknowledged"
        case .resolved: return "Resolved"
        case .reminder: return "Reminder"
        }
    }

    /// `[P1] Triggered: Model latency above SLO`.
    var headline: String { "[\(incident.severity)] \(kindTitle): \(incident.title)" }

    /// The value of a template field (see `MessageTemplate`), nil when the field is unknown.
    func value(of field: String) -> String? {
        if field.hasPrefix("incident.labels.") { return incident.labels[String(field.dropFirst("incident.labels.".count))] }
        switch field {
        case "incident.id": return incident.id
        case "incident.title": return incident.title
        case "incident.description": return incident.description
        case "incident.severity": return incident.severity.description
        case "incident.severity_word": return incident.severity.word
        case "incident.status": return incident.status.name
        case "incident.team": return incident.team
        case "incident.assignee": return incident.assignee
        case "incident.source": return incident.source
        case "incident.environment": return incident.environment
        case "incident.category": return incident.category
        case "incident.component": return incident.component
        case "incident.occurrences": return String(incident.occurrenceCount)
        case "incident.escalation_level": return String(incident.escalationLevel)
        case "incident.created_at": return incident.createdAt.rfc3339
        case "incident.updated_at": return incident.updatedAt.rfc3339
        case "incident.url": return incidentURL
        case "notification.kind": return intent.kind.name
        case "notification.level": return String(intent.level)
        case "notification.target": return intent.target.description
        case "notification.attempt": return String(notification.attempt)
        case "notification.id": return String(intent.id)
        case "channel.name": return notification.channel.name
        default: return nil
        }
    }
}
