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

    /// A snapshot at (`index`, `term`) now covers the log up to `index`. Entries up to it are
    /// dropped; when this log does not hold that exact entry (shorter, or a different term there)
    /// it has nothing in common with the snapshot and is discarded whole, as etcd-raft does when
    /// it restores a snapshot. A snapshot older than the base changes nothing.
    mutating func applySnapshot(index: LogIndex, term: Term) {
        guard index >= baseIndex else { return }
        if self.term(at: index) == term {
            let drop = Int(index - baseIndex)
            terms.removeFirst(drop)
            if keepsEntries { entries.removeFirst(drop) }
        } else {
            terms.removeAll()
            entries.removeAll()
        }
        baseIndex = index
        baseTerm = term
    }
}
