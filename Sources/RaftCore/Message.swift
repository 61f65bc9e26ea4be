/// A message between Raft members. `term` is the sender's term, except for pre-vote requests
/// (the term the sender would campaign in) and granted pre-vote responses (the term asked for).
public struct Message: Sendable, Equatable {
    public var from: NodeID
    public var to: NodeID
    public var term: Term
    public var body: Body

    public init(from: NodeID, to: NodeID, term: Term, body: Body) {
        self.from = from
        self.to = to
        self.term = term
        self.body = body
    }

    /// What a message says.
    public enum Body: Sendable, Equatable {
        /// RequestVote (§5.2). `transfer` marks a campaign started by leadership transfer, which
        /// voters honour even while they still hear from the current leader.
        case vote(lastIndex: LogIndex, lastTerm: Term, transfer: Bool)
        case voteResponse(reject: Bool)
        /// Pre-vote (thesis §9.6): would you vote for me in `term`?
        case preVote(lastIndex: LogIndex, lastTerm: Term)
        case preVoteResponse(reject: Bool)
        /// AppendEntries (§5.3): `entries` follow the entry at (`prevIndex`, `prevTerm`).
        case append(prevIndex: LogIndex, prevTerm: Term, entries: [Entry], commit: LogIndex)
        /// `index` is the follower's last index on success or the rejected `prevIndex`; on reject
        /// `hintIndex`/`hintTerm` let the leader skip a whole term of conflicting entries.
        case appendResponse(index: LogIndex, reject: Bool, hintIndex: LogIndex, hintTerm: Term)
        /// `context` is non-empty when the heartbeat confirms leadership for read-index requests.
        case heartbeat(commit: LogIndex, context: [UInt8])
        case heartbeatResponse(context: [UInt8])
        /// One chunk of an InstallSnapshot transfer; `done` on the last one.
        case snapshotChunk(metadata: SnapshotMetadata, totalBytes: Int, offset: Int, data: [UInt8], done: Bool)
        /// The follower holds `received` bytes of the snapshot at `index` (or rejects the transfer).
        case snapshotChunkResponse(index: LogIndex, received: Int, reject: Bool)
        /// Leadership transfer: start an election now, ignoring the election timer.
        case timeoutNow
        /// A follower asks the leader for a read index on behalf of `context`.
        case readIndex(context: [UInt8])
        /// The leader's answer; `index == nil` when it cannot serve the read.
        case readIndexResponse(context: [UInt8], index: LogIndex?)
        /// A follower forwards a leadership-transfer request to the leader.
        case transferLeader(target: NodeID)
    }

    /// Bytes of entry or snapshot payload the message carries (for transport accounting).
    public var payloadBytes: Int {
        switch body {
        case .append(_, _, let entries, _): return entries.reduce(0) { $0 + $1.payloadBytes }
        case .snapshotChunk(_, _, _, let data, _): return data.count
        default: return 0
        }
    }
}

/// Answer to a linearizable read: once the local applied index reaches `index`, a read
/// registered with `context` may be served from local state.
public struct ReadState: Sendable, Equatable {
    public var index: LogIndex
    public var context: [UInt8]

    public init(index: LogIndex, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}
