import IncidentCore

/// How incidents look in answers. Lists carry the summary; `GET /api/v1/incidents/{id}` adds
/// alerts, notes, recipients, armed timers and notification history; the timeline has its own
/// endpoint. Times are RFC 3339 UTC, actors `kind:id` (`user:alice`, `api_key:key-3`).
enum IncidentJSON {
    static func time(_ t: Timestamp) -> JSONValue { .string(t.rfc3339) }
    static func time(_ t: Timestamp?) -> JSONValue { t.map { .string($0.rfc3339) } ?? .null }
    static func actor(_ a: Actor?) -> JSONValue { a.map { .string($0.description) } ?? .null }

    static func summary(_ i: Incident) -> JSONObject {
        [
            "id": .string(i.id.description), "title": .string(i.title), "description": .string(i.description),
            "severity": .string(i.severity.description), "status": .string(i.status.name), "category": .string(i.category.name),
            "event_type": .string(i.eventType), "environment": .string(i.environment), "source": .string(i.source),
            "fingerprint": .string(i.fingerprint.value), "resource": resource(i.resource), "labels": .map(i.labels),
            "tags": .map(i.tags), "correlation_id": .string(i.correlationID), "team": .string(i.team), "assignee": .string(i.assignee),
            "escalation_policy": .string(i.escalationPolicy), "escalation_level": .int(i.escalationLevel),
            "occurrence_count": .int(i.occurrenceCount), "first_seen": time(i.firstSeen), "last_seen": time(i.lastSeen),
            "created_at": time(i.createdAt), "updated_at": time(i.updatedAt), "acknowledged_at": time(i.acknowledgedAt),
            "acknowledged_by": actor(i.acknowledgedBy), "resolved_at": time(i.resolvedAt), "closed_at": time(i.closedAt),
            "sla": [
                "acknowledge_by": time(i.sla.acknowledgeBy), "resolve_by": time(i.sla.resolveBy),
                "acknowledge_breached": .bool(i.sla.acknowledgeBreached), "resolve_breached": .bool(i.sla.resolveBreached),
            ],
            "suppressed": .bool(i.isSuppressed), "suppressed_by": .string(i.suppressedBy),
            "duplicate_of": .string(i.duplicateOf?.description), "related_incidents": .strings(i.relatedIncidents.map(\.description)),
            "resolution": i.resolution.map { r in
                ["root_cause": .string(r.rootCause), "notes": .string(r.notes), "resolved_by": .string(r.resolvedBy.description)]
            } ?? .null,
            "alert_count": .int(i.alerts.count + Int(clamping: i.untrackedAlertCount)),
        ]
    }

    static func detail(_ i: Incident) -> JSONValue {
        var object = summary(i)
        object["escalation_cycle"] = .int(i.escalationCycle)
        object["group_key"] = .string(i.groupKey)
        object["alerts"] = .array(
            i.alerts.map { a in
                [
                    "fingerprint": .string(a.fingerprint.value), "title": .string(a.title), "first_seen": time(a.firstSeen),
                    "last_seen": time(a.lastSeen), "count": .int(a.count), "resolved": .bool(a.resolved),
                ]
            })
        object["untracked_alert_count"] = .int(i.untrackedAlertCount)
        object["notes"] = .array(i.notes.elements.map(note))
        object["notes_total"] = .int(i.notes.totalCount)
        object["recipients"] = .array(
            i.recipients.map { ["channel": .string($0.channel), "target": .string($0.target.description), "address": .string($0.address)] })
        object["timers"] = .array(i.timers.map { ["kind": .string($0.id.kind.name), "due_at": time($0.dueAt)] })
        object["notifications"] = .array(i.notificationHistory.elements.map(notification))
        object["live_notifications"] = .array(i.liveNotifications.map { .int($0) })
        return .object(object)
    }

    static func resource(_ r: Resource) -> JSONValue {
        ["type": .string(r.type), "id": .string(r.id), "name": .string(r.name), "metadata": .map(r.metadata)]
    }

    static func note(_ n: Note) -> JSONValue {
        ["at": time(n.at), "author": .string(n.author.description), "text": .string(n.text)]
    }

    static func notification(_ n: NotificationIntent) -> JSONValue {
        [
            "id": .int(n.id), "channel": .string(n.channel), "target": .string(n.target.description), "address": .string(n.address),
            "kind": .string(n.kind.name), "level": .int(n.level), "state": .string(n.state.name), "attempts": .int(n.attempts),
            "last_error": .string(n.lastError), "created_at": time(n.createdAt), "updated_at": time(n.updatedAt),
            "idempotency_key": .string(n.idempotencyKey),
        ]
    }

    static func timeline(_ i: Incident) -> JSONValue {
        [
            "incident_id": .string(i.id.description),
            "entries": .array(
                i.timeline.elements.map { e in
                    [
                        "at": time(e.at), "actor": .string(e.actor.description), "kind": .string(e.kind.name),
                        "change": .string(e.change), "reason": .string(e.reason),
                    ]
                }),
            "total_count": .int(i.timeline.totalCount), "omitted_count": .int(i.timeline.omittedCount),
        ]
    }
}
