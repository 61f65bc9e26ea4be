import Archive
import Foundation
import PostgresTesting
import Synchronization
import XCTest

/// One PostgreSQL server for all the tests of a class, started on first use and stopped by
/// the class's `tearDown()`. Tests share it through separate databases or cluster ids.
///
/// When the PostgreSQL binaries are missing, a test fails under `CI=true` (CI must run these
/// tests; scripts/install-deps.sh installs the server) and is skipped elsewhere.
final class SharedPostgres: Sendable {
    private let options: PostgresServer.Options
    private let server = Mutex<PostgresServer?>(nil)
    private let databaseCounter = Atomic<Int>(0)

    init(options: PostgresServer.Options = PostgresServer.Options()) {
        self.options = options
    }

    func get() throws -> PostgresServer {
        try server.withLock { server in
            if let server { return server }
            do {
                let started = try PostgresServer.start(options: options)
                server = started
                return started
            } catch let error as PostgresServerError where error.binariesMissing {
                if ProcessInfo.processInfo.environment["CI"] == "true" {
                    XCTFail("PostgreSQL is required in CI: \(error)")
                    throw error
                }
                throw XCTSkip("PostgreSQL is not installed: \(error)")
            }
        }
    }

    /// A new, empty database on the shared server; returns its URL.
    func freshDatabase() throws -> String {
        let number = databaseCounter.wrappingAdd(1, ordering: .relaxed).newValue
        return try get().createDatabase("test_\(ProcessInfo.processInfo.processIdentifier)_\(number)")
    }

    func stop() {
        server.withLock { server in
            server?.cleanup()
            server = nil
        }
    }
}

/// A cluster id of its own for each test, so tests sharing a database never see each other's rows.
func uniqueClusterID(_ function: String = #function) -> String {
    "\(function.prefix(while: { $0 != "(" }))-\(UUID().uuidString.prefix(8))"
}

/// A database created and migrated on first use, shared by a test class.
final class LazyDatabase: Sendable {
    private let postgres: SharedPostgres
    private let created = Mutex<String?>(nil)

    init(postgres: SharedPostgres) { self.postgres = postgres }

    func url() throws -> String {
        try created.withLock { created in
            if let created { return created }
            let url = try postgres.freshDatabase()
            try ArchiveStore(url: url, clusterID: "setup").migrate()
            created = url
            return url
        }
    }
}
