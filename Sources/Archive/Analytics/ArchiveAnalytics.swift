import Logging

/// Read-only queries over the archive for the historical analytics API: response-time history,
/// top sources, incident search. Every query is parameterised and scoped to `clusterID`.
///
/// Like ArchiveStore it owns one blocking connection (lazily opened, reopened after it broke)
/// and is not Sendable: the API keeps it on a thread of its own (or a few instances in a small
/// pool), apart from the archiver's writer connection.
public final class ArchiveAnalytics {
    /// Bounds on what one request may ask for; beyond them `ArchiveError.invalidQuery`.
    public struct Limits: Sendable, Equatable {
        /// Longest range with hourly buckets, in days. Default 31 (744 buckets per group).
        public var maxHourBucketRangeDays = 31
        /// Longest range with daily buckets, and for top sources and search, in days. Default
        /// 400: a year with margin. Longer ranges scan more of the tables per request.
        public var maxRangeDays = 400
        /// Largest `limit` of topSources and searchIncidents. Default 1 000.
        public var maxRows = 1_000
        /// Longest search text, in characters. Default 200.
        public var maxQueryCharacters = 200

        public init() {}

        public static let `default` = Limits()

        public func validate() throws {
            func refuse(_ message: String) -> ArchiveError { ArchiveError(code: .invalidConfiguration, message: message) }
            guard (1...3_660).contains(maxRangeDays) else { throw refuse("maxRangeDays must be in 1...3660") }
            guard (1...maxRangeDays).contains(maxHourBucketRangeDays) else { throw refuse("maxHourBucketRangeDays must be in 1...maxRangeDays") }
            guard (1...100_000).contains(maxRows) else { throw refuse("maxRows must be in 1...100000") }
            guard (1...10_000).contains(maxQueryCharacters) else { throw refuse("maxQueryCharacters must be in 1...10000") }
        }
    }

    public let clusterID: String
    public let limits: Limits
    let database: ReconnectingConnection

    /// Does not connect yet; the first query does.
    public init(
        url: String, password: PostgresPassword? = nil, clusterID: String, options: PostgresConnection.Options = .default,
        limits: Limits = .default, logger: Logger = Logger(label: "archive.analytics")
    ) throws {
        guard !clusterID.isEmpty, clusterID.utf8.count <= 200 else {
            throw ArchiveError(code: .invalidConfiguration, message: "the cluster id must be 1 to 200 bytes long")
        }
        try limits.validate()
        self.clusterID = clusterID
        self.limits = limits
        database = try ReconnectingConnection(url: url, password: password, options: options, logger: logger)
    }

    /// Closes the connection (the next query reopens it).
    public func close() { database.close() }

    static let millisecondsPerDay: Int64 = 86_400_000

    /// Throws unless `since < until` and the range spans at most `maxDays`.
    func validateRange(since: Int64, until: Int64, maxDays: Int) throws {
        guard since < until else { throw ArchiveError.invalidQuery("since", "must be before until") }
        let (span, overflow) = until.subtractingReportingOverflow(since)
        guard !overflow, span <= Int64(maxDays) * Self.millisecondsPerDay else {
            throw ArchiveError.invalidQuery("until", "the range may span at most \(maxDays) days")
        }
    }

    func validateLimit(_ limit: Int) throws {
        guard (1...limits.maxRows).contains(limit) else { throw ArchiveError.invalidQuery("limit", "must be in 1...\(limits.maxRows)") }
    }
}

/// SQL fragments shared by the queries.
enum SQLTime {
    /// A bigint parameter of milliseconds as timestamptz.
    static func parameter(_ number: Int) -> String { "('epoch'::timestamptz + $\(number)::bigint * interval '1 millisecond')" }
    /// A timestamptz column as milliseconds since the epoch.
    static func milliseconds(_ column: String) -> String { "(extract(epoch FROM \(column)) * 1000)::bigint" }
}
