import RaftCore
import RaftStorage

/// Runtime settings of one `incidentd` node. Every limit carries its unit in its name; the
/// defaults suit a single node on a local SSD.
public struct NodeConfig: Sendable {
    /// Where the Raft log, snapshots and node identity live.
    public var dataDirectory: String
    /// This member's Raft id (non-zero). A single node is member 1.
    public var nodeID: NodeID = 1
    /// Where this node runs (`GET /api/v1/cluster`, leadership placement, regional dispatch).
    public var region = "default"
    public var zone = ""
    /// Where peers and clients reach this node (`host:port` of the peer port, the API's URL).
    /// When set, the node keeps its entry in the replicated member directory up to date, so every
    /// member and `GET /api/v1/cluster` know its addresses (founders only know their own).
    public var advertisedPeerAddress = ""
    public var advertisedAPIAddress = ""
    /// The founding members (this node among them), identical on every founder: their ids form
    /// the first configuration entry. Empty: a single-node cluster of `nodeID` alone.
    public var initialMembers: [MemberInfo] = []
    /// Start without founding anything: the node waits, with an empty log, until a leader adds it
    /// (as a learner) and sends it the log or a snapshot. Ignored once the log holds anything.
    public var join = false
    /// Regions whose members should lead: they get a higher election priority, and a leader
    /// elsewhere hands leadership to a caught-up member there. Empty: no preference.
    public var preferredLeaderRegions: [String] = []
    /// How long a write waits for a leader to be known (elections, failover) before it fails
    /// with `notLeader` (the API answers 503 with Retry-After). Default 3 s: an election with the
    /// default timing takes 1–2 s.
    public var leaderWaitMilliseconds = 3_000
    /// How long a follower waits for the leader to answer a forwarded write before retrying it
    /// (with the same request id) on whoever leads then. Default 5 s.
    public var forwardTimeoutMilliseconds = 5_000
    /// How many batches of forwarded writes a follower keeps out to the leader at once where
    /// batches come back quickly; a write that finds them all out waits for one to come back and
    /// leaves with everything that waited (`ForwardBatcher`). 2 makes large batches under load on
    /// a LAN. Across a WAN each batch is out for a round trip to the leader plus a commit, and the
    /// follower keeps more out (`forwardWaitMicroseconds`; docs/BENCHMARKS.md, "Regions: losing
    /// one, and a WAN on one machine").
    public var forwardBatchesInFlight = 2
    public static let forwardBatchesInFlightRange = 1...64
    /// About how long a forwarded write should wait for one of those batches to come back
    /// (microseconds): when even the quickest recent batch took several times this (across a
    /// WAN: a round trip to the leader plus its commit), a follower keeps that many batches out
    /// (`ForwardBatcher`; at most `ForwardBatcher.maxBatchesWithExtras`), so that one comes back
    /// about this often. On a LAN batches are quicker and `forwardBatchesInFlight` is the limit.
    /// 0 = always `forwardBatchesInFlight`.
    public var forwardWaitMicroseconds = 2_000
    public static let forwardWaitMicrosecondsRange = 0...1_000_000
    /// How long a linearizable read waits for its read index to be confirmed and applied.
    public var readIndexTimeoutMilliseconds = 3_000
    /// Request ids nodes make up for writes they may retry on another leader (forwarded writes,
    /// writes in flight at a leader change), remembered so a retry applies at most once. Count
    /// and log-time bounds; the window must outlast a failover plus the retry (seconds).
    public var rememberedRetryIDs = 100_000
    public var retryIDMemoryMilliseconds: Int64 = 300_000
    /// Wall time of one Raft tick. Election timeout = `electionTicks` × this. Default 100 ms.
    public var tickIntervalMilliseconds = 100
    /// Ticks before a follower campaigns (default 10: 1–2 s with 100 ms ticks).
    public var electionTicks = 10
    public var heartbeatTicks = 1
    /// Commands per log append at most (group commit): many concurrent requests share one fsync.
    public var maxBatchCommands = 1_024
    /// Encoded command bytes per append at most.
    public var maxBatchBytes = 4 << 20
    /// Requests waiting for the consensus loop; beyond it `submit` fails with `overloaded` (503).
    public var proposalQueueDepth = 20_000
    /// Take a snapshot after this many applied entries since the last one... (etcd's default
    /// `--snapshot-count` is the same. At 50,000, single events of about 300 bytes reached it
    /// at 15 MB of log, half the byte threshold below, and a state of 25,000 open incidents,
    /// 14 MB, was encoded, compressed and written every 5 s per node at 10,000 events/s.)
    public var snapshotEveryEntries: UInt64 = 100_000
    /// ...or after this many applied bytes, whichever comes first. The log since the last
    /// snapshot is held in memory (the leader sends followers entries from it), so this bounds
    /// that part of a node's memory when entries are large (events posted in batches).
    public var snapshotEveryBytes = 32 << 20
    /// How the two thresholds above grow with the state. A snapshot encodes the whole state, so
    /// at a fixed interval its cost per entry grows with the state: at about 200,000 open
    /// incidents (107 MB) every 50,000 entries, snapshots took a third of a 2-core machine and
    /// tripled latency at 10,000 events/s. Once the last snapshot is larger than
    /// `snapshotEveryBytes / snapshotLogRatio`, both thresholds are scaled by
    /// `snapshotLogRatio × last snapshot bytes / snapshotEveryBytes`: the log between two
    /// snapshots is then about `snapshotLogRatio` times the state's size, and a snapshot costs a
    /// fixed share of the work per entry, whatever the state. 0 keeps the thresholds fixed.
    public var snapshotLogRatio = 0.5
    /// ...but the byte threshold never grows past this: it bounds the log held in memory.
    public var maxLogBytesBetweenSnapshots = 256 << 20
    /// Nice value (0–19) of the thread that encodes, compresses and writes snapshots and reads
    /// them back for followers. A snapshot of a large state is a second or more of CPU; at a
    /// higher nice value the serving threads get the core first when both want it. (On a
    /// saturated 2-core machine, 0, 10 and 19 gave the same latency within the noise: what
    /// mattered there was doing less snapshot work, `snapshotLogRatio`.)
    public var snapshotThreadNice: Int32 = 10
    /// Bytes of incidents' snapshot encodings kept in memory between snapshots, so that the next
    /// snapshot copies an unchanged incident's bytes instead of encoding it again (most open
    /// incidents of a large state are idle between two snapshots). Counted as encoded bytes;
    /// allocation adds about an eighth. Incidents beyond it (higher numbers first) are encoded
    /// every time. 0 keeps none. Default 32 MiB: about 55,000 incidents of some 600 bytes.
    public var snapshotReuseBytes = 32 << 20
    /// Entries kept in the log below a snapshot (lets slow followers catch up without one).
    public var retainedEntriesAfterSnapshot: UInt64 = 5_000
    /// ...but no more than this many bytes of them (they are held in memory): 5,000 entries of
    /// events posted in batches can be tens of megabytes.
    public var retainedBytesAfterSnapshot = 8 << 20
    /// Request ids remembered for idempotent retries (`Idempotency-Key`), oldest dropped first.
    public var rememberedRequests = 100_000
    /// How long a request id is remembered, in milliseconds of log time. Default 24 h.
    public var requestMemoryMilliseconds: Int64 = 24 * 3_600_000
    /// Delivery attempts in flight from this node's dispatcher.
    public var maxConcurrentDeliveries = 64
    /// Delay before re-dispatching a notification whose delivery failed retryably, doubled per
    /// attempt up to `maxRedeliveryDelayMilliseconds`.
    public var redeliveryDelayMilliseconds: Int64 = 1_000
    public var maxRedeliveryDelayMilliseconds: Int64 = 60_000
    /// Length of the dispatch lease (only its holder delivers notifications). A new leader waits
    /// for the old holder's lease to run out before it delivers, so this bounds how long pages
    /// pause after a failover. Default 8 s.
    public var dispatchLeaseMilliseconds: Int64 = 8_000
    /// The holder starts no attempt unless the lease has more than this left, so an attempt
    /// cannot outlive the lease: at least the delivery timeout plus the clock skew tolerated
    /// between members. Default 6 s (5 s delivery timeout + 1 s).
    public var dispatchLeaseReserveMilliseconds: Int64 = 6_000
    public var storage = StorageConfig.default
    /// A consensus-loop turn longer than this is logged as a warning with where its time went
    /// (stepping, reads and snapshot bookkeeping, proposing, the log append, applying, the
    /// leader's upkeep, deliveries, snapshots); 0 never logs.
    public var slowTurnWarningMilliseconds = 100
    /// Sync each log write off the consensus loop, which goes on stepping, relaying and
    /// answering meanwhile (`ConsensusLoop.processReady`); false: block the loop on it.
    public var deferLogSyncs = true
    /// Under load — once a deferred log sync carried at least `busySyncEntries` entries — the
    /// next sync starts no sooner than this many microseconds after the previous one started,
    /// so that each fsync carries more writes: at 10,000 events/s a quarter to a third fewer
    /// fsyncs and about 5 % less server CPU (docs/BENCHMARKS.md, fifth pass). A light load (a
    /// sync of fewer entries) is never held back, so latency at low rates is unchanged. The hold delays everything the next Ready carries,
    /// heartbeats included, so keep it far below a tick. 0 turns it off; only on a `LoopHost`.
    public var minBusySyncIntervalMicroseconds = 1_000
    public var busySyncEntries = 4
    /// How long a leader may leave its followers without a commit index that advanced, waiting
    /// for the next append with entries to carry it (`RaftConfig.deferCommitAnnouncements`),
    /// in microseconds. Under load that saves an empty append and its answer per follower and
    /// commit. Followers apply a lone write up to this much later — except the follower the
    /// write came through: the leader's answer carries the entry's term, from which it commits
    /// the entry at once (`Raft.learnCommitted`), and it answers the writer once it applied it
    /// (`ConsensusLoop.catchUp`), so a `local` read there sees the write. 0 announces every
    /// advance at once. The loop wakes for it with millisecond resolution (one of its
    /// deadlines, like ticks and escalation timers). Default 2 ms (docs/BENCHMARKS.md,
    /// tenth and eleventh passes).
    public var commitAnnouncementDelayMicroseconds = 2_000

    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    /// The applied entries and bytes after which the next snapshot is taken, given the size of
    /// the last one (`snapshotLogRatio`).
    public func snapshotThresholds(lastSnapshotBytes: Int) -> (entries: UInt64, bytes: Int) {
        let wanted = snapshotLogRatio * Double(lastSnapshotBytes) / Double(snapshotEveryBytes)
        let cap = Double(maxLogBytesBetweenSnapshots) / Double(snapshotEveryBytes)
        let scale = min(max(1, wanted), cap)
        guard scale > 1 else { return (snapshotEveryEntries, snapshotEveryBytes) }
        return (UInt64(Double(snapshotEveryEntries) * scale), Int(Double(snapshotEveryBytes) * scale))
    }

    public func validate() throws(NodeError) {
        func check(_ ok: Bool, _ message: String) throws(NodeError) {
            if !ok { throw NodeError(.invalidConfig, message) }
        }
        try check(!dataDirectory.isEmpty, "data directory must be set")
        try check(nodeID != 0, "node id must be non-zero")
        try check(tickIntervalMilliseconds >= 10 && tickIntervalMilliseconds <= 10_000, "tick interval must be 10–10000 ms")
        try check(maxBatchCommands > 0 && maxBatchBytes > 0, "batch limits must be positive")
        try check(proposalQueueDepth > 0, "proposal queue depth must be positive")
        try check(snapshotEveryEntries > 0 && snapshotEveryBytes > 0, "snapshot thresholds must be positive")
        try check((0...19).contains(snapshotThreadNice), "the snapshot thread's nice value must be 0–19")
        try check(snapshotReuseBytes >= 0, "the snapshot reuse budget may not be negative")
        try check(snapshotLogRatio >= 0 && snapshotLogRatio <= 100, "the snapshot log ratio must be 0–100")
        try check(maxLogBytesBetweenSnapshots >= snapshotEveryBytes, "the log between snapshots may not be capped below snapshotEveryBytes")
        try check(rememberedRequests > 0, "remembered requests must be positive")
        try check(maxConcurrentDeliveries > 0, "max concurrent deliveries must be positive")
        try check(!region.isEmpty, "region must be set")
        try check(leaderWaitMilliseconds >= 0 && forwardTimeoutMilliseconds > 0 && readIndexTimeoutMilliseconds > 0, "leader wait, forward and read timeouts must be positive")
        try check(Self.forwardBatchesInFlightRange.contains(forwardBatchesInFlight), "forward batches in flight must be \(Self.forwardBatchesInFlightRange.lowerBound)–\(Self.forwardBatchesInFlightRange.upperBound)")
        try check(Self.forwardWaitMicrosecondsRange.contains(forwardWaitMicroseconds), "the forward wait must be \(Self.forwardWaitMicrosecondsRange.lowerBound)–\(Self.forwardWaitMicrosecondsRange.upperBound) µs")
        try check(rememberedRetryIDs > 0 && retryIDMemoryMilliseconds > 0, "retry-id memory must be positive")
        try check(dispatchLeaseReserveMilliseconds >= 0 && dispatchLeaseMilliseconds > dispatchLeaseReserveMilliseconds,
                  "the dispatch lease must be longer than its reserve")
        if !initialMembers.isEmpty {
            try check(initialMembers.contains { $0.id == nodeID } || join, "the initial members must include this node (\(nodeID)) unless it joins")
            try check(Set(initialMembers.map(\.id)).count == initialMembers.count, "initial member ids must be unique")
            try check(!initialMembers.contains { $0.id == 0 }, "member ids must be non-zero")
        }
        do { try storage.validate() } catch { throw NodeError(.invalidConfig, "storage: \(error)") }
        do { try raftConfig.validate() } catch { throw NodeError(.invalidConfig, "raft: \(error)") }
    }

    /// The founding voters: the initial members, or this node alone.
    var initialVoters: [NodeID] { initialMembers.isEmpty ? [nodeID] : initialMembers.map(\.id) }

    var raftConfig: RaftConfig {
        var config = RaftConfig(id: nodeID)
        config.electionTicks = electionTicks
        config.heartbeatTicks = heartbeatTicks
        config.deferCommitAnnouncements = commitAnnouncementDelayMicroseconds > 0
        if !preferredLeaderRegions.isEmpty {
            for member in initialMembers where preferredLeaderRegions.contains(member.region) { config.priorities[member.id] = 1 }
        }
        return config
    }
}

/// Why the node could not do what was asked. `code` maps to an HTTP status in the API.
public struct NodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The node is not the leader and cannot forward (503).
        case notLeader = "not_leader"
        /// Too many requests are queued (503 with Retry-After).
        case overloaded
        /// The node is shutting down or stopped (503).
        case unavailable
        /// The write may or may not have been applied (leadership changed before commit).
        case uncertain
        case invalidConfig = "invalid_config"
        /// The data directory is unusable or corrupt; the node refuses to start.
        case storage
        /// The operation conflicts with the cluster's state (a membership change is already
        /// pending, the member is unknown or not caught up) (409).
        case conflict
        /// Between nodes only: a retried write's node-made id was applied before, at
        /// `earlierIndex`, and its answer is kept by the node that made the id (which turns this
        /// into the answer; a client never sees it).
        case appliedEarlier = "applied_earlier"
    }

    public var code: Code
    public var message: String
    public var leaderHint: NodeID
    /// For `appliedEarlier`: the index the write was applied at.
    public var earlierIndex: LogIndex

    public init(_ code: Code, _ message: String, leaderHint: NodeID = 0, earlierIndex: LogIndex = 0) {
        self.code = code
        self.message = message
        self.leaderHint = leaderHint
        self.earlierIndex = earlierIndex
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
