/// The staging definition and COPY encoder of every row kind. Keep each encoder's field order
/// identical to its column list.
extension StagingTable {
    static let events = StagingTable(
        target: "archive_events",
        columns: [
            .plain("log_index", "bigint"), .plain("position", "int"), .plain("event_id", "text"), .plain("incident_id", "text"),
            .plain("outcome", "text"), .plain("source", "text"), .plain("source_version", "text"), .plain("event_type", "text"),
            .plain("category", "text"), .plain("title", "text"), .plain("description", "text"), .plain("raw_severity", "text"),
            .plain("severity", "text"), .plain("action", "text"), .plain("dedup_key", "text"), .plain("environment", "text"),
            .timestamp("occurred_at"), .timestamp("received_at"), .plain("resource", "jsonb"), .plain("tags", "jsonb"),
            .plain("labels", "jsonb"), .plain("metrics", "jsonb"), .plain("payload", "text"),
        ],
        conflict: "ON CONFLICT DO NOTHING")

    static func encode(_ event: ArchivedEvent, into buffer: inout CopyBuffer) {
        buffer.append(Int64(event.logIndex))
        buffer.append(event.position)
        buffer.append(event.eventID)
        buffer.append(event.incidentID)
        buffer.append(event.outcome)
        buffer.append(event.source)
        buffer.append(event.sourceVersion)
        buffer.append(event.eventType)
        buffer.append(event.category)
        buffer.append(event.title)
        buffer.append(event.description)
        buffer.append(event.rawSeverity)
        buffer.append(event.severity)
        buffer.append(event.action)
        buffer.append(event.dedupKey)
        buffer.append(event.environment)
        buffer.append(event.occurredAt)
        buffer.append(event.receivedAt)
        buffer.appendJSON(event.resourceJSON)
        buffer.appendJSON(event.tagsJSON)
        buffer.appendJSON(event.labelsJSON)
        buffer.appendJSON(event.metricsJSON)
        buffer.append(event.payload)
    }

    static let incidentColumns: [Column] = [
        .plain("incident_id", "text"), .plain("title", "text"), .plain("description", "text"), .plain("severity", "text"),
        .plain("status", "text"), .plain("category", "text"), .plain("source", "text"), .plain("environment", "text"),
        .plain("team", "text"), .plain("assignee", "text"), .plain("escalation_policy", "text"), .plain("escalation_level", "int"),
        .plain("occurrence_count", "bigint"), .timestamp("first_seen"), .timestamp("last_seen"), .timestamp("created_at"),
        .timestamp("updated_at"), .timestamp("acknowledged_at"), .timestamp("resolved_at"), .timestamp("closed_at"),
        .plain("ack_sla_breached", "boolean"), .plain("resolve_sla_breached", "boolean"), .plain("duplicate_of", "text"),
        .plain("root_cause", "text"), .plain("labels", "jsonb"), .plain("tags", "jsonb"), .plain("last_log_index", "bigint"),
    ]

    /// Forward-only upsert: a batch may hold several versions of one incident (the newest by
    /// log index wins, as one INSERT may not touch a row twice), and a stored version is only
    /// replaced by one at least as new, so a late or replayed batch never rolls an incident back.
    static let incidents = StagingTable(
        target: "archive_incidents",
        columns: incidentColumns,
        selectPrefix: "DISTINCT ON (incident_id) ",
        selectSuffix: "ORDER BY incident_id, last_log_index DESC",
        conflict: """
            ON CONFLICT (cluster_id, incident_id) DO UPDATE SET
            \(incidentColumns.dropFirst().map { "\($0.name) = EXCLUDED.\($0.name)" }.joined(separator: ", "))
            WHERE archive_incidents.last_log_index <= EXCLUDED.last_log_index
            """)

    static func encode(_ incident: ArchivedIncident, into buffer: inout CopyBuffer) {
        buffer.append(incident.incidentID)
        buffer.append(incident.title)
        buffer.append(incident.description)
        buffer.append(incident.severity)
        buffer.append(incident.status)
        buffer.append(incident.category)
        buffer.append(incident.source)
        buffer.append(incident.environment)
        buffer.append(incident.team)
        buffer.append(incident.assignee)
        buffer.append(incident.escalationPolicy)
        buffer.append(incident.escalationLevel)
        buffer.append(incident.occurrenceCount)
        buffer.append(incident.firstSeen)
        buffer.append(incident.lastSeen)
        buffer.append(incident.createdAt)
        buffer.append(incident.updatedAt)
        buffer.append(incident.acknowledgedAt)
        buffer.append(incident.resolvedAt)
        buffer.append(incident.closedAt)
        buffer.append(incident.acknowledgeSLABreached)
        buffer.append(incident.resolveSLABreached)
        buffer.append(incident.duplicateOf)
        buffer.append(incident.rootCause)
        buffer.appendJSON(incident.labelsJSON)
        buffer.appendJSON(incident.tagsJSON)
        buffer.append(Int64(incident.lastLogIndex))
    }

    static let timeline = StagingTable(
        target: "archive_timeline",
        columns: [
            .plain("incident_id", "text"), .plain("seq", "bigint"), .timestamp("at"), .plain("kind", "text"), .plain("actor", "text"),
            .plain("message", "text"), .plain("details", "jsonb"),
        ],
        conflict: "ON CONFLICT DO NOTHING")

    static func encode(_ entry: ArchivedTimelineEntry, into buffer: inout CopyBuffer) {
        buffer.append(entry.incidentID)
        buffer.append(entry.seq)
        buffer.append(entry.at)
        buffer.append(entry.kind)
        buffer.append(entry.actor)
        buffer.append(entry.message)
        buffer.appendJSON(entry.detailsJSON)
    }

    static let deliveries = StagingTable(
        target: "archive_deliveries",
        columns: [
            .plain("log_index", "bigint"), .plain("notification_id", "bigint"), .plain("incident_id", "text"),
            .plain("channel", "text"), .plain("kind", "text"), .plain("level", "int"), .plain("result", "text"),
            .plain("error", "text"), .timestamp("at"),
        ],
        conflict: "ON CONFLICT DO NOTHING")

    static func encode(_ delivery: ArchivedDelivery, into buffer: inout CopyBuffer) {
        buffer.append(Int64(delivery.logIndex))
        buffer.append(Int64(delivery.notificationID))
        buffer.append(delivery.incidentID)
        buffer.append(delivery.channel)
        buffer.append(delivery.kind)
        buffer.append(delivery.level)
        buffer.append(delivery.result)
        buffer.append(delivery.error)
        buffer.append(delivery.at)
    }

    static let configChanges = StagingTable(
        target: "archive_config_changes",
        columns: [
            .plain("log_index", "bigint"), .plain("kind", "text"), .plain("item_id", "text"), .plain("action", "text"),
            .plain("actor", "text"), .timestamp("at"), .plain("body", "jsonb"),
        ],
        conflict: "ON CONFLICT DO NOTHING")

    static func encode(_ change: ArchivedConfigChange, into buffer: inout CopyBuffer) {
        buffer.append(Int64(change.logIndex))
        buffer.append(change.kind)
        buffer.append(change.itemID)
        buffer.append(change.action)
        buffer.append(change.actor)
        buffer.append(change.at)
        buffer.appendJSON(change.bodyJSON)
    }

    static let gaps = StagingTable(
        target: "archive_gaps",
        columns: [.plain("first_index", "bigint"), .plain("last_index", "bigint"), .timestamp("recorded_at"), .plain("reason", "text")],
        conflict: "ON CONFLICT DO NOTHING")

    static func encode(_ gap: ArchiveGap, into buffer: inout CopyBuffer) {
        buffer.append(Int64(gap.firstIndex))
        buffer.append(Int64(gap.lastIndex))
        buffer.append(gap.recordedAt)
        buffer.append(gap.reason)
    }
}
