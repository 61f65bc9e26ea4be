/// What a grouping rule groups alerts by.
public enum GroupField: Hashable, Sendable, BinaryCodable, CustomStringConvertible {
    case source, eventType, category, environment, resourceID
    case label(String)
    case tag(String)

    public var description: String {
        switch self {
        case .source: return "source"
        case .eventType: return "event_type"
        case .category: return "category"
        case .environment: return "environment"
        case .resourceID: return "resource_id"
        case .label(let key): return "label:\(key)"
        case .tag(let key): return "tag:\(key)"
        }
    }

    /// Parses the `description` form.
    public init?(name: String) {
        switch name {
        case "source": self = .source
        case "event_type": self = .eventType
        case "category": self = .category
        case "environment": self = .environment
        case "resource_id": self = .resourceID
        default:
            if name.hasPrefix("label:"), name.count > 6 { self = .label(String(name.dropFirst(6))) }
            else if name.hasPrefix("tag:"), name.count > 4 { self = .tag(String(name.dropFirst(4))) }
            else { return nil }
        }
    }

    func value(in subject: MatchSubject) -> String {
        switch self {
        case .source: return subject.source
        case .eventType: return subject.eventType
        case .category: return subject.category.name
        case .environment: return subject.environment
        case .resourceID: return subject.resource.id
        case .label(let key): return subject.labels[key] ?? ""
        case .tag(let key): return subject.tags[key] ?? ""
        }
    }

    public func encode(to writer: inout BinaryWriter) { writer.write(description) }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        guard let field = GroupField(name: try reader.readString()) else {
            throw DecodingError(.invalidValue, at: start, "group field")
        }
        self = field
    }
}

/// Attaches distinct alerts (different fingerprints) to one open incident when they share the
/// values of `groupBy` and arrive within `windowMilliseconds` of the incident's creation.
///
/// Grouping is separate from deduplication: a repeat of a known fingerprint always
/// deduplicates into its incident first; grouping only decides where a *new* fingerprint goes.
public struct GroupingRule: OrderedRule {
    public static let kind = ConfigKind.groupingRule

    public var id: String
    public var name: String
    public var position: Int
    public var enabled: Bool
    public var match: EventMatcher
    public var groupBy: [GroupField]
    public var windowMilliseconds: Int64

    public init(
        id: String = "", name: String, position: Int = 0, enabled: Bool = true, match: EventMatcher = EventMatcher(),
        groupBy: [GroupField], windowMilliseconds: Int64
    ) {
        self.id = id
        self.name = name
        self.position = position
        self.enabled = enabled
        self.match = match
        self.groupBy = groupBy
        self.windowMilliseconds = windowMilliseconds
    }

    public static let maxWindowMilliseconds = 7 * Milliseconds.day

    public func validate() throws(ValidationError) {
        try Self.checkIdentity(id: id, name: name)
        do { try match.validate() } catch { throw error.nested(under: "match") }
        if groupBy.isEmpty || groupBy.count > 16 {
            throw ValidationError(field: "group_by", reason: "must name 1 to 16 fields")
        }
        if windowMilliseconds < Milliseconds.second || windowMilliseconds > Self.maxWindowMilliseconds {
            throw ValidationError(field: "window", reason: "must be between 1 s and 7 days")
        }
    }

    public var references: [ConfigReference] { [] }

    /// The key alerts are grouped under, or nil when the rule does not match.
    func groupKey(for subject: MatchSubject) -> String? {
        guard enabled, match.matches(subject) else { return nil }
        var key = id
        for field in groupBy {
            key.append("\u{1F}")
            key.append(field.value(in: subject))
        }
        return key
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(position)
        writer.write(bool: enabled)
        writer.write(match)
        writer.write(groupBy)
        writer.write(windowMilliseconds)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            id: try reader.read(), name: try reader.read(), position: try reader.read(), enabled: try reader.read(),
            match: try reader.read(), groupBy: try reader.read(), windowMilliseconds: try reader.read())
    }
}
