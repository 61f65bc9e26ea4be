import IncidentCore

/// Limits and timing of outbound notification delivery.
///
/// Every field is a bound: a delivery never waits, retries or queues beyond what is named here.
/// `NotifierConfig.default` is what a node uses when nothing is configured; `validate()` rejects
/// values that would disable a bound (zero timeouts, zero attempts, negative jitter).
public struct NotifierConfig: Sendable, Equatable {
    /// Time one HTTP delivery (connect, send, response head and body) may take. Default 5000.
    /// Too low fails healthy but slow receivers (they count as retryable timeouts); too high
    /// holds a dispatcher slot while a receiver hangs.
    public var requestTimeoutMilliseconds: Int64
    /// Attempts `deliver(withRetries:)` makes in process, the first included. Default 5. The
    /// replicated outbox has its own bound (`maxDeliveryAttempts`) for `deliver(_:)` callers.
    public var maxAttempts: Int
    /// Backoff before the first retry; doubles per retry. Default 200.
    public var initialBackoffMilliseconds: Int64
    /// Upper bound on one backoff (and on an honoured `Retry-After`). Default 30000.
    public var maxBackoffMilliseconds: Int64
    /// Share of each backoff that is randomised, 0...1. Default 1.0 ("full jitter": uniform in
    /// (0, backoff]), which spreads retries of many nodes after a shared outage; 0 makes backoff
    /// deterministic and lets retries of many intents arrive together.
    public var jitterFraction: Double
    /// Consecutive retryable failures at one endpoint (host:port) that open its circuit. Default 5.
    public var circuitFailureThreshold: Int
    /// How long an open circuit fails deliveries fast before one trial is let through. Default 30000.
    public var circuitOpenMilliseconds: Int64
    /// Endpoints whose circuit state is remembered; beyond it the least useful entry is dropped
    /// (closed circuits first). Default 4096.
    public var maxTrackedEndpoints: Int
    /// Deliveries in flight at once in this process; over it a delivery fails fast with the
    /// retryable `overloaded` error instead of queueing. Default 64.
    public var maxConcurrentDeliveries: Int
    /// Response body bytes read from a receiver (kept for error messages). Default 16384.
    public var maxResponseBodyBytes: Int
    /// Base of incident links (`<base>/incidents/<id>`), e.g. `https://incidents.example.com`.
    /// Empty = messages carry no links. Default empty.
    public var dashboardBaseURL: String
    /// `User-Agent` of HTTP deliveries. Default `incidentd-notifier/1.0`.
    public var userAgent: String
    public var smtp: SMTPSettings

    public init(
        requestTimeoutMilliseconds: Int64 = 5_000, maxAttempts: Int = 5, initialBackoffMilliseconds: Int64 = 200,
        maxBackoffMilliseconds: Int64 = 30_000, jitterFraction: Double = 1.0, circuitFailureThreshold: Int = 5,
        circuitOpenMilliseconds: Int64 = 30_000, maxTrackedEndpoints: Int = 4_096, maxConcurrentDeliveries: Int = 64,
        maxResponseBodyBytes: Int = 16_384, dashboardBaseURL: String = "", userAgent: String = "incidentd-notifier/1.0",
        smtp: SMTPSettings = .default
    ) {
        self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
        self.maxAttempts = maxAttempts
        self.initialBackoffMilliseconds = initialBackoffMilliseconds
        self.maxBackoffMilliseconds = maxBackoffMilliseconds
        self.jitterFraction = jitterFraction
        self.circuitFailureThreshold = circuitFailureThreshold
        self.circuitOpenMilliseconds = circuitOpenMilliseconds
        self.maxTrackedEndpoints = maxTrackedEndpoints
        self.maxConcurrentDeliveries = maxConcurrentDeliveries
        self.maxResponseBodyBytes = maxResponseBodyBytes
        self.dashboardBaseURL = dashboardBaseURL
        self.userAgent = userAgent
        self.smtp = smtp
    }

    public static let `default` = NotifierConfig()

    public func validate() throws(ValidationError) {
        try positive(requestTimeoutMilliseconds, "request_timeout_milliseconds")
        try positive(Int64(maxAttempts), "max_attempts")
        try positive(initialBackoffMilliseconds, "initial_backoff_milliseconds")
        if maxBackoffMilliseconds < initialBackoffMilliseconds {
            throw ValidationError(field: "max_backoff_milliseconds", reason: "must be at least initial_backoff_milliseconds")
        }
        guard jitterFraction >= 0, jitterFraction <= 1 else {
            throw ValidationError(field: "jitter_fraction", reason: "must be within 0...1")
        }
        try positive(Int64(circuitFailureThreshold), "circuit_failure_threshold")
        try positive(circuitOpenMilliseconds, "circuit_open_milliseconds")
        try positive(Int64(maxTrackedEndpoints), "max_tracked_endpoints")
        try positive(Int64(maxConcurrentDeliveries), "max_concurrent_deliveries")
        try positive(Int64(maxResponseBodyBytes), "max_response_body_bytes")
        let base = dashboardBaseURL.lowercased()
        if !base.isEmpty && !(base.hasPrefix("http://") || base.hasPrefix("https://")) {
            throw ValidationError(field: "dashboard_base_url", reason: "must be an http(s) URL when set")
        }
        if userAgent.isEmpty || userAgent.utf8.contains(where: { $0 < 0x20 }) {
            throw ValidationError(field: "user_agent", reason: "must be non-empty printable text")
        }
        do { try smtp.validate() } catch { throw error.nested(under: "smtp") }
    }
}

/// How the SMTP client talks to mail servers (`smtp://` and `smtps://` email channels).
public struct SMTPSettings: Sendable, Equatable {
    /// The name we greet with in `EHLO`. Default `localhost`; set the node's DNS name so strict
    /// servers accept it.
    public var heloName: String
    /// Time to establish TCP (and, for `smtps://`, TLS). Default 10000.
    public var connectTimeoutMilliseconds: Int64
    /// Time to wait for each server reply, including the one after the message body. Default
    /// 30000 (RFC 5321 suggests minutes; we prefer retrying through the outbox).
    public var replyTimeoutMilliseconds: Int64
    /// Largest message (after encoding) we send. Default 1 MiB.
    public var maxMessageBytes: Int
    /// Send `AUTH PLAIN` over a connection without TLS to a non-loopback host. Default false:
    /// credentials would cross the network in clear text.
    public var allowPlaintextAuthentication: Bool

    public init(
        heloName: String = "localhost", connectTimeoutMilliseconds: Int64 = 10_000,
        replyTimeoutMilliseconds: Int64 = 30_000, maxMessageBytes: Int = 1_048_576,
        allowPlaintextAuthentication: Bool = false
    ) {
        self.heloName = heloName
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.replyTimeoutMilliseconds = replyTimeoutMilliseconds
        self.maxMessageBytes = maxMessageBytes
        self.allowPlaintextAuthentication = allowPlaintextAuthentication
    }

    public static let `default` = SMTPSettings()

    public func validate() throws(ValidationError) {
        let allowed = heloName.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x2D || byte == 0x2E
                || byte == 0x5B || byte == 0x5D || byte == 0x3A
        }
        if heloName.isEmpty || heloName.utf8.count > 255 || !allowed {
            throw ValidationError(field: "helo_name", reason: "must be a domain name or address literal")
        }
        try positive(connectTimeoutMilliseconds, "connect_timeout_milliseconds")
        try positive(replyTimeoutMilliseconds, "reply_timeout_milliseconds")
        try positive(Int64(maxMessageBytes), "max_message_bytes")
    }
}

private func positive(_ value: Int64, _ field: String) throws(ValidationError) {
    if value <= 0 { throw ValidationError(field: field, reason: "must be positive") }
}
