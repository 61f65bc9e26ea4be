/// One numbered schema step: `sql` runs once per database, in its own transaction, and
/// `archive_schema_migrations` records it.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// What `migrate` found and did.
public struct MigrationReport: Sendable, Equatable {
    /// Versions applied by this call, in order (empty when the database was up to date).
    public var applied: [Int]
    /// The database's version afterwards.
    public var version: Int

    public init(applied: [Int], version: Int) {
        self.applied = applied
        self.version = version
    }
}

/// Brings a database to the newest known schema version.
///
/// Each step runs in its own transaction that first takes `pg_advisory_xact_lock(key)`, so
/// nodes starting together apply every step exactly once: the second waits, then sees the step
/// recorded and skips it. A database recorded at a newer version than the binary knows is
/// refused (`schemaTooNew`): an old binary must not write into a schema it does not understand.
struct Migrator {
    let migrations: [Migration]
    let lockKey: Int64

    init(migrations: [Migration], lockKey: Int64) {
        precondition(!migrations.isEmpty && migrations.map(\.version) == Array(1...migrations.count), "migrations are numbered 1, 2, 3, ...")
        self.migrations = migrations
        self.lockKey = lockKey
    }

    func migrate(_ connection: PostgresConnection) throws -> MigrationReport {
        var applied: [Int] = []
        while true {
            let step = try connection.transaction { () throws -> Int? in
                try connection.exec("SELECT pg_advisory_xact_lock($1)", params: [String(lockKey)])
                try connection.exec(
                    """
                    CREATE TABLE IF NOT EXISTS archive_schema_migrations (
                        version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)
                    """)
                let recorded = try recordedVersions(connection)
                guard let next = try nextStep(after: recorded) else { return nil }
                try connection.exec(next.sql)
                try connection.exec(
                    "INSERT INTO archive_schema_migrations (version, name, applied_at) VALUES ($1, $2, now())",
                    params: [String(next.version), next.name])
                return next.version
            }
            guard let step else { break }
            applied.append(step)
        }
        return MigrationReport(applied: applied, version: migrations.count)
    }

    /// The database's current version without changing anything (0 when never migrated).
    func currentVersion(_ connection: PostgresConnection) throws -> Int {
        let exists = try connection.exec("SELECT to_regclass('archive_schema_migrations') IS NOT NULL").firstValue == "t"
        guard exists else { return 0 }
        return try recordedVersions(connection).keys.max() ?? 0
    }

    private func recordedVersions(_ connection: PostgresConnection) throws -> [Int: String] {
        var versions: [Int: String] = [:]
        for row in try connection.exec("SELECT version, name FROM archive_schema_migrations").rows {
            guard let version = row[0].flatMap({ Int($0) }) else {
                throw ArchiveError(code: .corruptRow, message: "archive_schema_migrations holds a NULL version")
            }
            versions[version] = row[1] ?? ""
        }
        return versions
    }

    /// The first step not recorded yet; throws when the database is ahead of this binary or a
    /// recorded step has another name than ours.
    private func nextStep(after recorded: [Int: String]) throws -> Migration? {
        if let newest = recorded.keys.max(), newest > migrations.count {
            throw ArchiveError(
                code: .schemaTooNew,
                message: "the database's archive schema is at version \(newest); this binary knows versions up to \(migrations.count). Upgrade the binary.")
        }
        for migration in migrations {
            guard let name = recorded[migration.version] else { return migration }
            guard name == migration.name else {
                throw ArchiveError(
                    code: .schemaMismatch,
                    message: "archive schema step \(migration.version) is recorded as \"\(name)\", expected \"\(migration.name)\"")
            }
        }
        return nil
    }
}
