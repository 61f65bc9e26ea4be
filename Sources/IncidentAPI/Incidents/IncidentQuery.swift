import IncidentCore

/// The filters of `GET /api/v1/incidents`, read from the query string.
///
/// `status` and `severity` take comma-separated lists (`status=new,acknowledged`, `status=open`
/// for every open status; severities as `P0`–`P4` or any spelling events use); `team` and
/// `source` match exactly; `since`/`until` bound the creation time (`[since, until)`); `q`
/// matches id, title, description and resource case-insensitively. Pages are newest first;
/// `next_cursor` is present while more match, and `cursor` continues from it.
struct IncidentQuery: Sendable {
    var statuses: Set<IncidentStatus> = []
    var severities: Set<Severity> = []
    var team: String?
    var source: String?
    var since: Timestamp?
    var until: Timestamp?
    var text: String?
    var limit: Int
    /// Incident number to continue below (exclusive).
    var before: UInt64?

    init(_ query: QueryReader, defaultLimit: Int, maxLimit: Int) throws(APIError) {
        for name in try query.list("status") {
            if name == "open" {
                statuses.formUnion(IncidentStatus.allCases.filter(\.isOpen))
            } else if let status = IncidentStatus(name: name) {
                statuses.insert(status)
            } else {
                throw APIError.invalid("status", "unknown status '\(name)'; use \(IncidentStatus.allCases.map(\.name).joined(separator: ", ")) or open")
            }
        }
        for name in try query.list("severity") {
            guard let severity = Severity(normalizing: name) else { throw APIError.invalid("severity", "unknown severity '\(name)'; use P0–P4") }
            severities.insert(severity)
        }
        team = try query.string("team")
        source = try query.string("source")
        since = try query.instant("since")
        until = try query.instant("until")
        text = try query.string("q")?.lowercased()
        limit = try query.int("limit", in: 1...maxLimit) ?? defaultLimit
        if let cursor = try query.string("cursor") {
            guard let number = UInt64(cursor), number > 0 else { throw APIError.invalid("cursor", "is not a cursor this API returned") }
            before = number
        }
    }

    /// One page, newest first, examining at most `budget` incident numbers. `nextCursor` is set
    /// when another match exists beyond the page, or where an exhausted scan stopped (the next
    /// page may then be empty or short; clients follow cursors until there is none).
    func page(of machine: IncidentStateMachine, scanning budget: Int) -> (incidents: [Incident], nextCursor: UInt64?) {
        guard let newest = machine.incidents(limit: 1).first?.id.number else { return ([], nil) }
        var number = min(before ?? newest &+ 1, newest &+ 1)
        var found: [Incident] = []
        var scanned = 0
        // One match beyond the page tells whether a next page exists, so none is ever empty
        // unless the scan budget ran out.
        while number > 1, found.count <= limit, scanned < budget {
            number -= 1
            scanned += 1
            if let incident = machine.incident(number: number), matches(incident) { found.append(incident) }
        }
        if found.count > limit { return (Array(found.prefix(limit)), found[limit - 1].id.number) }
        return (found, number > 1 && scanned == budget ? number : nil)
    }

    func matches(_ incident: Incident) -> Bool {
        if !statuses.isEmpty && !statuses.contains(incident.status) { return false }
        if !severities.isEmpty && !severities.contains(incident.severity) { return false }
        if let team, incident.team != team { return false }
        if let source, incident.source != source { return false }
        if let since, incident.createdAt < since { return false }
        if let until, incident.createdAt >= until { return false }
        if let text {
            let haystacks = [incident.id.description, incident.title, incident.description, incident.resource.id, incident.resource.name]
            if !haystacks.contains(where: { $0.lowercased().contains(text) }) { return false }
        }
        return true
    }
}
