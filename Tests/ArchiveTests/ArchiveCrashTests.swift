import Archive
import Foundation
import Logging
import PostgresTesting
import XCTest

/// The archive when PostgreSQL crashes, stops or hangs: errors say the connection broke, the
/// store reconnects once the server is back, and the archive holds exactly the committed
/// batches. This class has a server of its own, since its tests kill it.
final class ArchiveCrashTests: XCTestCase {
    static let postgres = SharedPostgres()
    override class func tearDown() {
        postgres.stop()
        super.tearDown()
    }

    private func makeStore(_ url: String, _ cluster: String, operationTimeoutMilliseconds: Int = 120_000) throws -> ArchiveStore {
        var configuration = ArchiveStore.Configuration()
        configuration.connection.applicationName = cluster
        configuration.connection.connectTimeoutSeconds = 2
        configuration.connection.statementTimeoutMilliseconds = 0
        configuration.connection.operationTimeoutMilliseconds = operationTimeoutMilliseconds
        return try ArchiveStore(url: url, clusterID: cluster, configuration: configuration, logger: Logger(label: "test"))
    }

    func testKill9MidWriteThenRecoveryHoldsExactlyTheCommittedBatches() throws {
        let server = try Self.postgres.get()
        let url = try Self.postgres.freshDatabase()
        let cluster = "crash-writer"
        let store = try makeStore(url, cluster)
        try store.migrate()
        XCTAssertEqual(try store.write(Fixture.batch(first: 1, count: 1_000), expectedWatermark: 0), .written(rows: 2_000))

        // Kill the server once the writer's transaction is copying or inserting.
        let monitorURL = server.url(database: "postgres")
        let killer = Thread {
            guard let monitor = try? PostgresConnection(url: monitorURL) else { return }
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let busy = try? monitor.exec(
                    """
                    SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'
                        AND (query LIKE 'COPY%' OR query LIKE 'INSERT INTO archive_events%')
                    """, params: [cluster]
                ).firstValue
                if busy == "1" { break }
            }
            server.kill9()
        }
        let big = Fixture.batch(first: 1_001, count: 20_000)
        killer.start()
        XCTAssertThrowsError(try store.write(big, expectedWatermark: 1_000)) { error in
            XCTAssertEqual((error as? PostgresError)?.isConnectionBroken, true, "\(error)")
        }
        while !killer.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertFalse(server.isRunning)

        XCTAssertThrowsError(try store.watermark()) { error in  // still down: a clear connection error
            XCTAssertEqual((error as? PostgresError)?.code, .connectionFailed, "\(error)")
        }
        try server.restart()
        XCTAssertEqual(try store.watermark(), 1_000)
        let db = try PostgresConnection(url: url)
        XCTAssertEqual(try db.count("archive_events", clusterID: cluster), 1_000)
        XCTAssertEqual(try store.write(big, expectedWatermark: 1_000), .written(rows: 40_000))
        XCTAssertEqual(try store.watermark(), 21_000)
        XCTAssertEqual(try db.count("archive_events", clusterID: cluster), 21_000)
        XCTAssertEqual(try db.count("archive_incidents", clusterID: cluster), 21_000)
        let distinct = try db.exec("SELECT count(DISTINCT log_index), min(log_index), max(log_index) FROM archive_events WHERE cluster_id = $1", params: [cluster])
        XCTAssertEqual(distinct.rows, [["21000", "1", "21000"]])
    }

    func testHungServerTimesOutThenTheStoreRecovers() throws {
        let server = try Self.postgres.get()
        let url = try Self.postgres.freshDatabase()
        let store = try makeStore(url, "hung-writer", operationTimeoutMilliseconds: 1_000)
        try store.migrate()
        XCTAssertEqual(try store.write(Fixture.batch(first: 1, count: 10), expectedWatermark: 0), .written(rows: 20))
        server.pause()
        let started = ContinuousClock.now
        XCTAssertThrowsError(try store.write(Fixture.batch(first: 11, count: 10), expectedWatermark: 10)) { error in
            XCTAssertEqual((error as? PostgresError)?.code, .timeout, "\(error)")
            XCTAssertEqual((error as? PostgresError)?.isConnectionBroken, true)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10))
        server.resume()
        // The timed-out transaction never committed (the server could not even read it).
        XCTAssertEqual(try store.write(Fixture.batch(first: 11, count: 10), expectedWatermark: 10), .written(rows: 20))
        XCTAssertEqual(try store.watermark(), 20)
    }

    func testStoppedServerIsAnErrorUntilItIsBack() throws {
        let server = try Self.postgres.get()
        let url = try Self.postgres.freshDatabase()
        let store = try makeStore(url, "stopped-writer")
        try store.migrate()
        server.stop()
        XCTAssertThrowsError(try store.write(Fixture.batch(first: 1, count: 3), expectedWatermark: 0)) { error in
            XCTAssertEqual((error as? PostgresError)?.isConnectionBroken, true, "\(error)")
        }
        try server.restart()
        XCTAssertEqual(try store.write(Fixture.batch(first: 1, count: 3), expectedWatermark: 0), .written(rows: 6))
    }
}
