import Foundation
import Hummingbird
import IncidentCore

/// PagerDuty Events API v2, `POST /v2/enqueue`, so anything that can page PagerDuty can page
/// us: point it at this node and use an API key with the ingest right as the routing key.
///
/// Answers in PagerDuty's shapes: 202 `{"status": "success", "message": "Event processed",
/// "dedup_key"}`; 400 `{"status": "invalid event", "message": "Event object is invalid",
/// "errors": [...]}` (an unknown routing key is an invalid event, as at PagerDuty); 429 with an
/// empty body. A trigger without `dedup_key` gets a new one, returned in the answer, so each
/// such trigger is a new alert. The routing key is never stored with the event.
extension Endpoints {
    static let pagerDutySeverities = ["critical", "error", "warning", "info"]

    func addPagerDutyRoutes(to routes: RouteList) {
        routes.add(.post, "/v2/enqueue") { request, _ in
            do {
                return try await enqueue(request)
            } catch let error as APIError {
                return Self.pagerDutyResponse(for: error)
            }
        }
    }

    private func enqueue(_ request: Request) async throws(APIError) -> Response {
        let body = try await json(request, limit: settings.maxPagerDutyBodyBytes)
        guard case .object(let object) = body else { throw Self.invalidEvent(["Event object must be a JSON object"]) }
        let reader = try JSONReader(.object(object))
        guard case .string(let routingKey)? = reader.value("routing_key"), !routingKey.isEmpty else {
            throw Self.invalidEvent(["'routing_key' is missing or blank"])
        }
        guard let key = try await key(forSecret: routingKey) else { throw Self.invalidEvent(["Invalid routing key"]) }
        try check(key, has: .ingest)
        let (event, dedupKey) = try Self.pagerDutyEvent(reader, now: now)
        _ = try await submit(.ingest(events: [event], actor: Self.actor(key)))
        return .json(["status": "success", "message": "Event processed", "dedup_key": .string(dedupKey)], status: .accepted)
    }

    /// Maps a PagerDuty event to ours, collecting every problem as PagerDuty does.
    static func pagerDutyEvent(_ r: JSONReader, now: Timestamp) throws(APIError) -> (Event, String) {
        var errors: [String] = []
        func text(_ reader: JSONReader?, _ key: String) -> String? {
            guard let value = reader?.value(key) else { return nil }
            guard case .string(let s) = value else {
                errors.append("'\(reader!.field(key))' must be a string")
                return nil
            }
            return s
        }
        let action = text(r, "event_action").flatMap(EventAction.init(name:))
        if action == nil { errors.append("'event_action' must be one of trigger, acknowledge, resolve") }
        var dedupKey = text(r, "dedup_key") ?? ""
        if dedupKey.utf8.count > 255 { errors.append("'dedup_key' must be at most 255 characters") }
        let payload: JSONReader?
        switch r.value("payload") {
        case .object(let object)?: payload = try JSONReader(.object(object), path: "payload")
        case nil: payload = nil
        default:
            payload = nil
            errors.append("'payload' must be an object")
        }
        let summary = text(payload, "summary") ?? ""
        let source = text(payload, "source") ?? ""
        let severity = text(payload, "severity") ?? ""
        var timestamp = now
        if action == .trigger {
            if summary.isEmpty { errors.append("'payload.summary' is missing or blank") }
            if source.isEmpty { errors.append("'payload.source' is missing or blank") }
            if !pagerDutySeverities.contains(severity) { errors.append("'payload.severity' must be one of critical, error, warning, info") }
        } else if action != nil && dedupKey.isEmpty {
            errors.append("'dedup_key' is required for \(action!.name) events")
        }
        if let raw = text(payload, "timestamp") {
            if let parsed = TimeText.instant(raw) { timestamp = parsed } else { errors.append("'payload.timestamp' must be an ISO 8601 time") }
        }
        var labels: [String: String] = [:]
        for field in ["component", "group", "class"] { if let value = text(payload, field), !value.isEmpty { labels[field] = value } }
        var environment = ""
        if case .object(let details)? = payload?.value("custom_details"), case .string(let env)? = details["environment"] { environment = env }
        guard errors.isEmpty, let action else { throw invalidEvent(errors) }
        if dedupKey.isEmpty { dedupKey = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }

        var stored = JSONObject()
        for field in ["payload", "images", "links", "client", "client_url"] { stored[field] = r.value(field) }
        let event = Event(
            eventID: EventJSON.newEventID(), source: "pagerduty", timestamp: timestamp, eventType: "alert",
            title: truncated(summary, bytes: 1_024), rawSeverity: severity,
            resource: Resource(type: "component", id: source, name: labels["component"] ?? source),
            labels: labels, environment: environment, dedupKey: dedupKey, payload: JSONValue.object(stored).text, action: action)
        do { try event.validate() } catch { throw invalidEvent(["'\(error.field)' \(error.reason)"]) }
        return (event, dedupKey)
    }

    static func invalidEvent(_ errors: [String]) -> APIError {
        APIError(.badRequest, .invalidRequest, "Event object is invalid", details: ["errors": .strings(errors)])
    }

    /// PagerDuty's answer for a failure: its 400 shape, an empty 429, our envelope otherwise.
    static func pagerDutyResponse(for error: APIError) -> Response {
        var headers = HTTPFields()
        if let retry = error.retryAfterSeconds { headers[.retryAfter] = String(retry) }
        switch error.status {
        case .tooManyRequests:
            return Response(status: .tooManyRequests, headers: headers)
        case .badRequest, .contentTooLarge:
            let errors: JSONValue = error.details["errors"] ?? .strings([error.message])
            let message = error.status == .contentTooLarge ? "Event object is too large" : "Event object is invalid"
            return .json(["status": "invalid event", "message": .string(message), "errors": errors], status: error.status, headers: headers)
        default:
            return .json(error.body, status: error.status, headers: headers)
        }
    }

    /// The longest prefix of `text` within `bytes` UTF-8 bytes, cut at a character boundary.
    static func truncated(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > bytes { break }
            result.append(character)
            used += size
        }
        return result
    }
}
