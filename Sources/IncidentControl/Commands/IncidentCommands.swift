import ArgumentParser

/// `incidentctl incidents ...`.
struct IncidentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents", abstract: "List, show, acknowledge and resolve incidents.",
        subcommands: [IncidentsList.self, IncidentsShow.self, IncidentsAck.self, IncidentsResolve.self])
}

/// `incidents list`: `GET /api/v1/incidents`, newest first; `--all` follows `next_cursor`.
struct IncidentsList: ControlCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Incidents, newest first.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Statuses, comma-separated (new, acknowledged, in_progress, escalated, resolved, closed, or open).") var status: String?
    @Option(help: "Severities, comma-separated (P0–P4).") var severity: String?
    @Option(help: "Only this team's incidents.") var team: String?
    @Option(help: "Incidents per page (the server caps it).") var limit: Int?
    @Option(help: "Continue from a next_cursor an earlier page returned.") var cursor: String?
    @Flag(help: "Follow next_cursor to the last page.") var all = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    /// The request for the page after `cursor` (nil: the first page).
    func request(cursor: String?) -> APIRequest {
        var query: [QueryItem] = []
        if let status { query.append(QueryItem("status", status)) }
        if let severity { query.append(QueryItem("severity", severity)) }
        if let team { query.append(QueryItem("team", team)) }
        if let limit { query.append(QueryItem("limit", String(limit))) }
        if let cursor { query.append(QueryItem("cursor", cursor)) }
        return APIRequest(.GET, "/api/v1/incidents", query: query)
    }

    func execute(_ session: Session) async throws(ControlError) {
        var incidents: [JSONValue] = []
        var next = cursor
        var pages = 0
        repeat {
            let page = try await session.client.send(request(cursor: next)).json()
            guard let items = page["incidents"]?.array else { throw .unexpectedResponse("the answer has no incidents list") }
            incidents += items
            next = page["next_cursor"]?.string
            pages += 1
        } while all && next != nil && pages < session.settings.maxPages
        switch session.output {
        case .json: session.printJSON(["incidents": .array(incidents), "next_cursor": next.map(JSONValue.string) ?? .null])
        case .table: session.printTable(IncidentViews.listTable(incidents))
        }
        if let next {
            let hint = all ? "stopped after \(pages) pages" : "more incidents match"
            session.console.printError("\(hint); continue with --cursor \(next)\(all ? "" : " or list them all with --all")")
        }
    }
}

/// `incidents show ID`: `GET /api/v1/incidents/{id}` and its `/timeline`.
struct IncidentsShow: ControlCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "An incident's details and timeline.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The incident id, INC-YYYYMMDD-NNNNNN.") var id: String

    var requests: (detail: APIRequest, timeline: APIRequest) {
        let path = "/api/v1/incidents/\(APIRequest.segment(id))"
        return (APIRequest(.GET, path), APIRequest(.GET, path + "/timeline"))
    }

    func execute(_ session: Session) async throws(ControlError) {
        let detail = try await session.client.send(requests.detail).json()
        let timeline = try await session.client.send(requests.timeline).json()
        switch session.output {
        case .json: session.printJSON(["incident": detail, "timeline": timeline])
        case .table: session.console.write(IncidentViews.detailText(detail, timeline: timeline), .output)
        }
    }
}

/// `incidents ack ID`: `POST /api/v1/incidents/{id}/acknowledge`.
struct IncidentsAck: ControlCommand {
    static let configuration = CommandConfiguration(commandName: "ack", abstract: "Acknowledge an incident.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The incident id.") var id: String

    var request: APIRequest { .write(.POST, "/api/v1/incidents/\(APIRequest.segment(id))/acknowledge") }

    func execute(_ session: Session) async throws(ControlError) {
        let response = try await session.client.send(request)
        let status = (try? response.json())?["status"].cell ?? "-"
        session.report(response, "\(id) acknowledged (status \(status))")
    }
}

/// `incidents resolve ID [--note TEXT] [--root-cause TEXT]`: `POST /api/v1/incidents/{id}/resolve`
/// with `{"comment": note, "root_cause": ...}`.
struct IncidentsResolve: ControlCommand {
    static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Resolve an incident.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The incident id.") var id: String
    @Option(help: "A comment for the timeline.") var note: String?
    @Option(name: .customLong("root-cause"), help: "The root cause, kept with the resolution.") var rootCause: String?

    var request: APIRequest {
        var body: [String: JSONValue] = [:]
        if let note { body["comment"] = .string(note) }
        if let rootCause { body["root_cause"] = .string(rootCause) }
        return .write(.POST, "/api/v1/incidents/\(APIRequest.segment(id))/resolve", json: body.isEmpty ? nil : .object(body))
    }

    func execute(_ session: Session) async throws(ControlError) {
        let response = try await session.client.send(request)
        let status = (try? response.json())?["status"].cell ?? "-"
        session.report(response, "\(id) resolved (status \(status))")
    }
}
