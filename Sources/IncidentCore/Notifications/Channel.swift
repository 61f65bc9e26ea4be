/// How a channel delivers.
public enum ChannelType: UInt8, CaseIterable, Sendable, BinaryCodable {
    case webhook, slack, pagerduty, email

    public var name: String { ["webhook", "slack", "pagerduty", "email"][Int(rawValue)] }
    public init?(name: String) {
        guard let type = ChannelType.allCases.first(where: { $0.name == name }) else { return nil }
        self = type
    }

    /// Which messages the channel gets when `notifyOn` is left empty.
    public var defaultNotifyOn: Set<NotificationKind> {
        switch self {
        // PagerDuty follows our lifecycle: trigger, acknowledge and resolve the same dedup_key.
        case .pagerduty, .slack, .webhook: return Set(NotificationKind.allCases)
        case .email: return [.triggered, .escalated, .reminder, .resolved]
        }
    }
}

/// A notification channel: where and how pages and status messages are sent.
///
/// `url` is the webhook / Slack incoming-webhook URL, the PagerDuty Events API endpoint
/// (empty = PagerDuty's public one), or `smtp://host:port` / `smtps://…` for email. `secret` is
/// the webhook HMAC key or the SMTP password; it is replicated (so every node can deliver) but
/// never returned by the API.
public struct NotificationChannel: ConfigEntity {
    public static let kind = ConfigKind.channel

    public var id: String
    public var name: String
    public var type: ChannelType
    public var url: String
    public var headers: [String: String]
    public var secret: String
    /// PagerDuty integration (routing) key.
    public var routingKey: String
    public var emailFrom: String
    public var emailTo: [String]
    public var username: String
    /// A message template with `{{field}}` placeholders; empty = the channel type's default.
    public var template: String
    public var notifyOn: Set<NotificationKind>
    public var enabled: Bool

    public init(
        id: String = "", name: String, type: ChannelType, url: String = "", headers: [String: String] = [:],
        secret: String = "", routingKey: String = "", emailFrom: String = "", emailTo: [String] = [],
        username: String = "", template: String = "", notifyOn: Set<NotificationKind> = [], enabled: Bool = true
    ) {
        self.id = id
        self.name = name
        self.type = type
        self.url = url
        self.headers = headers
        self.secret = secret
        self.routingKey = routingKey
        self.emailFrom = emailFrom
        self.emailTo = emailTo
        self.username = username
        self.template = template
        self.notifyOn = notifyOn
        self.enabled = enabled
    }

    public var effectiveNotifyOn: Set<NotificationKind> { notifyOn.isEmpty ? type.defaultNotifyOn : notifyOn }

    public func validate() throws(ValidationError) {
        try Self.checkIdentity(id: id, name: name)
        try TextLimits.check(url, field: "url", max: 2048, allowEmpty: true)
        try TextLimits.check(secret, field: "secret", max: 1024, allowEmpty: true)
        try TextLimits.check(template, field: "template", max: TextLimits.textBytes, allowEmpty: true)
        try Event.checkMap(headers, field: "headers")
        let lower = url.lowercased()
        switch type {
        case .webhook, .slack:
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
                throw ValidationError(field: "url", reason: "\(type.name) channels need an http(s) URL")
            }
        case .pagerduty:
            try TextLimits.check(routingKey, field: "routing_key", max: TextLimits.identifierBytes)
            if !url.isEmpty && !(lower.hasPrefix("http://") || lower.hasPrefix("https://")) {
                throw ValidationError(field: "url", reason: "must be an http(s) URL when set")
            }
        case .email:
            guard lower.hasPrefix("smtp://") || lower.hasPrefix("smtps://") else {
                throw ValidationError(field: "url", reason: "email channels need smtp://host:port or smtps://host:port")
            }
            guard emailFrom.contains("@") else { throw ValidationError(field: "email_from", reason: "must be an email address") }
            if emailTo.count > 64 { throw ValidationError(field: "email_to", reason: "more than 64 addresses") }
            for (i, address) in emailTo.enumerated() where !address.contains("@") || address.utf8.count > 254 {
                throw ValidationError(field: "email_to[\(i)]", reason: "must be an email address")
            }
        }
    }

    public var references: [ConfigReference] { [] }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(type)
        writer.write(url)
        writer.write(headers)
        writer.write(secret)
        writer.write(routingKey)
        writer.write(emailFrom)
        writer.write(emailTo)
        writer.write(username)
        writer.write(template)
        writer.write(notifyOn)
        writer.write(bool: enabled)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            id: try reader.read(), name: try reader.read(), type: try reader.read(), url: try reader.read(),
            headers: try reader.read(), secret: try reader.read(), routingKey: try reader.read(),
            emailFrom: try reader.read(), emailTo: try reader.read(), username: try reader.read(),
            template: try reader.read(), notifyOn: try reader.read(), enabled: try reader.read())
    }
}
