/// Rows the archive stores, one struct per table (docs/ARCHIVE.md describes each column).
///
/// Times are milliseconds since the Unix epoch (UTC); enums are their API names (`p1`,
/// `acknowledged`, ...); `…JSON` fields hold JSON text that PostgreSQL stores as jsonb (the
/// caller produces valid JSON; jsonb normalises spacing and key order on the way in).

/// One event as the log applied it (`archive_events`).
public struct ArchivedEvent: Sendable, Equatable {
    /// The log entry that carried the event, and its position among that entry's events.
    public var logIndex: UInt64
    public var position: Int
    public var eventID: String?
    /// The incident the event created or joined; nil when it was rejected or suppressed.
    public var incidentID: String?
    /// What apply did with it: `created`, `deduplicated`, `grouped`, `suppressed`, ...
    public var outcome: String
    public var source: String
    public var sourceVersion: String
    public var eventType: String
    public var category: String
    public var title: String
    public var description: String
    public var rawSeverity: String
    /// The normalised severity, nil when the raw one was not recognised.
    public var severity: String?
    /// `trigger`, `acknowledge` or `resolve`.
    public var action: String
    public var dedupKey: String
    public var environment: String
    /// The source's detection time, and the leader's stamp on the log entry.
    public var occurredAt: Int64
    public var receivedAt: Int64
    public var resourceJSON: String
    public var tagsJSON: String
    public var labelsJSON: String
    public var metricsJSON: String
    /// The producer's original body, as text (not parsed: it is opaque to the incident manager).
    public var payload: String

    public init(
        logIndex: UInt64, position: Int, eventID: String?, incidentID: String?, outcome: String, source: String,
        sourceVersion: String, eventType: String, category: String, title: String, description: String,
        rawSeverity: String, severity: String?, action: String, dedupKey: String, environment: String,
        occurredAt: Int64, receivedAt: Int64, resourceJSON: String, tagsJSON: String, labelsJSON: String,
        metricsJSON: String, payload: String
    ) {
        self.logIndex = logIndex
        self.position = position
        self.eventID = eventID
        self.incidentID = incidentID
        self.outcome = outcome
        self.source = source
        self.sourceVersion = sourceVersion
        self.eventType = eventType
        self.category = category
        self.title = title
        self.description = description
        self.rawSeverity = rawSeverity
        self.severity = severity
        self.action = action
        self.dedupKey = dedupKey
        self.environment = environment
        self.occurredAt = occurredAt
        self.receivedAt = receivedAt
        self.resourceJSON = resourceJSON
        self.tagsJSON = tagsJSON
        self.labelsJSON = labelsJSON
        self.metricsJSON = metricsJSON
        self.payload = payload
    }
}

/// The current row of an incident (`archive_incidents`): replaced by later versions only.
public struct ArchivedIncident: Sendable, Equatable {
    public var incidentID: String
    public var title: String
    public var description: String
    public var severity: String
    public var status: String
    public var category: String
    public var source: String
    public var environment: String
    public var team: String?
    public var assignee: String?
    public var escalationPolicy: String?
    public var escalationLevel: Int
    public var occurrenceCount: Int64
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var createdAt: Int64
    public var updatedAt: Int64
    public var acknowledgedAt: Int64?
    public var resolvedAt: Int64?
    public var closedAt: Int64?
    public var acknowledgeSLABreached: Bool
    public var resolveSLABreached: Bool
    public var duplicateOf: String?
    public var rootCause: String?
    public var labelsJSON: String
    public var tagsJSON: String
    /// The log index of the change this version reflects; a row is only replaced by a version
    /// with an index at least as high.
    public var lastLogIndex: UInt64

    public init(
        incidentID: String, title: String, description: String, severity: String, status: String, category: String,
        source: String, environment: String, team: String?, assignee: String?, escalationPolicy: String?,
        escalationLevel: Int, occurrenceCount: Int64, firstSeen: Int64, lastSeen: Int64, createdAt: Int64,
        updatedAt: Int64, acknowledgedAt: Int64?, resolvedAt: Int64?, closedAt: Int64?, acknowledgeSLABreached: Bool,
        resolveSLABreached: Bool, duplicateOf: String?, rootCause: String?, labelsJSON: String, tagsJSON: String,
        lastLogIndex: UInt64
    ) {
        self.incidentID = incidentID
        self.title = title
        self.description = description
        self.severity = severity
        self.status = status
        self.category = category
        self.source = source
        self.environment = environment
        self.team = team
        self.assignee = assignee
        self.escalationPolicy = escalationPolicy
        self.escalationLevel = escalationLevel
        self.occurrenceCount = occurrenceCount
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.acknowledgedAt = acknowledgedAt
        self.resolvedAt = resolvedAt
        self.closedAt = closedAt
        self.acknowledgeSLABreached = acknowledgeSLABreached
        self.resolveSLABreached = resolveSLABreached
        self.duplicateOf = duplicateOf
        self.rootCause = rootCause
        self.labelsJSON = labelsJSON
        self.tagsJSON = tagsJSON
        self.lastLogIndex = lastLogIndex
    }
}

/// One audit-trail entry of an incident (`archive_timeline`).
public struct ArchivedTimelineEntry: Sendable, Equatable {
    public var incidentID: String
    /// Position in the incident's timeline, increasing; (incident, seq) identifies the entry.
    public var seq: Int64
    public var at: Int64
    public var kind: String
    public var actor: String
    public var message: String
    public var detailsJSON: String

    public init(incidentID: String, seq: Int64, at: Int64, kind: String, actor: String, message: String, detailsJSON: String) {
        self.incidentID = incidentID
        self.seq = seq
        self.at = at
        self.kind = kind
        self.actor = actor
        self.message = message
        self.detailsJSON = detailsJSON
    }
}

/// One recorded notification outcome (`archive_deliveries`).
public struct ArchivedDelivery: Sendable, Equatable {
    public var logIndex: UInt64
    public var notificationID: UInt64
    public var incidentID: String
    public var channel: String
    /// `page`, `acknowledged`, `resolved`, ...
    public var kind: String
    public var level: Int
    /// `delivered`, `failed`, `retrying`, `cancelled`, ...
    public var result: String
    public var error: String?
    public var at: Int64

    public init(
        logIndex: UInt64, notificationID: UInt64, incidentID: String, channel: String, kind: String, level: Int,
        result: String, error: String?, at: Int64
    ) {
        self.logIndex = logIndex
        self.notificationID = notificationID
        self.incidentID = incidentID
        self.channel = channel
        self.kind = kind
        self.level = level
        self.result = result
        self.error = error
        self.at = at
    }
}

/// One configuration change (`archive_config_changes`): policies, schedules, rules, keys.
public struct ArchivedConfigChange: Sendable, Equatable {
    public var logIndex: UInt64
    /// `escalation_policy`, `schedule`, `routing_rule`, `channel`, `api_key`, ...
    public var kind: String
    public var itemID: String
    /// `create`, `update` or `delete`.
    public var action: String
    public var actor: String
    public var at: Int64
    /// The item after the change, as JSON; nil for a delete (and for secrets, which the caller
    /// must leave out).
    public var bodyJSON: String?

    public init(logIndex: UInt64, kind: String, itemID: String, action: String, actor: String, at: Int64, bodyJSON: String?) {
        self.logIndex = logIndex
        self.kind = kind
        self.itemID = itemID
        self.action = action
        self.actor = actor
        self.at = at
        self.bodyJSON = bodyJSON
    }
}

/// A range of log indexes the archive will never hold (`archive_gaps`): compacted away before
/// the archiver copied them, after which it re-synced from a snapshot.
public struct ArchiveGap: Sendable, Equatable {
    public var firstIndex: UInt64
    public var lastIndex: UInt64
    public var recordedAt: Int64
    public var reason: String

    public init(firstIndex: UInt64, lastIndex: UInt64, recordedAt: Int64, reason: String) {
        self.firstIndex = firstIndex
        self.lastIndex = lastIndex
        self.recordedAt = recordedAt
        self.reason = reason
    }
}
