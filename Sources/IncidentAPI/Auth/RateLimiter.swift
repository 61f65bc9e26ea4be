import Locking

/// Per-key token buckets: each API key may spend `burst` requests at once and `rate` per second
/// sustained. Buckets live in this node's memory (a client spreading requests over several nodes
/// gets each node's allowance, which bounds per-node load, the thing the limit protects).
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: Double
    }

    private let buckets = Lock<[String: Bucket]>([:])
    private let rate: Double
    private let burst: Double
    private let capacity: Int
    private let now: @Sendable () -> Double

    init(rate: Double, burst: Double, trackedKeys: Int, now: @escaping @Sendable () -> Double) {
        self.rate = rate
        self.burst = burst
        self.capacity = trackedKeys
        self.now = now
    }

    /// Takes a token for `key`. Returns nil when allowed, otherwise the whole seconds until a
    /// token is available (the `Retry-After` value, at least 1).
    func take(_ key: String) -> Int? {
        let time = now()
        return buckets.withLock { buckets -> Int? in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updatedAt: time)
            bucket.tokens = min(burst, bucket.tokens + max(0, time - bucket.updatedAt) * rate)
            bucket.updatedAt = time
            defer {
                if buckets[key] == nil && buckets.count >= capacity { evict(&buckets, at: time) }
                buckets[key] = bucket
            }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            let wait = (1 - bucket.tokens) / rate
            return wait.isFinite ? max(1, Int(min(wait, 86_400).rounded(.up))) : 86_400
        }
    }

    /// Makes room: buckets that have refilled completely carry no information and go first;
    /// if none has, the least recently used one goes.
    private func evict(_ buckets: inout [String: Bucket], at time: Double) {
        let full = buckets.filter { $0.value.tokens + (time - $0.value.updatedAt) * rate >= burst }.map(\.key)
        if !full.isEmpty {
            for key in full { buckets[key] = nil }
        } else if let oldest = buckets.min(by: { $0.value.updatedAt < $1.value.updatedAt })?.key {
            buckets[oldest] = nil
        }
    }
}
