extension Raft {
    /// Proposes a membership change (see `ConfChange`). Only one may be pending at a time, and
    /// only after this leader applied the first entry of its term (the fix for single-server
    /// changes, Ongaro's raft-dev post of 2015). Returns the entry's index.
    @discardableResult
    public mutating func proposeConfChange(_ change: ConfChange) throws(ProposalError) -> LogIndex {
        try checkCanPropose()
        guard pendingConfIndex <= log.applied else {
            throw ProposalError(
                code: .confChangePending, leaderHint: leader,
                message: "the configuration change at \(pendingConfIndex) is not applied yet (applied \(log.applied))")
        }
        if case .failure(let error) = confState.applying(change) {
            throw ProposalError(code: .invalidConfChange, leaderHint: leader, message: error.description)
        }
        return appendConfChange(change)
    }

    @discardableResult
    private mutating func appendConfChange(_ change: ConfChange) -> LogIndex {
        let index = log.lastIndex + 1
        appendLeaderEntries([Entry(term: term, index: index, kind: .confChange, data: change.encoded())])
        pendingConfIndex = index
        broadcastAppend()
        return index
    }

    /// Proposes leaving an auto-leave joint configuration once nothing else is pending. The
    /// leader that applies the joint entry does so at once (`applyConfChange`); this covers a
    /// leader elected after the joint entry was applied, which would otherwise stay joint for
    /// good (etcd checks the same on every apply).
    mutating func leaveJointIfDue() {
        guard role == .leader, confState.isJoint, confState.autoLeave, pendingConfIndex <= log.applied else { return }
        appendConfChange(.leaveJoint)
    }

    /// Applies a committed configuration-change entry (called as the driver applies it). An
    /// entry that does not decode or does not apply is a no-op on every member alike.
    mutating func applyConfChange(_ entry: Entry) {
        guard let change = ConfChange(decoding: entry.data), case .success(let next) = confState.applying(change) else { return }
        confState = next
        guard role == .leader else { return }
        for member in next.sortedMembers {
            if progress[member] == nil {
                progress[member] = newProgress(for: member)
            } else {
                progress[member]!.isLearner = !next.isVoter(member)
            }
        }
        for member in progress.keys where !next.allMembers.contains(member) {
            progress[member] = nil
        }
        if transferTarget != 0, !next.isVoter(transferTarget) { transferTarget = 0 }
        if !next.isVoter(id) {
            // A leader removed (or demoted) by the change steps down once it is applied.
            becomeFollower(term: term, leader: 0)
            return
        }
        if next.isJoint && next.autoLeave {
            // Leave the joint configuration as soon as it is in effect.
            appendConfChange(.leaveJoint)
        }
        // The quorum may have changed: commit what the new one holds, and replicate to newcomers.
        maybeCommit()
        broadcastAppend()
    }
}
