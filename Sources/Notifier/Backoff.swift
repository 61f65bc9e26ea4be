#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IncidentCore

/// Exponential backoff with jitter for in-process retries.
///
/// Before retry `n` (1 = the first retry) the ceiling is `min(max, initial × 2^(n-1))`; the delay
/// is `ceiling × (1 − jitter × r)` for a uniform `r` in [0, 1), so `jitter = 1` is "full jitter"
/// (uniform in (0, ceiling]) and `jitter = 0` is plain doubling. A receiver's `Retry-After` (or an
/// open circuit's remaining time) raises the delay to at least that, still capped at `max`.
struct Backoff: Sendable, Equatable {
    var initialMilliseconds: Int64
    var maxMilliseconds: Int64
    var jitterFraction: Double

    init(initialMilliseconds: Int64, maxMilliseconds: Int64, jitterFraction: Double) {
        precondition(initialMilliseconds > 0 && maxMilliseconds >= initialMilliseconds)
        precondition(jitterFraction >= 0 && jitterFraction <= 1)
        self.initialMilliseconds = initialMilliseconds
        self.maxMilliseconds = maxMilliseconds
        self.jitterFraction = jitterFraction
    }

    init(_ config: NotifierConfig) {
        self.init(
            initialMilliseconds: config.initialBackoffMilliseconds, maxMilliseconds: config.maxBackoffMilliseconds,
            jitterFraction: config.jitterFraction)
    }

    func ceiling(beforeRetry retry: Int) -> Int64 {
        precondition(retry >= 1)
        var value = initialMilliseconds
        for _ in 1..<min(retry, 63) {
            if value >= maxMilliseconds { break }
            value = value.multipliedReportingOverflow(by: 2).overflow ? maxMilliseconds : value * 2
        }
        return min(value, maxMilliseconds)
    }

    /// `random` must be in [0, 1); out-of-range values are clamped.
    func delay(beforeRetry retry: Int, random: Double, retryAfterMilliseconds: Int64? = nil) -> Int64 {
        let ceiling = Double(ceiling(beforeRetry: retry))
        let r = min(max(random, 0), 1)
        var delay = Int64((ceiling * (1 - jitterFraction * r)).rounded(.up))
        if let retryAfterMilliseconds { delay = max(delay, retryAfterMilliseconds) }
        return min(max(delay, 0), maxMilliseconds)
    }
}

/// The system's wall clock as a `Timestamp` (signatures, `sent_at`, email `Date`).
public enum WallClock {
    @Sendable
    public static func now() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(millisecondsSinceEpoch: Int64(time.tv_sec) * 1_000 + Int64(time.tv_nsec) / 1_000_000)
    }
}
