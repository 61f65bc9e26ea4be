/// A dictionary split into `shardCount` standard dictionaries by the top bits of each key's hash.
///
/// A copy (a snapshot takes one of the whole replicated state) shares every shard, and the first
/// write to a shard afterwards copies that shard only: 1/`shardCount` of the table, not all of it.
/// Lookups stay those of a `Dictionary`: one hash to pick the shard, one probe in it. (A
/// persistent hash trie gives the same copy behaviour, but its lookups walk several nodes; on the
/// request table at 10,000 events/s they cost more CPU than applying the incident commands.)
///
/// Iteration order is not defined; callers that need one keep it themselves.
struct ShardedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    static var shardBits: Int { 9 }
    static var shardCount: Int { 1 << shardBits }

    private var shards: [[Key: Value]] = Array(repeating: [:], count: shardCount)
    private(set) var count = 0

    init() {}

    /// The shard of `key`: the top bits of its hash. `Dictionary` places keys by the low bits of
    /// its own seeded hash, so a shard's keys still spread over its buckets.
    private static func shard(of key: Key) -> Int {
        Int(truncatingIfNeeded: UInt(bitPattern: key.hashValue) >> UInt(UInt.bitWidth - shardBits))
    }

    subscript(key: Key) -> Value? {
        get { shards[Self.shard(of: key)][key] }
        set {
            let shard = Self.shard(of: key)
            if let newValue {
                if shards[shard].updateValue(newValue, forKey: key) == nil { count += 1 }
            } else if shards[shard].removeValue(forKey: key) != nil {
                count -= 1
            }
        }
    }

    /// Removes `key`; returns the value it had.
    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        let removed = shards[Self.shard(of: key)].removeValue(forKey: key)
        if removed != nil { count -= 1 }
        return removed
    }

    mutating func removeAll() {
        shards = Array(repeating: [:], count: Self.shardCount)
        count = 0
    }
}
