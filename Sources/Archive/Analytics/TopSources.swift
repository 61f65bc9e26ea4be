/// How much one source produced in a time range.
public struct SourceActivity: Sendable, Equatable {
    public var source: String
    /// Incidents created in the range whose opening event came from this source.
    public var incidents: Int
    /// Events received (leader time) in the range from this source.
    public var events: Int

    public init(source: String, incidents: Int, events: Int) {
        self.source = source
        self.incidents = incidents
        self.events = events
    }
}

extension ArchiveAnalytics {
    /// The `limit` busiest sources of `[since, until)`: most incidents first, then most events,
    /// then by name. A source with events but no incident (all deduplicated) is included.
    public func topSources(since: Int64, until: Int64, limit: Int) throws -> [SourceActivity] {
        try validateRange(since: since, until: until, maxDays: limits.maxRangeDays)
        try validateLimit(limit)
        let result = try database.use {
            try $0.exec(Self.topSourcesSQL, params: [clusterID, String(since), String(until), String(limit)])
        }
        return try result.rows.map { row in
            var reader = RowReader(row)
            return SourceActivity(source: try reader.text(), incidents: try reader.int(), events: try reader.int())
        }
    }

    static let topSourcesSQL = """
        WITH incident_counts AS (
            SELECT source, count(*) AS incidents FROM archive_incidents
            WHERE cluster_id = $1 AND created_at >= \(SQLTime.parameter(2)) AND created_at < \(SQLTime.parameter(3))
            GROUP BY source
        ), event_counts AS (
            SELECT source, count(*) AS events FROM archive_events
            WHERE cluster_id = $1 AND received_at >= \(SQLTime.parameter(2)) AND received_at < \(SQLTime.parameter(3))
            GROUP BY source
        )
        SELECT coalesce(i.source, e.source) AS source, coalesce(i.incidents, 0) AS incidents, coalesce(e.events, 0) AS events
        FROM incident_counts i FULL OUTER JOIN event_counts e ON i.source = e.source
        ORDER BY incidents DESC, events DESC, source
        LIMIT $4::int
        """
}
