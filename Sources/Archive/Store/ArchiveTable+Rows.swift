/// The archive tables and their encoders. Each encoder appends exactly the columns of its
/// table after `cluster_id` (which the writer appends first), in order.
extension ArchiveTable {
    static let events = ArchiveTable(
        name: "archive_events",
        columns: [
            "log_index", "position", "event_id", "incident_id", "outcome", "source", "source_version", "event_type", "category",
            "title", "description", "raw_severity", "severity", "action", "dedup_key", "environment", "occurred_at", "received_at",
            "resource", "tags", "labels", "metrics", "payload",
        ],
        isKeyedByLogIndex: true)

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
        buffer.appendTimestamp(event.occurredAt)
        buffer.appendTimestamp(event.receivedAt)
        buffer.appendJSON(event.resourceJSON)
        buffer.appendJSON(event.tagsJSON)
        buffer.appendJSON(event.labelsJSON)
        buffer.appendJSON(event.metricsJSON)
        buffer.append(event.payload)
    }

    static let incidentColumns = [
        "incident_id", "title", "description", "severity", "status", "category", "source", "environment", "team", "assignee",
        "escalation_policy", "escalation_level", "occurrence_count", "first_seen", "last_seen", "created_at", "updated_at",
        "acknowledged_at", "resolved_at", "closed_at", "ack_sla_breached", "resolve_sla_breached", "duplicate_of", "root_cause",
        "labels", "tags", "last_log_index",
    ]

    /// Forward-only upsert: a batch may hold several versions of one incident (the newest by
    /// log index wins, as one INSERT may not touch a row twice), and a stored version is only
    /// replaced by one at least as new, so a late or replayed batch never rolls an incident back.
    static let incidents = ArchiveTable(
        name: "archive_incidents",
        columns: incidentColumns,
        isKeyedByLogIndex: false,
        selectPrefix: "DISTINCT ON (incident_id) ",
        selectSuffix: "ORDER BY incident_id, last_log_index DESC",
        conflict: """
            ON CONFLICT (cluster_id, incident_id) DO UPDATE SET \
            \(incidentColumns.dropFirst().map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")) \
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
        buffer.appendTimestamp(incident.firstSeen)
        buffer.appendTimestamp(incident.lastSeen)
        buffer.appendTimestamp(incident.createdAt)
        buffer.appendTimestamp(incident.updatedAt)
        buffer.appendTimestamp(incident.acknowledgedAt)
        buffer.appendTimestamp(incident.resolvedAt)
        buffer.appendTimestamp(incident.closedAt)
        buffer.append(incident.acknowledgeSLABreached)
        buffer.append(incident.resolveSLABreached)
        buffer.append(incident.duplicateOf)
        buffer.append(incident.rootCause)
        buffer.appendJSON(incident.labelsJSON)
        buffer.appendJSON(incident.tagsJSON)
        buffer.append(Int64(incident.lastLogIndex))
    }

    /// Keyed by (incident, seq), not by log index: a re-sync from a snapshot may send entries
    /// again, so they are always staged.
    static let timeline = ArchiveTable(
        name: "archive_timeline", columns: ["incident_id", "seq", "at", "kind", "actor", "message", "details"], isKeyedByLogIndex: false)

    static func encode(_ entry: ArchivedTimelineEntry, into buffer: inout CopyBuffer) {
        buffer.append(entry.incidentID)
        buffer.append(entry.seq)
        buffer.appendTimestamp(entry.at)
        buffer.append(entry.kind)
        buffer.append(entry.actor)
        buffer.append(entry.message)
        buffer.appendJSON(entry.detailsJSON)
    }

    static let deliveries = ArchiveTable(
        name: "archive_deliveries",
        columns: ["log_index", "notification_id", "incident_id", "channel", "kind", "level", "result", "error", "at"],
        isKeyedByLogIndex: true)

    static func encode(_ delivery: ArchivedDelivery, into buffer: inout CopyBuffer) {
        buffer.append(Int64(delivery.logIndex))
        buffer.append(Int64(delivery.notificationID))
        buffer.append(delivery.incidentID)
        buffer.append(delivery.channel)
        buffer.append(delivery.kind)
        buffer.append(delivery.level)
        buffer.append(delivery.result)
        buffer.append(delivery.error)
        buffer.appendTimestamp(delivery.at)
    }

    static let configChanges = ArchiveTable(
        name: "archive_config_changes", columns: ["log_index", "kind", "item_id", "action", "actor", "at", "body"],
        isKeyedByLogIndex: true)

    static func encode(_ change: ArchivedConfigChange, into buffer: inout CopyBuffer) {
        buffer.append(Int64(change.logIndex))
        buffer.append(change.kind)
        buffer.append(change.itemID)
        buffer.append(change.action)
        buffer.append(change.actor)
        buffer.appendTimestamp(change.at)
        buffer.appendJSON(change.bodyJSON)
    }

    static let gaps = ArchiveTable(
        name: "archive_gaps", columns: ["first_index", "last_index", "recorded_at", "reason"], isKeyedByLogIndex: true)

    static func encode(_ gap: ArchiveGap, into buffer: inout CopyBuffer) {
        buffer.append(Int64(gap.firstIndex))
        buffer.append(Int64(gap.lastIndex))
        buffer.appendTimestamp(gap.recordedAt)
        buffer.append(gap.reason)
    }
}
