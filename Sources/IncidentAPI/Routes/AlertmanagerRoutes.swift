import Hummingbird
import IncidentCore

/// Prometheus Alertmanager, both ways it can reach us:
///
/// - `POST /api/v1/integrations/alertmanager`: the webhook receiver (payload version 4). Each
///   alert becomes an event: `firing` triggers, `resolved` resolves. Answer 202 with one result
///   per alert, in order.
/// - `POST /api/v2/alerts`: Alertmanager's own ingest API, so Prometheus can list this node as an
///   alertmanager. An alert whose `endsAt` has passed resolves, any other triggers. Answer 200
///   with an empty body, as Alertmanager does.
///
/// The dedup key is `alertmanager:<fingerprint>` where the fingerprint is Alertmanager's own
/// (FNV-1a 64 over the sorted label set, 16 hex digits): the webhook's `fingerprint` field when
/// present, computed from the labels otherwise, so one alert is one incident whichever way it
/// arrives. Senders repeat firing alerts; repeats deduplicate into the open incident.
extension Endpoints {
    func addAlertmanagerRoutes(to routes: RouteList) {
        routes.add(.post, "/api/v1/integrations/alertmanager") { request, _ in
            let key = try await authorize(request, for: .ingest)
            let body = try JSONReader(try await json(request))
            let alerts = try body.objects("alerts", maxCount: settings.maxAlertsPerRequest) ?? []
            guard !alerts.isEmpty else { throw APIError.invalid("alerts", "must hold at least one alert") }
            let now = self.now
            var events: [Event] = []
            for alert in alerts {
                let status = try alert.string("status") ?? (try body.string("status")) ?? "firing"
                guard status == "firing" || status == "resolved" else { throw APIError.invalid(alert.field("status"), "must be firing or resolved") }
                events.append(try Self.alertEvent(alert, resolved: status == "resolved", now: now))
            }
            let (result, _) = try await submit(.ingest(events: events, actor: Self.actor(key)), requestID: try Self.requestID(request, key: key))
            guard case .ingested(let results) = result else { throw APIError(.internalServerError, .internal, "unexpected answer") }
            return .json(["status": "accepted", "results": .array(results.map(EventJSON.result))], status: .accepted)
        }
        routes.add(.post, "/api/v2/alerts") { request, _ in
            let key = try await authorize(request, for: .ingest)
            let body = try await json(request)
            guard case .array(let elements) = body else { throw APIError.invalid("", "must be an array of alerts") }
            guard elements.count <= settings.maxAlertsPerRequest else {
                throw APIError.invalid("", "at most \(settings.maxAlertsPerRequest) alerts per request")
            }
            guard !elements.isEmpty else { return Response(status: .ok) }
            let now = self.now
            var events: [Event] = []
            for (i, element) in elements.enumerated() {
                let alert = try JSONReader(element, path: "[\(i)]")
                let endsAt = try alert.instant("endsAt")
                events.append(try Self.alertEvent(alert, resolved: endsAt.map { $0 <= now && $0.millisecondsSinceEpoch > 0 } ?? false, now: now))
            }
            _ = try await submit(.ingest(events: events, actor: Self.actor(key)))
            return Response(status: .ok)
        }
    }

    /// One Alertmanager alert as an event. `alertname` is required, as Alertmanager requires it.
    static func alertEvent(_ alert: JSONReader, resolved: Bool, now: Timestamp) throws(APIError) -> Event {
        let labels = try alert.stringMap("labels") ?? [:]
        guard let name = labels["alertname"], !name.isEmpty else { throw APIError.invalid(alert.field("labels.alertname"), "is required") }
        let annotations = try alert.stringMap("annotations") ?? [:]
        let fingerprint = try alert.string("fingerprint").flatMap { $0.isEmpty ? nil : $0 } ?? alertmanagerFingerprint(labels)
        var startsAt = try alert.instant("startsAt") ?? now
        if startsAt.millisecondsSinceEpoch <= 0 { startsAt = now }  // the zero time means "not set"
        var stored = JSONObject()
        stored["annotations"] = .map(annotations)
        for field in ["generatorURL", "startsAt", "endsAt"] { stored[field] = alert.value(field) }
        let summary = annotations["summary"] ?? annotations["title"] ?? name
        let event = Event(
            eventID: EventJSON.newEventID(), source: "alertmanager", timestamp: startsAt, eventType: "alert",
            title: truncated(summary, bytes: 1_024),
            description: truncated(annotations["description"] ?? annotations["message"] ?? "", bytes: 16 * 1_024),
            rawSeverity: labels["severity"] ?? "",
            resource: Resource(type: "service", id: labels["service"] ?? labels["job"] ?? "", name: labels["instance"] ?? ""),
            labels: labels, environment: labels["environment"] ?? labels["env"] ?? "",
            dedupKey: "alertmanager:\(fingerprint)", payload: JSONValue.object(stored).text, action: resolved ? .resolve : .trigger)
        try EventJSON.validate(event, path: alert.path)
        return event
    }

    /// Alertmanager's fingerprint of a label set (prometheus/common `labelSetToFingerprint`):
    /// FNV-1a 64 over `name 0xFF value 0xFF` for each label sorted by name, as 16 hex digits.
    static func alertmanagerFingerprint(_ labels: [String: String]) -> String {
        var hash: UInt64 = 14_695_981_039_346_656_037
        func add(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 1_099_511_628_211
        }
        for name in labels.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            for byte in name.utf8 { add(byte) }
            add(0xFF)
            for byte in labels[name]!.utf8 { add(byte) }
            add(0xFF)
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
