import Crypto
import IncidentCore

/// The generic webhook: a JSON document describing the incident, signed when the channel has a
/// secret.
///
/// Body: `{"event": "incident.<kind>", "incident": {…snake_case…}, "notification": {"id",
/// "kind", "level", "target", "attempt", "idempotency_key"}, "message", "sent_at"}`.
/// Signature header: `X-Incident-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
/// "<t>.<body>")>`; receivers recompute it over the raw body and reject old `t` values.
enum WebhookPayload {
    static let signatureHeader = "X-Incident-Signature"

    static func request(_ context: MessageContext, userAgent: String) -> Result<OutboundRequest, DeliveryError> {
        let body = document(context).serialized()
        var extra: [(String, String)] = []
        let secret = context.notification.channel.secret
        if !secret.isEmpty {
            let seconds = floorSeconds(context.sentAt)
            extra.append((signatureHeader, signature(secret: secret, timestamp: seconds, body: body)))
        }
        return OutboundRequest.json(
            url: context.notification.channel.url, body: body, context: context, userAgent: userAgent, extraHeaders: extra)
    }

    /// `t=<seconds>,v1=<hex>` over `"<seconds>.<body>"`.
    static func signature(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        var signed = Array("\(timestamp).".utf8)
        signed += body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(timestamp),v1=\(hex(mac))"
    }

    static func document(_ context: MessageContext) -> JSONValue {
        let incident = context.incident
        let intent = context.intent
        let incidentJSON: JSONValue = .object([
            ("id", .string(incident.id)),
            ("title", .string(incident.title)),
            ("description", .string(incident.description)),
            ("severity", .string(incident.severity.description)),
            ("severity_word", .string(incident.severity.word)),
            ("status", .string(incident.status.name)),
            ("category", .string(incident.category)),
            ("team", optional(incident.team)),
            ("assignee", optional(incident.assignee)),
            ("source", .string(incident.source)),
            ("environment", .string(incident.environment)),
            ("component", .string(incident.component)),
            ("labels", .sortedObject(incident.labels)),
            ("occurrence_count", .int(Int64(clamping: incident.occurrenceCount))),
            ("escalation_level", .int(Int64(incident.escalationLevel))),
            ("created_at", .string(incident.createdAt.rfc3339)),
            ("updated_at", .string(incident.updatedAt.rfc3339)),
            ("url", optional(context.incidentURL)),
        ])
        let notificationJSON: JSONValue = .object([
            ("id", .int(Int64(clamping: intent.id))),
            ("kind", .string(intent.kind.name)),
            ("level", .int(Int64(intent.level))),
            ("target", .string(intent.target.description)),
            ("attempt", .int(Int64(context.notification.attempt))),
            ("idempotency_key", .string(intent.idempotencyKey)),
        ])
        return .object([
            ("event", .string(context.eventName)),
            ("incident", incidentJSON),
            ("notification", notificationJSON),
            ("message", .string(context.message)),
            ("sent_at", .string(context.sentAt.rfc3339)),
        ])
    }

    private static func optional(_ value: String) -> JSONValue { value.isEmpty ? .null : .string(value) }
}

/// Whole seconds since the epoch, rounded down (also for times before 1970).
func floorSeconds(_ time: Timestamp) -> Int64 {
    let ms = time.millisecondsSinceEpoch
    return ms / 1000 - (ms % 1000 < 0 ? 1 : 0)
}

func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
