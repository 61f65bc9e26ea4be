@testable import RaftCore

/// What a golden-test member has on "disk": exactly what `process-ready` persisted.
struct GoldenStorage {
    var hardState: HardState
    var snapshot = Snapshot()
    /// Entries after `snapshot.metadata.index`, contiguous.
    var entries: [Entry]

    /// The disk of a founding member, or an empty one for a member that joins later.
    init(hardState: HardState = .empty, entries: [Entry] = []) {
        self.hardState = hardState
        self.entries = entries
    }

    /// What `Raft.init` is restored with: the entries after the snapshot (a retained tail
    /// below it is only kept for slow followers while running).
    var entriesAfterSnapshot: [Entry] { entries.filter { $0.index > snapshot.metadata.index } }

    private var lastIndex: LogIndex { entries.last?.index ?? snapshot.metadata.index }

    /// Step 1 of a Ready: snapshot, then entries (replacing a conflicting suffix), then hard state.
    mutating func persist(_ ready: Ready) {
        if let snap = ready.snapshot {
            snapshot = snap
            entries = []
        }
        if let first = ready.entries.first {
            entries.removeAll { $0.index >= first.index }
            precondition(first.index == lastIndex + 1, "gap in the golden log: \(first.index) after \(lastIndex)")
            entries.append(contentsOf: ready.entries)
        }
        if let hard = ready.hardState { hardState = hard }
    }

    /// Log compaction after the application took `snap`.
    mutating func compact(saving snap: Snapshot, through index: LogIndex) {
        if snap.metadata.index > snapshot.metadata.index { snapshot = snap }
        entries.removeAll { $0.index <= index }
    }
}

/// One member of the interaction environment: a real `Raft`, its disk, and a trivial
/// application (the list of applied non-empty normal entries).
struct GoldenNode {
    /// Every member draws its election jitter from this seed (Raft mixes in the id).
    static let seed: UInt64 = 0x601D_E17E

    let config: RaftConfig
    var raft: Raft
    var storage: GoldenStorage
    /// The application state: data of the applied normal entries, in order.
    var values: [String] = []
    var isUp = true
    var restarts: UInt64 = 0

    var id: NodeID { config.id }

    init(config: RaftConfig, storage: GoldenStorage) throws(RaftConfigError) {
        self.config = config
        self.storage = storage
        raft = try Raft(config: config, hardState: storage.hardState, snapshot: storage.snapshot, entries: storage.entriesAfterSnapshot, randomSeed: Self.seed)
    }

    /// The application snapshot: values joined by ",".
    var snapshotData: [UInt8] { Array(values.joined(separator: ",").utf8) }

    static func values(decoding data: [UInt8]) -> [String] {
        data.isEmpty ? [] : String(decoding: data, as: UTF8.self).components(separatedBy: ",")
    }

    mutating func apply(_ entry: Entry) {
        if entry.kind == .normal, !entry.data.isEmpty { values.append(String(decoding: entry.data, as: UTF8.self)) }
    }

    /// Loses everything not on disk; `restart()` rebuilds from it.
    mutating func crash() { isUp = false }

    mutating func restart() throws(RaftConfigError) {
        restarts += 1
        raft = try Raft(
            config: config, hardState: storage.hardState, snapshot: storage.snapshot, entries: storage.entriesAfterSnapshot,
            randomSeed: Self.seed &+ restarts)
        values = Self.values(decoding: storage.snapshot.data)
        isUp = true
    }
}
