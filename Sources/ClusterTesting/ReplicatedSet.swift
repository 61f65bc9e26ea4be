import RaftCore

/// The application state machine used by the simulator: the set of 8-byte values applied, plus
/// a running digest of the applied sequence so divergent replicas are caught immediately.
public struct ReplicatedSet: Sendable, Equatable {
    public private(set) var values: Set<UInt64> = []
    public private(set) var appliedIndex: LogIndex = 0
    /// FNV-1a over (index, term, data) of every applied normal entry, in order.
    public private(set) var digest: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    mutating func apply(_ entry: Entry) {
        precondition(entry.index == appliedIndex + 1, "applied \(entry.index) after \(appliedIndex)")
        appliedIndex = entry.index
        guard entry.kind == .normal, entry.data.count == 8 else { return }
        let value = entry.data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        values.insert(value)
        mix(entry.index)
        mix(value)
    }

    private mutating func mix(_ value: UInt64) {
        var v = value
        for _ in 0..<8 {
            digest ^= v & 0xff
            digest = digest &* 0x100_0000_01b3
            v >>= 8
        }
    }

    /// `[appliedIndex][digest][count][values sorted]`, little-endian, padded with `padding`
    /// filler bytes so snapshots are large enough to need several chunks.
    func encoded(padding: Int) -> [UInt8] {
        var out: [UInt8] = []
        func put(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        put(appliedIndex)
        put(digest)
        put(UInt64(values.count))
        for v in values.sorted() { put(v) }
        out.append(contentsOf: (0..<padding).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        return out
    }

    init(decoding bytes: [UInt8]) {
        guard bytes.count >= 24 else { return }
        func get(_ i: Int) -> UInt64 { bytes[(i * 8)..<(i * 8 + 8)].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }
        appliedIndex = get(0)
        digest = get(1)
        let count = Int(get(2))
        values = Set((0..<count).map { get(3 + $0) })
    }
}

extension UInt64 {
    /// The 8 little-endian bytes of this value (a simulator proposal).
    public var proposalBytes: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }
}
