import RaftCore

/// The log as the WAL describes it: a base position (a snapshot point, or the point where the
/// oldest retained segment starts) and the entries after it, contiguous.
///
/// Recovery replays records into a window that keeps whole entries; the live store keeps only the
/// terms (it needs them for segment headers and snapshot markers, never the data). Both apply the
/// same two rules, so what a running store believes and what a restart recovers cannot drift apart.
struct LogWindow: Equatable {
    private(set) var baseIndex: LogIndex
    private(set) var baseTerm: Term
    /// `terms[i]` is the term of entry `baseIndex + 1 + i`.
    private(set) var terms: [Term] = []
    /// Whole entries, parallel to `terms`, when `keepsEntries`.
    private(set) var entries: [Entry] = []
    private(set) var keepsEntries: Bool

    init(baseIndex: LogIndex, baseTerm: Term, keepsEntries: Bool) {
        self.baseIndex = baseIndex
        self.baseTerm = baseTerm
        self.keepsEntries = keepsEntries
    }

    /// Stops keeping whole entries (recovery hands them to the driver; the store needs only terms).
    mutating func discardEntries() {
        entries = []
        keepsEntries = false
    }

    var lastIndex: LogIndex { baseIndex + LogIndex(terms.count) }

    /// The term of entry `index`: the base's own term at `baseIndex`, nil outside the window.
    func term(at index: LogIndex) -> Term? {
        if index == baseIndex { return baseTerm }
        guard index > baseIndex, index <= lastIndex else { return nil }
        return terms[Int(index - baseIndex - 1)]
    }

    /// Whether entries starting at `first` continue this log: after the base, and no gap. An
    /// index at or below `lastIndex` replaces the suffix from there (Raft's conflict rule).
    func accepts(first: LogIndex) -> Bool { first > baseIndex && first <= lastIndex + 1 }

    /// Appends contiguous `entries`, first dropping any suffix they replace.
    mutating func append(_ batch: [Entry]) {
        guard let first = batch.first else { return }
        precondition(accepts(first: first.index), "append at \(first.index) does not continue the log")
        let keep = Int(first.index - baseIndex - 1)
        terms.removeSubrange(keep...)
        terms.append(contentsOf: batch.lazy.map(\.term))
        if keepsEntries {
            entries.removeSubrange(keep...)
            entries.append(contentsOf: batch)
        }
    }

    /// Whether saving a snapshot at (`index`, `term`) discards the whole log: when the log does not
    /// hold that exact entry (it is shorter, or has another term there) it has nothing in common
    /// with the snapshot, as etcd-raft treats a restored snapshot. Otherwise only the prefix up to
    /// `index` goes. A snapshot below the base discards nothing.
    func snapshotDiscardsLog(index: LogIndex, term: Term) -> Bool {
        index >= baseIndex && self.term(at: index) != term
    }

    /// Applies a saved snapshot with the outcome decided when it was saved
    /// (`snapshotDiscardsLog`, recorded in the WAL's marker).
    mutating func applySnapshot(index: LogIndex, term: Term, discardsLog: Bool) {
        if discardsLog {
            reset(baseIndex: index, baseTerm: term)
            return
        }
        guard index >= baseIndex else { return }
        precondition(self.term(at: index) == term, "a kept log must hold the snapshot's last entry")
        let drop = Int(index - baseIndex)
        terms.removeFirst(drop)
        if keepsEntries { entries.removeFirst(drop) }
        baseIndex = index
        baseTerm = term
    }

    /// Replay only: a batch rewrites the log from `first`, at or below a base that came from the
    /// oldest retained segment's header. What preceded `first` lies in compacted segments and is
    /// covered by the snapshot, so the log restarts at (`first - 1`, `previousTerm`).
    mutating func rebase(before first: LogIndex, previousTerm: Term) {
        precondition(first >= 1 && first <= baseIndex + 1, "rebase only moves the base down")
        reset(baseIndex: first - 1, baseTerm: previousTerm)
    }

    private mutating func reset(baseIndex: LogIndex, baseTerm: Term) {
        terms.removeAll()
        entries.removeAll()
        self.baseIndex = baseIndex
        self.baseTerm = baseTerm
    }
}
