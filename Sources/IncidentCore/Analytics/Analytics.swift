extension Incident {
    /// MTTA sample: creation → first acknowledgement, in milliseconds.
    public var timeToAcknowledge: Int64? { acknowledgedAt.map { $0.milliseconds(since: createdAt) } }
    /// MTTR sample: creation → resolution, in milliseconds.
    public var timeToResolve: Int64? { resolvedAt.map { $0.milliseconds(since: createdAt) } }
    /// MTTD sample: the source's detection time (first event timestamp) → creation, in
    /// milliseconds; clamped at zero because source clocks may run ahead of the leader's.
    public var timeToDetect: Int64 { max(0, createdAt.milliseconds(since: firstSeen)) }
}

/// Mean and percentiles of a set of durations (milliseconds). Percentiles use the nearest-rank
/// method: the smallest sample with at least p % of samples at or below it.
public struct DurationStats: Sendable, Equatable {
    public var count: Int
    public var meanMilliseconds: Int64?
    public var p50Milliseconds: Int64?
    public var p95Milliseconds: Int64?

    public init(_ samples: [Int64]) {
        count = samples.count
        guard !samples.isEmpty else { return }
        let sorted = samples.sorted()
        let total = sorted.reduce(Int64(0)) { $0.addingReportingOverflow($1).partialValue }
        meanMilliseconds = total / Int64(sorted.count)
        p50Milliseconds = Self.nearestRank(sorted, percent: 50)
        p95Milliseconds = Self.nearestRank(sorted, percent: 95)
    }

    static func nearestRank(_ sorted: [Int64], percent: Int) -> Int64 {
        let rank = (percent * sorted.count + 99) / 100  // ceil(p/100 · n)
        return sorted[max(0, rank - 1)]
    }
}

/// Incident counts and response times for one group of incidents.
public struct IncidentMetrics: Sendable, Equatable {
    public var count: Int
    public var open: Int
    public var acknowledgeBreaches: Int
    public var resolveBreaches: Int
    public var mtta: DurationStats
    public var mttr: DurationStats
    public var mttd: DurationStats

    init(_ incidents: [Incident]) {
        count = incidents.count
        open = incidents.filter { $0.status.isOpen }.count
        acknowledgeBreaches = incidents.filter { $0.sla.acknowledgeBreached }.count
        resolveBreaches = incidents.filter { $0.sla.resolveBreached }.count
        mtta = DurationStats(incidents.compactMap(\.timeToAcknowledge))
        mttr = DurationStats(incidents.compactMap(\.timeToResolve))
        mttd = DurationStats(incidents.map(\.timeToDetect))
    }
}

/// Analytics over the incidents created in `[since, until)`, computed from live state.
public struct AnalyticsReport: Sendable, Equatable {
    public var since: Timestamp
    public var until: Timestamp
    public var overall: IncidentMetrics
    public var byStatus: [IncidentStatus: Int]
    public var bySeverity: [Severity: IncidentMetrics]
    /// Keyed by team id; incidents without a team are under "".
    public var byTeam: [String: IncidentMetrics]
}

extension IncidentStateMachine {
    public func analytics(since: Timestamp, until: Timestamp) -> AnalyticsReport {
        let selected = incidents.unordered.filter { $0.createdAt >= since && $0.createdAt < until }.sorted { $0.id < $1.id }
        var byStatus: [IncidentStatus: Int] = [:]
        for incident in selected { byStatus[incident.status, default: 0] += 1 }
        return AnalyticsReport(
            since: since, until: until, overall: IncidentMetrics(selected), byStatus: byStatus,
            bySeverity: Dictionary(grouping: selected, by: \.severity).mapValues(IncidentMetrics.init),
            byTeam: Dictionary(grouping: selected, by: { $0.team ?? "" }).mapValues(IncidentMetrics.init))
    }
}
