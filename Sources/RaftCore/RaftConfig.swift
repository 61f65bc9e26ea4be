/// Configuration of one Raft member. Times are in ticks: the driver calls `Raft.tick()` at a fixed
/// interval (ClusterNode: `tickIntervalMilliseconds`), so `electionTicks × tick interval` is the
/// election timeout in wall time.
public struct RaftConfig: Sendable, Equatable {
    /// This member's id (non-zero).
    public var id: NodeID

    /// Ticks without hearing from a leader before a follower starts an election. The actual
    /// timeout is randomised in `[electionTicks, 2 × electionTicks)` (Raft §5.2). Default 10.
    /// Too low for the network's RTT causes needless elections; too high slows failover.
    public var electionTicks: Int = 10

    /// Ticks between leader heartbeats. Must be well below `electionTicks` (default 1).
    public var heartbeatTicks: Int = 1

    /// Pre-vote (thesis §9.6): a candidate first asks whether it could win, without raising its
    /// term, so a partitioned node rejoining cannot depose a healthy leader. Default on.
    public var preVote: Bool = true

    /// Check-quorum: a leader that has not heard from a quorum for an election timeout steps down,
    /// and followers that heard from a leader recently ignore vote requests (leader stickiness).
    /// Default on.
    public var checkQuorum: Bool = true

    /// Serve ReadIndex from the leader's lease instead of a heartbeat round. Only safe when clocks
    /// do not drift beyond the election timeout; requires `checkQuorum`. Default off.
    public var leaseBasedReads: Bool = false

    /// Leave telling followers about a higher commit index to the driver. By default the leader
    /// sends every follower an append as soon as its commit index advances — usually an empty
    /// one, since the entries went out when they were proposed — and each follower answers it:
    /// at a moderate write rate, where every entry commits alone, that doubles the replication
    /// messages. With this set, a commit index travels with the next append that carries
    /// entries, with heartbeats, or when the driver calls `Raft.announceCommit()`, which it
    /// should do shortly after `Raft.hasUnannouncedCommit` turns true. Only followers learn
    /// later: the leader commits, applies and answers as before. Default off.
    public var deferCommitAnnouncements: Bool = false

    /// Upper bound of entry payload bytes in one append message (at least one entry is always
    /// sent). Default 1 MiB.
    public var maxSizePerMessageBytes: Int = 1 << 20

    /// Append messages in flight to one follower in the replicate state. Default 256.
    public var maxInflightMessages: Int = 256

    /// Entry payload bytes in flight to one follower; 0 means unbounded. Default 16 MiB.
    public var maxInflightBytes: Int = 16 << 20

    /// Payload bytes of entries appended by this leader but not yet committed; proposals beyond
    /// it fail with `ProposalError.Code.uncommittedLimit` instead of queueing forever. 0 means
    /// unbounded. Default 64 MiB.
    public var maxUncommittedEntriesBytes: Int = 64 << 20

    /// Bytes of snapshot data per `InstallSnapshot` chunk. Default 512 KiB.
    public var snapshotChunkBytes: Int = 512 << 10

    /// Largest snapshot a follower accepts in chunks (protects memory). Default 4 GiB.
    public var maxSnapshotBytes: Int = 4 << 30

    /// Read-index requests a leader queues before it has committed an entry of its term.
    public var maxPendingReadIndexRequests: Int = 4_096

    /// Election priority of every member (missing ids have priority 0). Higher-priority members
    /// time out sooner, and a leader hands leadership to a caught-up member of higher priority
    /// than its own (used for region leader preference).
    public var priorities: [NodeID: Int] = [:]

    /// Whether a leader transfers leadership to a caught-up, higher-priority voter. Default on.
    public var transferToHigherPriority: Bool = true

    public init(id: NodeID) { self.id = id }

    public static func `default`(id: NodeID) -> RaftConfig { RaftConfig(id: id) }

    public func priority(of node: NodeID) -> Int { priorities[node] ?? 0 }

    /// Throws when the configuration cannot work.
    public func validate() throws(RaftConfigError) {
        func check(_ condition: Bool, _ message: String) throws(RaftConfigError) {
            if !condition { throw RaftConfigError(message: message) }
        }
        try check(id != 0, "id must be non-zero")
        try check(heartbeatTicks > 0, "heartbeatTicks must be positive")
        try check(electionTicks > heartbeatTicks, "electionTicks must be greater than heartbeatTicks")
        try check(maxSizePerMessageBytes > 0, "maxSizePerMessageBytes must be positive")
        try check(maxInflightMessages > 0, "maxInflightMessages must be positive")
        try check(maxInflightBytes >= 0, "maxInflightBytes must not be negative")
        try check(maxUncommittedEntriesBytes >= 0, "maxUncommittedEntriesBytes must not be negative")
        try check(snapshotChunkBytes > 0, "snapshotChunkBytes must be positive")
        try check(maxSnapshotBytes > 0, "maxSnapshotBytes must be positive")
        try check(maxPendingReadIndexRequests > 0, "maxPendingReadIndexRequests must be positive")
        try check(!leaseBasedReads || checkQuorum, "leaseBasedReads requires checkQuorum")
    }
}

/// An invalid `RaftConfig`.
public struct RaftConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { "invalid raft config: \(message)" }
}
