import Logging

/// The archiver's side of PostgreSQL: schema migrations, the watermark, and batch writes that
/// commit together with the watermark move.
///
/// It owns one connection, opened lazily and reopened after it broke (the failing call still
/// throws; the next one reconnects). Blocking and not Sendable: the archiver uses it from its
/// one dedicated thread. Everything it reads or writes is scoped to `clusterID`.
public final class ArchiveStore {
    /// Limits of the writer, with the connection's own options.
    public struct Configuration: Sendable, Equatable {
        /// Timeouts, COPY chunk size, application name (see `PostgresConnection.Options`).
        public var connection = PostgresConnection.Options()
        /// Rows of all kinds in one batch, at most. Default 200 000. The batch is encoded in
        /// memory before it is sent (roughly 0.5–1 KiB per event), so this bounds the writer's
        /// memory; a larger batch is refused (`invalidBatch`), not split.
        public var maxRowsPerBatch = 200_000

        public init() {}

        public static let `default` = Configuration()

        public func validate() throws {
            try connection.validate()
            guard (1...5_000_000).contains(maxRowsPerBatch) else {
                throw ArchiveError(code: .invalidConfiguration, message: "maxRowsPerBatch must be in 1...5000000")
            }
        }
    }

    public let clusterID: String
    public let configuration: Configuration
    let database: ReconnectingConnection
    let logger: Logger

    /// Does not connect yet: the first call does (so a database that is down at startup delays
    /// archiving, not the node). Throws only for an invalid configuration or cluster id.
    public init(
        url: String, password: PostgresPassword? = nil, clusterID: String, configuration: Configuration = .default,
        logger: Logger = Logger(label: "archive")
    ) throws {
        try configuration.validate()
        guard !clusterID.isEmpty, clusterID.utf8.count <= 200 else {
            throw ArchiveError(code: .invalidConfiguration, message: "the cluster id must be 1 to 200 bytes long")
        }
        self.clusterID = clusterID
        self.configuration = configuration
        self.logger = logger
        database = try ReconnectingConnection(url: url, password: password, options: configuration.connection, logger: logger)
    }

    /// The URL without its password, for logs.
    public var redactedURL: String { database.redactedURL }

    /// Applies the schema steps the database lacks (see `Migrator`); a no-op when up to date.
    @discardableResult
    public func migrate() throws -> MigrationReport {
        let report = try database.use { try Self.migrator.migrate($0) }
        if !report.applied.isEmpty {
            logger.info("archive schema migrated", metadata: ["applied": "\(report.applied)", "version": "\(report.version)"])
        }
        return report
    }

    /// The database's schema version (0 when never migrated), without changing anything.
    public func schemaVersion() throws -> Int {
        try database.use { try Self.migrator.currentVersion($0) }
    }

    /// The newest schema version this binary knows.
    public static var knownSchemaVersion: Int { ArchiveSchema.migrations.count }

    static let migrator = Migrator(migrations: ArchiveSchema.migrations, lockKey: ArchiveSchema.migrationLockKey)

    /// The last log index archived for this cluster: everything up to it is in the database.
    /// 0 when nothing was archived yet.
    public func watermark() throws -> UInt64 {
        try database.use { connection in
            let value = try connection.exec("SELECT last_index FROM archive_watermark WHERE cluster_id = $1", params: [clusterID]).firstValue
            guard let value else { return 0 }
            guard let index = UInt64(value) else { throw ArchiveError(code: .corruptRow, message: "watermark \(value) is not an index") }
            return index
        }
    }

    /// Closes the connection (the next call reopens it).
    public func close() { database.close() }
}
