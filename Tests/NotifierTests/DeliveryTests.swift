import IncidentCore
import Logging
import MetricsTestKit
import Notifier
import XCTest

/// Timeouts, retries, their classification and metrics, against a real local receiver.
final class DeliveryTests: XCTestCase {
    private func webhook(_ receiver: HTTPReceiver) -> Delivery {
        Fixture.notification(Fixture.channel(.webhook, url: receiver.url()))
    }

    func testRetriesServerErrorsWithBackoffThenSucceeds() async throws {
        let receiver = try await HTTPReceiver.start { index, _ in CannedResponse(status: index < 2 ? 500 : 200) }
        let sleeps = SleepRecorder()
        try await withNotifier { notifier in
            let result = await notifier.deliver(withRetries: webhook(receiver), random: { 0.5 }, sleep: sleeps.sleep)
            XCTAssertEqual(result, .delivered)
        }
        XCTAssertEqual(receiver.requests.count, 3)
        // Ceilings 10 and 20 ms (initial 10, doubling), half of each with random = 0.5.
        XCTAssertEqual(sleeps.recorded, [5, 10])
        try await receiver.close()
    }

    func testGivesUpAfterMaxAttempts() async throws {
        let receiver = try await HTTPReceiver.start { _, _ in CannedResponse(status: 502, body: "bad gateway") }
        var config = NotifierConfig.test
        config.maxAttempts = 3
        try await withNotifier(config) { notifier in
            let result = await notifier.deliver(withRetries: webhook(receiver), sleep: SleepRecorder().sleep)
            guard case .failed(let error, true) = result else { return XCTFail("\(result)") }
            XCTAssertEqual(error, "http_status: HTTP 502: bad gateway (after 3 attempts)")
        }
        XCTAssertEqual(receiver.requests.count, 3)
        try await receiver.close()
    }

    func testClientErrorIsNotRetried() async throws {
        let receiver = try await HTTPReceiver.start { _, _ in CannedResponse(status: 400, body: "no such hook") }
        let sleeps = SleepRecorder()
        try await withNotifier { notifier in
            let result = await notifier.deliver(withRetries: webhook(receiver), sleep: sleeps.sleep)
            XCTAssertEqual(result, .failed(error: "http_status: HTTP 400: no such hook", retryable: false))
            XCTAssertEqual(result.report, .failed(error: "http_status: HTTP 400: no such hook", retryable: false))
        }
        XCTAssertEqual(receiver.requests.count, 1)
        XCTAssertEqual(sleeps.recorded, [])
        try await receiver.close()
    }

    func testRateLimitIsRetryableAndRetryAfterIsHonoured() async throws {
        let receiver = try await HTTPReceiver.start { index, _ in
            index == 0 ? CannedResponse(status: 429, headers: [("Retry-After", "1")], body: "slow down") : CannedResponse()
        }
        var config = NotifierConfig.test
        config.maxBackoffMilliseconds = 5_000
        let sleeps = SleepRecorder()
        try await withNotifier(config) { notifier in
            let single = await notifier.deliver(webhook(receiver))
            XCTAssertEqual(single, .failed(error: "http_status: HTTP 429: slow down", retryable: true))
            let outcome = await notifier.deliver(withRetries: webhook(receiver), sleep: sleeps.sleep)
            XCTAssertEqual(outcome, .delivered)
        }
        XCTAssertEqual(sleeps.recorded, [], "the second request already succeeded")
        try await receiver.close()

        let limited = try await HTTPReceiver.start { index, _ in
            index == 0 ? CannedResponse(status: 429, headers: [("Retry-After", "1")]) : CannedResponse()
        }
        try await withNotifier(config) { notifier in
            let outcome = await notifier.deliver(withRetries: webhook(limited), random: { 0 }, sleep: sleeps.sleep)
            XCTAssertEqual(outcome, .delivered)
        }
        XCTAssertEqual(sleeps.recorded, [1_000], "Retry-After: 1 outweighs the 10 ms backoff")
        try await limited.close()
    }

    func testTimeoutIsRetryable() async throws {
        let receiver = try await HTTPReceiver.start { index, _ in CannedResponse(delayMilliseconds: index == 0 ? 2_000 : 0) }
        var config = NotifierConfig.test
        config.requestTimeoutMilliseconds = 200
        try await withNotifier(config) { notifier in
            let started = ContinuousClock.now
            let result = await notifier.deliver(webhook(receiver))
            XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(1_500))
            guard case .failed(let error, true) = result else { return XCTFail("\(result)") }
            XCTAssertTrue(error.hasPrefix("timeout"), error)
            let outcome = await notifier.deliver(withRetries: webhook(receiver), sleep: SleepRecorder().sleep)
            XCTAssertEqual(outcome, .delivered)
        }
        XCTAssertEqual(receiver.requests.count, 2)
        try await receiver.close()
    }

    func testConnectionRefusedIsRetryable() async throws {
        let receiver = try await HTTPReceiver.start()
        let url = receiver.url()
        try await receiver.close()
        try await withNotifier { notifier in
            let result = await notifier.deliver(Fixture.notification(Fixture.channel(.webhook, url: url)))
            guard case .failed(let error, true) = result else { return XCTFail("\(result)") }
            XCTAssertTrue(error.hasPrefix("connection_failed"), error)
        }
    }

    func testInvalidURLIsPermanent() async throws {
        try await withNotifier { notifier in
            let result = await notifier.deliver(Fixture.notification(Fixture.channel(.webhook, url: "ftp://example.com/x")))
            guard case .failed(let error, false) = result else { return XCTFail("\(result)") }
            XCTAssertTrue(error.hasPrefix("invalid_configuration"), error)
        }
    }

    func testCircuitOpensAfterThresholdAndHalfOpensAfterTheOpenPeriod() async throws {
        let receiver = try await HTTPReceiver.start { index, _ in CannedResponse(status: index < 3 ? 500 : 200) }
        var config = NotifierConfig.test
        config.circuitFailureThreshold = 3
        config.circuitOpenMilliseconds = 300
        try await withNotifier(config) { notifier in
            for _ in 0..<3 {
                guard case .failed(_, true) = await notifier.deliver(webhook(receiver)) else { return XCTFail("expected 500") }
            }
            // Open: fails fast without touching the receiver.
            let fast = await notifier.deliver(webhook(receiver))
            guard case .failed(let error, true) = fast else { return XCTFail("\(fast)") }
            XCTAssertTrue(error.hasPrefix("circuit_open: 127.0.0.1:\(receiver.port)"), error)
            XCTAssertEqual(receiver.requests.count, 3)

            try await Task.sleep(for: .milliseconds(350))
            // Half-open: one trial goes through; its success closes the circuit.
            let trial = await notifier.deliver(webhook(receiver))
            XCTAssertEqual(trial, .delivered)
            let closed = await notifier.deliver(webhook(receiver))
            XCTAssertEqual(closed, .delivered)
        }
        XCTAssertEqual(receiver.requests.count, 5)
        try await receiver.close()
    }

    func testCircuitIgnoresPermanentFailures() async throws {
        let receiver = try await HTTPReceiver.start { _, _ in CannedResponse(status: 404) }
        var config = NotifierConfig.test
        config.circuitFailureThreshold = 2
        try await withNotifier(config) { notifier in
            for _ in 0..<4 { _ = await notifier.deliver(webhook(receiver)) }
        }
        XCTAssertEqual(receiver.requests.count, 4, "a 404 proves the endpoint is up; the circuit stays closed")
        try await receiver.close()
    }

    func testCircuitsArePerEndpoint() async throws {
        let failing = try await HTTPReceiver.start { _, _ in CannedResponse(status: 503) }
        let healthy = try await HTTPReceiver.start()
        var config = NotifierConfig.test
        config.circuitFailureThreshold = 1
        try await withNotifier(config) { notifier in
            _ = await notifier.deliver(webhook(failing))
            guard case .failed(let error, _) = await notifier.deliver(webhook(failing)), error.hasPrefix("circuit_open") else {
                return XCTFail("the failing endpoint's circuit should be open")
            }
            let outcome = await notifier.deliver(webhook(healthy))
            XCTAssertEqual(outcome, .delivered)
        }
        try await failing.close()
        try await healthy.close()
    }

    func testMetricsCountOutcomesPerChannelType() async throws {
        let receiver = try await HTTPReceiver.start { index, _ in CannedResponse(status: [200, 500, 400][index % 3]) }
        let metrics = TestMetrics()
        try await withNotifier(metrics: metrics) { notifier in
            for _ in 0..<3 { _ = await notifier.deliver(webhook(receiver)) }
        }
        for result in ["delivered", "retryable_failure", "permanent_failure"] {
            let counter = try metrics.expectCounter("incidentd_deliveries_total", [("channel", "webhook"), ("result", result)])
            XCTAssertEqual(counter.totalValue, 1, result)
        }
        XCTAssertEqual(try metrics.expectTimer("incidentd_delivery_seconds", [("channel", "webhook")]).values.count, 3)
        XCTAssertEqual(metrics.counterTotal(label: "incidentd_deliveries_total", dimensions: [("channel", "slack"), ("result", "delivered")]), 0)
        try await receiver.close()
    }

    func testConcurrencyLimitFailsFastInsteadOfQueueing() async throws {
        let receiver = try await HTTPReceiver.start { _, _ in CannedResponse(delayMilliseconds: 1_000) }
        var config = NotifierConfig.test
        config.maxConcurrentDeliveries = 1
        try await withNotifier(config) { notifier in
            let notification = webhook(receiver)
            async let slow = notifier.deliver(notification)
            // Wait until the first attempt is at the receiver (which holds its answer for 1 s).
            for _ in 0..<200 where receiver.requests.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            let rejected = await notifier.deliver(notification)
            guard case .failed(let error, true) = rejected else { return XCTFail("\(rejected)") }
            XCTAssertTrue(error.hasPrefix("overloaded"), error)
            let first = await slow
            XCTAssertEqual(first, .delivered)
        }
        XCTAssertEqual(receiver.requests.count, 1)
        try await receiver.close()
    }

    func testDeliveriesAfterShutdownFailRetryably() async throws {
        let notifier = try Notifier(config: .test, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try await notifier.shutdown()
        let result = await notifier.deliver(Fixture.notification(Fixture.channel(.email, url: "smtp://127.0.0.1:1", emailFrom: "a@b.c", emailTo: ["d@e.f"])))
        XCTAssertEqual(result, .failed(error: "shutdown: the notifier is shut down", retryable: true))
    }

    func testConfigValidation() {
        XCTAssertNoThrow(try NotifierConfig.default.validate())
        var config = NotifierConfig.default
        config.jitterFraction = 1.5
        XCTAssertThrowsError(try config.validate()) { XCTAssertEqual(($0 as? ValidationError)?.field, "jitter_fraction") }
        config = .default
        config.maxBackoffMilliseconds = 10
        XCTAssertThrowsError(try config.validate()) { XCTAssertEqual(($0 as? ValidationError)?.field, "max_backoff_milliseconds") }
        config = .default
        config.smtp.replyTimeoutMilliseconds = 0
        XCTAssertThrowsError(try config.validate()) { XCTAssertEqual(($0 as? ValidationError)?.field, "smtp.reply_timeout_milliseconds") }
        XCTAssertThrowsError(try Notifier(config: config))
    }
}
