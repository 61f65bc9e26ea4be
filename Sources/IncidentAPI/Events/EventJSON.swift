import Foundation
import IncidentCore

/// The native event format (the seed design's RawEvent) and its answers.
///
/// ```json
/// {"event_id": "...", "source": "llm-sentinel", "source_version": "1.2", "timestamp": "2026-11-25T06:04:00Z",
///  "event_type": "anomaly", "category": "performance", "title": "...", "description": "...",
///  "severity": "high", "resource": {"type": "service", "id": "chat-api", "name": "...", "metadata": {}},
///  "metrics": {"p95_latency_ms": 2300}, "tags": {"environment": "production"}, "labels": {},
///  "environment": "production", "correlation_id": "", "dedup_key": "", "payload": {...},
///  "action": "trigger|acknowledge|resolve"}
/// ```
/// `source` is required (the producer-specific endpoints fill it in); `timestamp` defaults to
/// the time of receipt; an unknown `category` becomes `other` and an unknown `severity` the
/// configured default, because producers extend their vocabularies without asking.
enum EventJSON {
    /// What a producer-specific endpoint fills in when the event leaves it out.
    struct Defaults: Sendable {
        var source: String?
        var eventType: String
        var category: EventCategory

        static let native = Defaults(source: nil, eventType: "alert", category: .other)
        static let sentinel = Defaults(source: "llm-sentinel", eventType: "anomaly", category: .performance)
        static let shield = Defaults(source: "llm-shield", eventType: "violation", category: .security)
    }

    static let actions = EventAction.allCases.map(\.name)

    /// Reads one event and validates it as IncidentCore will; errors name the field under the
    /// reader's path (`[3].resource.id` inside a batch).
    static func event(_ r: JSONReader, defaults: Defaults, now: Timestamp) throws(APIError) -> Event {
        guard let source = try r.string("source") ?? defaults.source else { throw APIError.invalid(r.field("source"), "is required") }
        let resourceReader = try r.object("resource")
        let resource = Resource(
            type: try resourceReader?.string("type") ?? "", id: try resourceReader?.string("id") ?? "",
            name: try resourceReader?.string("name") ?? "", metadata: try resourceReader?.stringMap("metadata") ?? [:])
        let tags = try r.stringMap("tags") ?? [:]
        var payload = r.value("payload").map(payloadText) ?? ""
        if let encrypted = try r.string("encrypted_payload") {
            // LLM-Shield's encrypted bytes (base64) travel opaquely; only Shield can read them.
            payload = JSONValue.object(["encrypted_payload": .string(encrypted)]).text
        }
        var labels = try r.stringMap("labels") ?? [:]
        if let violation = try r.string("violation_type"), labels["violation_type"] == nil { labels["violation_type"] = violation }
        let event = Event(
            eventID: try r.string("event_id") ?? newEventID(), source: source, sourceVersion: try r.string("source_version") ?? "",
            timestamp: try r.instant("timestamp") ?? now, eventType: (try r.string("event_type") ?? defaults.eventType).lowercased(),
            category: try r.string("category").map { EventCategory(name: $0) ?? .other } ?? defaults.category,
            title: try r.string("title") ?? "", description: try r.string("description") ?? "",
            rawSeverity: try r.string("severity") ?? "", resource: resource, metrics: try r.numberMap("metrics") ?? [:],
            tags: tags, labels: labels, environment: try r.string("environment") ?? tags["environment"] ?? "",
            correlationID: try r.string("correlation_id") ?? "", dedupKey: try r.string("dedup_key") ?? "",
            payload: payload, action: try r.named("action", EventAction.init(name:), expected: actions) ?? .trigger)
        try validate(event, path: r.path)
        return event
    }

    /// IncidentCore's own checks, run before proposing so the answer names the field.
    static func validate(_ event: Event, path: String) throws(APIError) {
        do { try event.validate() } catch {
            let field = path.isEmpty ? error.field : "\(path).\(error.field)"
            throw APIError.invalid(field, error.reason)
        }
    }

    /// Opaque producer JSON is stored as text; a string payload is stored as the string itself.
    static func payloadText(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return value.text
    }

    /// `evt_` + 32 lower-case hex digits of randomness (128 bits, like a UUID), from the
    /// kernel's generator through `RandomPool`.
    static func newEventID() -> String {
        var random: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &random) { RandomPool.shared.fill($0) }
        return withUnsafeBytes(of: random) { hexString($0, prefix: "evt_") }
    }

    // MARK: - Answers

    /// `{"status": "accepted", "event_id", "incident_id", "outcome", "fingerprint", "message", "links"}`.
    static func result(_ result: EventResult) -> JSONValue {
        let incident = result.incident?.description
        var links: JSONObject = [:]
        if let incident { links["incident"] = .string("/api/v1/incidents/\(incident)") }
        return [
            "status": "accepted", "event_id": .string(result.eventID), "incident_id": .string(incident),
            "outcome": .string(result.disposition.name), "fingerprint": .string(result.fingerprint.value),
            "message": .string(message(result)), "links": .object(links),
        ]
    }

    /// `result(_:)` written straight into `writer`, byte for byte the same (the ingest answer
    /// is built this way: one per event, no tree in between).
    static func write(_ result: EventResult, to writer: inout JSONWriter) {
        let incident = result.incident?.description
        writer.raw(#"{"status":"accepted","event_id":"#)
        writer.string(result.eventID)
        writer.raw(#","incident_id":"#)
        writer.string(incident)
        writer.raw(#","outcome":"#)
        writer.string(result.disposition.name)
        writer.raw(#","fingerprint":"#)
        writer.string(result.fingerprint.value)
        // The message and link around the incident id, which needs no escaping.
        let (before, after) = messageParts(result.disposition)
        writer.raw(#","message":""#)
        writer.raw(before)
        if let after {
            writer.unescaped(incident ?? "")
            writer.raw(after)
        }
        writer.raw(#"","links":{"#)
        if let incident {
            writer.raw(#""incident":"/api/v1/incidents/"#)
            writer.unescaped(incident)
            writer.raw(#"""#)
        }
        writer.raw("}}")
    }

    static func message(_ result: EventResult) -> String {
        let (before, after) = messageParts(result.disposition)
        guard let after else { return "\(before)" }
        return "\(before)\(result.incident?.description ?? "")\(after)"
    }

    /// The text of `message` before and after the incident id (no `after`: the message names no
    /// incident). Neither needs escaping in JSON.
    private static func messageParts(_ disposition: EventDisposition) -> (before: StaticString, after: StaticString?) {
        switch disposition {
        case .created: return ("incident ", " opened")
        case .deduplicated: return ("counted as a repeat of incident ", "")
        case .grouped: return ("attached to incident ", " by a grouping rule")
        case .acknowledged: return ("incident ", " acknowledged")
        case .resolved: return ("incident ", " resolved")
        case .suppressed: return ("incident ", " opened without pages (suppressed)")
        case .ignored: return ("no open incident has this alert; nothing to do", nil)
        }
    }
}

extension JSONValue {
    /// The top-level elements of a body that may be one item or an array of items, each with
    /// its path (`""` for a single item, `[i]` inside an array), and whether it was an array.
    func items(maxCount: Int, noun: String) throws(APIError) -> (readers: [JSONReader], isArray: Bool) {
        guard case .array(let elements) = self else { return ([try JSONReader(self)], false) }
        guard !elements.isEmpty else { throw APIError.invalid("", "the array holds no \(noun)") }
        guard elements.count <= maxCount else {
            throw APIError.invalid("", "at most \(maxCount) \(noun) per request, got \(elements.count)")
        }
        var readers: [JSONReader] = []
        readers.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() { readers.append(try JSONReader(element, path: "[\(i)]")) }
        return (readers, true)
    }
}
