import AsyncHTTPClient
import CoreMetrics
import IncidentCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Delivers outbox notifications over webhook, Slack, PagerDuty Events v2 and SMTP.
///
/// `deliver(_:)` makes exactly one attempt, for the replicated outbox, which counts attempts and
/// decides on retries; `deliver(withRetries:)` retries in process with backoff and jitter. Every
/// attempt is bounded by a timeout, passes a per-endpoint circuit breaker, carries the intent's
/// idempotency key and is counted in metrics. Owns one `HTTPClient`; call `shutdown()` once
/// before dropping the notifier (AsyncHTTPClient asserts on a client dropped while running).
///
/// Thread-safe: one notifier serves every dispatcher task of a node.
public final class Notifier: Sendable {
    public let config: NotifierConfig
    private let http: HTTPClient
    private let sender: HTTPSender
    private let smtp: SMTPClient
    private let circuits: CircuitBreakers
    private let metrics: DeliveryMetrics
    private let inFlight = Atomic<Int>(0)
    private let isShutDown = Atomic<Bool>(false)
    private let logger: Logger
    private let now: @Sendable () -> Timestamp

    /// - Parameters:
    ///   - eventLoopGroup: runs HTTP and SMTP connections (the process-wide singleton by default).
    ///   - metricsFactory: where counters go; the bootstrapped `MetricsSystem` by default.
    ///   - now: the wall clock for signatures, `sent_at` and email dates (circuits use a monotonic clock).
    public init(
        config: NotifierConfig = .default, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "incidentd.notifier"), metricsFactory: any MetricsFactory = MetricsSystem.factory,
        now: @escaping @Sendable () -> Timestamp = WallClock.now
    ) throws(ValidationError) {
        try config.validate()
        self.config = config
        let timeout = TimeAmount.milliseconds(config.requestTimeoutMilliseconds)
        var httpConfig = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: HTTPClient.Configuration.Timeout(connect: timeout, read: timeout))
        httpConfig.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = config.maxConcurrentDeliveries
        http = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: httpConfig, backgroundActivityLogger: logger)
        sender = HTTPSender(
            client: http, timeoutMilliseconds: config.requestTimeoutMilliseconds, maxResponseBodyBytes: config.maxResponseBodyBytes)
        smtp = SMTPClient(group: eventLoopGroup, settings: config.smtp)
        circuits = CircuitBreakers(
            failureThreshold: config.circuitFailureThreshold, openMilliseconds: config.circuitOpenMilliseconds,
            maxEndpoints: config.maxTrackedEndpoints)
        metrics = DeliveryMetrics(factory: metricsFactory)
        self.logger = logger
        self.now = now
    }

    /// One delivery attempt. Never throws: every failure is a `DeliveryResult.failed` saying
    /// whether a later attempt may succeed.
    public func deliver(_ notification: OutboundNotification) async -> DeliveryResult {
        switch await attempt(notification) {
        case .success: return .delivered
        case .failure(let error): return DeliveryResult(error)
        }
    }

    /// Up to `config.maxAttempts` attempts, retrying retryable failures after `Backoff` delays.
    ///
    /// - Parameters:
    ///   - random: uniform values in [0, 1) for jitter (inject a fixed sequence in tests).
    ///   - sleep: waits the given milliseconds; if it throws (cancellation), the last failure is
    ///     returned without further attempts.
    public func deliver(
        withRetries notification: OutboundNotification,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        sleep: @escaping @Sendable (_ milliseconds: Int64) async throws -> Void = { try await Task.sleep(for: .milliseconds($0)) }
    ) async -> DeliveryResult {
        let backoff = Backoff(config)
        var current = notification
        var attempts = 0
        while true {
            attempts += 1
            guard case .failure(var failure) = await attempt(current) else { return .delivered }
            if attempts > 1 { failure.detail += " (after \(attempts) attempts)" }
            guard failure.isRetryable, attempts < config.maxAttempts else { return DeliveryResult(failure) }
            let delay = backoff.delay(beforeRetry: attempts, random: random(), retryAfterMilliseconds: failure.retryAfterMilliseconds)
            do { try await sleep(delay) } catch { return DeliveryResult(failure) }
            current.attempt += 1
        }
    }

    /// Closes pooled connections; deliveries after this fail with the retryable `shutdown` error
    /// (another node, or this one after a restart, delivers them). Call exactly once.
    public func shutdown() async throws {
        isShutDown.store(true, ordering: .relaxed)
        try await http.shutdown()
    }

    /// The circuit state of `host:port` (for tests and diagnostics), nil if it is not tracked.
    func circuitState(_ endpoint: String) -> CircuitBreaker.State? { circuits.state(of: endpoint) }

    func attempt(_ notification: OutboundNotification) async -> Result<Void, DeliveryError> {
        let started = NIODeadline.now()
        let result = await boundedAttempt(notification)
        metrics.record(notification.channel.type, result, nanoseconds: (NIODeadline.now() - started).nanoseconds)
        log(notification, result)
        return result
    }

    private func boundedAttempt(_ notification: OutboundNotification) async -> Result<Void, DeliveryError> {
        guard !isShutDown.load(ordering: .relaxed) else {
            return .failure(DeliveryError(.shutdown, "the notifier is shut down", retryable: true))
        }
        guard inFlight.add(1, ordering: .relaxed).newValue <= config.maxConcurrentDeliveries else {
            inFlight.subtract(1, ordering: .relaxed)
            return .failure(DeliveryError(.overloaded, "\(config.maxConcurrentDeliveries) deliveries in flight", retryable: true))
        }
        defer { inFlight.subtract(1, ordering: .relaxed) }
        let context = MessageContext(notification, dashboardBaseURL: config.dashboardBaseURL, sentAt: now())
        let planned: Result<PlannedDelivery, DeliveryError> = PlannedDelivery.plan(context, userAgent: config.userAgent)
        guard case .success(let plan) = planned else { return planned.map { _ in () } }
        let key = plan.endpoint.description
        let admission = circuits.admit(key, now: monotonicMilliseconds())
        if case .rejected(let wait) = admission {
            return .failure(DeliveryError(.circuitOpen, "\(key) failed repeatedly; retry in \(wait) ms", retryable: true, retryAfterMilliseconds: wait))
        }
        let result: Result<Void, DeliveryError>
        switch plan.transport {
        case .http(let request):
            result = await sender.send(request)
        case .email(let message):
            let channel = notification.channel
            result = await smtp.send(message, to: plan.endpoint, username: channel.username, password: channel.secret)
        }
        // A permanent failure is an answer from a working endpoint: it does not count against it.
        let healthy: Bool
        if case .failure(let error) = result { healthy = !error.isRetryable } else { healthy = true }
        circuits.record(key, success: healthy, now: monotonicMilliseconds())
        return result
    }

    private func log(_ notification: OutboundNotification, _ result: Result<Void, DeliveryError>) {
        var metadata: Logger.Metadata = [
            "incident": "\(notification.incident.id)", "notification": "\(notification.intent.id)",
            "channel": "\(notification.channel.id)", "kind": "\(notification.intent.kind.name)",
            "attempt": "\(notification.attempt)",
        ]
        switch result {
        case .success:
            logger.debug("notification delivered", metadata: metadata)
        case .failure(let error):
            metadata["code"] = "\(error.code)"
            metadata["retryable"] = "\(error.isRetryable)"
            logger.warning("notification failed: \(error)", metadata: metadata)
        }
    }

    private func monotonicMilliseconds() -> Int64 { Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000) }
}

/// A delivery ready to go: the endpoint (circuit key) and what to send there.
struct PlannedDelivery: Sendable {
    enum Transport: Sendable {
        case http(OutboundRequest)
        case email(EmailMessage)
    }

    var endpoint: Endpoint
    var transport: Transport

    /// Builds the payload for the channel's type; configuration problems fail here, permanently.
    static func plan(_ context: MessageContext, userAgent: String) -> Result<PlannedDelivery, DeliveryError> {
        let channel = context.notification.channel
        switch channel.type {
        case .email:
            return Endpoint.parse(channel.url, schemes: ["smtp", "smtps"]).flatMap { endpoint in
                EmailMessage.build(context).map { PlannedDelivery(endpoint: endpoint, transport: .email($0)) }
            }
        case .webhook, .slack, .pagerduty:
            let built: Result<OutboundRequest, DeliveryError>
            switch channel.type {
            case .webhook: built = WebhookPayload.request(context, userAgent: userAgent)
            case .slack: built = SlackMessage.request(context, userAgent: userAgent)
            default: built = PagerDutyEvent.request(context, userAgent: userAgent)
            }
            return built.flatMap { request in
                Endpoint.parse(request.url, schemes: ["http", "https"]).map { PlannedDelivery(endpoint: $0, transport: .http(request)) }
            }
        }
    }
}
