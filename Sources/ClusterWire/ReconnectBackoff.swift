/// Exponential reconnect delays with jitter (docs/PROTOCOL.md §2.9): the n-th consecutive
/// failure waits a uniform random time in [d/2, d] where d = min(max, min · 2ⁿ). Jitter keeps a
/// restarted node from being hit by every peer in the same instant.
struct ReconnectBackoff {
    let minimumMilliseconds: Int
    let maximumMilliseconds: Int
    private(set) var failures = 0

    init(minimumMilliseconds: Int, maximumMilliseconds: Int) {
        self.minimumMilliseconds = minimumMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
    }

    /// The delay before the next attempt; counts one more failure.
    mutating func nextDelayMilliseconds<G: RandomNumberGenerator>(using generator: inout G) -> Int {
        let ceiling = Self.ceiling(min: minimumMilliseconds, max: maximumMilliseconds, failures: failures)
        failures += 1
        return Int.random(in: (ceiling + 1) / 2...ceiling, using: &generator)
    }

    mutating func reset() { failures = 0 }

    static func ceiling(min: Int, max: Int, failures: Int) -> Int {
        // 2^30 · min overflows nothing and is past any sane maximum.
        let doublings = Swift.min(failures, 30)
        let (scaled, overflow) = min.multipliedReportingOverflow(by: 1 << doublings)
        return overflow ? max : Swift.min(max, scaled)
    }
}
