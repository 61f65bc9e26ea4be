import IncidentCore
import RaftCore

/// What a read sees on the consensus loop: the applied state and the node's Raft status.
public struct LoopContext: ~Copyable {
    public let state: ReplicatedState
    public let status: NodeStatus
    /// The term of the entry at `status.appliedIndex`.
    public let appliedTerm: Term
}

/// The node's consensus status, for `GET /api/v1/cluster`, readiness and metrics.
public struct NodeStatus: Sendable, Equatable {
    public var nodeID: NodeID
    public var role: Raft.Role
    public var leader: NodeID
    public var term: Term
    public var commitIndex: LogIndex
    public var appliedIndex: LogIndex
    public var firstIndex: LogIndex
    public var lastIndex: LogIndex
    public var voters: [NodeID]
    public var learners: [NodeID]
    /// Log appends (fsyncs) since the node started: many commands share one (group commit).
    public var logAppends: UInt64
    public var logBytes: Int
    public var snapshotBytes: Int
    public var snapshotIndex: LogIndex
    public var pendingTimers: Int
    public var outboxDepth: Int
    public var rememberedRequests: Int
    public var region: String
    public var zone: String
    /// The leader's view of each member's replication (empty on other members).
    public var followers: [NodeID: FollowerStatus]
    /// Peers this node has a live connection to.
    public var connectedPeers: Set<NodeID>
    /// This node may archive now: it holds the archive lease with time to spare (or archives
    /// alone), and archival is on.
    public var holdsArchiveLease: Bool = false
    /// Archival is on (`ArchiveJournal.isEnabled`); then the lag: applied entries the archive has
    /// not confirmed, and the age of the oldest journal record it has yet to take.
    public var archiveEnabled: Bool = false
    public var archiveLagEntries: UInt64 = 0
    public var archiveLagMilliseconds: Int64 = 0
    /// Times this leader told followers of a commit index no append had carried to them
    /// (`NodeConfig.commitAnnouncementDelayMicroseconds`) since the node started.
    public var commitAnnouncements: UInt64 = 0
    /// Times this node committed from a leader's answer to a write it forwarded
    /// (`Raft.learnCommitted`), before any append or heartbeat said so.
    public var commitsLearnedFromAnswers: UInt64 = 0
    /// Forwarded writes answered before this node applied them: it had not caught up within
    /// `ConsensusLoop.catchUpWaitMilliseconds` (a lagging node or a slow disk).
    public var answersBeforeCatchingUp: UInt64 = 0
    /// Writes whose answer is known but waits, now, for this node to apply their entry
    /// (`CatchUps`: forwarded writes, and retries that found their write applied earlier).
    public var writesCatchingUp: Int = 0
    /// Entries this node applied from the command it kept when it forwarded the write, instead
    /// of decoding them (`OwnWrites.envelope(decoding:)`), since it started.
    public var forwardedCommandsReused: UInt64 = 0
    /// Turns the consensus loop took since the node started (an idle loop takes one per tick
    /// and per batch of peer messages).
    public var loopTurns: UInt64 = 0
    /// Times this node, leading, saw to the member directory and the dispatch leases since it
    /// started: in its first turn as leader, then once per tick (`ConsensusLoop.leaderBookkeeping`).
    public var leaderBookkeepingRuns: UInt64 = 0
    /// Forwarded writes this node, leading, proposed with their command's bytes as the follower
    /// sent them instead of encoding the command again (`Inbox.Proposal.encodedCommand`), since
    /// it started.
    public var forwardedCommandsProposedAsSent: UInt64 = 0
}
