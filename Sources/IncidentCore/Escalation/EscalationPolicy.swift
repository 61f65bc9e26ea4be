/// Whom an escalation level pages.
public enum EscalationTarget: Hashable, Sendable, BinaryCodable, CustomStringConvertible {
    case user(String)
    /// Whoever is on call in the schedule at the moment the level fires.
    case schedule(String)
    /// The team's members, through the level's channels.
    case team(String)
    /// A channel's own destination (a Slack channel, a PagerDuty service).
    case channel(String)

    public var description: String {
        switch self {
        case .user(let id): return "user:\(id)"
        case .schedule(let id): return "schedule:\(id)"
        case .team(let id): return "team:\(id)"
        case .channel(let id): return "channel:\(id)"
        }
    }

    var reference: ConfigReference {
        switch self {
        case .user(let id): return ConfigReference(.user, id, field: "")
        case .schedule(let id): return ConfigReference(.schedule, id, field: "")
        case .team(let id): return ConfigReference(.team, id, field: "")
        case .channel(let id): return ConfigReference(.channel, id, field: "")
        }
    }

    public func encode(to writer: inout BinaryWriter) {
        let (tag, id): (UInt8, String) =
            switch self {
            case .user(let id): (0, id)
            case .schedule(let id): (1, id)
            case .team(let id): (2, id)
            case .channel(let id): (3, id)
            }
        writer.write(tag)
        writer.write(id)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        let tag = try reader.readByte()
        let id: String = try reader.read()
        switch tag {
        case 0: self = .user(id)
        case 1: self = .schedule(id)
        case 2: self = .team(id)
        case 3: self = .channel(id)
        default: throw DecodingError(.invalidTag, at: start, "EscalationTarget")
        }
    }
}

/// One rung of an escalation policy: page `targets` through `channels`, then wait `delay`
/// before moving to the next level if nobody acknowledged.
public struct EscalationLevel: Sendable, Equatable, BinaryCodable {
    public var delayMilliseconds: Int64
    public var targets: [EscalationTarget]
    /// How people (user, schedule and team targets) are reached; channel targets ignore it.
    public var channels: [String]

    public init(delayMilliseconds: Int64, targets: [EscalationTarget], channels: [String] = []) {
        self.delayMilliseconds = delayMilliseconds
        self.targets = targets
        self.channels = channels
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(delayMilliseconds)
        writer.write(targets)
        writer.write(channels)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(delayMilliseconds: try reader.read(), targets: try reader.read(), channels: try reader.read())
    }
}

/// An escalation policy: levels paged one after another until someone acknowledges, the whole
/// sequence repeated `repeatCount` more times, and an optional acknowledge timeout that
/// re-escalates an incident acknowledged but not resolved in time.
public struct EscalationPolicy: ConfigEntity {
    public static let kind = ConfigKind.escalationPolicy

    public var id: String
    public var name: String
    public var levels: [EscalationLevel]
    public var repeatCount: Int
    public var acknowledgeTimeoutMilliseconds: Int64?

    public init(id: String = "", name: String, levels: [EscalationLevel], repeatCount: Int = 0, acknowledgeTimeoutMilliseconds: Int64? = nil) {
        self.id = id
        self.name = name
        self.levels = levels
        self.repeatCount = repeatCount
        self.acknowledgeTimeoutMilliseconds = acknowledgeTimeoutMilliseconds
    }

    public static let maxLevels = 20
    public static let maxRepeats = 10
    public static let maxTargetsPerLevel = 32
    public static let minDelayMilliseconds = Milliseconds.minute
    public static let maxDelayMilliseconds = 7 * Milliseconds.day

    public func validate() throws(ValidationError) {
        try Self.checkIdentity(id: id, name: name)
        guard (1...Self.maxLevels).contains(levels.count) else {
            throw ValidationError(field: "levels", reason: "must have 1 to \(Self.maxLevels) levels")
        }
        for (i, level) in levels.enumerated() {
            let field = "levels[\(i)]"
            if level.delayMilliseconds < Self.minDelayMilliseconds || level.delayMilliseconds > Self.maxDelayMilliseconds {
                throw ValidationError(field: "\(field).delay", reason: "must be between 1 minute and 7 days")
            }
            if level.targets.isEmpty || level.targets.count > Self.maxTargetsPerLevel {
                throw ValidationError(field: "\(field).targets", reason: "must have 1 to \(Self.maxTargetsPerLevel) targets")
            }
            let needsChannels = level.targets.contains { if case .channel = $0 { false } else { true } }
            if needsChannels && level.channels.isEmpty {
                throw ValidationError(field: "\(field).channels", reason: "user, schedule and team targets need a channel to reach them")
            }
            if level.channels.count > RoutingRule.maxChannels {
                throw ValidationError(field: "\(field).channels", reason: "more than \(RoutingRule.maxChannels) channels")
            }
        }
        guard (0...Self.maxRepeats).contains(repeatCount) else {
            throw ValidationError(field: "repeat_count", reason: "must be between 0 and \(Self.maxRepeats)")
        }
        if let timeout = acknowledgeTimeoutMilliseconds,
            timeout < Self.minDelayMilliseconds || timeout > Self.maxDelayMilliseconds
        {
            throw ValidationError(field: "acknowledge_timeout", reason: "must be between 1 minute and 7 days")
        }
    }

    public var references: [ConfigReference] {
        var refs: [ConfigReference] = []
        for (i, level) in levels.enumerated() {
            for (j, target) in level.targets.enumerated() {
                var ref = target.reference
                ref.field = "levels[\(i)].targets[\(j)]"
                refs.append(ref)
            }
            for (j, channel) in level.channels.enumerated() {
                refs.append(ConfigReference(.channel, channel, field: "levels[\(i)].channels[\(j)]"))
            }
        }
        return refs
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(levels)
        writer.write(repeatCount)
        writer.write(acknowledgeTimeoutMilliseconds)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            id: try reader.read(), name: try reader.read(), levels: try reader.read(), repeatCount: try reader.read(),
            acknowledgeTimeoutMilliseconds: try reader.read())
    }
}
