/// Decides where a new incident goes: team, escalation policy, extra channels, or suppression.
///
/// Rules are evaluated in order (`position`, then id) against the classified incident at the
/// time of the creating command; the first match wins unless it sets `continue`. With
/// `continue`, later matches add channels and may set a team/policy the earlier ones left unset;
/// `suppress` from any matching rule suppresses.
public struct RoutingRule: OrderedRule {
    public static let kind = ConfigKind.routingRule

    public var id: String
    public var name: String
    public var position: Int
    public var enabled: Bool
    public var match: EventMatcher
    /// Only match inside this recurring local-time window (e.g. business hours in a zone).
    public var activeWindow: ZonedTimeWindow?
    public var team: String?
    public var escalationPolicy: String?
    public var channels: [String]
    public var suppress: Bool
    public var `continue`: Bool

    public init(
        id: String = "", name: String, position: Int = 0, enabled: Bool = true, match: EventMatcher = EventMatcher(),
        activeWindow: ZonedTimeWindow? = nil, team: String? = nil, escalationPolicy: String? = nil,
        channels: [String] = [], suppress: Bool = false, continue: Bool = false
    ) {
        self.id = id
        self.name = name
        self.position = position
        self.enabled = enabled
        self.match = match
        self.activeWindow = activeWindow
        self.team = team
        self.escalationPolicy = escalationPolicy
        self.channels = channels
        self.suppress = suppress
        self.continue = `continue`
    }

    public static let maxChannels = 16

    public func validate() throws(ValidationError) {
        try Self.checkIdentity(id: id, name: name)
        do { try match.validate() } catch { throw error.nested(under: "match") }
        if let activeWindow {
            do { try activeWindow.validate() } catch { throw error.nested(under: "active_window") }
        }
        if channels.count > Self.maxChannels {
            throw ValidationError(field: "channels", reason: "more than \(Self.maxChannels) channels")
        }
        if team == nil && escalationPolicy == nil && channels.isEmpty && !suppress {
            throw ValidationError(field: "outcome", reason: "a routing rule must set a team, policy, channel or suppress")
        }
    }

    public var references: [ConfigReference] {
        var refs: [ConfigReference] = []
        if let team { refs.append(ConfigReference(.team, team, field: "team")) }
        if let escalationPolicy { refs.append(ConfigReference(.escalationPolicy, escalationPolicy, field: "escalation_policy")) }
        for (i, channel) in channels.enumerated() { refs.append(ConfigReference(.channel, channel, field: "channels[\(i)]")) }
        return refs
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(position)
        writer.write(bool: enabled)
        writer.write(match)
        writer.write(activeWindow)
        writer.write(team)
        writer.write(escalationPolicy)
        writer.write(channels)
        writer.write(bool: suppress)
        writer.write(bool: `continue`)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            id: try reader.read(), name: try reader.read(), position: try reader.read(), enabled: try reader.read(),
            match: try reader.read(), activeWindow: try reader.read(), team: try reader.read(),
            escalationPolicy: try reader.read(), channels: try reader.read(), suppress: try reader.read(),
            continue: try reader.read())
    }
}
