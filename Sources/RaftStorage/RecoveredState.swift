import RaftCore

/// What `RaftLogStore.open` found on disk: everything the driver needs to rebuild RaftCore.
///
/// `entries` are exactly the entries after the snapshot (or from index 1 without one), contiguous;
/// the snapshot's data itself is read with `RaftLogStore.loadSnapshot()` because it can be large.
public struct RecoveredState: Sendable, Equatable {
    /// The latest snapshot's metadata; nil when no snapshot has been saved.
    public var snapshot: SnapshotMetadata?
    /// The latest hard state written (`HardState.empty` for a new store).
    public var hardState: HardState
    /// Entries `snapshotIndex + 1 ... lastIndex`.
    public var entries: [Entry]
    /// Set when the last segment ended in a torn record (a write the crash interrupted before its
    /// fsync returned) and recovery cut it off. Nothing acknowledged is lost by that; the driver
    /// should still log it.
    public var discardedTail: DiscardedTail?

    public init(snapshot: SnapshotMetadata?, hardState: HardState, entries: [Entry], discardedTail: DiscardedTail? = nil) {
        self.snapshot = snapshot
        self.hardState = hardState
        self.entries = entries
        self.discardedTail = discardedTail
    }

    /// The index the log (after the snapshot) starts at.
    public var firstIndex: LogIndex { (snapshot?.index ?? 0) + 1 }

    /// The last index covered by the snapshot or the entries.
    public var lastIndex: LogIndex { entries.last?.index ?? snapshot?.index ?? 0 }
}

/// A torn final record that recovery cut off the last segment.
public struct DiscardedTail: Sendable, Equatable {
    /// The segment file.
    public var path: String
    /// Where the torn record started; the file now ends here.
    public var offset: Int
    /// How many bytes were cut.
    public var bytes: Int
    /// What was wrong with the record.
    public var reason: String
}
