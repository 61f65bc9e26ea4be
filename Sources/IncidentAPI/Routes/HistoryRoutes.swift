import Archive
import Hummingbird
import IncidentCore

/// Historical analytics from the PostgreSQL archive (issue #6); the live `GET
/// /api/v1/analytics/metrics` keeps serving from state. Only nodes started with `--archive-url`
/// answer them (others 501); the database unreachable → 503 with Retry-After.
///
/// - `GET /api/v1/analytics/history?since=&until=&bucket=hour|day&group_by=severity|team|source`
/// - `GET /api/v1/analytics/top-sources?since=&until=&limit=`
/// - `GET /api/v1/analytics/incidents?q=&status=&severity=&team=&source=&since=&until=&limit=&cursor=`
///   (search over the archived incidents, closed ones included; newest first, keyset cursor)
///
/// Defaults: the last 30 days (`until` = now), daily buckets, limit 10 (top sources) or the
/// API's page size (search).
extension Endpoints {
    func addHistoryRoutes(to routes: RouteList) {
        routes.add(.get, "/api/v1/analytics/history") { request, _ in
            _ = try await authorize(request, for: .read)
            let query = QueryReader(request)
            let (since, until) = try historyRange(query)
            let bucket = try query.string("bucket").map { (text) throws(APIError) -> HistoryBucketSize in
                guard let size = HistoryBucketSize(rawValue: text) else { throw APIError.invalid("bucket", "must be hour or day") }
                return size
            } ?? .day
            let grouping = try query.string("group_by").map { (text) throws(APIError) -> HistoryGrouping in
                guard let grouping = HistoryGrouping(rawValue: text) else { throw APIError.invalid("group_by", "must be severity, team or source") }
                return grouping
            }
            let buckets = try await history { try $0.history(since: since, until: until, bucket: bucket, groupBy: grouping) }
            return .json([
                "since": .string(Timestamp(millisecondsSinceEpoch: since).rfc3339), "until": .string(Timestamp(millisecondsSinceEpoch: until).rfc3339),
                "bucket": .string(bucket.rawValue), "group_by": grouping.map { .string($0.rawValue) } ?? .null,
                "buckets": .array(buckets.map(Self.bucketJSON)),
            ])
        }
        routes.add(.get, "/api/v1/analytics/top-sources") { request, _ in
            _ = try await authorize(request, for: .read)
            let query = QueryReader(request)
            let (since, until) = try historyRange(query)
            let limit = try query.int("limit", in: 1...1_000) ?? 10
            let sources = try await history { try $0.topSources(since: since, until: until, limit: limit) }
            return .json([
                "since": .string(Timestamp(millisecondsSinceEpoch: since).rfc3339), "until": .string(Timestamp(millisecondsSinceEpoch: until).rfc3339),
                "sources": .array(sources.map { ["source": .string($0.source), "incidents": .int($0.incidents), "events": .int($0.events)] }),
            ])
        }
        routes.add(.get, "/api/v1/analytics/incidents") { request, _ in
            _ = try await authorize(request, for: .read)
            let query = QueryReader(request)
            let (since, until) = try historyRange(query)
            let limit = try query.int("limit", in: 1...settings.maxPageSize) ?? settings.defaultPageSize
            let (q, status, severity, team, source, cursor) = (
                try query.string("q"), try query.string("status"), try query.string("severity"), try query.string("team"),
                try query.string("source"), try query.string("cursor")
            )
            let page = try await history {
                try $0.searchIncidents(
                    query: q, status: status, severity: severity, team: team, source: source, since: since, until: until, limit: limit,
                    after: cursor)
            }
            return .json(["items": .array(page.rows.map(Self.archivedIncidentJSON)), "next_cursor": page.nextCursor.map { .string($0) } ?? .null])
        }
    }

    private func historyRange(_ query: QueryReader) throws(APIError) -> (since: Int64, until: Int64) {
        let until = try query.instant("until") ?? now.adding(milliseconds: 1)
        let since = try query.instant("since") ?? until.adding(milliseconds: -Self.defaultAnalyticsWindowMilliseconds)
        guard since < until else { throw APIError.invalid("since", "must be before until") }
        return (since.millisecondsSinceEpoch, until.millisecondsSinceEpoch)
    }

    /// Runs a query on the archive, mapping its failures to API errors.
    private func history<T: Sendable>(_ body: @escaping @Sendable (ArchiveAnalytics) throws -> T) async throws(APIError) -> T {
        guard let archive = settings.archiveQueries else {
            throw APIError(.notImplemented, .notImplemented, "historical analytics read the PostgreSQL archive: start this node with --archive-url")
        }
        do {
            return try await archive.run(body)
        } catch let error as ArchiveError where error.code == .invalidQuery {
            let field = error.field ?? ""
            let prefix = field + ": "
            throw APIError.invalid(field, error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message)
        } catch {
            settings.logger.warning("archive query failed", metadata: ["error": "\(error)"])
            throw APIError(.serviceUnavailable, .unavailable, "the archive cannot answer now: \(error)", retryAfterSeconds: settings.unavailableRetryAfterSeconds)
        }
    }

    static func bucketJSON(_ b: HistoryBucket) -> JSONValue {
        func summary(_ s: DurationSummary) -> JSONValue {
            ["count": .int(s.count), "mean_ms": .int(s.meanMilliseconds), "p50_ms": .int(s.p50Milliseconds), "p95_ms": .int(s.p95Milliseconds)]
        }
        return [
            "start": .string(Timestamp(millisecondsSinceEpoch: b.start).rfc3339), "group": b.group.map { .string($0) } ?? .null,
            "incidents": .int(b.incidents), "open": .int(b.open), "mtta": summary(b.timeToAcknowledge), "mttr": summary(b.timeToResolve),
            "mttd": summary(b.timeToDetect), "acknowledge_sla_breaches": .int(b.acknowledgeSLABreaches),
            "resolve_sla_breaches": .int(b.resolveSLABreaches), "acknowledge_sla_breach_rate": .double(b.acknowledgeSLABreachRate),
            "resolve_sla_breach_rate": .double(b.resolveSLABreachRate),
        ]
    }

    static func archivedIncidentJSON(_ i: ArchivedIncident) -> JSONValue {
        func time(_ ms: Int64?) -> JSONValue { ms.map { .string(Timestamp(millisecondsSinceEpoch: $0).rfc3339) } ?? .null }
        return [
            "id": .string(i.incidentID), "title": .string(i.title), "description": .string(i.description), "severity": .string(i.severity),
            "status": .string(i.status), "category": .string(i.category), "source": .string(i.source), "environment": .string(i.environment),
            "team": .string(i.team), "assignee": .string(i.assignee), "escalation_policy": .string(i.escalationPolicy),
            "escalation_level": .int(i.escalationLevel), "occurrence_count": .int(i.occurrenceCount), "first_seen": time(i.firstSeen),
            "last_seen": time(i.lastSeen), "created_at": time(i.createdAt), "updated_at": time(i.updatedAt),
            "acknowledged_at": time(i.acknowledgedAt), "resolved_at": time(i.resolvedAt), "closed_at": time(i.closedAt),
            "sla": ["acknowledge_breached": .bool(i.acknowledgeSLABreached), "resolve_breached": .bool(i.resolveSLABreached)],
            "duplicate_of": .string(i.duplicateOf), "root_cause": .string(i.rootCause),
        ]
    }
}
