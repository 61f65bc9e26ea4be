import RaftCore

/// What a simulated member has on "disk": exactly what a real driver would have fsync'd.
public struct SimulatedStorage: Sendable {
    public internal(set) var hardState: HardState
    public internal(set) var snapshot: Snapshot
    /// Entries after `snapshot.metadata.index`, contiguous.
    public internal(set) var entries: [Entry]
    /// A deliberately broken disk that never stores votes (the simulator must catch it).
    var forgetsVotes = false

    /// The disk of a founding member (`Raft.bootstrap(voters:)`).
    public init(bootstrap voters: Set<NodeID>) {
        (hardState, entries) = Raft.bootstrap(voters: voters)
        snapshot = Snapshot()
    }

    private init() {
        hardState = .empty
        snapshot = Snapshot()
        entries = []
    }

    /// An empty disk for a member that joins later and learns the membership from the leader.
    public static func joining() -> SimulatedStorage { SimulatedStorage() }

    public var lastIndex: LogIndex { entries.last?.index ?? snapshot.metadata.index }

    /// Persists step 1 of a `Ready`. With `keepingEntries` below the Ready's count, a crash
    /// tears the write: only a prefix of the entries (and no hard state) reaches the disk.
    mutating func persist(_ ready: Ready, keepingEntries: Int? = nil) {
        if let snap = ready.snapshot {
            // Installing a snapshot from the leader replaces the whole log (RaftLog.restore).
            snapshot = snap
            entries = []
        }
        let new = keepingEntries.map { Array(ready.entries.prefix($0)) } ?? ready.entries
        if let first = new.first {
            // Replace the suffix from the first new index on (a follower's conflicting tail).
            entries.removeAll { $0.index >= first.index }
            precondition(first.index == lastIndex + 1, "gap in simulated log: \(first.index) after \(lastIndex)")
            entries.append(contentsOf: new)
        }
        if keepingEntries == nil, var hard = ready.hardState {
            if forgetsVotes && hard.term == hardState.term { hard.vote = hardState.vote }
            if forgetsVotes && hard.term != hardState.term { hard.vote = 0 }
            hardState = hard
        }
    }

    /// Log compaction after a snapshot, as a driver would do on disk.
    mutating func saveSnapshot(_ snap: Snapshot, compactThrough index: LogIndex) {
        if snap.metadata.index > snapshot.metadata.index { snapshot = snap }
        entries.removeAll { $0.index <= min(index, snapshot.metadata.index) }
    }

    /// Entries the in-memory Raft is restored with: everything after the snapshot.
    var entriesAfterSnapshot: [Entry] { entries.filter { $0.index > snapshot.metadata.index } }
}
