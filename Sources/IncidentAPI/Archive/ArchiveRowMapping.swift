import Archive
import Archiver
import ClusterNode
import IncidentCore
import RaftCore

/// Turns what the archiver read from the journal (`ArchiveSlice`) into the archive's rows, in
/// the same JSON forms the API answers with (resources, labels, configuration items without
/// their secrets).
enum ArchiveRowMapping {
    static func batch(_ slice: ArchiveSlice, now: Int64) -> ArchiveBatch {
        var batch = ArchiveBatch(firstIndex: slice.firstIndex, lastIndex: slice.lastIndex)
        for record in slice.records {
            for (position, archived) in record.events.enumerated() {
                batch.events.append(event(archived, index: record.index, position: position, receivedAt: record.at))
            }
            if let delivery = record.delivery {
                batch.deliveries.append(self.delivery(delivery, index: record.index, at: record.at))
            }
            if let change = record.config {
                batch.configChanges.append(config(change, index: record.index, at: record.at, actor: record.actor))
            }
        }
        appendIncidents(slice.incidents, stateIndex: slice.stateIndex, to: &batch)
        if let gap = slice.gap {
            batch.gaps.append(ArchiveGap(firstIndex: gap.from, lastIndex: gap.through, recordedAt: now, reason: gap.reason))
        }
        return batch
    }

    static func appendIncidents(_ incidents: [Incident], stateIndex: LogIndex, to batch: inout ArchiveBatch) {
        for incident in incidents {
            batch.incidents.append(self.incident(incident, stateIndex: stateIndex))
            batch.timeline += timeline(incident)
        }
    }

    static func event(_ archived: ArchiveRecord.ArchivedEvent, index: LogIndex, position: Int, receivedAt: Timestamp) -> ArchivedEvent {
        let e = archived.event
        return ArchivedEvent(
            logIndex: index, position: position, eventID: e.eventID, incidentID: archived.incident?.description,
            outcome: archived.disposition.name, source: e.source, sourceVersion: e.sourceVersion, eventType: e.eventType,
            category: e.category.name, title: e.title, description: e.description, rawSeverity: e.rawSeverity, severity: nil,
            action: e.action.name, dedupKey: e.dedupKey, environment: e.environment,
            occurredAt: e.timestamp.millisecondsSinceEpoch, receivedAt: receivedAt.millisecondsSinceEpoch,
            resourceJSON: IncidentJSON.resource(e.resource).text, tagsJSON: JSONValue.map(e.tags).text,
            labelsJSON: JSONValue.map(e.labels).text, metricsJSON: metrics(e.metrics), payload: e.payload)
    }

    static func incident(_ i: Incident, stateIndex: LogIndex) -> ArchivedIncident {
        ArchivedIncident(
            incidentID: i.id.description, title: i.title, description: i.description, severity: i.severity.description,
            status: i.status.name, category: i.category.name, source: i.source, environment: i.environment, team: i.team,
            assignee: i.assignee, escalationPolicy: i.escalationPolicy, escalationLevel: i.escalationLevel,
            occurrenceCount: Int64(clamping: i.occurrenceCount), firstSeen: i.firstSeen.millisecondsSinceEpoch,
            lastSeen: i.lastSeen.millisecondsSinceEpoch, createdAt: i.createdAt.millisecondsSinceEpoch,
            updatedAt: i.updatedAt.millisecondsSinceEpoch, acknowledgedAt: i.acknowledgedAt?.millisecondsSinceEpoch,
            resolvedAt: i.resolvedAt?.millisecondsSinceEpoch, closedAt: i.closedAt?.millisecondsSinceEpoch,
            acknowledgeSLABreached: i.sla.acknowledgeBreached, resolveSLABreached: i.sla.resolveBreached,
            duplicateOf: i.duplicateOf?.description, rootCause: i.resolution?.rootCause, labelsJSON: JSONValue.map(i.labels).text,
            tagsJSON: JSONValue.map(i.tags).text, lastLogIndex: stateIndex)
    }

    /// The timeline entries state still keeps, numbered by their position in the whole trail
    /// (the first `headCapacity` and the latest ones; entries dropped from the middle keep
    /// their numbers free), so re-archiving an incident adds only what is new.
    static func timeline(_ i: Incident) -> [ArchivedTimelineEntry] {
        let log = i.timeline
        let id = i.id.description
        var rows: [ArchivedTimelineEntry] = []
        rows.reserveCapacity(log.head.count + log.tail.count)
        func row(_ e: TimelineEntry, _ seq: UInt64) -> ArchivedTimelineEntry {
            ArchivedTimelineEntry(
                incidentID: id, seq: Int64(clamping: seq), at: e.at.millisecondsSinceEpoch, kind: e.kind.name, actor: e.actor.description,
                message: e.change, detailsJSON: JSONValue.object(["reason": .string(e.reason)]).text)
        }
        for (n, e) in log.head.enumerated() { rows.append(row(e, UInt64(n))) }
        let tailStart = log.totalCount - UInt64(log.tail.count)
        for (n, e) in log.tail.enumerated() { rows.append(row(e, tailStart + UInt64(n))) }
        return rows
    }

    static func delivery(_ d: ArchiveRecord.Delivery, index: LogIndex, at: Timestamp) -> ArchivedDelivery {
        let (result, error): (String, String?) =
            switch d.report {
            case .dispatched: ("dispatched", nil)
            case .delivered: ("delivered", nil)
            case .failed(let message, let retryable): (retryable ? "failed_retryable" : "failed", message)
            }
        return ArchivedDelivery(
            logIndex: index, notificationID: d.notification, incidentID: d.incident.description, channel: d.channel, kind: d.kind.name,
            level: d.level, result: result, error: error, at: at.millisecondsSinceEpoch)
    }

    static func config(_ change: ArchiveRecord.ConfigChange, index: LogIndex, at: Timestamp, actor: Actor) -> ArchivedConfigChange {
        var body: String?
        if let item = change.item, let codable = item.entity as? any ConfigJSONCodable {
            body = JSONValue.object(codable.json(revealingSecrets: false)).text
        }
        return ArchivedConfigChange(
            logIndex: index, kind: change.kind?.description ?? "sla_policy", itemID: change.id, action: change.action.name,
            actor: actor.description, at: at.millisecondsSinceEpoch, bodyJSON: body)
    }

    static func metrics(_ values: [String: Double]) -> String {
        var object = JSONObject()
        for key in values.keys.sorted() {
            let value = values[key]!
            object[key] = value.isFinite ? .double(value) : .null
        }
        return JSONValue.object(object).text
    }
}
