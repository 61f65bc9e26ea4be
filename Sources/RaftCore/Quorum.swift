/// Majority arithmetic over a possibly joint configuration (thesis §4.3): a decision needs a
/// majority of `voters` and, during a joint phase, also a majority of `outgoingVoters`.
enum Quorum {
    /// The highest index replicated on a majority of each voter set. `match` returns a member's
    /// match index.
    static func committedIndex(_ conf: ConfState, match: (NodeID) -> LogIndex) -> LogIndex {
        let incoming = majorityIndex(conf.voters, match: match)
        guard conf.isJoint else { return incoming }
        return min(incoming, majorityIndex(conf.outgoingVoters, match: match))
    }

    private static func majorityIndex(_ voters: Set<NodeID>, match: (NodeID) -> LogIndex) -> LogIndex {
        guard !voters.isEmpty else { return LogIndex.max }  // an empty half agrees to anything
        let sorted = voters.map(match).sorted(by: >)
        return sorted[voters.count / 2]
    }

    /// The outcome of a vote so far.
    enum VoteResult: Equatable { case won, lost, pending }

    static func voteResult(_ conf: ConfState, votes: [NodeID: Bool]) -> VoteResult {
        let incoming = majorityResult(conf.voters, votes: votes)
        guard conf.isJoint else { return incoming }
        let outgoing = majorityResult(conf.outgoingVoters, votes: votes)
        if incoming == .won && outgoing == .won { return .won }
        if incoming == .lost || outgoing == .lost { return .lost }
        return .pending
    }

    private static func majorityResult(_ voters: Set<NodeID>, votes: [NodeID: Bool]) -> VoteResult {
        guard !voters.isEmpty else { return .won }
        var granted = 0
        var rejected = 0
        for id in voters {
            switch votes[id] {
            case true?: granted += 1
            case false?: rejected += 1
            case nil: break
            }
        }
        let needed = voters.count / 2 + 1
        if granted >= needed { return .won }
        if voters.count - rejected < needed { return .lost }
        return .pending
    }

    /// Whether `active` members form a quorum (for check-quorum and read confirmation).
    static func isQuorum(_ conf: ConfState, _ active: (NodeID) -> Bool) -> Bool {
        var votes: [NodeID: Bool] = [:]
        for id in conf.voters.union(conf.outgoingVoters) { votes[id] = active(id) }
        return voteResult(conf, votes: votes) == .won
    }
}
