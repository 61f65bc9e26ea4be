import Locking

/// The circuit of one endpoint: closed (deliver, count consecutive failures) → open (fail fast
/// for `openMilliseconds`) → half-open (one trial; success closes, failure opens again).
///
/// A pure value driven by a monotonic clock in milliseconds, so tests step it without sleeping.
/// Only failures that say the endpoint is unwell (retryable ones) count; a 4xx answer proves the
/// endpoint is up and counts as a success here.
struct CircuitBreaker: Sendable, Equatable {
    enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case open(until: Int64)
        /// One trial is in flight since `trialStartedAt`.
        case halfOpen(trialStartedAt: Int64)
    }

    /// What the breaker lets a delivery do.
    enum Admission: Sendable, Equatable {
        case allowed
        /// The single half-open trial: its outcome decides the circuit.
        case trial
        case rejected(retryAfterMilliseconds: Int64)
    }

    var failureThreshold: Int
    var openMilliseconds: Int64
    private(set) var state: State = .closed(consecutiveFailures: 0)

    init(failureThreshold: Int, openMilliseconds: Int64) {
        precondition(failureThreshold > 0 && openMilliseconds > 0)
        self.failureThreshold = failureThreshold
        self.openMilliseconds = openMilliseconds
    }

    mutating func admit(now: Int64) -> Admission {
        switch state {
        case .closed:
            return .allowed
        case .open(let until):
            if now < until { return .rejected(retryAfterMilliseconds: until - now) }
            state = .halfOpen(trialStartedAt: now)
            return .trial
        case .halfOpen(let started):
            // A trial that never reported (its task vanished) must not hold the circuit forever.
            if now - started >= openMilliseconds {
                state = .halfOpen(trialStartedAt: now)
                return .trial
            }
            return .rejected(retryAfterMilliseconds: max(1, started + openMilliseconds - now))
        }
    }

    mutating func recordSuccess() {
        state = .closed(consecutiveFailures: 0)
    }

    mutating func recordFailure(now: Int64) {
        switch state {
        case .closed(let failures):
            state = failures + 1 >= failureThreshold ? .open(until: now + openMilliseconds) : .closed(consecutiveFailures: failures + 1)
        case .halfOpen:
            state = .open(until: now + openMilliseconds)
        case .open:
            break  // a delivery admitted before the circuit opened; it already counts as open
        }
    }

    /// Closed with no failures: forgetting it loses nothing.
    var isPristine: Bool { state == .closed(consecutiveFailures: 0) }
}

/// Circuits of all endpoints, shared by concurrent deliveries; bounded by `maxEndpoints`.
final class CircuitBreakers: Sendable {
    private let circuits: Lock<[String: CircuitBreaker]>
    private let failureThreshold: Int
    private let openMilliseconds: Int64
    private let maxEndpoints: Int

    init(failureThreshold: Int, openMilliseconds: Int64, maxEndpoints: Int) {
        precondition(maxEndpoints > 0)
        self.circuits = Lock([:])
        self.failureThreshold = failureThreshold
        self.openMilliseconds = openMilliseconds
        self.maxEndpoints = maxEndpoints
    }

    func admit(_ endpoint: String, now: Int64) -> CircuitBreaker.Admission {
        circuits.withLock { circuits in
            if circuits[endpoint] == nil {
                Self.makeRoom(in: &circuits, limit: maxEndpoints)
                circuits[endpoint] = CircuitBreaker(failureThreshold: failureThreshold, openMilliseconds: openMilliseconds)
            }
            return circuits[endpoint]!.admit(now: now)
        }
    }

    func record(_ endpoint: String, success: Bool, now: Int64) {
        circuits.withLock { circuits in
            guard var circuit = circuits[endpoint] else { return }
            if success { circuit.recordSuccess() } else { circuit.recordFailure(now: now) }
            circuits[endpoint] = circuit
        }
    }

    func state(of endpoint: String) -> CircuitBreaker.State? {
        circuits.withLock { $0[endpoint]?.state }
    }

    /// Drops pristine circuits first; if every circuit holds state, the one that reopens soonest.
    private static func makeRoom(in circuits: inout [String: CircuitBreaker], limit: Int) {
        guard circuits.count >= limit else { return }
        circuits = circuits.filter { !$0.value.isPristine }
        guard circuits.count >= limit else { return }
        let victim = circuits.min { rank($0.value.state) < rank($1.value.state) }!.key
        circuits[victim] = nil
    }

    private static func rank(_ state: CircuitBreaker.State) -> Int64 {
        switch state {
        case .closed(let failures): return Int64.min + Int64(failures)
        case .open(let until): return until
        case .halfOpen(let started): return started
        }
    }
}
