import Archive
import Logging
import PostgresTesting
import XCTest

/// Batch writes: exact rows, the watermark fence, atomicity, forward-only incidents.
final class ArchiveStoreTests: XCTestCase {
    static let postgres = SharedPostgres()
    override class func tearDown() {
        postgres.stop()
        super.tearDown()
    }

    /// One migrated database for the class; each test writes under its own cluster id.
    static let database = LazyDatabase(postgres: postgres)

    private func store(_ clusterID: String) throws -> ArchiveStore {
        try ArchiveStore(url: try Self.database.url(), clusterID: clusterID, logger: Logger(label: "test"))
    }

    private func inspect() throws -> PostgresConnection { try PostgresConnection(url: try Self.database.url()) }

    func testBatchIsStoredExactly() throws {
        let cluster = uniqueClusterID()
        let store = try store(cluster)
        var bare = Fixture.event(log: 2, position: 1, incident: nil)
        bare.eventID = nil
        bare.severity = nil
        var full = Fixture.incident("inc-2", log: 3, status: "closed", acknowledgedAt: Fixture.t0 + 60_000, resolvedAt: Fixture.t0 + 120_000, closedAt: Fixture.t0 + 180_001)
        full.assignee = "alice"
        full.duplicateOf = "inc-1"
        full.rootCause = "bad deploy"
        full.acknowledgeSLABreached = true
        let batch = ArchiveBatch(
            firstIndex: 1, lastIndex: 3,
            events: [Fixture.event(log: 1), bare],
            incidents: [Fixture.incident("inc-1", log: 1, team: nil), full],
            timeline: [Fixture.timeline("inc-1", seq: 0), Fixture.timeline("inc-2", seq: 0, at: Fixture.t0 + 1)],
            deliveries: [Fixture.delivery(log: 3, notification: 7), ArchivedDelivery(logIndex: 3, notificationID: 8, incidentID: "inc-2", channel: "email", kind: "page", level: 2, result: "delivered", error: nil, at: Fixture.t0 + 9)],
            configChanges: [Fixture.configChange(log: 2), Fixture.configChange(log: 3, body: nil)])
        XCTAssertEqual(try store.watermark(), 0)
        XCTAssertEqual(try store.write(batch, expectedWatermark: 0), .written(rows: 10))
        XCTAssertEqual(try store.watermark(), 3)

        let db = try inspect()
        let events = try db.exec(
            """
            SELECT log_index, position, event_id, incident_id, severity, (extract(epoch FROM occurred_at) * 1000)::bigint,
                (extract(epoch FROM received_at) * 1000)::bigint, resource::text, tags::text, metrics::text, payload
            FROM archive_events WHERE cluster_id = $1 ORDER BY log_index, position
            """, params: [cluster]).rows
        let t0 = String(Fixture.t0)
        let tMinus1s = String(Fixture.t0 - 1_000)
        XCTAssertEqual(
            events,
            [
                ["1", "0", "evt-1-0", "inc-1", "p1", tMinus1s, t0, #"{"id": "chat-api", "type": "service"}"#, #"{"team": "ml"}"#, #"{"p95_ms": 2300.5}"#, #"{"k":1}"#],
                ["2", "1", nil, nil, nil, tMinus1s, t0, #"{"id": "chat-api", "type": "service"}"#, #"{"team": "ml"}"#, #"{"p95_ms": 2300.5}"#, #"{"k":1}"#],
            ])
        let analytics = try ArchiveAnalytics(url: try Self.database.url(), clusterID: cluster)
        let incidents = try analytics.searchIncidents(since: Fixture.t0 - 1, until: Fixture.t0 + 1, limit: 10).rows
        XCTAssertEqual(incidents.sorted { $0.incidentID < $1.incidentID }, batch.incidents)
        XCTAssertEqual(
            try db.exec("SELECT incident_id, seq, (extract(epoch FROM at) * 1000)::bigint, details::text FROM archive_timeline WHERE cluster_id = $1 ORDER BY 1", params: [cluster]).rows,
            [["inc-1", "0", t0, #"{"rule": "default"}"#], ["inc-2", "0", String(Fixture.t0 + 1), #"{"rule": "default"}"#]])
        XCTAssertEqual(
            try db.exec("SELECT notification_id, channel, level, result, error FROM archive_deliveries WHERE cluster_id = $1 ORDER BY 1", params: [cluster]).rows,
            [["7", "slack-oncall", "1", "failed", "HTTP 503"], ["8", "email", "2", "delivered", nil]])
        XCTAssertEqual(
            try db.exec("SELECT log_index, action, body::text FROM archive_config_changes WHERE cluster_id = $1 ORDER BY 1", params: [cluster]).rows,
            [["2", "update", #"{"levels": 2}"#], ["3", "delete", nil]])
    }

    func testReplayedBatchIsFencedAndAddsNothing() throws {
        let cluster = uniqueClusterID()
        let store = try store(cluster)
        let batch = Fixture.batch(first: 1, count: 50)
        XCTAssertEqual(try store.write(batch, expectedWatermark: 0), .written(rows: 100))
        XCTAssertEqual(try store.write(batch, expectedWatermark: 0), .watermarkMoved(actual: 50))
        XCTAssertEqual(try store.write(Fixture.batch(first: 51, count: 10), expectedWatermark: 50), .written(rows: 20))
        XCTAssertEqual(try store.write(Fixture.batch(first: 51, count: 10), expectedWatermark: 50), .watermarkMoved(actual: 60))
        let db = try inspect()
        XCTAssertEqual(try db.count("archive_events", clusterID: cluster), 60)
        XCTAssertEqual(try db.count("archive_incidents", clusterID: cluster), 60)
    }

    func testRacingArchiversExactlyOneWritesEachRange() throws {
        let cluster = uniqueClusterID()
        let url = try Self.database.url()
        var watermark: UInt64 = 0
        for round in 0..<5 {
            let first = watermark + 1
            let results = try concurrently(2) { _ in
                try ArchiveStore(url: url, clusterID: cluster, logger: Logger(label: "test"))
                    .write(Fixture.batch(first: first, count: 200), expectedWatermark: first - 1)
            }
            watermark = first + 199
            XCTAssertEqual(results.filter { $0 == .written(rows: 400) }.count, 1, "round \(round): \(results)")
            XCTAssertEqual(results.filter { $0 == .watermarkMoved(actual: watermark) }.count, 1, "round \(round): \(results)")
        }
        let db = try inspect()
        XCTAssertEqual(try db.count("archive_events", clusterID: cluster), 1_000)
        XCTAssertEqual(try store(cluster).watermark(), 1_000)
    }

    func testFailureInTheMiddleRollsBackRowsAndWatermark() throws {
        let cluster = uniqueClusterID()
        let store = try store(cluster)
        XCTAssertEqual(try store.write(Fixture.batch(first: 1, count: 5), expectedWatermark: 0), .written(rows: 10))
        var poisoned = Fixture.batch(first: 6, count: 5)
        poisoned.timeline = [Fixture.timeline("inc-6", seq: 0)]
        poisoned.incidents[4].labelsJSON = #"{"unterminated": "#  // COPYed after the events: they go too
        XCTAssertThrowsError(try store.write(poisoned, expectedWatermark: 5)) { error in
            let postgres = error as? PostgresError
            XCTAssertEqual(postgres?.code, .serverError, "\(error)")
            XCTAssertEqual(postgres?.isConnectionBroken, false)
        }
        let db = try inspect()
        XCTAssertEqual(try store.watermark(), 5)
        XCTAssertEqual(try db.count("archive_events", clusterID: cluster), 5)
        XCTAssertEqual(try db.count("archive_incidents", clusterID: cluster), 5)
        XCTAssertEqual(try db.count("archive_timeline", clusterID: cluster), 0)
        poisoned.incidents[4].labelsJSON = "{}"
        XCTAssertEqual(try store.write(poisoned, expectedWatermark: 5), .written(rows: 11))
        XCTAssertEqual(try store.watermark(), 10)
    }

    func testIncidentVersionsOnlyMoveForward() throws {
        let cluster = uniqueClusterID()
        let store = try store(cluster)
        // Two versions in one batch: the newer one (by log index) is stored.
        let first = ArchiveBatch(
            firstIndex: 1, lastIndex: 5,
            incidents: [Fixture.incident("inc-1", log: 5, status: "acknowledged"), Fixture.incident("inc-1", log: 2, status: "new")])
        XCTAssertEqual(try store.write(first, expectedWatermark: 0), .written(rows: 1))
        // A later batch carrying an older version (a replay of a stale snapshot) changes nothing.
        let stale = ArchiveBatch(firstIndex: 6, lastIndex: 6, incidents: [Fixture.incident("inc-1", log: 4, status: "new")])
        XCTAssertEqual(try store.write(stale, expectedWatermark: 5), .written(rows: 0))
        XCTAssertEqual(try status(of: "inc-1", cluster), ["acknowledged", "5"])
        let newer = ArchiveBatch(firstIndex: 7, lastIndex: 9, incidents: [Fixture.incident("inc-1", log: 9, status: "resolved")])
        XCTAssertEqual(try store.write(newer, expectedWatermark: 6), .written(rows: 1))
        XCTAssertEqual(try status(of: "inc-1", cluster), ["resolved", "9"])
    }

    private func status(of incident: String, _ cluster: String) throws -> [String?] {
        try inspect().exec(
            "SELECT status, last_log_index FROM archive_incidents WHERE cluster_id = $1 AND incident_id = $2", params: [cluster, incident]
        ).rows.first ?? []
    }

    func testBatchesThatDoNotContinueTheArchiveAreRefused() throws {
        let cluster = uniqueClusterID()
        let store = try store(cluster)
        let invalid: [(ArchiveBatch, UInt64)] = [
            (ArchiveBatch(firstIndex: 3, lastIndex: 4), 0),  // indexes 1...2 missing
            (ArchiveBatch(firstIndex: 1, lastIndex: 4), 2),  // overlaps the watermark
            (ArchiveBatch(firstIndex: 5, lastIndex: 4), 4),  // empty range
            (ArchiveBatch(firstIndex: 1, lastIndex: 2, events: [Fixture.event(log: 3)]), 0),
            (ArchiveBatch(firstIndex: 4, lastIndex: 9, gaps: [ArchiveGap(firstIndex: 2, lastIndex: 3, recordedAt: 0, reason: "")]), 0),
        ]
        for (batch, expected) in invalid {
            XCTAssertThrowsError(try store.write(batch, expectedWatermark: expected), "\(batch)") { error in
                XCTAssertEqual((error as? ArchiveError)?.code, .invalidBatch, "\(error)")
            }
        }
        XCTAssertEqual(try store.watermark(), 0)
    }

    func testIncidentRowsMayReflectStateReadAfterTheBatchAndAResyncPageMovesNothing() throws {
        let cluster = uniqueClusterID()
        let store = try store(cluster)
        // The archiver reads each changed incident's current row, which may already reflect
        // entries after the batch; the forward-only upsert keeps the newest.
        XCTAssertEqual(try store.write(ArchiveBatch(firstIndex: 1, lastIndex: 2, incidents: [Fixture.incident("x", log: 5)]), expectedWatermark: 0), .written(rows: 1))
        XCTAssertEqual(try store.watermark(), 2)
        // A re-sync page upserts incidents without moving the watermark, and only from the
        // expected one.
        let page = [Fixture.incident("x", log: 7), Fixture.incident("y", log: 7)]
        XCTAssertEqual(try store.resync(incidents: page, timeline: [], expectedWatermark: 2), .written(rows: 2))
        XCTAssertEqual(try store.watermark(), 2)
        XCTAssertEqual(try store.resync(incidents: page, timeline: [], expectedWatermark: 1), .watermarkMoved(actual: 2))
    }

    func testGapLetsTheArchiveSkipCompactedIndexes() throws {
        let cluster = uniqueClusterID()
        let store = try store(cluster)
        XCTAssertEqual(try store.write(ArchiveBatch(firstIndex: 1, lastIndex: 10), expectedWatermark: 0), .written(rows: 0))
        XCTAssertEqual(try store.watermark(), 10)
        let gap = ArchiveGap(firstIndex: 11, lastIndex: 500, recordedAt: Fixture.t0, reason: "compacted before archived; re-synced from snapshot 500")
        var resync = Fixture.batch(first: 501, count: 3)
        resync.gaps = [gap]
        XCTAssertEqual(try store.write(resync, expectedWatermark: 10), .written(rows: 7))
        XCTAssertEqual(try store.watermark(), 503)
        XCTAssertEqual(
            try inspect().exec("SELECT first_index, last_index, reason FROM archive_gaps WHERE cluster_id = $1", params: [cluster]).rows,
            [["11", "500", gap.reason]])
    }

    func testRowsAboveAWatermarkMovedBackByHandAreSkippedNotDuplicated() throws {
        let cluster = uniqueClusterID()
        let store = try store(cluster)
        XCTAssertEqual(try store.write(Fixture.batch(first: 1, count: 10), expectedWatermark: 0), .written(rows: 20))
        let db = try inspect()
        try db.exec("UPDATE archive_watermark SET last_index = 4 WHERE cluster_id = $1", params: [cluster])  // an operator's rewind
        var again = Fixture.batch(first: 5, count: 8)  // 5...10 exist, 11 and 12 are new
        again.deliveries = [Fixture.delivery(log: 12, notification: 1)]
        XCTAssertEqual(try store.write(again, expectedWatermark: 4), .written(rows: 2 + 8 + 1))  // incidents: same versions, rewritten
        XCTAssertEqual(try db.count("archive_events", clusterID: cluster), 12)
        XCTAssertEqual(try store.watermark(), 12)
    }

    func testClustersSharingADatabaseAreIndependent() throws {
        let (a, b) = (uniqueClusterID(), uniqueClusterID())
        XCTAssertEqual(try store(a).write(Fixture.batch(first: 1, count: 3), expectedWatermark: 0), .written(rows: 6))
        XCTAssertEqual(try store(b).write(Fixture.batch(first: 1, count: 7), expectedWatermark: 0), .written(rows: 14))
        XCTAssertEqual(try store(a).watermark(), 3)
        XCTAssertEqual(try store(b).watermark(), 7)
        XCTAssertEqual(try inspect().count("archive_events", clusterID: a), 3)
    }

    func testStoreReconnectsAfterItsConnectionIsKilled() throws {
        let cluster = uniqueClusterID()
        var configuration = ArchiveStore.Configuration()
        configuration.connection.applicationName = cluster
        let store = try ArchiveStore(url: try Self.database.url(), clusterID: cluster, configuration: configuration)
        XCTAssertEqual(try store.write(Fixture.batch(first: 1, count: 2), expectedWatermark: 0), .written(rows: 4))
        let killed = try inspect().exec(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", params: [cluster])
        XCTAssertEqual(killed.rows, [["t"]])
        XCTAssertThrowsError(try store.write(Fixture.batch(first: 3, count: 2), expectedWatermark: 2)) { error in
            XCTAssertEqual((error as? PostgresError)?.isConnectionBroken, true, "\(error)")
        }
        XCTAssertEqual(try store.write(Fixture.batch(first: 3, count: 2), expectedWatermark: 2), .written(rows: 4))
        XCTAssertEqual(try store.watermark(), 4)
    }
}
