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
