import IncidentCore

/// Users, teams and notification channels.
extension User: ConfigJSONCodable {
    /// `{"id", "name", "email", "slack_id", "time_zone"}`.
    static func decode(_ r: JSONReader, existing: User?) throws(APIError) -> User {
        let (id, name) = try r.identity()
        return User(
            id: id, name: name, email: try r.string("email") ?? "", slackID: try r.string("slack_id") ?? "",
            timeZone: try r.string("time_zone") ?? "UTC")
    }

    func json(revealingSecrets: Bool) -> JSONObject {
        ["id": .string(id), "name": .string(name), "email": .string(email), "slack_id": .string(slackID), "time_zone": .string(timeZone)]
    }
}

extension Team: ConfigJSONCodable {
    /// `{"id", "name", "members": [user ids], "escalation_policy", "channels": [channel ids]}`.
    static func decode(_ r: JSONReader, existing: Team?) throws(APIError) -> Team {
        let (id, name) = try r.identity()
        return Team(
            id: id, name: name, members: try r.strings("members") ?? [], escalationPolicy: try r.string("escalation_policy"),
            channels: try r.strings("channels") ?? [])
    }

    func json(revealingSecrets: Bool) -> JSONObject {
        [
            "id": .string(id), "name": .string(name), "members": .strings(members), "escalation_policy": .string(escalationPolicy),
            "channels": .strings(channels),
        ]
    }
}

extension NotificationChannel: ConfigJSONCodable {
    static let typeNames = ChannelType.allCases.map(\.name)

    /// `{"id", "name", "type": "webhook|slack|pagerduty|email", "url", "headers", "secret",
    /// "routing_key", "email_from", "email_to", "username", "template", "notify_on", "enabled"}`.
    ///
    /// `secret`, `routing_key` and header values are write-only: answers show `has_secret`,
    /// `has_routing_key` and `header_names`, and an update that leaves them out keeps them.
    static func decode(_ r: JSONReader, existing: NotificationChannel?) throws(APIError) -> NotificationChannel {
        let (id, name) = try r.identity()
        guard let type = try r.named("type", ChannelType.init(name:), expected: typeNames) else { throw APIError.invalid(r.field("type"), "is required") }
        let notifyOn = try r.namedList("notify_on", NotificationKind.init(name:), expected: NotificationKind.allCases.map(\.name)) ?? []
        return NotificationChannel(
            id: id, name: name, type: type, url: try r.string("url") ?? "", headers: try r.stringMap("headers") ?? existing?.headers ?? [:],
            secret: try r.string("secret") ?? existing?.secret ?? "", routingKey: try r.string("routing_key") ?? existing?.routingKey ?? "",
            emailFrom: try r.string("email_from") ?? "", emailTo: try r.strings("email_to") ?? [], username: try r.string("username") ?? "",
            template: try r.string("template") ?? "", notifyOn: Set(notifyOn), enabled: try r.bool("enabled") ?? true)
    }

    func json(revealingSecrets: Bool) -> JSONObject {
        var object: JSONObject = [
            "id": .string(id), "name": .string(name), "type": .string(type.name), "url": .string(url),
            "header_names": .strings(headers.keys.sorted()), "has_secret": .bool(!secret.isEmpty),
            "has_routing_key": .bool(!routingKey.isEmpty), "email_from": .string(emailFrom), "email_to": .strings(emailTo),
            "username": .string(username), "template": .string(template), "notify_on": .strings(notifyOn.sorted().map(\.name)),
            "effective_notify_on": .strings(effectiveNotifyOn.sorted().map(\.name)), "enabled": .bool(enabled),
        ]
        if revealingSecrets {
            object["headers"] = .map(headers)
            object["secret"] = .string(secret)
            object["routing_key"] = .string(routingKey)
        }
        return object
    }
}
