import XCTest

@testable import Notifier

/// The circuit state machine, stepped with an explicit clock.
final class CircuitBreakerTests: XCTestCase {
    func testOpensAfterConsecutiveFailuresOnly() {
        var circuit = CircuitBreaker(failureThreshold: 3, openMilliseconds: 1_000)
        circuit.recordFailure(now: 0)
        circuit.recordFailure(now: 1)
        circuit.recordSuccess()  // resets the streak
        circuit.recordFailure(now: 2)
        circuit.recordFailure(now: 3)
        XCTAssertEqual(circuit.admit(now: 4), .allowed)
        circuit.recordFailure(now: 4)
        XCTAssertEqual(circuit.state, .open(until: 1_004))
        XCTAssertEqual(circuit.admit(now: 500), .rejected(retryAfterMilliseconds: 504))
    }

    func testHalfOpenAllowsOneTrialThenClosesOnSuccess() {
        var circuit = CircuitBreaker(failureThreshold: 1, openMilliseconds: 100)
        circuit.recordFailure(now: 0)
        XCTAssertEqual(circuit.admit(now: 100), .trial)
        XCTAssertEqual(circuit.admit(now: 101), .rejected(retryAfterMilliseconds: 99), "only one trial at a time")
        circuit.recordSuccess()
        XCTAssertEqual(circuit.admit(now: 102), .allowed)
    }

    func testFailedTrialReopens() {
        var circuit = CircuitBreaker(failureThreshold: 2, openMilliseconds: 100)
        circuit.recordFailure(now: 0)
        circuit.recordFailure(now: 0)
        XCTAssertEqual(circuit.admit(now: 150), .trial)
        circuit.recordFailure(now: 160)
        XCTAssertEqual(circuit.state, .open(until: 260))
        XCTAssertEqual(circuit.admit(now: 200), .rejected(retryAfterMilliseconds: 60))
    }

    func testTrialThatNeverReportsDoesNotHoldTheCircuit() {
        var circuit = CircuitBreaker(failureThreshold: 1, openMilliseconds: 100)
        circuit.recordFailure(now: 0)
        XCTAssertEqual(circuit.admit(now: 100), .trial)
        XCTAssertEqual(circuit.admit(now: 200), .trial)
    }

    func testRegistryIsBoundedAndKeepsOpenCircuits() {
        let circuits = CircuitBreakers(failureThreshold: 1, openMilliseconds: 1_000, maxEndpoints: 2)
        _ = circuits.admit("a:1", now: 0)
        circuits.record("a:1", success: false, now: 0)
        _ = circuits.admit("b:1", now: 0)
        _ = circuits.admit("c:1", now: 0)  // evicts pristine b, keeps open a
        XCTAssertEqual(circuits.state(of: "a:1"), .open(until: 1_000))
        XCTAssertNil(circuits.state(of: "b:1"))
        XCTAssertEqual(circuits.state(of: "c:1"), .closed(consecutiveFailures: 0))
    }
}

/// Exponential backoff with jitter.
final class BackoffTests: XCTestCase {
    func testCeilingDoublesUpToTheCap() {
        let backoff = Backoff(initialMilliseconds: 200, maxMilliseconds: 30_000, jitterFraction: 1)
        XCTAssertEqual((1...10).map { backoff.ceiling(beforeRetry: $0) }, [200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000])
        XCTAssertEqual(backoff.ceiling(beforeRetry: 10_000), 30_000)
    }

    func testFullJitterSpansZeroToCeiling() {
        let backoff = Backoff(initialMilliseconds: 200, maxMilliseconds: 30_000, jitterFraction: 1)
        XCTAssertEqual(backoff.delay(beforeRetry: 3, random: 0), 800)
        XCTAssertEqual(backoff.delay(beforeRetry: 3, random: 0.75), 200)
        XCTAssertEqual(backoff.delay(beforeRetry: 3, random: 0.999_999), 1)
    }

    func testPartialAndNoJitter() {
        XCTAssertEqual(Backoff(initialMilliseconds: 100, maxMilliseconds: 1_000, jitterFraction: 0).delay(beforeRetry: 2, random: 0.9), 200)
        XCTAssertEqual(Backoff(initialMilliseconds: 100, maxMilliseconds: 1_000, jitterFraction: 0.5).delay(beforeRetry: 2, random: 1), 100)
    }

    func testRetryAfterRaisesTheDelayWithinTheCap() {
        let backoff = Backoff(initialMilliseconds: 100, maxMilliseconds: 5_000, jitterFraction: 1)
        XCTAssertEqual(backoff.delay(beforeRetry: 1, random: 0.5, retryAfterMilliseconds: 2_000), 2_000)
        XCTAssertEqual(backoff.delay(beforeRetry: 1, random: 0.5, retryAfterMilliseconds: 60_000), 5_000)
    }
}
