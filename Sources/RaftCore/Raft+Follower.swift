extension Raft {
    /// AppendEntries on a follower (§5.3), answering with fast-backtracking hints on a mismatch.
    mutating func handleAppend(from leader: NodeID, prevIndex: LogIndex, prevTerm: Term, entries: [Entry], commit: LogIndex) {
        if prevIndex < log.committed {
            // Everything up to our commit index is known to match; say how far we are.
            send(.appendResponse(index: log.committed, reject: false, hintIndex: 0, hintTerm: 0), to: leader)
            return
        }
        if let last = log.maybeAppend(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit) {
            send(.appendResponse(index: last, reject: false, hintIndex: 0, hintTerm: 0), to: leader)
            return
        }
        // Mismatch: point the leader at the last entry that could match, at or below prevIndex,
        // whose term is at most prevTerm (etcd's findConflictByTerm).
        let hintIndex = log.lastIndex(atOrBelow: min(prevIndex, log.lastIndex), withTermAtMost: prevTerm)
        let hintTerm = log.term(at: hintIndex) ?? 0
        send(.appendResponse(index: prevIndex, reject: true, hintIndex: hintIndex, hintTerm: hintTerm), to: leader)
    }
}

extension Raft {
    /// Learns, outside the Raft messages, that the entry at `index` with `term` is committed:
    /// the leader answered a write this node forwarded to it, and it answers only once the write
    /// is committed. When this node's log holds that entry, Log Matching makes everything up to
    /// it the leader's committed prefix, so it commits here at once — without the append or
    /// heartbeat that would otherwise carry the commit index (which a leader that defers commit
    /// announcements sends later; `RaftConfig.deferCommitAnnouncements`). Returns whether the
    /// commit index moved: not when the entry is missing, has another term, or is committed
    /// already; never on the leader, whose commit index only its quorum moves.
    @discardableResult
    public mutating func learnCommitted(index: LogIndex, term: Term) -> Bool {
        guard role != .leader, term > 0, index > log.committed, log.term(at: index) == term else { return false }
        log.commit(to: index)
        return true
    }
}
