/// Mean and percentiles of response-time samples in milliseconds, computed by PostgreSQL the way
/// IncidentCore's live `DurationStats` computes them, so that the live and the historical
/// analytics agree: the mean truncated to whole milliseconds, percentiles by nearest rank
/// (`percentile_disc`: the smallest sample with at least p % of the samples at or below it).
public struct DurationSummary: Sendable, Equatable {
    public var count: Int
    public var meanMilliseconds: Int64?
    public var p50Milliseconds: Int64?
    public var p95Milliseconds: Int64?

    public init(count: Int, meanMilliseconds: Int64?, p50Milliseconds: Int64?, p95Milliseconds: Int64?) {
        self.count = count
        self.meanMilliseconds = meanMilliseconds
        self.p50Milliseconds = p50Milliseconds
        self.p95Milliseconds = p95Milliseconds
    }
}

/// Bucket width of `ArchiveAnalytics.history`; buckets start on UTC hour or day boundaries.
public enum HistoryBucketSize: String, Sendable, CaseIterable {
    case hour, day
}

/// What `history` splits each bucket by.
public enum HistoryGrouping: String, Sendable, CaseIterable {
    case severity, team, source

    var column: String { rawValue }
}

/// Incidents created in one time bucket (and one group, when grouped), with their response times.
public struct HistoryBucket: Sendable, Equatable {
    /// Start of the bucket, milliseconds since the epoch (a UTC hour or day boundary).
    public var start: Int64
    /// The group's value; nil when not grouped, and for incidents without a team.
    public var group: String?
    public var incidents: Int
    /// Of those, not resolved or closed (as of the archive's latest version of each).
    public var open: Int
    /// MTTA: creation → acknowledgement, over the acknowledged ones.
    public var timeToAcknowledge: DurationSummary
    /// MTTR: creation → resolution, over the resolved ones.
    public var timeToResolve: DurationSummary
    /// MTTD: the first event's source time (`first_seen`) → creation, clamped at 0 (source
    /// clocks may run ahead of the leader's), over all of them.
    public var timeToDetect: DurationSummary
    public var acknowledgeSLABreaches: Int
    public var resolveSLABreaches: Int

    public init(
        start: Int64, group: String?, incidents: Int, open: Int, timeToAcknowledge: DurationSummary,
        timeToResolve: DurationSummary, timeToDetect: DurationSummary, acknowledgeSLABreaches: Int, resolveSLABreaches: Int
    ) {
        self.start = start
        self.group = group
        self.incidents = incidents
        self.open = open
        self.timeToAcknowledge = timeToAcknowledge
        self.timeToResolve = timeToResolve
        self.timeToDetect = timeToDetect
        self.acknowledgeSLABreaches = acknowledgeSLABreaches
        self.resolveSLABreaches = resolveSLABreaches
    }

    /// Fraction of the bucket's incidents that breached their acknowledge SLA (0 when empty).
    public var acknowledgeSLABreachRate: Double { incidents == 0 ? 0 : Double(acknowledgeSLABreaches) / Double(incidents) }
    /// Fraction of the bucket's incidents that breached their resolve SLA (0 when empty).
    public var resolveSLABreachRate: Double { incidents == 0 ? 0 : Double(resolveSLABreaches) / Double(incidents) }
}

extension ArchiveAnalytics {
    /// Incidents created in `[since, until)` (milliseconds since the epoch), per UTC `bucket`
    /// and optionally per severity, team or source, oldest bucket first, groups in ascending
    /// order (no group sorts last). Only buckets with incidents appear.
    ///
    /// Ranges: at most `limits.maxHourBucketRangeDays` with hourly buckets, `limits.maxRangeDays`
    /// with daily ones.
    public func history(since: Int64, until: Int64, bucket: HistoryBucketSize, groupBy: HistoryGrouping?) throws -> [HistoryBucket] {
        try validateRange(since: since, until: until, maxDays: bucket == .hour ? limits.maxHourBucketRangeDays : limits.maxRangeDays)
        let sql = Self.historySQL(groupBy: groupBy)
        let result = try database.use {
            try $0.exec(sql, params: [clusterID, String(since), String(until), bucket.rawValue])
        }
        return try result.rows.map { row in
            var reader = RowReader(row)
            return HistoryBucket(
                start: try reader.int64(), group: try reader.optionalText(), incidents: try reader.int(), open: try reader.int(),
                timeToAcknowledge: try reader.durationSummary(), timeToResolve: try reader.durationSummary(),
                timeToDetect: try reader.durationSummary(), acknowledgeSLABreaches: try reader.int(),
                resolveSLABreaches: try reader.int())
        }
    }

    /// `$1` cluster, `$2`/`$3` range in milliseconds, `$4` 'hour' or 'day'. The group column
    /// comes from an enum, never from input.
    static func historySQL(groupBy: HistoryGrouping?) -> String {
        let group = groupBy.map(\.column) ?? "NULL::text"
        func summary(_ sample: String) -> String {
            """
            count(\(sample)), trunc(avg(\(sample)))::bigint,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY \(sample)), percentile_disc(0.95) WITHIN GROUP (ORDER BY \(sample))
            """
        }
        return """
            WITH selected AS (
                SELECT date_trunc($4, created_at, 'UTC') AS bucket, \(group) AS group_key, status,
                    \(SQLTime.milliseconds("acknowledged_at")) - \(SQLTime.milliseconds("created_at")) AS tta,
                    \(SQLTime.milliseconds("resolved_at")) - \(SQLTime.milliseconds("created_at")) AS ttr,
                    greatest(0, \(SQLTime.milliseconds("created_at")) - \(SQLTime.milliseconds("first_seen"))) AS ttd,
                    ack_sla_breached, resolve_sla_breached
                FROM archive_incidents
                WHERE cluster_id = $1 AND created_at >= \(SQLTime.parameter(2)) AND created_at < \(SQLTime.parameter(3))
            )
            SELECT \(SQLTime.milliseconds("bucket")), group_key, count(*),
                count(*) FILTER (WHERE status NOT IN ('resolved', 'closed')),
                \(summary("tta")), \(summary("ttr")), \(summary("ttd")),
                count(*) FILTER (WHERE ack_sla_breached), count(*) FILTER (WHERE resolve_sla_breached)
            FROM selected
            GROUP BY bucket, group_key
            ORDER BY bucket, group_key NULLS LAST
            """
    }
}
