import Archiver
import Foundation
import IncidentCore
import Logging

/// How the HTTP surface of one node behaves: limits, rate limits, and what the executable plugs
/// in (version, start time, the Prometheus renderer, the OpenAPI document, the channel tester).
///
/// Every limit carries its unit in its name. `validate()` refuses values that would make the API
/// unusable or unbounded.
public struct APISettings: Sendable {
    /// Largest request body accepted, in bytes; larger bodies get 413 before they are parsed.
    /// Default 1 MiB: a batch of 1,000 small events fits, a runaway producer does not.
    public var maxBodyBytes = 1 << 20
    /// Largest body on `POST /v2/enqueue`, PagerDuty's own limit (512 KB).
    public var maxPagerDutyBodyBytes = 512 * 1024
    /// Events accepted in one `POST /api/v1/events` array (IncidentCore applies at most 1,000
    /// per command; more would be refused there anyway).
    public var maxEventsPerRequest = 1_000
    /// Alerts accepted in one Alertmanager webhook or `POST /api/v2/alerts` request.
    public var maxAlertsPerRequest = 1_000
    /// Per-key token bucket: sustained requests per second...
    public var rateLimitRequestsPerSecond: Double = 100
    /// ...and the burst a key may spend at once. A request costs one token; an exhausted bucket
    /// answers 429 with `Retry-After` (whole seconds until a token is back).
    public var rateLimitBurst: Double = 200
    /// API keys whose buckets are remembered at once; the least recently used are forgotten
    /// (a forgotten key starts again with a full bucket).
    public var rateLimitTrackedKeys = 20_000
    /// Page size of list endpoints when `limit` is not given, and the largest `limit` accepted.
    public var defaultPageSize = 50
    public var maxPageSize = 500
    /// How long `POST /api/v1/channels/{id}/test` waits for the test delivery before answering
    /// 202 (the delivery then goes on in the background).
    public var channelTestWaitMilliseconds = 10_000
    /// How long `/api/v1/ready` waits for the consensus loop before answering 503.
    public var readyTimeoutMilliseconds = 2_000
    /// Incidents one `GET /api/v1/incidents` examines at most (reads run on the consensus loop,
    /// so a selective filter over a large state must not stall writes). Past it the page may be
    /// short, and `next_cursor` continues where the scan stopped.
    public var maxScannedIncidentsPerList = 20_000
    /// `Retry-After` seconds sent with 503 answers (no leader, overloaded, shutting down).
    public var unavailableRetryAfterSeconds = 1
    /// Whether `makeRouterAndServer`'s server answers event ingestion in the channel pipeline
    /// (`IngestFastPath`) instead of through the router; the answers are the same either way.
    public var ingestFastPath = true

    /// The node's version string, reported by `/api/v1/ready`.
    public var version: String
    /// When the process started; `/api/v1/ready` reports the uptime from it.
    public var startedAt: Date
    /// Renders the Prometheus text exposition for `GET /metrics`; nil answers 404.
    public var metricsRenderer: (@Sendable () -> String)?
    /// The bytes of docs/api/openapi.json served at `GET /api/v1/openapi.json`; nil answers 404.
    /// `APISettings.readOpenAPIDocument(at:)` reads and checks the file at startup.
    public var openAPIDocument: [UInt8]?
    /// Sends a test message through a channel (the Notifier implements it); nil makes
    /// `POST /api/v1/channels/{id}/test` answer 501.
    public var channelTester: (@Sendable (NotificationChannel) async -> DeliveryReport)?
    /// What this node's archiver last saw (`GET /api/v1/cluster`, `archive.this_node`); nil
    /// when the node has no archive URL.
    public var archiverStatus: (@Sendable () -> ArchiverStatus)?
    /// Historical analytics from the archive (`/api/v1/analytics/history`, `top-sources`,
    /// `incidents`); nil answers them 501.
    public var archiveQueries: ArchiveQueries?
    /// Where request failures (5xx) are logged.
    public var logger: Logger
    /// The wall clock used for event timestamps the producer left out, `since`/`until` defaults
    /// and the on-call `at` default, in milliseconds since the epoch. Tests inject one.
    public var clockMilliseconds: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000) }
    /// A monotonic clock in seconds for the rate limiter. Tests inject one.
    public var monotonicSeconds: @Sendable () -> Double = {
        Double(DispatchTime.now().uptimeNanoseconds) / 1_000_000_000
    }

    public init(version: String, startedAt: Date = Date(), logger: Logger = Logger(label: "incidentd.api")) {
        self.version = version
        self.startedAt = startedAt
        self.logger = logger
    }

    /// Refuses settings that would make the API unusable.
    public func validate() throws(APISettingsError) {
        func check(_ ok: Bool, _ message: String) throws(APISettingsError) {
            if !ok { throw APISettingsError(message: message) }
        }
        try check(maxBodyBytes >= 1_024 && maxBodyBytes <= 64 << 20, "maxBodyBytes must be 1 KiB–64 MiB")
        try check(maxPagerDutyBodyBytes >= 1_024 && maxPagerDutyBodyBytes <= maxBodyBytes, "maxPagerDutyBodyBytes must be 1 KiB–maxBodyBytes")
        try check((1...1_000).contains(maxEventsPerRequest), "maxEventsPerRequest must be 1–1000")
        try check((1...1_000).contains(maxAlertsPerRequest), "maxAlertsPerRequest must be 1–1000")
        try check(rateLimitRequestsPerSecond > 0 && rateLimitRequestsPerSecond.isFinite, "rateLimitRequestsPerSecond must be positive")
        try check(rateLimitBurst >= 1 && rateLimitBurst.isFinite, "rateLimitBurst must be at least 1")
        try check(rateLimitTrackedKeys >= 1, "rateLimitTrackedKeys must be positive")
        try check(defaultPageSize >= 1 && defaultPageSize <= maxPageSize, "defaultPageSize must be 1–maxPageSize")
        try check(maxPageSize <= 10_000, "maxPageSize must be at most 10000")
        try check(channelTestWaitMilliseconds >= 0, "channelTestWaitMilliseconds must not be negative")
        try check(unavailableRetryAfterSeconds >= 1, "unavailableRetryAfterSeconds must be at least 1")
        try check(readyTimeoutMilliseconds >= 1, "readyTimeoutMilliseconds must be positive")
        try check(maxScannedIncidentsPerList >= maxPageSize, "maxScannedIncidentsPerList must be at least maxPageSize")
        try check(!version.isEmpty, "version must be set")
    }

    /// Reads the OpenAPI document at `path` and checks that it is a JSON object, so a broken
    /// file stops the node at startup instead of being served.
    public static func readOpenAPIDocument(at path: String) throws(APISettingsError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw APISettingsError(message: "cannot read the OpenAPI document at \(path)")
        }
        let bytes = [UInt8](data)
        guard case .object = try? JSONValue.parse(bytes) else {
            throw APISettingsError(message: "\(path) is not a JSON object")
        }
        return bytes
    }
}

/// Invalid `APISettings`, or an unreadable OpenAPI document.
public struct APISettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
