import Hummingbird
import IncidentCore

/// `GET /api/v1/analytics/metrics?since=&until=`: counts, MTTA, MTTR and MTTD (mean, p50, p95
/// in milliseconds) over the incidents created in `[since, until)`, overall, by severity and by
/// team (`unassigned` for incidents without one), from the node's live state. Defaults: the
/// last 30 days. Incidents purged from state are only in the archive's analytics.
extension Endpoints {
    static let defaultAnalyticsWindowMilliseconds = 30 * Milliseconds.day

    func addAnalyticsRoutes(to routes: RouteList) {
        routes.add(.get, "/api/v1/analytics/metrics") { request, _ in
            _ = try await authorize(request, for: .read)
            let query = QueryReader(request)
            let until = try query.instant("until") ?? now.adding(milliseconds: 1)
            let since = try query.instant("since") ?? until.adding(milliseconds: -Self.defaultAnalyticsWindowMilliseconds)
            guard since < until else { throw APIError.invalid("since", "must be before until") }
            let report = try await read { $0.state.machine.analytics(since: since, until: until) }
            return .json(Self.analyticsJSON(report))
        }
    }

    static func analyticsJSON(_ report: AnalyticsReport) -> JSONValue {
        var bySeverity = JSONObject()
        for severity in Severity.allCases { if let metrics = report.bySeverity[severity] { bySeverity[severity.description] = metrics.json } }
        var byTeam = JSONObject()
        for team in report.byTeam.keys.sorted() { byTeam[team.isEmpty ? "unassigned" : team] = report.byTeam[team]!.json }
        var byStatus = JSONObject()
        for status in IncidentStatus.allCases { byStatus[status.name] = .int(report.byStatus[status] ?? 0) }
        return [
            "since": .string(report.since.rfc3339), "until": .string(report.until.rfc3339), "overall": report.overall.json,
            "by_status": .object(byStatus), "by_severity": .object(bySeverity), "by_team": .object(byTeam),
        ]
    }
}

extension IncidentMetrics {
    var json: JSONValue {
        [
            "count": .int(count), "open": .int(open), "acknowledge_breaches": .int(acknowledgeBreaches),
            "resolve_breaches": .int(resolveBreaches), "mtta": mtta.json, "mttr": mttr.json, "mttd": mttd.json,
        ]
    }
}

extension DurationStats {
    var json: JSONValue {
        ["count": .int(count), "mean_ms": .int(meanMilliseconds), "p50_ms": .int(p50Milliseconds), "p95_ms": .int(p95Milliseconds)]
    }
}
