import Archive
import Foundation
import IncidentdTesting
import PostgresTesting
import XCTest

/// Real `incidentd` processes archiving into a real PostgreSQL that the test starts itself
/// (initdb into a temporary directory, a loopback port; stopped by PID afterwards): every
/// acknowledged event lands exactly once, across a kill -9 of the archiving node and a minute
/// without the database.
final class ArchiveClusterTests: IncidentdTestCase {
    private static let postgres = SharedPostgresServer()

    override class func tearDown() {
        postgres.stop()
        super.tearDown()
    }

    /// A fresh database on the class's server (started on first use; under CI=true a missing
    /// PostgreSQL fails the test, elsewhere it is skipped).
    private func database() throws -> (server: PostgresServer, url: String) {
        do {
            return (try Self.postgres.get(), try Self.postgres.freshDatabase(prefix: "itest"))
        } catch let error as PostgresServerError where error.binariesMissing && !SharedPostgresServer.isRequired {
            throw XCTSkip("PostgreSQL is not installed: \(error)")
        }
    }

    func testEventsThroughAThreeNodeClusterAreArchivedExactlyOnceWithTheirIncidents() async throws {
        let (_, url) = try database()
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3, extra: ["--archive-url", url])
        try await cluster.startAll()
        let leader = try await cluster.leader()
        try await waitForArchiveHolder(cluster)
        var posted = 0
        for i in 0..<90 {
            let node = cluster.nodes[i % 3 + 1]!
            // 30 services, each alerting three times: 30 incidents, 60 deduplicated events.
            let answer = try await node.admin.post("/api/v1/events", eventBody("archived \(i % 30)", service: "svc-\(i % 30)"))
            XCTAssertEqual(answer.status, 202, "\(answer)")
            posted += 1
        }
        let resolved = try await cluster.nodes[leader]!.admin.post("/api/v1/incidents/\(try await incidentID(cluster, title: "archived 7"))/resolve")
        XCTAssertEqual(resolved.status, 200, "\(resolved)")
        let commit = try await cluster.commitIndex(of: leader)
        try await waitArchived(cluster, through: commit)
        let db = try PostgresConnection(url: url)
        XCTAssertEqual(try count(db, "SELECT count(*) FROM archive_events"), posted)
        XCTAssertEqual(try count(db, "SELECT count(DISTINCT event_id) FROM archive_events"), posted)
        XCTAssertEqual(try count(db, "SELECT count(*) FROM archive_events WHERE outcome = 'created'"), 30)
        XCTAssertEqual(try count(db, "SELECT count(*) FROM archive_events WHERE outcome = 'deduplicated'"), 60)
        XCTAssertEqual(try count(db, "SELECT count(*) FROM archive_incidents"), 30)
        XCTAssertEqual(try count(db, "SELECT count(*) FROM archive_incidents WHERE occurrence_count = 3"), 30)
        XCTAssertEqual(try count(db, "SELECT count(*) FROM archive_incidents WHERE title = 'archived 7' AND status = 'resolved'"), 1)
        XCTAssertGreaterThanOrEqual(try count(db, "SELECT count(*) FROM archive_timeline"), 31, "every incident's trail, and the resolution")
        let status = try await cluster.nodes[leader]!.admin.get("/api/v1/cluster")
        let holder = status.json["archive"]?["holder"]?.int
        XCTAssertNotNil(holder)
        XCTAssertNotEqual(holder, leader, "a follower archives")
        // The historical analytics read what was archived, on any node.
        let history = try await cluster.nodes[holder ?? 1]!.admin.get("/api/v1/analytics/history?group_by=source")
        XCTAssertEqual(history.status, 200, "\(history)")
        let incidents = (history.json["buckets"]?.array ?? []).compactMap { $0["incidents"]?.int }.reduce(0, +)
        XCTAssertEqual(incidents, 30)
        let search = try await cluster.nodes[leader]!.admin.get("/api/v1/analytics/incidents?q=archived&status=resolved")
        XCTAssertEqual(search.json["items"]?.array?.count, 1, "\(search)")
    }

    func testKillingTheArchivingNodeUnderLoadNeitherLosesNorDuplicatesRows() async throws {
        let (_, url) = try database()
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3, extra: ["--archive-url", url, "--archive-batch-records", "50"])
        try await cluster.startAll()
        let holder = try await waitForArchiveHolder(cluster)
        let writers = LoadWriters(cluster, prefix: "kill")
        try await Task.sleep(nanoseconds: 1_000_000_000)
        await cluster.nodes[holder]!.crash()
        // Under load the whole time: another node takes the lease once it ran out (12 s).
        let next = try await waitForArchiveHolder(cluster, excluding: holder)
        XCTAssertNotEqual(next, holder)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        try await cluster.nodes[holder]!.start()
        try await Task.sleep(nanoseconds: 500_000_000)
        let acknowledged = await writers.stop()
        let leader = try await cluster.leader()
        let commit = try await cluster.commitIndex(of: leader)
        try await waitArchived(cluster, through: commit, within: 60)
        let db = try PostgresConnection(url: url)
        let rows = try db.exec("SELECT title FROM archive_events").rows.compactMap { $0.first ?? nil }
        XCTAssertEqual(rows.count, Set(rows).count, "no event archived twice")
        let missing = acknowledged.subtracting(rows)
        XCTAssertEqual(missing, [], "every acknowledged event is archived")
        XCTAssertGreaterThan(acknowledged.count, 50)
        XCTAssertEqual(try count(db, "SELECT count(*) FROM archive_gaps WHERE reason <> 'before archival was enabled'"), 0)
    }

    func testAMinuteWithoutPostgreSQLGrowsTheBacklogWhichThenDrainsToExactlyTheRightRows() async throws {
        let (server, url) = try database()
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3, extra: ["--archive-url", url])
        try await cluster.startAll()
        let holder = try await waitForArchiveHolder(cluster)
        let leader = try await cluster.leader()
        server.stop()
        var posted = 0
        let outageEnds = Date().addingTimeInterval(60)
        var sawBacklog = false
        var sawDegraded = false
        while Date() < outageEnds {
            let answer = try await cluster.nodes[posted % 3 + 1]!.admin.post("/api/v1/events", eventBody("outage \(posted)", service: "o-\(posted)"))
            XCTAssertEqual(answer.status, 202, "ingestion does not wait for the archive: \(answer)")
            posted += 1
            if posted.isMultiple(of: 50) {
                let status = try await cluster.nodes[holder]!.admin.get("/api/v1/cluster?consistency=local")
                if (status.json["archive"]?["lag_entries"]?.int ?? 0) >= 50 { sawBacklog = true }
                if status.json["archive"]?["this_node"]?["state"]?.string == "degraded" { sawDegraded = true }
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTAssertTrue(sawBacklog, "the backlog is visible in GET /api/v1/cluster")
        XCTAssertTrue(sawDegraded, "the archiver reports the outage")
        try server.restart()
        let commit = try await cluster.commitIndex(of: leader)
        try await waitArchived(cluster, through: commit, within: 60)
        let db = try PostgresConnection(url: url)
        XCTAssertEqual(try count(db, "SELECT count(*) FROM archive_events"), posted)
        XCTAssertEqual(try count(db, "SELECT count(DISTINCT title) FROM archive_events"), posted)
        XCTAssertEqual(try count(db, "SELECT count(*) FROM archive_incidents"), posted)
    }

    func testABadArchiveURLStopsStartupNamingItAndAnUnreachableDatabaseIsADegradedStatus() async throws {
        let node = try IncidentdNode(cleanup: cleanup, extraArguments: ["--archive-url", "mysql://127.0.0.1/db"])
        let run = try node.launch()
        let exited = await eventually(10) { !run.isRunning }
        XCTAssertTrue(exited, "refused at startup")
        XCTAssertNotEqual(run.exitStatus, 0)
        XCTAssertTrue(run.standardError.contains("archive_url"), run.standardError)
        let withPassword = try IncidentdNode(cleanup: cleanup, extraArguments: ["--archive-url", "postgres://u:secret@127.0.0.1/db"])
        let refused = try withPassword.launch()
        let gone = await eventually(10) { !refused.isRunning }
        XCTAssertTrue(gone)
        XCTAssertTrue(refused.standardError.contains("must not carry a password"), refused.standardError)
        XCTAssertFalse(refused.standardError.contains("secret"), "the password is never printed")

        let port = try IncidentdProcess.freeLoopbackPort()
        let unreachable = try await startedNode(["--archive-url", "postgres://postgres@127.0.0.1:\(port)/db"])
        let answer = try await unreachable.admin.post("/api/v1/events", eventBody("no database", service: "nodb"))
        XCTAssertEqual(answer.status, 202, "ingestion works without the archive")
        let degraded = await eventually(15) {
            let status = try? await unreachable.admin.get("/api/v1/cluster")
            return status?.json["archive"]?["this_node"]?["state"]?.string == "degraded"
        }
        XCTAssertTrue(degraded, "the archive's state says degraded")
        let status = try await unreachable.admin.get("/api/v1/cluster")
        XCTAssertNotNil(status.json["archive"]?["this_node"]?["last_error"]?.string)
        let history = try await unreachable.admin.get("/api/v1/analytics/history")
        XCTAssertEqual(history.status, 503, "\(history)")
        let plain = try await startedNode()
        let noArchive = try await plain.admin.get("/api/v1/analytics/history")
        XCTAssertEqual(noArchive.status, 501, "\(noArchive)")
    }

    // MARK: - Helpers

    /// Waits until some node holds the archive lease (announced and granted) and returns it.
    @discardableResult
    private func waitForArchiveHolder(_ cluster: IncidentdCluster, excluding excluded: Int = 0, within seconds: Double = 40) async throws -> Int {
        var holder = 0
        let found = await eventually(seconds) {
            for id in cluster.nodes.keys.sorted() where id != excluded {
                let status = try? await cluster.nodes[id]!.admin.get("/api/v1/cluster?consistency=local")
                if status?.json["archive"]?["this_node"]?["state"]?.string == "archiving" {
                    holder = id
                    return true
                }
            }
            return false
        }
        guard found else { throw HarnessError("no node started archiving within \(seconds) s") }
        return holder
    }

    /// Waits until everything the leader applied through `index` is archived: its journal (which
    /// only the archive's progress reports trim) holds no record any more.
    private func waitArchived(_ cluster: IncidentdCluster, through index: Int, within seconds: Double = 30) async throws {
        let done = await eventually(seconds) {
            guard let leader = try? await cluster.leader(within: 2) else { return false }
            let status = try? await cluster.nodes[leader]!.admin.get("/api/v1/cluster?consistency=local")
            let applied = status?.json["members"]?.array?.first { $0["self"] == .bool(true) }?["applied_index"]?.int ?? 0
            return applied >= index && status?.json["archive"]?["journal_records"]?.int == 0
        }
        guard done else { throw HarnessError("the archive did not reach index \(index) within \(seconds) s") }
    }

    private func incidentID(_ cluster: IncidentdCluster, title: String) async throws -> String {
        let leader = try await cluster.leader()
        let list = try await cluster.nodes[leader]!.admin.get("/api/v1/incidents?q=\(title.replacingOccurrences(of: " ", with: "%20"))")
        guard let id = list.json["incidents"]?.array?.first?["id"]?.string else { throw HarnessError("no incident titled \(title)") }
        return id
    }

    private func count(_ db: PostgresConnection, _ sql: String) throws -> Int {
        Int(try db.exec(sql).firstValue ?? "") ?? -1
    }
}
