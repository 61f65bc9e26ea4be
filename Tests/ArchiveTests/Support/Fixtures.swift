import Archive

/// Row builders with plausible defaults; tests override what they check.
enum Fixture {
    /// 2025-03-01T00:00:00Z in milliseconds: a fixed epoch for hand-built data.
    static let t0: Int64 = 1_740_787_200_000
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    static func event(
        log: UInt64, position: Int = 0, incident: String? = "inc-1", source: String = "llm-sentinel", title: String = "p95 latency high",
        description: String = "chat-api p95 above 2 s", receivedAt: Int64 = t0, payload: String = #"{"k":1}"#,
        tags: String = #"{"team": "ml"}"#
    ) -> ArchivedEvent {
        ArchivedEvent(
            logIndex: log, position: position, eventID: "evt-\(log)-\(position)", incidentID: incident, outcome: "created",
            source: source, sourceVersion: "1.2.0", eventType: "anomaly", category: "performance", title: title,
            description: description, rawSeverity: "critical", severity: "p1", action: "trigger", dedupKey: "dk-\(log)",
            environment: "production", occurredAt: receivedAt - 1_000, receivedAt: receivedAt,
            resourceJSON: #"{"id": "chat-api", "type": "service"}"#, tagsJSON: tags, labelsJSON: #"{"region": "eu"}"#,
            metricsJSON: #"{"p95_ms": 2300.5}"#, payload: payload)
    }

    static func incident(
        _ id: String, log: UInt64, createdAt: Int64 = t0, severity: String = "p1", status: String = "new", team: String? = "ml",
        source: String = "llm-sentinel", title: String = "p95 latency high", description: String = "chat-api p95 above 2 s",
        firstSeen: Int64? = nil, acknowledgedAt: Int64? = nil, resolvedAt: Int64? = nil, closedAt: Int64? = nil,
        ackBreached: Bool = false, resolveBreached: Bool = false, labels: String = #"{"service": "chat-api"}"#
    ) -> ArchivedIncident {
        ArchivedIncident(
            incidentID: id, title: title, description: description, severity: severity, status: status, category: "performance",
            source: source, environment: "production", team: team, assignee: nil, escalationPolicy: "default",
            escalationLevel: 0, occurrenceCount: 1, firstSeen: firstSeen ?? createdAt, lastSeen: createdAt, createdAt: createdAt,
            updatedAt: createdAt, acknowledgedAt: acknowledgedAt, resolvedAt: resolvedAt, closedAt: closedAt,
            acknowledgeSLABreached: ackBreached, resolveSLABreached: resolveBreached, duplicateOf: nil, rootCause: nil,
            labelsJSON: labels, tagsJSON: "{}", lastLogIndex: log)
    }

    static func timeline(_ incident: String, seq: Int64, at: Int64 = t0) -> ArchivedTimelineEntry {
        ArchivedTimelineEntry(
            incidentID: incident, seq: seq, at: at, kind: "created", actor: "system", message: "incident created",
            detailsJSON: #"{"rule": "default"}"#)
    }

    static func delivery(log: UInt64, notification: UInt64, incident: String = "inc-1") -> ArchivedDelivery {
        ArchivedDelivery(
            logIndex: log, notificationID: notification, incidentID: incident, channel: "slack-oncall", kind: "page", level: 1,
            result: "failed", error: "HTTP 503", at: t0 + 5_000)
    }

    static func configChange(log: UInt64, body: String? = #"{"levels": 2}"#) -> ArchivedConfigChange {
        ArchivedConfigChange(
            logIndex: log, kind: "escalation_policy", itemID: "default", action: body == nil ? "delete" : "update", actor: "user:alice",
            at: t0 + 7_000, bodyJSON: body)
    }

    /// A batch of `count` events over log indexes `first..<first+count` plus one incident per
    /// event (the integration shape: every entry creates an incident).
    static func batch(first: UInt64, count: Int) -> ArchiveBatch {
        let indexes = (0..<UInt64(count)).map { first + $0 }
        return ArchiveBatch(
            firstIndex: first, lastIndex: first + UInt64(count) - 1,
            events: indexes.map { event(log: $0, incident: "inc-\($0)") },
            incidents: indexes.map { incident("inc-\($0)", log: $0, createdAt: t0 + Int64($0) * 1_000) })
    }
}

/// Reading rows back for assertions.
extension PostgresConnection {
    func count(_ table: String, clusterID: String) throws -> Int {
        Int(try exec("SELECT count(*) FROM \(table) WHERE cluster_id = $1", params: [clusterID]).firstValue ?? "") ?? -1
    }
}
