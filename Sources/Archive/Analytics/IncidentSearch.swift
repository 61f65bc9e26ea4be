import Foundation

/// One page of `searchIncidents`: newest first, and the cursor of the next page (nil on the last).
public struct IncidentPage: Sendable, Equatable {
    public var rows: [ArchivedIncident]
    public var nextCursor: String?

    public init(rows: [ArchivedIncident], nextCursor: String?) {
        self.rows = rows
        self.nextCursor = nextCursor
    }
}

extension ArchiveAnalytics {
    /// Archived incidents created in `[since, until)` that match every given filter, newest
    /// first (by creation time, then id), `limit` at a time.
    ///
    /// - `query`: words that must all occur in the title or description, whole words and
    ///   case-insensitive (PostgreSQL full-text search with the `simple` configuration: no
    ///   stemming, no stop words, no substrings), served by a GIN index.
    /// - `status`, `severity`, `team`, `source`: exact matches.
    /// - `cursor`: the previous page's `nextCursor`. Keyset pagination on (created_at,
    ///   incident_id): pages stay consistent while the archive grows, and a row is never
    ///   returned twice. Pass the same filters with it.
    public func searchIncidents(
        query: String? = nil, status: String? = nil, severity: String? = nil, team: String? = nil, source: String? = nil,
        since: Int64, until: Int64, limit: Int, after cursor: String? = nil
    ) throws -> IncidentPage {
        try validateRange(since: since, until: until, maxDays: limits.maxRangeDays)
        try validateLimit(limit)
        var params = [clusterID, String(since), String(until)]
        var conditions = ["cluster_id = $1", "created_at >= \(SQLTime.parameter(2))", "created_at < \(SQLTime.parameter(3))"]
        func bind(_ value: String) -> Int {
            params.append(value)
            return params.count
        }
        if let words = query?.trimmingCharacters(in: .whitespacesAndNewlines), !words.isEmpty {
            guard words.count <= limits.maxQueryCharacters else {
                throw ArchiveError.invalidQuery("query", "at most \(limits.maxQueryCharacters) characters")
            }
            conditions.append("to_tsvector('simple'::regconfig, title || ' ' || description) @@ plainto_tsquery('simple', $\(bind(words)))")
        }
        for (column, value) in [("status", status), ("severity", severity), ("team", team), ("source", source)] {
            if let value { conditions.append("\(column) = $\(bind(value))") }
        }
        if let cursor {
            let position = try SearchCursor(decoding: cursor)
            let time = bind(String(position.createdAt))
            conditions.append("(created_at, incident_id) < (\(SQLTime.parameter(time)), $\(bind(position.incidentID)))")
        }
        let sql = """
            SELECT \(IncidentColumns.select) FROM archive_incidents
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY created_at DESC, incident_id DESC
            LIMIT \(limit + 1)
            """
        let result = try database.use { try $0.exec(sql, params: params) }
        var rows = try result.rows.map(IncidentColumns.decode)
        var next: String?
        if rows.count > limit {
            rows.removeLast(rows.count - limit)
            next = rows.last.map { SearchCursor(createdAt: $0.createdAt, incidentID: $0.incidentID).encoded }
        }
        return IncidentPage(rows: rows, nextCursor: next)
    }
}

/// The position after the last row of a page: opaque to clients (base64url of
/// `v1:<created_at ms>:<incident id>`), checked when it comes back.
struct SearchCursor: Equatable {
    let createdAt: Int64
    let incidentID: String

    init(createdAt: Int64, incidentID: String) {
        self.createdAt = createdAt
        self.incidentID = incidentID
    }

    init(decoding text: String) throws {
        let invalid = ArchiveError.invalidQuery("cursor", "not a cursor returned by this search")
        guard text.utf8.count <= 1_024 else { throw invalid }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8) else { throw invalid }
        let parts = plain.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let createdAt = Int64(parts[1]), !parts[2].isEmpty else { throw invalid }
        self.init(createdAt: createdAt, incidentID: String(parts[2]))
    }

    var encoded: String {
        Data("v1:\(createdAt):\(incidentID)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// `archive_incidents` read back as `ArchivedIncident` (times as milliseconds).
enum IncidentColumns {
    static let select = [
        "incident_id", "title", "description", "severity", "status", "category", "source", "environment", "team", "assignee",
        "escalation_policy", "escalation_level", "occurrence_count", SQLTime.milliseconds("first_seen"),
        SQLTime.milliseconds("last_seen"), SQLTime.milliseconds("created_at"), SQLTime.milliseconds("updated_at"),
        SQLTime.milliseconds("acknowledged_at"), SQLTime.milliseconds("resolved_at"), SQLTime.milliseconds("closed_at"),
        "ack_sla_breached", "resolve_sla_breached", "duplicate_of", "root_cause", "labels", "tags", "last_log_index",
    ].joined(separator: ", ")

    static func decode(_ row: [String?]) throws -> ArchivedIncident {
        var reader = RowReader(row)
        return ArchivedIncident(
            incidentID: try reader.text(), title: try reader.text(), description: try reader.text(), severity: try reader.text(),
            status: try reader.text(), category: try reader.text(), source: try reader.text(), environment: try reader.text(),
            team: try reader.optionalText(), assignee: try reader.optionalText(), escalationPolicy: try reader.optionalText(),
            escalationLevel: try reader.int(), occurrenceCount: try reader.int64(), firstSeen: try reader.int64(),
            lastSeen: try reader.int64(), createdAt: try reader.int64(), updatedAt: try reader.int64(),
            acknowledgedAt: try reader.optionalInt64(), resolvedAt: try reader.optionalInt64(), closedAt: try reader.optionalInt64(),
            acknowledgeSLABreached: try reader.bool(), resolveSLABreached: try reader.bool(), duplicateOf: try reader.optionalText(),
            rootCause: try reader.optionalText(), labelsJSON: try reader.text(), tagsJSON: try reader.text(),
            lastLogIndex: try reader.uint64())
    }
}
