/// The in-memory view of the replicated log: entries after the last compaction point, which of
/// them are durable, which are committed and which were applied.
///
/// Invariants: `snapshotIndex <= applied <= committed <= lastIndex` (committed may exceed what
/// this node has only transiently on a follower; we clamp to `lastIndex`), and `stableIndex <=
/// lastIndex`. Entries at or below `stableIndex` are on disk; the rest go out in the next `Ready`.
struct RaftLog: Sendable {
    /// The compaction point: entries start at `snapshotIndex + 1`.
    private(set) var snapshotIndex: LogIndex
    private(set) var snapshotTerm: Term
    private(set) var entries: [Entry]
    var committed: LogIndex
    /// Highest index handed to the application in `Ready.committedEntries`.
    var applied: LogIndex
    /// Highest index known durable.
    private(set) var stableIndex: LogIndex
    /// A snapshot received from the leader that the application must still install and persist.
    var pendingSnapshot: Snapshot?

    init(snapshot: SnapshotMetadata, entries: [Entry], commit: LogIndex) {
        snapshotIndex = snapshot.index
        snapshotTerm = snapshot.term
        self.entries = entries
        precondition(entries.isEmpty || entries[0].index == snapshot.index + 1, "stored entries must follow the snapshot")
        for (i, entry) in entries.enumerated() where i > 0 {
            precondition(entry.index == entries[i - 1].index + 1, "stored entries must be contiguous")
        }
        let last = entries.last?.index ?? snapshot.index
        committed = min(max(commit, snapshot.index), last)
        applied = snapshot.index
        stableIndex = last
    }

    var firstIndex: LogIndex { snapshotIndex + 1 }
    var lastIndex: LogIndex { entries.last?.index ?? snapshotIndex }
    var lastTerm: Term { entries.last?.term ?? snapshotTerm }

    /// The term of the entry at `index`; nil when it was compacted away or does not exist yet.
    func term(at index: LogIndex) -> Term? {
        if index == snapshotIndex { return snapshotTerm }
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[Int(index - snapshotIndex - 1)].term
    }

    func matches(index: LogIndex, term: Term) -> Bool { self.term(at: index) == term }

    /// Whether a candidate's log is at least as up to date as ours (§5.4.1).
    func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// Entries in `[from, through]`, stopping after `maxBytes` payload bytes (at least one entry).
    /// Nil when `from` was compacted away.
    func slice(from: LogIndex, through: LogIndex, maxBytes: Int) -> [Entry]? {
        guard from > snapshotIndex else { return nil }
        guard from <= through, from <= lastIndex else { return [] }
        let start = Int(from - snapshotIndex - 1)
        let end = Int(min(through, lastIndex) - snapshotIndex - 1)
        var out: [Entry] = []
        var bytes = 0
        for i in start...end {
            let entry = entries[i]
            if !out.isEmpty && bytes + entry.payloadBytes > maxBytes { break }
            bytes += entry.payloadBytes
            out.append(entry)
        }
        return out
    }

    /// Entries appended but not yet durable.
    var unstableEntries: [Entry] {
        guard stableIndex < lastIndex else { return [] }
        let start = Int(max(stableIndex, snapshotIndex) - snapshotIndex)
        return Array(entries[start...])
    }

    /// Committed entries not yet handed to the application.
    var nextCommittedEntries: [Entry] {
        guard pendingSnapshot == nil, applied < committed else { return [] }
        let start = Int(applied - snapshotIndex)
        let end = Int(committed - snapshotIndex)
        return Array(entries[start..<end])
    }

    var hasNextCommittedEntries: Bool { pendingSnapshot == nil && applied < committed }

    /// Appends entries of the leader's own (contiguous after `lastIndex`).
    mutating func append(_ new: [Entry]) {
        guard let first = new.first else { return }
        precondition(first.index == lastIndex + 1, "leader appends must be contiguous")
        entries.append(contentsOf: new)
    }

    /// Follower append (§5.3): entries after (`prevIndex`, `prevTerm`). Returns the new last
    /// index of the matching prefix, or nil when the previous entry does not match.
    mutating func maybeAppend(prevIndex: LogIndex, prevTerm: Term, entries new: [Entry], commit: LogIndex) -> LogIndex? {
        guard matches(index: prevIndex, term: prevTerm) else { return nil }
        let lastNew = prevIndex + LogIndex(new.count)
        // Skip entries we already have; truncate from the first conflicting one.
        var conflictAt: Int? = nil
        for (i, entry) in new.enumerated() {
            if entry.index <= snapshotIndex { continue }  // covered by our snapshot: committed, identical
            guard let existing = term(at: entry.index) else { conflictAt = i; break }
            if existing != entry.term {
                precondition(entry.index > committed, "a committed entry conflicts with the leader's log")
                conflictAt = i
                break
            }
        }
        if let i = conflictAt {
            truncateAndAppend(Array(new[i...]))
        }
        self.commit(to: min(commit, lastNew))
        return lastNew
    }

    private mutating func truncateAndAppend(_ new: [Entry]) {
        let first = new[0].index
        precondition(first > snapshotIndex, "cannot overwrite the snapshot")
        if first <= lastIndex {
            entries.removeSubrange(Int(first - snapshotIndex - 1)...)
            if stableIndex >= first { stableIndex = first - 1 }
        }
        precondition(first == lastIndex + 1, "gap in the log")
        entries.append(contentsOf: new)
    }

    mutating func commit(to index: LogIndex) {
        if index > committed {
            precondition(index <= lastIndex, "commit index beyond the log")
            committed = index
        }
    }

    /// Entries up to `index` (of `term`) were made durable by the driver.
    mutating func stable(to index: LogIndex, term: Term) {
        // An entry may have been replaced since the Ready was taken; only a matching one counts.
        if index > stableIndex, self.term(at: index) == term { stableIndex = index }
    }

    /// The highest index ≤ `index` whose term ≤ `term` (etcd's findConflictByTerm): the leader's
    /// probe skips every entry of a term the follower cannot have.
    func lastIndex(atOrBelow index: LogIndex, withTermAtMost term: Term) -> LogIndex {
        var i = min(index, lastIndex)
        while i > snapshotIndex, let t = self.term(at: i), t > term { i -= 1 }
        return i
    }

    /// Replaces the whole log with a snapshot received from the leader.
    mutating func restore(_ snapshot: Snapshot) {
        snapshotIndex = snapshot.metadata.index
        snapshotTerm = snapshot.metadata.term
        entries = []
        committed = snapshot.metadata.index
        applied = snapshot.metadata.index
        stableIndex = snapshot.metadata.index
        pendingSnapshot = snapshot
    }

    /// Drops entries at or below `index` (which must be applied): log compaction after the
    /// application took a snapshot there.
    /// Returns the storage the entries were in (with the compacted ones): freeing a snapshot
    /// interval's entries one by one takes milliseconds, which whoever drops the value spends.
    mutating func compact(through index: LogIndex) -> [Entry] {
        guard index > snapshotIndex else { return [] }
        precondition(index <= applied, "cannot compact entries that were not applied")
        let term = self.term(at: index)!
        let old = entries
        entries = Array(old[Int(index - snapshotIndex)...])
        snapshotIndex = index
        snapshotTerm = term
        return old
    }
}
