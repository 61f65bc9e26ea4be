extension Raft {
    /// Advances logical time by one tick: election timeouts on followers and candidates,
    /// heartbeats, check-quorum and transfer timeouts on the leader.
    public mutating func tick() {
        if role == .leader {
            tickLeader()
        } else {
            electionElapsed += 1
            // Only a member that may campaign restarts its timer here. A learner (or a member
            // that does not know yet it was promoted) keeps counting, so once it has not heard
            // from a leader for an election timeout it stays out of the leader lease and grants
            // the (pre-)votes a new leader needs; resetting would put it back in the lease for
            // part of every cycle, and lock-stepped cycles could starve elections forever
            // (found by the simulator, seed 5390 with 5 voters).
            if isPromotable && electionElapsed >= randomizedElectionTimeout {
                electionElapsed = 0
                campaign(transfer: false)
            }
        }
    }

    /// Starts an election now (e.g. an operator's request, or the only member starting up).
    public mutating func campaignNow() { campaign(transfer: false) }

    /// Starts a pre-election (or, for a leadership transfer or without pre-vote, an election).
    mutating func campaign(transfer: Bool) {
        guard role != .leader, isPromotable else { return }
        // A configuration change that committed but was not applied yet may remove us or change
        // the quorum: wait until it is applied (etcd does the same).
        guard !hasUnappliedConfChange else { return }
        if config.preVote && !transfer {
            becomePreCandidate()
            requestVotes(preVote: true, transfer: false)
        } else {
            becomeCandidate()
            requestVotes(preVote: false, transfer: transfer)
        }
    }

    private mutating func requestVotes(preVote: Bool, transfer: Bool) {
        votes[id] = true
        if tallyVotes() { return }
        let electionTerm = preVote ? term + 1 : term
        for voter in confState.voters.union(confState.outgoingVoters).sorted() where voter != id {
            let body: Message.Body = preVote
                ? .preVote(lastIndex: log.lastIndex, lastTerm: log.lastTerm)
                : .vote(lastIndex: log.lastIndex, lastTerm: log.lastTerm, transfer: transfer)
            send(body, to: voter, term: electionTerm)
        }
    }

    mutating func recordVote(from voter: NodeID, granted: Bool) {
        guard confState.isVoter(voter), votes[voter] == nil else { return }
        votes[voter] = granted
        _ = tallyVotes()
    }

    /// Acts on the votes so far; returns whether the (pre-)election is decided.
    private mutating func tallyVotes() -> Bool {
        switch Quorum.voteResult(confState, votes: votes) {
        case .won:
            if role == .preCandidate {
                becomeCandidate()
                requestVotes(preVote: false, transfer: false)
            } else {
                becomeLeader()
            }
            return true
        case .lost:
            becomeFollower(term: term, leader: 0)
            return true
        case .pending:
            return false
        }
    }

    var hasUnappliedConfChange: Bool {
        guard log.committed > log.applied else { return false }
        let pending = log.slice(from: log.applied + 1, through: log.committed, maxBytes: .max) ?? []
        return pending.contains { $0.kind == .confChange }
    }
}
