import Archive
import Foundation
import Locking
import Logging
import PostgresTesting
import XCTest

/// Historical analytics over a small hand-built archive whose counts and percentiles are worked
/// out by hand below (percentiles by nearest rank, means truncated, MTTD clamped at 0).
final class ArchiveAnalyticsTests: XCTestCase {
    static let postgres = SharedPostgres()
    override class func tearDown() {
        postgres.stop()
        super.tearDown()
    }

    static let database = LazyDatabase(postgres: postgres)
    static let cluster = "analytics"
    static let loaded = Lock<Bool>(false)

    typealias F = Fixture
    static let t0 = Fixture.t0
    static let s = 1_000 as Int64

    /// Day 0: a1..a4; day 1: b1; outside the range: c1 (1 ms before), c2 (at the end, excluded).
    static let incidents: [ArchivedIncident] = [
        F.incident("a1", log: 1, createdAt: t0 + F.hour, severity: "p1", status: "resolved", team: "ml", source: "s1",
                   firstSeen: t0 + F.hour - 30 * s, acknowledgedAt: t0 + F.hour + 60 * s, resolvedAt: t0 + F.hour + 600 * s),
        F.incident("a2", log: 2, createdAt: t0 + 2 * F.hour, severity: "p1", status: "closed", team: "ml", source: "s1",
                   title: "GPU OOM on node 3", firstSeen: t0 + 2 * F.hour - 10 * s, acknowledgedAt: t0 + 2 * F.hour + 120 * s,
                   resolvedAt: t0 + 2 * F.hour + 1_200 * s, closedAt: t0 + 3 * F.hour, resolveBreached: true),
        F.incident("a3", log: 3, createdAt: t0 + 3 * F.hour, severity: "p2", status: "acknowledged", team: nil, source: "s2",
                   firstSeen: t0 + 3 * F.hour + 5 * s, acknowledgedAt: t0 + 3 * F.hour + 31 * s, ackBreached: true),
        F.incident("a4", log: 4, createdAt: t0 + F.day - F.minute, severity: "p2", status: "new", team: "ml", source: "s2",
                   firstSeen: t0 + F.day - F.minute - 20 * s),
        F.incident("b1", log: 5, createdAt: t0 + F.day + 5 * F.hour, severity: "p1", status: "resolved", team: "ops", source: "s1",
                   firstSeen: t0 + F.day + 5 * F.hour - 40 * s, acknowledgedAt: t0 + F.day + 5 * F.hour + 90 * s,
                   resolvedAt: t0 + F.day + 5 * F.hour + 300 * s),
        F.incident("c1", log: 6, createdAt: t0 - 1, source: "s1"),
        F.incident("c2", log: 7, createdAt: t0 + 2 * F.day, source: "s1"),
    ]

    /// s1: 5 events, s2: 3, s3: 2 (no incident), plus one just outside the range.
    static let events: [ArchivedEvent] =
        (0..<5).map { F.event(log: 8, position: $0, source: "s1", receivedAt: t0 + Int64($0) * F.hour) }
        + (0..<3).map { F.event(log: 9, position: $0, source: "s2", receivedAt: t0 + F.day + Int64($0)) }
        + (0..<2).map { F.event(log: 10, position: $0, source: "s3", receivedAt: t0 + 2 * F.day - 1) }
        + [F.event(log: 11, source: "s3", receivedAt: t0 + 2 * F.day)]

    private func analytics(_ cluster: String = ArchiveAnalyticsTests.cluster) throws -> ArchiveAnalytics {
        let url = try Self.database.url()
        try Self.loaded.withLock { loaded in
            guard !loaded else { return }
            let store = try ArchiveStore(url: url, clusterID: Self.cluster, logger: Logger(label: "test"))
            let batch = ArchiveBatch(firstIndex: 1, lastIndex: 11, events: Self.events, incidents: Self.incidents)
            XCTAssertEqual(try store.write(batch, expectedWatermark: 0), .written(rows: 18))
            // Another cluster in the same database, in the same range: never counted.
            let other = try ArchiveStore(url: url, clusterID: "other", logger: Logger(label: "test"))
            _ = try other.write(ArchiveBatch(firstIndex: 1, lastIndex: 11, events: Self.events, incidents: Self.incidents), expectedWatermark: 0)
            loaded = true
        }
        return try ArchiveAnalytics(url: url, clusterID: cluster)
    }

    private func summary(_ count: Int, _ mean: Int64?, _ p50: Int64?, _ p95: Int64?) -> DurationSummary {
        DurationSummary(count: count, meanMilliseconds: mean, p50Milliseconds: p50, p95Milliseconds: p95)
    }

    func testDailyHistoryCountsAndPercentiles() throws {
        let history = try analytics().history(since: Self.t0, until: Self.t0 + 2 * F.day, bucket: .day, groupBy: nil)
        XCTAssertEqual(history.count, 2)
        XCTAssertEqual(
            history.first,
            HistoryBucket(
                start: Self.t0, group: nil, incidents: 4, open: 2,
                // acknowledged after 60, 120, 31 s: mean 211 000 / 3 truncated; nearest ranks 2 and 3 of 3
                timeToAcknowledge: summary(3, 70_333, 60_000, 120_000),
                timeToResolve: summary(2, 900_000, 600_000, 1_200_000),
                // 30, 10, -5 (clamped to 0), 20 s
                timeToDetect: summary(4, 15_000, 10_000, 30_000),
                acknowledgeSLABreaches: 1, resolveSLABreaches: 1))
        XCTAssertEqual(history.first?.acknowledgeSLABreachRate, 0.25)
        XCTAssertEqual(
            history.last,
            HistoryBucket(
                start: Self.t0 + F.day, group: nil, incidents: 1, open: 0, timeToAcknowledge: summary(1, 90_000, 90_000, 90_000),
                timeToResolve: summary(1, 300_000, 300_000, 300_000), timeToDetect: summary(1, 40_000, 40_000, 40_000),
                acknowledgeSLABreaches: 0, resolveSLABreaches: 0))
    }

    func testHistoryGroupedBySeverityAndTeam() throws {
        let analytics = try analytics()
        let bySeverity = try analytics.history(since: Self.t0, until: Self.t0 + F.day, bucket: .day, groupBy: .severity)
        XCTAssertEqual(bySeverity.map(\.group), ["p1", "p2"])
        XCTAssertEqual(
            bySeverity.last,
            HistoryBucket(
                start: Self.t0, group: "p2", incidents: 2, open: 2, timeToAcknowledge: summary(1, 31_000, 31_000, 31_000),
                timeToResolve: summary(0, nil, nil, nil), timeToDetect: summary(2, 10_000, 0, 20_000),
                acknowledgeSLABreaches: 1, resolveSLABreaches: 0))
        XCTAssertEqual(bySeverity.first?.timeToResolve, summary(2, 900_000, 600_000, 1_200_000))
        let byTeam = try analytics.history(since: Self.t0, until: Self.t0 + 2 * F.day, bucket: .day, groupBy: .team)
        XCTAssertEqual(byTeam.map(\.group), ["ml", nil, "ops"])
        XCTAssertEqual(byTeam.map(\.incidents), [3, 1, 1])
        let bySource = try analytics.history(since: Self.t0, until: Self.t0 + 2 * F.day, bucket: .day, groupBy: .source)
        XCTAssertEqual(bySource.map { "\($0.start - Self.t0)/\($0.group ?? "-")/\($0.incidents)" }, ["0/s1/2", "0/s2/2", "86400000/s1/1"])
    }

    func testHourlyBucketsStartOnTheHour() throws {
        let history = try analytics().history(since: Self.t0, until: Self.t0 + F.day, bucket: .hour, groupBy: nil)
        XCTAssertEqual(history.map { ($0.start - Self.t0) / F.hour }, [1, 2, 3, 23])
        XCTAssertEqual(history.map(\.incidents), [1, 1, 1, 1])
    }

    func testTopSources() throws {
        let top = try analytics().topSources(since: Self.t0, until: Self.t0 + 2 * F.day, limit: 10)
        XCTAssertEqual(
            top,
            [
                SourceActivity(source: "s1", incidents: 3, events: 5), SourceActivity(source: "s2", incidents: 2, events: 3),
                SourceActivity(source: "s3", incidents: 0, events: 2),
            ])
        XCTAssertEqual(try analytics().topSources(since: Self.t0, until: Self.t0 + 2 * F.day, limit: 1).map(\.source), ["s1"])
    }

    func testSearchFilters() throws {
        let analytics = try analytics()
        func ids(query: String? = nil, status: String? = nil, severity: String? = nil, team: String? = nil, source: String? = nil) throws -> [String] {
            try analytics.searchIncidents(
                query: query, status: status, severity: severity, team: team, source: source, since: Self.t0,
                until: Self.t0 + 2 * F.day, limit: 100
            ).rows.map(\.incidentID)
        }
        XCTAssertEqual(try ids(), ["b1", "a4", "a3", "a2", "a1"])
        XCTAssertEqual(try ids(status: "resolved"), ["b1", "a1"])
        XCTAssertEqual(try ids(severity: "p2"), ["a4", "a3"])
        XCTAssertEqual(try ids(team: "ml"), ["a4", "a2", "a1"])
        XCTAssertEqual(try ids(team: "ml", source: "s1"), ["a2", "a1"])
        XCTAssertEqual(try ids(query: "gpu OOM"), ["a2"])
        XCTAssertEqual(try ids(query: "  node  "), ["a2"])
        XCTAssertEqual(try ids(query: "latency", severity: "p1"), ["b1", "a1"])
        XCTAssertEqual(try ids(query: "GP"), [])  // whole words, not substrings
        XCTAssertEqual(try ids(query: "'); DROP TABLE archive_incidents; --"), [])
        XCTAssertEqual(try self.analytics("nobody").searchIncidents(since: Self.t0, until: Self.t0 + F.day, limit: 5).rows, [])
    }

    func testCursorPaginationWalksEveryRowOnce() throws {
        let url = try Self.database.url()
        let cluster = uniqueClusterID()
        let store = try ArchiveStore(url: url, clusterID: cluster)
        // 25 incidents on 10 distinct creation times: ties are broken by id.
        let incidents = (0..<25).map { F.incident(String(format: "p-%02d", $0), log: 1, createdAt: Self.t0 + Int64($0 % 10) * 1_000) }
        XCTAssertEqual(try store.write(ArchiveBatch(firstIndex: 1, lastIndex: 1, incidents: incidents), expectedWatermark: 0), .written(rows: 25))
        let analytics = try ArchiveAnalytics(url: url, clusterID: cluster)
        var seen: [ArchivedIncident] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try analytics.searchIncidents(since: Self.t0, until: Self.t0 + F.day, limit: 7, after: cursor)
            seen += page.rows
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 10
        XCTAssertEqual(pages, 4)
        XCTAssertEqual(seen.count, 25)
        XCTAssertEqual(Set(seen.map(\.incidentID)).count, 25)
        let expectedOrder = incidents.sorted { ($0.createdAt, $0.incidentID) > ($1.createdAt, $1.incidentID) }.map(\.incidentID)
        XCTAssertEqual(seen.map(\.incidentID), expectedOrder)
        // Exactly one page: no cursor.
        XCTAssertNil(try analytics.searchIncidents(since: Self.t0, until: Self.t0 + F.day, limit: 25).nextCursor)
    }

    func testOutOfBoundsRequestsAreInvalidQueries() throws {
        let analytics = try analytics()
        let t0 = Self.t0
        let requests: [(String, () throws -> Void)] = [
            ("limit", { _ = try analytics.topSources(since: t0, until: t0 + 1, limit: 0) }),
            ("limit", { _ = try analytics.searchIncidents(since: t0, until: t0 + 1, limit: 1_001) }),
            ("since", { _ = try analytics.history(since: t0, until: t0, bucket: .day, groupBy: nil) }),
            ("until", { _ = try analytics.history(since: t0, until: t0 + 32 * F.day, bucket: .hour, groupBy: nil) }),
            ("until", { _ = try analytics.history(since: t0, until: t0 + 401 * F.day, bucket: .day, groupBy: nil) }),
            ("until", { _ = try analytics.topSources(since: Int64.min, until: Int64.max, limit: 1) }),
            ("cursor", { _ = try analytics.searchIncidents(since: t0, until: t0 + 1, limit: 1, after: "not a cursor!") }),
            ("cursor", { _ = try analytics.searchIncidents(since: t0, until: t0 + 1, limit: 1, after: "djI6MTox") }),  // "v2:1:1"
            ("query", { _ = try analytics.searchIncidents(query: String(repeating: "a", count: 201), since: t0, until: t0 + 1, limit: 1) }),
        ]
        for (field, request) in requests {
            XCTAssertThrowsError(try request(), field) { error in
                XCTAssertEqual((error as? ArchiveError)?.code, .invalidQuery, "\(error)")
                XCTAssertEqual((error as? ArchiveError)?.field, field, "\(error)")
            }
        }
        XCTAssertEqual(try analytics.history(since: t0, until: t0 + 31 * F.day, bucket: .hour, groupBy: nil).count, 6)  // c2 too
    }
}

