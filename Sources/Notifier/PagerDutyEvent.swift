import IncidentCore

/// A PagerDuty Events API v2 event that follows our lifecycle on one `dedup_key` (the incident
/// id): triggered, escalated and reminder → `trigger` (PagerDuty folds repeats into the open
/// alert), acknowledged → `acknowledge`, resolved → `resolve`.
///
/// Severity: P0 critical, P1 error, P2 warning, P3/P4 info. `payload` and `links` are sent with
/// triggers only; acknowledge/resolve need just the routing key and dedup key.
enum PagerDutyEvent {
    static let defaultURL = "https://events.pagerduty.com/v2/enqueue"
    /// The Events API's limit on `payload.summary`, in characters.
    static let summaryLimit = 1_024

    static func action(for kind: NotificationKind) -> String {
        switch kind {
        case .triggered, .escalated, .reminder: return "trigger"
        case .acknowledged: return "acknowledge"
        case .resolved: return "resolve"
        }
    }

    static func request(_ context: MessageContext, userAgent: String) -> Result<OutboundRequest, DeliveryError> {
        let channel = context.notification.channel
        guard !channel.routingKey.isEmpty else { return .failure(.invalid("pagerduty channel has no routing key")) }
        return OutboundRequest.json(
            url: channel.url.isEmpty ? defaultURL : channel.url, body: document(context).serialized(), context: context,
            userAgent: userAgent)
    }

    static func document(_ context: MessageContext) -> JSONValue {
        let action = action(for: context.intent.kind)
        var members: [(String, JSONValue)] = [
            ("routing_key", .string(context.notification.channel.routingKey)),
            ("event_action", .string(action)),
            ("dedup_key", .string(context.incident.id)),
        ]
        guard action == "trigger" else { return .object(members) }
        members.append(("payload", payload(context)))
        members.append(("client", .string("incidentd")))
        if !context.incidentURL.isEmpty {
            members.append(("client_url", .string(context.incidentURL)))
            members.append(("links", .array([.object([("href", .string(context.incidentURL)), ("text", .string("Incident \(context.incident.id)"))])])))
        }
        return .object(members)
    }

    private static func payload(_ context: MessageContext) -> JSONValue {
        let incident = context.incident
        var members: [(String, JSONValue)] = [
            ("summary", .string(shortened(context.message, toCharacters: summaryLimit))),
            ("source", .string(incident.source.isEmpty ? "incidentd" : incident.source)),
            ("severity", .string(incident.severity.pagerDutySeverity)),
            ("timestamp", .string(incident.createdAt.rfc3339)),
        ]
        if !incident.component.isEmpty { members.append(("component", .string(incident.component))) }
        if !incident.team.isEmpty { members.append(("group", .string(incident.team))) }
        if !incident.category.isEmpty { members.append(("class", .string(incident.category))) }
        var details: [(String, JSONValue)] = [
            ("incident_id", .string(incident.id)),
            ("title", .string(incident.title)),
            ("status", .string(incident.status.name)),
            ("priority", .string(incident.severity.description)),
            ("notification", .string(context.intent.kind.name)),
            ("escalation_level", .int(Int64(context.intent.level))),
            ("occurrence_count", .int(Int64(clamping: incident.occurrenceCount))),
        ]
        if !incident.description.isEmpty { details.append(("description", .string(incident.description))) }
        if !incident.environment.isEmpty { details.append(("environment", .string(incident.environment))) }
        if !incident.assignee.isEmpty { details.append(("assignee", .string(incident.assignee))) }
        if !incident.labels.isEmpty { details.append(("labels", .sortedObject(incident.labels))) }
        members.append(("custom_details", .object(details)))
        return .object(members)
    }
}
