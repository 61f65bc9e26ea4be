import HTTPTypes
import Hummingbird
import IncidentCore

/// `POST /api/v1/events` and the LLM-Sentinel / LLM-Shield endpoints.
///
/// A body is one event or an array of up to `maxEventsPerRequest`. The whole request is one
/// command: every element is validated first (a bad element is a 400 naming its index, and
/// nothing is applied), then all are applied in order. The answer comes after the command is
/// durable: 202 with one result, or `{"results": [...]}` in request order for an array.
/// `Idempotency-Key` makes a retry return the first answer (with `Idempotent-Replayed: true`).
///
/// On `incidentd`'s server these requests normally never reach the router: `IngestFastPath`
/// answers them on the event loop, through the same steps below (`ingestCommand`,
/// `ingestAnswer`), and passes every request it cannot answer that way here.
extension Endpoints {
    /// The ingest routes and the defaults each applies to its events.
    static let ingestRoutes: [(path: String, defaults: EventJSON.Defaults)] = [
        ("/api/v1/events", .native), ("/api/v1/events/sentinel", .sentinel), ("/api/v1/events/shield", .shield),
    ]

    func addEventRoutes(to routes: RouteList) {
        for route in Self.ingestRoutes {
            let defaults = route.defaults
            routes.add(.post, route.path) { request, _ in try await ingest(request, defaults: defaults) }
        }
    }

    private func ingest(_ request: Request, defaults: EventJSON.Defaults) async throws -> Response {
        let key = try await authorize(request, for: .ingest)
        let requestID = try Self.requestID(request, key: key)
        let ingest = try ingestCommand(try await body(of: request), defaults: defaults, key: key)
        let answer = try Self.ingestAnswer(try await submit(ingest.command, requestID: requestID), isArray: ingest.isArray)
        return .json(bytes: answer.body, status: .accepted, headers: answer.headers)
    }

    /// An ingest body, validated into its command.
    struct Ingest: Sendable {
        var command: Command
        /// Whether the body was an array (the answer is then `{"results": [...]}`).
        var isArray: Bool
    }

    /// Parses and validates an ingest body (400 naming the element and field at fault).
    func ingestCommand(_ bytes: [UInt8], defaults: EventJSON.Defaults, key: APIKey) throws(APIError) -> Ingest {
        let body = try Self.json(bytes)
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
        return Ingest(command: .ingest(events: events, actor: Self.actor(key)), isArray: isArray)
    }

    /// The 202 answer's body and headers for an applied ingest command.
    static func ingestAnswer(_ answer: (result: CommandResult, duplicate: Bool), isArray: Bool) throws(APIError) -> (body: [UInt8], headers: HTTPFields) {
        guard case .ingested(let results) = answer.result else { throw APIError(.internalServerError, .internal, "unexpected answer to an ingest command") }
        var headers = HTTPFields()
        if answer.duplicate { headers[replayedHeader] = "true" }
        return (ingestBody(results, isArray: isArray), headers)
    }

    /// The 202 answer's body: the one result, or `{"results": [...]}` for an array of events,
    /// written without building a tree (`EventJSON.write`).
    static func ingestBody(_ results: [EventResult], isArray: Bool) -> [UInt8] {
        var writer = JSONWriter(capacity: 320 * max(1, results.count) + 16)
        if isArray {
            writer.raw(#"{"results":["#)
            for (i, result) in results.enumerated() {
                if i > 0 { writer.raw(",") }
                EventJSON.write(result, to: &writer)
            }
            writer.raw("]}")
        } else if let result = results.first {
            EventJSON.write(result, to: &writer)
        } else {
            writer.raw("{}")
        }
        return writer.bytes
    }
}
