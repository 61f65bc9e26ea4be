import RaftCore

/// Payload of the `segmentHeader` record that opens every segment (56 bytes):
///
///     magic "RWAL" (4) ‖ version u16 ‖ reserved u16 (0) ‖ sequence u64 ‖ firstIndex u64 ‖
///     previousTerm u64 ‖ hardState.term u64 ‖ hardState.vote u64 ‖ hardState.commit u64
///
/// `sequence` grows by one per segment, so a missing segment in the middle is a visible gap.
/// `firstIndex` equals the number in the file name. `previousTerm` (the term of entry
/// `firstIndex - 1`) and `hardState` capture the log's state when the segment was started, which
/// makes any suffix of the segment sequence replayable on its own once older segments have been
/// compacted away.
struct SegmentHeader: Equatable {
    var sequence: UInt64
    var firstIndex: LogIndex
    var previousTerm: Term
    var hardState: HardState

    static let payloadBytes = 56

    func encode(into writer: inout ByteWriter) {
        writer.write(WALFormat.segmentMagic)
        writer.write(WALFormat.version)
        writer.write(UInt16(0))
        writer.write(sequence)
        writer.write(firstIndex)
        writer.write(previousTerm)
        writer.encode(hardState)
    }

    init(sequence: UInt64, firstIndex: LogIndex, previousTerm: Term, hardState: HardState) {
        self.sequence = sequence
        self.firstIndex = firstIndex
        self.previousTerm = previousTerm
        self.hardState = hardState
    }

    /// Decodes a header; an unknown version is flagged `isVersionMismatch`.
    init(decoding payload: ArraySlice<UInt8>) throws(FormatViolation) {
        var reader = ByteReader(payload)
        guard try reader.readBytes(4) == WALFormat.segmentMagic else {
            throw FormatViolation(reason: "bad segment magic", offset: 0)
        }
        let version = try reader.read(UInt16.self)
        guard version == WALFormat.version else {
            throw FormatViolation(reason: "unsupported segment version \(version)", offset: 4, isVersionMismatch: true)
        }
        _ = try reader.read(UInt16.self)
        sequence = try reader.read(UInt64.self)
        firstIndex = try reader.read(LogIndex.self)
        previousTerm = try reader.read(Term.self)
        hardState = try reader.readHardState()
        try reader.expectEnd()
        guard firstIndex >= 1 else { throw FormatViolation(reason: "first index 0", offset: 16) }
    }
}

/// Payload of a `batch` record: what one `append` wrote.
///
///     flags u8 (bit 0: hard state present; other bits 0)
///     [hardState.term u64 ‖ hardState.vote u64 ‖ hardState.commit u64]   if bit 0
///     entryCount u32
///     [firstIndex u64 ‖ previousTerm u64]                                if entryCount > 0
///     entryCount × (term u64 ‖ kind u8 ‖ dataLength u32 ‖ data)
///
/// Entry indexes are implicit (`firstIndex + i`), so a decoded batch is contiguous by construction.
/// `previousTerm` is the term of entry `firstIndex - 1` when the batch was written (Raft's
/// prevLogTerm): replay checks it, and it lets a batch that rewrites entries from below the
/// oldest retained segment's start be replayed without the compacted segments.
struct Batch: Equatable {
    var hardState: HardState?
    var previousTerm: Term
    var entries: [Entry]

    static let entryOverheadBytes = 13

    /// The smallest payload an append writes: a hard state alone (entries alone take at least
    /// 1 + 4 + 16 + 13 = 34 bytes). Recovery uses it to judge whether a damaged header is plausible.
    static let minimumPayloadBytes = payloadBytes(entries: [], hardState: .empty)

    /// Payload size `encode` will produce, computed before encoding so a batch over the limit is
    /// rejected without building it.
    static func payloadBytes(entries: [Entry], hardState: HardState?) -> Int {
        var total = 1 + (hardState == nil ? 0 : 24) + 4 + (entries.isEmpty ? 0 : 16)
        for entry in entries { total += entryOverheadBytes + entry.data.count }
        return total
    }

    static func encode(entries: [Entry], previousTerm: Term, hardState: HardState?, into writer: inout ByteWriter) {
        writer.write(UInt8(hardState == nil ? 0 : 1))
        if let hardState { writer.encode(hardState) }
        writer.write(UInt32(entries.count))
        guard let first = entries.first else { return }
        writer.write(first.index)
        writer.write(previousTerm)
        for entry in entries {
            writer.write(entry.term)
            writer.write(entry.kind.rawValue)
            writer.write(UInt32(entry.data.count))
            writer.write(entry.data)
        }
    }

    init(decoding payload: ArraySlice<UInt8>) throws(FormatViolation) {
        var reader = ByteReader(payload)
        let flags = try reader.read(UInt8.self)
        guard flags & ~1 == 0 else { throw FormatViolation(reason: "unknown batch flags \(flags)", offset: 0) }
        hardState = flags & 1 == 1 ? try reader.readHardState() : nil
        let count = Int(try reader.read(UInt32.self))
        entries = []
        previousTerm = 0
        if count > 0 {
            let firstIndex = try reader.read(LogIndex.self)
            previousTerm = try reader.read(Term.self)
            guard count <= reader.remaining / Batch.entryOverheadBytes, firstIndex >= 1,
                firstIndex <= LogIndex.max - LogIndex(count)
            else { throw FormatViolation(reason: "entry count \(count) impossible here", offset: reader.consumed) }
            entries.reserveCapacity(count)
            for i in 0..<count {
                let term = try reader.read(Term.self)
                let kindOffset = reader.consumed
                guard let kind = EntryKind(rawValue: try reader.read(UInt8.self)) else {
                    throw FormatViolation(reason: "unknown entry kind", offset: kindOffset)
                }
                let data = try reader.readBytes(Int(try reader.read(UInt32.self)))
                entries.append(Entry(term: term, index: firstIndex + LogIndex(i), kind: kind, data: data))
            }
        }
        try reader.expectEnd()
    }
}

/// Payload of a `snapshotMarker` record: `index u64 ‖ term u64 ‖ flags u8` of a snapshot that was
/// saved (the snapshot file is durable before the marker is written). Flags bit 0 records the
/// outcome the store applied when it wrote the marker: set when the log did not hold entry
/// (index, term) and was discarded whole, clear when only the prefix up to `index` was dropped.
/// Recording the outcome makes replay exact even when it starts from a compacted suffix that
/// cannot see the entry at `index` any more.
struct SnapshotMarker: Equatable {
    var index: LogIndex
    var term: Term
    var discardsLog: Bool

    static let payloadBytes = 17

    func encode(into writer: inout ByteWriter) {
        writer.write(index)
        writer.write(term)
        writer.write(UInt8(discardsLog ? 1 : 0))
    }

    init(index: LogIndex, term: Term, discardsLog: Bool) {
        self.index = index
        self.term = term
        self.discardsLog = discardsLog
    }

    init(decoding payload: ArraySlice<UInt8>) throws(FormatViolation) {
        var reader = ByteReader(payload)
        index = try reader.read(LogIndex.self)
        term = try reader.read(Term.self)
        let flags = try reader.read(UInt8.self)
        guard flags & ~1 == 0 else { throw FormatViolation(reason: "unknown marker flags \(flags)", offset: 16) }
        discardsLog = flags == 1
        try reader.expectEnd()
    }
}

extension ByteWriter {
    mutating func encode(_ hardState: HardState) {
        write(hardState.term)
        write(hardState.vote)
        write(hardState.commit)
    }
}

extension ByteReader {
    mutating func readHardState() throws(FormatViolation) -> HardState {
        HardState(term: try read(Term.self), vote: try read(NodeID.self), commit: try read(LogIndex.self))
    }
}
