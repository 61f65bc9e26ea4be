import Archive
import Foundation
import Locking
import PostgresTesting
import XCTest

/// The class's shared server (`SharedPostgresServer`); a missing PostgreSQL fails the test
/// under `CI=true` and skips it elsewhere.
final class SharedPostgres: Sendable {
    private let shared: SharedPostgresServer

    init(options: PostgresServer.Options = PostgresServer.Options()) {
        shared = SharedPostgresServer(options: options)
    }

    func get() throws -> PostgresServer {
        do { return try shared.get() } catch let error as PostgresServerError where error.binariesMissing && !SharedPostgresServer.isRequired {
            throw XCTSkip("PostgreSQL is not installed: \(error)")
        }
    }

    /// A new, empty database on the shared server; returns its URL.
    func freshDatabase() throws -> String {
        _ = try get()
        return try shared.freshDatabase()
    }

    func stop() { shared.stop() }
}

/// A cluster id of its own for each test, so tests sharing a database never see each other's rows.
func uniqueClusterID(_ function: String = #function) -> String {
    "\(function.prefix(while: { $0 != "(" }))-\(UUID().uuidString.prefix(8))"
}

/// A database created and migrated on first use, shared by a test class.
final class LazyDatabase: Sendable {
    private let postgres: SharedPostgres
    private let created = Lock<String?>(nil)

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
