/// What a source asks for, with PagerDuty Events v2 semantics.
public enum EventAction: UInt8, CaseIterable, Sendable, BinaryCodable {
    /// Open an incident, or count a repeat of the open one with the same fingerprint (default).
    case trigger
    /// Acknowledge the open incident with this fingerprint.
    case acknowledge
    /// Resolve this alert; the incident resolves when none of its alerts is still firing.
    case resolve

    public var name: String { ["trigger", "acknowledge", "resolve"][Int(rawValue)] }
    public init?(name: String) {
        guard let action = EventAction.allCases.first(where: { $0.name == name }) else { return nil }
        self = action
    }
}

/// The broad area an event concerns.
public enum EventCategory: UInt8, CaseIterable, Sendable, Comparable, BinaryCodable {
    case performance, security, availability, compliance, cost, other

    public static func < (lhs: EventCategory, rhs: EventCategory) -> Bool { lhs.rawValue < rhs.rawValue }

    public var name: String {
        ["performance", "security", "availability", "compliance", "cost", "other"][Int(rawValue)]
    }

    public init?(name: String) {
        guard let category = EventCategory.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = category
    }
}

/// The thing an event is about: a service, endpoint, model, deployment or tenant.
public struct Resource: Sendable, Equatable, BinaryCodable {
    public var type: String
    public var id: String
    public var name: String
    public var metadata: [String: String]

    public init(type: String = "", id: String = "", name: String = "", metadata: [String: String] = [:]) {
        self.type = type
        self.id = id
        self.name = name
        self.metadata = metadata
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(type)
        writer.write(id)
        writer.write(name)
        writer.write(metadata)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(type: try reader.read(), id: try reader.read(), name: try reader.read(), metadata: try reader.read())
    }
}

/// One normalised event from any producer (native API, LLM-Sentinel/Shield, PagerDuty Events v2,
/// Alertmanager). Field names follow the seed design's RawEvent.
///
/// Events are facts reported by sources; the state machine decides what they mean. `payload` is
/// carried as the producer's JSON text, opaque here: it travels in the log (so the archive keeps
/// it) but is not copied into incident state.
public struct Event: Sendable, Equatable, BinaryCodable {
    public var eventID: String?
    public var source: String
    public var sourceVersion: String
    /// When the condition was detected at the source (MTTD runs from here to incident creation).
    public var timestamp: Timestamp
    /// anomaly, violation, alert, error, warning, … (open set, lower-cased).
    public var eventType: String
    public var category: EventCategory
    public var title: String
    public var description: String
    /// As the source sent it; normalised by `Severity(normalizing:)` during apply.
    public var rawSeverity: String
    public var resource: Resource
    public var metrics: [String: Double]
    public var tags: [String: String]
    public var labels: [String: String]
    public var environment: String
    public var correlationID: String
    public var dedupKey: String
    public var payload: String
    public var action: EventAction

    public init(
        eventID: String? = nil, source: String, sourceVersion: String = "", timestamp: Timestamp,
        eventType: String = "alert", category: EventCategory = .other, title: String, description: String = "",
        rawSeverity: String = "", resource: Resource = Resource(), metrics: [String: Double] = [:],
        tags: [String: String] = [:], labels: [String: String] = [:], environment: String = "",
        correlationID: String = "", dedupKey: String = "", payload: String = "", action: EventAction = .trigger
    ) {
        self.eventID = eventID
        self.source = source
        self.sourceVersion = sourceVersion
        self.timestamp = timestamp
        self.eventType = eventType
        self.category = category
        self.title = title
        self.description = description
        self.rawSeverity = rawSeverity
        self.resource = resource
        self.metrics = metrics
        self.tags = tags
        self.labels = labels
        self.environment = environment
        self.correlationID = correlationID
        self.dedupKey = dedupKey
        self.payload = payload
        self.action = action
    }

    /// Limits on an event, so that no producer can grow state or log entries without bound.
    public enum Limits {
        public static let maxMapEntries = 64
        public static let maxPayloadBytes = 256 * 1024
    }

    /// Checks every field against `TextLimits` and `Limits`; API layers call this before
    /// proposing, and apply calls it again so the log can never hold an event apply would accept
    /// differently.
    public func validate() throws(ValidationError) {
        if let eventID { try TextLimits.check(eventID, field: "event_id", max: TextLimits.identifierBytes) }
        try TextLimits.check(source, field: "source", max: TextLimits.identifierBytes)
        try TextLimits.check(sourceVersion, field: "source_version", max: TextLimits.identifierBytes, allowEmpty: true)
        try TextLimits.check(eventType, field: "event_type", max: TextLimits.identifierBytes)
        // Titles may be empty for label-only events (Alertmanager); the fingerprint covers labels.
        try TextLimits.check(title, field: "title", max: TextLimits.titleBytes, allowEmpty: true)
        if title.isEmpty && labels.isEmpty && dedupKey.isEmpty {
            throw ValidationError(field: "title", reason: "must not be empty unless labels or dedup_key identify the event")
        }
        try TextLimits.check(description, field: "description", max: TextLimits.textBytes, allowEmpty: true)
        try TextLimits.check(rawSeverity, field: "severity", max: TextLimits.identifierBytes, allowEmpty: true)
        try TextLimits.check(resource.type, field: "resource.type", max: TextLimits.identifierBytes, allowEmpty: true)
        try TextLimits.check(resource.id, field: "resource.id", max: TextLimits.titleBytes, allowEmpty: true)
        try TextLimits.check(resource.name, field: "resource.name", max: TextLimits.titleBytes, allowEmpty: true)
        try Event.checkMap(resource.metadata, field: "resource.metadata")
        try Event.checkMap(tags, field: "tags")
        try Event.checkMap(labels, field: "labels")
        if metrics.count > Limits.maxMapEntries {
            throw ValidationError(field: "metrics", reason: "more than \(Limits.maxMapEntries) entries")
        }
        // As in `checkMap`: a sorted walk only for metrics with a fault.
        let metricsValid = metrics.allSatisfy { key, value in
            !key.isEmpty && key.utf8.count <= TextLimits.identifierBytes && value.isFinite
        }
        if !metricsValid {
            for key in metrics.keys.sorted() {
                try TextLimits.check(key, field: "metrics", max: TextLimits.identifierBytes)
                if !metrics[key]!.isFinite { throw ValidationError(field: "metrics.\(key)", reason: "must be a finite number") }
            }
        }
        try TextLimits.check(environment, field: "environment", max: TextLimits.identifierBytes, allowEmpty: true)
        try TextLimits.check(correlationID, field: "correlation_id", max: TextLimits.titleBytes, allowEmpty: true)
        try TextLimits.check(dedupKey, field: "dedup_key", max: TextLimits.titleBytes, allowEmpty: true)
        try TextLimits.check(payload, field: "payload", max: Limits.maxPayloadBytes, allowEmpty: true)
    }

    static func checkMap(_ map: [String: String], field: String) throws(ValidationError) {
        if map.count > Limits.maxMapEntries {
            throw ValidationError(field: field, reason: "more than \(Limits.maxMapEntries) entries")
        }
        // Nearly every map is valid, which one pass in any order shows without sorting or
        // building field names. Only a map with a fault is walked again, sorted: the first error
        // reported must not depend on dictionary layout, which differs between replicas (and
        // between a command and its decoded copy).
        let valid = map.allSatisfy { key, value in
            !key.isEmpty && key.utf8.count <= TextLimits.identifierBytes && value.utf8.count <= TextLimits.titleBytes
        }
        if valid { return }
        for key in map.keys.sorted() {
            try TextLimits.check(key, field: field, max: TextLimits.identifierBytes)
            try TextLimits.check(map[key]!, field: "\(field).\(key)", max: TextLimits.titleBytes, allowEmpty: true)
        }
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(eventID)
        writer.write(source)
        writer.write(sourceVersion)
        writer.write(timestamp)
        writer.write(eventType)
        writer.write(category)
        writer.write(title)
        writer.write(description)
        writer.write(rawSeverity)
        writer.write(resource)
        writer.write(metrics)
        writer.write(tags)
        writer.write(labels)
        writer.write(environment)
        writer.write(correlationID)
        writer.write(dedupKey)
        writer.write(payload)
        writer.write(action)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            eventID: try reader.read(), source: try reader.read(), sourceVersion: try reader.read(),
            timestamp: try reader.read(), eventType: try reader.read(), category: try reader.read(),
            title: try reader.read(), description: try reader.read(), rawSeverity: try reader.read(),
            resource: try reader.read(), metrics: try reader.read(), tags: try reader.read(),
            labels: try reader.read(), environment: try reader.read(), correlationID: try reader.read(),
            dedupKey: try reader.read(), payload: try reader.read(), action: try reader.read())
    }
}
