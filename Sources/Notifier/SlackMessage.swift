import IncidentCore

/// A Slack incoming-webhook message in Block Kit.
///
/// `{"text": <fallback for notifications>, "blocks": [header, section (message + fields
/// Severity/Status/Team/Source), context (id, environment, occurrences, kind), actions (a button
/// to the dashboard, only when a dashboard base URL is configured)]}`. Texts are cut to Slack's
/// block limits (header 150 characters, section 3000, field 2000) and mrkdwn-escaped.
enum SlackMessage {
    static let headerLimit = 150
    static let sectionLimit = 3_000
    static let fieldLimit = 2_000

    static func request(_ context: MessageContext, userAgent: String) -> Result<OutboundRequest, DeliveryError> {
        OutboundRequest.json(
            url: context.notification.channel.url, body: document(context).serialized(), context: context,
            userAgent: userAgent)
    }

    static func document(_ context: MessageContext) -> JSONValue {
        let incident = context.incident
        let message = context.message
        var blocks: [JSONValue] = [
            .object([
                ("type", .string("header")),
                ("text", plain(shortened("\(emoji(context)) \(context.headline)", toCharacters: headerLimit))),
            ]),
            .object([
                ("type", .string("section")),
                ("text", mrkdwn(shortened(escape(sectionText(context, message: message)), toCharacters: sectionLimit))),
                ("fields", .array([
                    field("Severity", "\(incident.severity) (\(incident.severity.word))"),
                    field("Status", incident.status.name),
                    field("Team", incident.team.isEmpty ? "—" : incident.team),
                    field("Source", incident.source.isEmpty ? "—" : incident.source),
                ])),
            ]),
            .object([
                ("type", .string("context")),
                ("elements", .array([mrkdwn(escape(contextLine(context)))])),
            ]),
        ]
        if !context.incidentURL.isEmpty {
            blocks.append(.object([
                ("type", .string("actions")),
                ("elements", .array([
                    .object([
                        ("type", .string("button")),
                        ("text", plain("Open incident")),
                        ("url", .string(context.incidentURL)),
                    ])
                ])),
            ]))
        }
        return .object([("text", .string(message)), ("blocks", .array(blocks))])
    }

    /// The section shows the template's text when there is one, else the description (or title).
    private static func sectionText(_ context: MessageContext, message: String) -> String {
        if !context.notification.channel.template.isEmpty { return message }
        let description = context.incident.description
        return description.isEmpty ? context.incident.title : description
    }

    private static func contextLine(_ context: MessageContext) -> String {
        let incident = context.incident
        var parts = [incident.id]
        if !incident.environment.isEmpty { parts.append(incident.environment) }
        parts.append(incident.occurrenceCount == 1 ? "1 occurrence" : "\(incident.occurrenceCount) occurrences")
        parts.append("notification: \(context.intent.kind.name)")
        return parts.joined(separator: " · ")
    }

    private static func emoji(_ context: MessageContext) -> String {
        switch context.intent.kind {
        case .resolved: return "✅"
        case .acknowledged: return "👀"
        default: return context.incident.severity <= .p1 ? "🔴" : (context.incident.severity == .p2 ? "🟠" : "🔵")
        }
    }

    private static func field(_ name: String, _ value: String) -> JSONValue {
        mrkdwn(shortened("*\(name)*\n\(escape(value))", toCharacters: fieldLimit))
    }

    private static func plain(_ text: String) -> JSONValue {
        .object([("type", .string("plain_text")), ("text", .string(text)), ("emoji", .bool(true))])
    }

    private static func mrkdwn(_ text: String) -> JSONValue {
        .object([("type", .string("mrkdwn")), ("text", .string(text))])
    }

    /// Slack's mrkdwn control characters: `&`, `<`, `>` (https://api.slack.com/reference/surfaces/formatting).
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(character)
            }
        }
        return out
    }
}
