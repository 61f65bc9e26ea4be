import Hummingbird
import IncidentCore

/// `POST /api/v1/events` and the LLM-Sentinel / LLM-Shield endpoints.
///
/// A body is one event or an array of up to `maxEventsPerRequest`. The whole request is one
/// command: every element is validated first (a bad element is a 400 naming its index, and
/// nothing is applied), then all are applied in order. The answer comes after the command is
/// durable: 202 with one result, or `{"results": [...]}` in request order for an array.
/// `Idempotency-Key` makes a retry return the first answer (with `Idempotent-Replayed: true`).
extension Endpoints {
    func addEventRoutes(to routes: RouteList) {
        routes.add(.post, "/api/v1/events") { request, _ in try await ingest(request, defaults: .native) }
        routes.add(.post, "/api/v1/events/sentinel") { request, _ in try await ingest(request, defaults: .sentinel) }
        routes.add(.post, "/api/v1/events/shield") { request, _ in try await ingest(request, defaults: .shield) }
    }

    private func ingest(_ request: Request, defaults: EventJSON.Defaults) async throws -> Response {
        let key = try await authorize(request, for: .ingest)
        let requestID = try Self.requestID(request, key: key)
        let body = try await json(request)
        let (readers, isArray) = try body.items(maxCount: settings.maxEventsPerRequest, noun: "events")
        let now = self.now
        var events: [Event] = []
        events.reserveCapacity(readers.count)
        for (index, reader) in readers.enumerated() {
            do { events.append(try EventJSON.event(reader, defaults: defaults, now: now)) } catch {
                var error = error
                if isArray { error.details["index"] = .int(index) }
                throw error
            }
        }
        let (result, duplicate) = try await submit(.ingest(events: events, actor: Self.actor(key)), requestID: requestID)
        guard case .ingested(let results) = result else { throw APIError(.internalServerError, .internal, "unexpected answer to an ingest command") }
        var headers = HTTPFields()
        if duplicate { headers[Self.replayedHeader] = "true" }
        if isArray { return .json(["results": .array(results.map(EventJSON.result))], status: .accepted, headers: headers) }
        return .json(results.first.map(EventJSON.result) ?? [:], status: .accepted, headers: headers)
    }
}
