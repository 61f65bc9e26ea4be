import DequeModule
import IncidentCore

/// Answers to recent request ids, part of the replicated state: a retried request (same
/// `Idempotency-Key`, or a write re-sent after a leader change) gets the first answer and is not
/// applied again. Bounded by count and by age in log time, both evicted oldest first, so every
/// replica evicts the same entries at the same log positions.
struct RequestTable: Sendable {
    struct Remembered: Sendable, Equatable {
        var index: UInt64
        var stamp: Timestamp
        /// The encoded answer: `[0][CommandResult]` or `[1][CommandError]`; empty when the
        /// answer is not kept here (node-made ids: the node that made the id keeps it, see
        /// `OwnWrites`).
        var answer: [UInt8]
    }

    /// A request id with its hash, computed once: a write's id is looked up, then remembered, and
    /// evicted much later, and each of those (twice each: the shard, then the slot) would
    /// otherwise hash the whole string again.
    struct Key: Hashable, Sendable {
        let id: String
        private let hash: Int

        init(_ id: String) {
            self.id = id
            hash = id.hashValue
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
        static func == (lhs: Key, rhs: Key) -> Bool { lhs.hash == rhs.hash && lhs.id == rhs.id }
    }

    /// Sharded rather than one `Dictionary`: a snapshot takes a copy of the whole replicated
    /// state, and the first write after it used to copy (and, at the table's full size, rehash)
    /// all 100,000 entries on the consensus loop — 15–35 ms turns, every snapshot, which set p99
    /// at 10,000 events/s. A copy now shares the shards and a write copies only its own.
    private(set) var answers = ShardedDictionary<Key, Remembered>()
    /// Request ids in the order they were applied, with their stamps (milliseconds), so that
    /// eviction by age needs no lookup.
    private var order: Deque<(key: Key, stamp: Int64)> = []
    let capacity: Int
    let retentionMilliseconds: Int64

    init(capacity: Int, retentionMilliseconds: Int64) {
        self.capacity = capacity
        self.retentionMilliseconds = retentionMilliseconds
    }

    var count: Int { answers.count }

    func answer(for key: Key) -> Remembered? { answers[key] }

    /// Remembers `key` as applied at `index`, with its answer when `outcome` is given.
    mutating func remember(_ key: Key, index: UInt64, stamp: Timestamp, outcome: Outcome?) {
        evict(now: stamp)
        var answer: [UInt8] = []
        if let outcome {
            var writer = BinaryWriter()
            Self.encode(outcome, to: &writer)
            answer = writer.compactBytes
        }
        answers[key] = Remembered(index: index, stamp: stamp, answer: answer)
        order.append((key, stamp.millisecondsSinceEpoch))
        while order.count > capacity, let oldest = order.popFirst() { answers[oldest.key] = nil }
    }

    private mutating func evict(now: Timestamp) {
        while let oldest = order.first, now.millisecondsSinceEpoch - oldest.stamp > retentionMilliseconds {
            order.removeFirst()
            answers[oldest.key] = nil
        }
    }

    /// Decodes a remembered answer as an `Outcome` without effects (they happened the first time).
    static func outcome(of remembered: Remembered) throws(DecodingError) -> Outcome {
        var reader = BinaryReader(remembered.answer)
        return try decodeOutcome(from: &reader)
    }

    /// An outcome as a client sees it: `[0][CommandResult]` or `[1][CommandError]` (effects are
    /// the applying node's business and are not kept). Shared with forwarded answers.
    static func encode(_ outcome: Outcome, to writer: inout BinaryWriter) {
        switch outcome {
        case .success(let applied):
            writer.write(UInt8(0))
            applied.result.encode(to: &writer)
        case .failure(let error):
            writer.write(UInt8(1))
            error.encode(to: &writer)
        }
    }

    static func decodeOutcome(from reader: inout BinaryReader) throws(DecodingError) -> Outcome {
        let offset = reader.offset
        switch try reader.readByte() {
        case 0: return .success(Applied(result: try CommandResult(from: &reader), effects: Effects()))
        case 1: return .failure(try CommandError(from: &reader))
        case let tag: throw DecodingError(.invalidTag, at: offset, "outcome \(tag)")
        }
    }

    // MARK: - Snapshot

    func encode(to writer: inout BinaryWriter) {
        writer.write(varint: UInt64(order.count))
        for (key, _) in order {
            let entry = answers[key]!
            writer.write(string: key.id)
            writer.write(varint: entry.index)
            writer.write(zigzag: entry.stamp.millisecondsSinceEpoch)
            writer.write(blob: entry.answer)
        }
    }

    mutating func decode(from reader: inout BinaryReader) throws(DecodingError) {
        let count = try reader.readCount(minimumElementSize: 4)
        answers.removeAll()
        order = []
        for _ in 0..<count {
            let id = try reader.readString()
            let index = try reader.readVarint()
            let stamp = Timestamp(millisecondsSinceEpoch: try reader.readZigzag())
            let answer = try reader.readBlob()
            let key = Key(id)
            answers[key] = Remembered(index: index, stamp: stamp, answer: answer)
            order.append((key, stamp.millisecondsSinceEpoch))
        }
    }
}
