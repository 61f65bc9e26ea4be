import Hummingbird
import IncidentCore

/// Incidents: list, open by hand, read, edit, lifecycle actions, notes, timeline.
///
/// Reads need the read right, writes the respond right. Writes accept `Idempotency-Key`.
/// An unknown or malformed id is 404; an action not allowed from the incident's status is 409
/// `invalid_transition` with `details.status` and `details.allowed`.
extension Endpoints {
    static let lifecycleRoutes: [(path: String, action: LifecycleAction)] = [
        ("acknowledge", .acknowledge), ("start", .startWork), ("escalate", .escalate), ("deescalate", .deescalate),
        ("resolve", .resolve), ("close", .close), ("reopen", .reopen),
    ]

    func addIncidentRoutes(to routes: RouteList) {
        routes.add(.get, "/api/v1/incidents") { request, _ in
            _ = try await authorize(request, for: .read)
            let query = try IncidentQuery(QueryReader(request), defaultLimit: settings.defaultPageSize, maxLimit: settings.maxPageSize)
            let budget = settings.maxScannedIncidentsPerList
            let page = try await read { query.page(of: $0.state.machine, scanning: budget) }
            return .json([
                "incidents": .array(page.incidents.map { .object(IncidentJSON.summary($0)) }),
                "next_cursor": page.nextCursor.map { .string(String($0)) } ?? .null,
            ])
        }
        routes.add(.post, "/api/v1/incidents") { request, _ in
            let key = try await authorize(request, for: .respond)
            let manual = try Self.manualIncident(try JSONReader(try await json(request)))
            let (result, duplicate) = try await submit(.openIncident(manual, actor: Self.actor(key)), requestID: try Self.requestID(request, key: key))
            guard case .incident(let id, let created) = result else { throw APIError(.internalServerError, .internal, "unexpected answer") }
            var headers = HTTPFields()
            if duplicate { headers[Self.replayedHeader] = "true" }
            headers[.location] = "/api/v1/incidents/\(id)"
            return .json(try await incidentDetail(id), status: created ? .created : .ok, headers: headers)
        }
        routes.add(.get, "/api/v1/incidents/{id}") { request, context in
            _ = try await authorize(request, for: .read)
            return .json(try await incidentDetail(try Self.incidentID(context)))
        }
        routes.add(.patch, "/api/v1/incidents/{id}") { request, context in
            let key = try await authorize(request, for: .respond)
            let id = try Self.incidentID(context)
            let commands = try Self.patchCommands(try JSONReader(try await json(request)), id: id, actor: Self.actor(key))
            let requestID = try Self.requestID(request, key: key)
            for (i, command) in commands.enumerated() {
                _ = try await submit(command, requestID: requestID.isEmpty ? "" : "\(requestID)#\(i)")
            }
            return .json(try await incidentDetail(id))
        }
        for (path, action) in Self.lifecycleRoutes {
            routes.add(.post, "/api/v1/incidents/{id}/\(path)") { request, context in
                let key = try await authorize(request, for: .respond)
                let id = try Self.incidentID(context)
                let body = try await optionalObject(request)
                let command = Command.transition(
                    incident: id, action: action, comment: try body.string("comment") ?? "", rootCause: try body.string("root_cause") ?? "",
                    actor: Self.actor(key))
                _ = try await submit(command, requestID: try Self.requestID(request, key: key))
                return .json(try await incidentDetail(id))
            }
        }
        routes.add(.post, "/api/v1/incidents/{id}/merge") { request, context in
            let key = try await authorize(request, for: .respond)
            let id = try Self.incidentID(context)
            let into = try JSONReader(try await json(request)).requiredString("into")
            guard let target = IncidentID(into) else { throw APIError.invalid("into", "is not an incident id (INC-YYYYMMDD-NNNNNN)") }
            _ = try await submit(.merge(incident: id, into: target, actor: Self.actor(key)), requestID: try Self.requestID(request, key: key))
            return .json(try await incidentDetail(id))
        }
        routes.add(.post, "/api/v1/incidents/{id}/notes") { request, context in
            let key = try await authorize(request, for: .respond)
            let id = try Self.incidentID(context)
            let text = try JSONReader(try await json(request)).requiredString("text")
            _ = try await submit(.addNote(incident: id, text: text, actor: Self.actor(key)), requestID: try Self.requestID(request, key: key))
            let incident = try await incident(id)
            return .json(["incident_id": .string(id.description), "note": incident.notes.last.map(IncidentJSON.note) ?? .null], status: .created)
        }
        routes.add(.get, "/api/v1/incidents/{id}/timeline") { request, context in
            _ = try await authorize(request, for: .read)
            return .json(IncidentJSON.timeline(try await incident(try Self.incidentID(context))))
        }
    }

    /// The `{id}` parameter; a malformed id cannot name an incident, so it is 404 as well.
    static func incidentID(_ context: BasicRequestContext) throws(APIError) -> IncidentID {
        let text = context.parameter("id")
        guard let id = IncidentID(text) else { throw APIError.notFound("incident \(text) not found") }
        return id
    }

    func incident(_ id: IncidentID) async throws(APIError) -> Incident {
        guard let incident = try await read({ $0.state.machine.incident(id) }) else { throw APIError.notFound("incident \(id) not found") }
        return incident
    }

    func incidentDetail(_ id: IncidentID) async throws(APIError) -> JSONValue { IncidentJSON.detail(try await incident(id)) }

    static func manualIncident(_ r: JSONReader) throws(APIError) -> ManualIncident {
        let severityText = try r.requiredString("severity")
        guard let severity = Severity(normalizing: severityText) else { throw APIError.invalid("severity", "unknown severity '\(severityText)'; use P0–P4") }
        return ManualIncident(
            title: try r.requiredString("title"), description: try r.string("description") ?? "", severity: severity,
            category: try r.string("category").map { EventCategory(name: $0) ?? .other } ?? .other, team: try r.string("team"),
            escalationPolicy: try r.string("escalation_policy"), environment: try r.string("environment") ?? "",
            labels: try r.stringMap("labels") ?? [:], dedupKey: try r.string("dedup_key") ?? "")
    }

    /// A PATCH body as commands, checked before any is submitted: `title`/`description` (one
    /// update), `severity` (with optional `reason`), `assignee`/`team` (one assignment; "" clears).
    /// They are applied in that order and the first rejection stops the rest.
    static func patchCommands(_ r: JSONReader, id: IncidentID, actor: Actor) throws(APIError) -> [Command] {
        var commands: [Command] = []
        let title = try r.string("title")
        let description = try r.string("description")
        if title != nil || description != nil { commands.append(.updateIncident(incident: id, title: title, description: description, actor: actor)) }
        if let text = try r.string("severity") {
            guard let severity = Severity(normalizing: text) else { throw APIError.invalid("severity", "unknown severity '\(text)'; use P0–P4") }
            commands.append(.changeSeverity(incident: id, severity: severity, reason: try r.string("reason") ?? "", actor: actor))
        }
        let assignee = try r.string("assignee")
        let team = try r.string("team")
        if assignee != nil || team != nil { commands.append(.assign(incident: id, user: assignee, team: team, actor: actor)) }
        guard !commands.isEmpty else {
            throw APIError.invalid("", "nothing to change: send title, description, severity, assignee or team")
        }
        return commands
    }
}
