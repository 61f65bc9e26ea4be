import DequeModule
import IncidentCore

/// Answers to recent request ids, part of the replicated state: a retried request (same
/// `Idempotency-Key`, or a write re-sent after a leader change) gets the first answer and is not
/// applied again. Bounded by count and by age in log time, both evicted oldest first, so every
/// replica evicts the same entries at the same log positions.
struct RequestTable: Sendable {
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

    /// Where each remembered id's record is: its sequence number in `records`. Sharded rather
    /// than one `Dictionary`: a snapshot takes a copy of the whole replicated state, and the first
    /// write after it used to copy (and, at the table's full size, rehash) all 100,000 entries on
    /// the consensus loop — 15–35 ms turns, every snapshot, which set p99 at 10,000 events/s. A
    /// copy now shares the shards and a write copies only its own.
    private var positions = ShardedDictionary<Key, UInt64>()
    /// The remembered ids with their answers, in the order they were applied: eviction (oldest
    /// first, by count and age) and a snapshot's encoding walk them without a lookup.
    private var records = Records()
    let capacity: Int
    let retentionMilliseconds: Int64

    init(capacity: Int, retentionMilliseconds: Int64) {
        self.capacity = capacity
        self.retentionMilliseconds = retentionMilliseconds
    }

    var count: Int { positions.count }

    /// About the bytes `encode(to:)` writes (24 per record beyond its id and answer; its varints
    /// take fewer in practice), so that a snapshot's writer is sized once instead of doubling
    /// through megabytes. A walk over the records on the snapshot's thread, rather than a count
    /// kept up on every write.
    var encodedBytesEstimate: Int {
        var bytes = 10
        records.forEach { bytes += 24 + $0.key.id.utf8.count + $0.answer.count }
        return bytes
    }

    /// The record of `key`, when it is remembered.
    func answer(for key: Key) -> Record? { positions[key].map { records[$0] } }

    /// Remembers `key` as applied at `index`, with its answer when `outcome` is given.
    mutating func remember(_ key: Key, index: UInt64, stamp: Timestamp, outcome: Outcome?) {
        evict(now: stamp)
        var answer: [UInt8] = []
        if let outcome {
            var writer = BinaryWriter()
            Self.encode(outcome, to: &writer)
            answer = writer.compactBytes
        }
        append(Record(key: key, index: index, stamp: stamp.millisecondsSinceEpoch, answer: answer))
        while records.count > capacity { removeOldest() }
    }

    private mutating func append(_ record: Record) {
        positions[record.key] = records.append(record)
    }

    private mutating func evict(now: Timestamp) {
        while let oldest = records.first, now.millisecondsSinceEpoch - oldest.stamp > retentionMilliseconds { removeOldest() }
    }

    private mutating func removeOldest() {
        let (sequence, oldest) = records.removeFirst()
        // A later record of the same id (remembered again after its answer could not be read)
        // keeps its place.
        if let removed = positions.removeValue(forKey: oldest.key), removed != sequence { positions[oldest.key] = removed }
    }

    /// Decodes a remembered answer as an `Outcome` without effects (they happened the first time).
    static func outcome(of remembered: Record) throws(DecodingError) -> Outcome {
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
        writer.write(varint: UInt64(records.count))
        records.forEach { record in
            writer.write(string: record.key.id)
            writer.write(varint: record.index)
            writer.write(zigzag: record.stamp)
            writer.write(blob: record.answer)
        }
    }

    mutating func decode(from reader: inout BinaryReader) throws(DecodingError) {
        let count = try reader.readCount(minimumElementSize: 4)
        positions.removeAll()
        records = Records()
        for _ in 0..<count {
            let id = try reader.readString()
            let index = try reader.readVarint()
            let stamp = try reader.readZigzag()
            append(Record(key: Key(id), index: index, stamp: stamp, answer: try reader.readBlob()))
        }
    }
}

extension RequestTable {
    struct Record: Sendable {
        var key: Key
        var index: UInt64
        /// Milliseconds since the epoch.
        var stamp: Int64
        /// The encoded answer: `[0][CommandResult]` or `[1][CommandError]`; empty when the
        /// answer is not kept here (node-made ids: the node that made the id keeps it, see
        /// `OwnWrites`).
        var answer: [UInt8]
    }

    /// Records in the order they were appended, each with a sequence number (0, 1, 2, ... for the
    /// table's lifetime), kept in chunks of `chunkSize`. A copy of the table (a snapshot's) shares
    /// the chunks, so the writes after it copy the chunk they append to and the one they evict
    /// from, not all 100,000 records with a retain each (as one `Deque` did).
    struct Records: Sendable {
        static var chunkSize: Int { 1_024 }

        /// Every chunk but the last holds `chunkSize` records; the first one's `head` are gone.
        private var chunks: Deque<[Record]> = []
        private var head = 0
        /// The sequence number of `first`.
        private var firstSequence: UInt64 = 0
        private(set) var count = 0

        var first: Record? { count > 0 ? chunks[0][head] : nil }

        /// The record numbered `sequence`, which must be present.
        subscript(sequence: UInt64) -> Record {
            precondition(sequence >= firstSequence && sequence - firstSequence < UInt64(count), "no record \(sequence)")
            let place = head + Int(sequence - firstSequence)
            return chunks[place / Self.chunkSize][place % Self.chunkSize]
        }

        /// Appends `record`; returns its sequence number.
        mutating func append(_ record: Record) -> UInt64 {
            if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkSize {
                var chunk: [Record] = []
                chunk.reserveCapacity(Self.chunkSize)
                chunks.append(chunk)
            }
            chunks[chunks.count - 1].append(record)
            count += 1
            return firstSequence + UInt64(count - 1)
        }

        /// Removes the oldest record (there must be one); returns it with its sequence number.
        mutating func removeFirst() -> (UInt64, Record) {
            precondition(count > 0, "no record to remove")
            let removed = (firstSequence, chunks[0][head])
            head += 1
            firstSequence += 1
            count -= 1
            if head == chunks[0].count {
                chunks.removeFirst()
                head = 0
            }
            return removed
        }

        func forEach(_ body: (Record) -> Void) {
            var skip = head
            for chunk in chunks {
                for record in chunk[skip...] { body(record) }
                skip = 0
            }
        }
    }
}
