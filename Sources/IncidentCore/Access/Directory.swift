/// A person who can be paged: the contact details channels use to reach them.
public struct User: ConfigEntity {
    public static let kind = ConfigKind.user

    public var id: String
    public var name: String
    public var email: String
    /// Slack member id, mentioned in Slack messages (`<@U123>`).
    public var slackID: String
    public var timeZone: String

    public init(id: String = "", name: String, email: String = "", slackID: String = "", timeZone: String = "UTC") {
        self.id = id
        self.name = name
        self.email = email
        self.slackID = slackID
        self.timeZone = timeZone
    }

    public func validate() throws(ValidationError) {
        try Self.checkIdentity(id: id, name: name)
        if !email.isEmpty && (!email.contains("@") || email.utf8.count > 254) {
            throw ValidationError(field: "email", reason: "must be an email address")
        }
        try TextLimits.check(slackID, field: "slack_id", max: TextLimits.identifierBytes, allowEmpty: true)
        if TimeZoneRules(identifier: timeZone) == nil {
            throw ValidationError(field: "time_zone", reason: "unknown IANA time zone '\(timeZone)'")
        }
    }

    public var references: [ConfigReference] { [] }

    /// How `channel` addresses this user.
    func address(on channel: NotificationChannel) -> String {
        switch channel.type {
        case .email: return email
        case .slack: return slackID
        case .webhook, .pagerduty: return id
        }
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(email)
        writer.write(slackID)
        writer.write(timeZone)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(id: try reader.read(), name: try reader.read(), email: try reader.read(), slackID: try reader.read(), timeZone: try reader.read())
    }
}

/// A team: owns incidents (routing and classification set it), has members and a default
/// escalation policy, and channels used when the team itself is an escalation target.
public struct Team: ConfigEntity {
    public static let kind = ConfigKind.team

    public var id: String
    public var name: String
    public var members: [String]
    public var escalationPolicy: String?
    public var channels: [String]

    public init(id: String = "", name: String, members: [String] = [], escalationPolicy: String? = nil, channels: [String] = []) {
        self.id = id
        self.name = name
        self.members = members
        self.escalationPolicy = escalationPolicy
        self.channels = channels
    }

    public func validate() throws(ValidationError) {
        try Self.checkIdentity(id: id, name: name)
        if members.count > 500 { throw ValidationError(field: "members", reason: "more than 500 members") }
        if channels.count > RoutingRule.maxChannels {
            throw ValidationError(field: "channels", reason: "more than \(RoutingRule.maxChannels) channels")
        }
    }

    public var references: [ConfigReference] {
        var refs = members.enumerated().map { ConfigReference(.user, $1, field: "members[\($0)]") }
        if let escalationPolicy { refs.append(ConfigReference(.escalationPolicy, escalationPolicy, field: "escalation_policy")) }
        refs += channels.enumerated().map { ConfigReference(.channel, $1, field: "channels[\($0)]") }
        return refs
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(members)
        writer.write(escalationPolicy)
        writer.write(channels)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(id: try reader.read(), name: try reader.read(), members: try reader.read(), escalationPolicy: try reader.read(), channels: try reader.read())
    }
}
