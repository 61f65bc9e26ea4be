/// A condition on one key of a label or tag map.
public struct LabelMatcher: Sendable, Equatable, BinaryCodable {
    public enum Operator: UInt8, CaseIterable, Sendable, BinaryCodable {
        case equals, notEquals, matchesRegex, present, absent

        public var name: String { ["equals", "not_equals", "regex", "present", "absent"][Int(rawValue)] }
        public init?(name: String) {
            guard let op = Operator.allCases.first(where: { $0.name == name }) else { return nil }
            self = op
        }
    }

    public let key: String
    public let op: Operator
    public let value: String
    /// Compiled once, when the matcher is created (a rule with a bad regex is never stored).
    private let regex: SafeRegex?

    public init(key: String, op: Operator = .equals, value: String = "") throws(ValidationError) {
        try TextLimits.check(key, field: "key", max: TextLimits.identifierBytes)
        try TextLimits.check(value, field: "value", max: TextLimits.titleBytes, allowEmpty: true)
        self.key = key
        self.op = op
        self.value = value
        if op == .matchesRegex {
            do { regex = try SafeRegex(value) } catch { throw ValidationError(field: "value", reason: "invalid regex: \(error)") }
        } else {
            regex = nil
        }
    }

    public func matches(_ map: [String: String]) -> Bool {
        let actual = map[key]
        switch op {
        case .equals: return actual == value
        case .notEquals: return actual != value
        case .matchesRegex: return actual.map { regex!.matches($0) } ?? false
        case .present: return actual != nil
        case .absent: return actual == nil
        }
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(key)
        writer.write(op)
        writer.write(value)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        let key: String = try reader.read()
        let op: Operator = try reader.read()
        let value: String = try reader.read()
        do { try self.init(key: key, op: op, value: value) } catch {
            throw DecodingError(.invalidValue, at: start, "label matcher: \(error)")
        }
    }
}

/// What rules match against: an event as classified so far, or an incident.
public struct MatchSubject: Sendable {
    public var source: String
    public var eventType: String
    public var category: EventCategory
    public var severity: Severity
    public var environment: String
    public var title: String
    public var resource: Resource
    public var tags: [String: String]
    public var labels: [String: String]

    public init(event: Event, severity: Severity, category: EventCategory) {
        source = event.source
        eventType = event.eventType
        self.category = category
        self.severity = severity
        environment = event.environment
        title = event.title
        resource = event.resource
        tags = event.tags
        labels = event.labels
    }
}

/// Conditions shared by every kind of rule. Each non-empty condition must hold (AND); a list
/// condition holds when the subject's value is one of the listed values (OR). An empty matcher
/// matches everything.
public struct EventMatcher: Sendable, Equatable, BinaryCodable {
    public var sources: [String]
    public var eventTypes: [String]
    public var categories: [EventCategory]
    public var severities: [Severity]
    public var environments: [String]
    /// Matches `resource.id` or `resource.name` (the "service" of maintenance windows).
    public var services: [String]
    public var tags: [LabelMatcher]
    public var labels: [LabelMatcher]
    public var title: SafeRegex?

    public init(
        sources: [String] = [], eventTypes: [String] = [], categories: [EventCategory] = [], severities: [Severity] = [],
        environments: [String] = [], services: [String] = [], tags: [LabelMatcher] = [], labels: [LabelMatcher] = [],
        title: SafeRegex? = nil
    ) {
        self.sources = sources
        self.eventTypes = eventTypes
        self.categories = categories
        self.severities = severities
        self.environments = environments
        self.services = services
        self.tags = tags
        self.labels = labels
        self.title = title
    }

    public static let maxConditionValues = 64

    public func matches(_ subject: MatchSubject) -> Bool {
        if !sources.isEmpty && !sources.contains(subject.source) { return false }
        if !eventTypes.isEmpty && !eventTypes.contains(subject.eventType) { return false }
        if !categories.isEmpty && !categories.contains(subject.category) { return false }
        if !severities.isEmpty && !severities.contains(subject.severity) { return false }
        if !environments.isEmpty && !environments.contains(subject.environment) { return false }
        if !services.isEmpty && !services.contains(subject.resource.id) && !services.contains(subject.resource.name) {
            return false
        }
        for matcher in tags where !matcher.matches(subject.tags) { return false }
        for matcher in labels where !matcher.matches(subject.labels) { return false }
        if let title, !title.matches(subject.title) { return false }
        return true
    }

    public func validate() throws(ValidationError) {
        let lists: [(String, [String])] = [
            ("sources", sources), ("event_types", eventTypes), ("environments", environments), ("services", services),
        ]
        for (field, values) in lists {
            if values.count > Self.maxConditionValues {
                throw ValidationError(field: field, reason: "more than \(Self.maxConditionValues) values")
            }
            for (i, value) in values.enumerated() {
                try TextLimits.check(value, field: "\(field)[\(i)]", max: TextLimits.titleBytes)
            }
        }
        if tags.count > Self.maxConditionValues || labels.count > Self.maxConditionValues {
            throw ValidationError(field: tags.count > Self.maxConditionValues ? "tags" : "labels", reason: "more than \(Self.maxConditionValues) matchers")
        }
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(sources)
        writer.write(eventTypes)
        writer.write(categories)
        writer.write(severities)
        writer.write(environments)
        writer.write(services)
        writer.write(tags)
        writer.write(labels)
        writer.write(title)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            sources: try reader.read(), eventTypes: try reader.read(), categories: try reader.read(),
            severities: try reader.read(), environments: try reader.read(), services: try reader.read(),
            tags: try reader.read(), labels: try reader.read(), title: try reader.read())
    }
}
