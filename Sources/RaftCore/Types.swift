/// A member of the cluster. Zero is never a valid id: it means "nobody" (no vote, no leader).
public typealias NodeID = UInt64

/// A Raft term. Terms only grow; every message carries the sender's term.
public typealias Term = UInt64

/// A position in the replicated log. Index 0 is the empty prefix; the first entry is at 1.
public typealias LogIndex = UInt64

/// What a log entry carries. Raft treats `data` as opaque bytes of the application's.
public enum EntryKind: UInt8, Sendable, Equatable {
    /// Application data (may be empty: a new leader appends one empty entry of its term).
    case normal = 0
    /// A membership change; `data` is a `ConfChange` in RaftCore's encoding.
    case confChange = 1
}

/// One replicated log entry.
public struct Entry: Sendable, Equatable {
    public var term: Term
    public var index: LogIndex
    public var kind: EntryKind
    public var data: [UInt8]

    public init(term: Term, index: LogIndex, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// The size counted against flow-control and uncommitted-bytes limits.
    public var payloadBytes: Int { data.count }
}

/// The state Raft must persist before it sends any message that depends on it (Raft §5, Figure 2):
/// the current term, the vote cast in it, and the commit index (kept so a restart can apply
/// without waiting for a leader).
public struct HardState: Sendable, Equatable {
    public var term: Term
    public var vote: NodeID
    public var commit: LogIndex

    public init(term: Term = 0, vote: NodeID = 0, commit: LogIndex = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    public static let empty = HardState()
}

/// The membership of the cluster at some log position.
///
/// Outside a joint configuration `outgoingVoters` is empty. During joint consensus (Raft thesis
/// §4.3) decisions need a majority of `voters` AND a majority of `outgoingVoters`. `learnersNext`
/// are voters of the outgoing configuration that become learners once the joint phase is left
/// (a node cannot be voter and learner at the same time).
public struct ConfState: Sendable, Equatable {
    public var voters: Set<NodeID>
    public var learners: Set<NodeID>
    public var outgoingVoters: Set<NodeID>
    public var learnersNext: Set<NodeID>
    /// Leave the joint configuration automatically once it commits.
    public var autoLeave: Bool

    public init(
        voters: Set<NodeID> = [], learners: Set<NodeID> = [], outgoingVoters: Set<NodeID> = [],
        learnersNext: Set<NodeID> = [], autoLeave: Bool = false
    ) {
        self.voters = voters
        self.learners = learners
        self.outgoingVoters = outgoingVoters
        self.learnersNext = learnersNext
        self.autoLeave = autoLeave
    }

    public var isJoint: Bool { !outgoingVoters.isEmpty }

    /// Every member that receives replication: voters of both halves and learners.
    public var allMembers: Set<NodeID> { voters.union(outgoingVoters).union(learners).union(learnersNext) }

    /// Whether `id` votes in either half of the configuration.
    public func isVoter(_ id: NodeID) -> Bool { voters.contains(id) || outgoingVoters.contains(id) }

    /// Members sorted, for deterministic iteration.
    var sortedMembers: [NodeID] { allMembers.sorted() }
}

/// Identifies a snapshot: the last log entry it covers and the membership at that point.
public struct SnapshotMetadata: Sendable, Equatable {
    public var index: LogIndex
    public var term: Term
    public var confState: ConfState

    public init(index: LogIndex = 0, term: Term = 0, confState: ConfState = ConfState()) {
        self.index = index
        self.term = term
        self.confState = confState
    }
}

/// A point-in-time image of the application state machine plus the metadata Raft needs.
public struct Snapshot: Sendable, Equatable {
    public var metadata: SnapshotMetadata
    /// The application's bytes, opaque to Raft.
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata = SnapshotMetadata(), data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }

    public var isEmpty: Bool { metadata.index == 0 }
}
