import Archive
import Logging
import PostgresTesting
import XCTest

/// Schema migrations: applied once, safe to re-run and to race, refused on a newer database.
final class MigrationTests: XCTestCase {
    static let postgres = SharedPostgres()
    override class func tearDown() {
        postgres.stop()
        super.tearDown()
    }

    private func store(_ url: String) throws -> ArchiveStore {
        try ArchiveStore(url: url, clusterID: "migrations", logger: Logger(label: "test"))
    }

    func testMigrationsApplyOnceThenAreNoOps() throws {
        let url = try Self.postgres.freshDatabase()
        let store = try store(url)
        XCTAssertEqual(try store.schemaVersion(), 0)
        XCTAssertEqual(try store.migrate(), MigrationReport(applied: [1, 2], version: 2))
        XCTAssertEqual(try store.migrate(), MigrationReport(applied: [], version: 2))
        XCTAssertEqual(try self.store(url).migrate().applied, [])
        XCTAssertEqual(try store.schemaVersion(), ArchiveStore.knownSchemaVersion)
        let connection = try PostgresConnection(url: url)
        let tables = try connection.exec(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").rows.compactMap { $0[0] }
        XCTAssertEqual(
            tables,
            [
                "archive_config_changes", "archive_deliveries", "archive_events", "archive_gaps", "archive_incidents",
                "archive_schema_migrations", "archive_timeline", "archive_watermark",
            ])
        XCTAssertEqual(try connection.exec("SELECT version, name FROM archive_schema_migrations ORDER BY version").rows, [["1", "archive tables"], ["2", "analytics indexes"]])
    }

    func testNodesMigratingTogetherApplyEachStepOnce() throws {
        let url = try Self.postgres.freshDatabase()
        let reports = try concurrently(4) { _ in
            try ArchiveStore(url: url, clusterID: "migrations", logger: Logger(label: "test")).migrate()
        }
        XCTAssertEqual(reports.flatMap(\.applied).sorted(), [1, 2], "\(reports)")
        let recorded = try PostgresConnection(url: url).exec("SELECT count(*) FROM archive_schema_migrations").firstValue
        XCTAssertEqual(recorded, "2")
    }

    func testDatabaseFromANewerBinaryIsRefused() throws {
        let url = try Self.postgres.freshDatabase()
        let store = try store(url)
        try store.migrate()
        try PostgresConnection(url: url).exec("INSERT INTO archive_schema_migrations VALUES (99, 'from the future', now())")
        XCTAssertThrowsError(try store.migrate()) { error in
            XCTAssertEqual((error as? ArchiveError)?.code, .schemaTooNew, "\(error)")
            XCTAssertTrue("\(error)".contains("99"))
        }
        XCTAssertEqual(try store.schemaVersion(), 99)
    }

    func testRenamedStepIsRefused() throws {
        let url = try Self.postgres.freshDatabase()
        try store(url).migrate()
        try PostgresConnection(url: url).exec("UPDATE archive_schema_migrations SET name = 'something else' WHERE version = 2")
        XCTAssertThrowsError(try store(url).migrate()) { error in
            XCTAssertEqual((error as? ArchiveError)?.code, .schemaMismatch, "\(error)")
        }
    }
}
