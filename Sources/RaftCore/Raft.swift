/// One member's consensus state, as a deterministic value type (the shape of etcd-io/raft).
///
/// Inputs: `tick()`, `step(_:)`, `propose(_:)`, `readIndex(context:)`,
/// `transferLeadership(to:)`, `proposeConfChange(_:)`, `setSnapshot(_:)`. Output: a `Ready`
/// that the driver processes in this order — persist `snapshot`, `entries` and `hardState`
/// (fsync when `mustSync`), then send `messages`, then apply `committedEntries` — and
/// acknowledges with `advance(_:)`. Nothing here reads a clock, does I/O or draws randomness
/// other than from the seeded generator, so a simulator can replay any run exactly.
public struct Raft: Sendable {
    /// What a member currently is.
    public enum Role: String, Sendable, Equatable {
        case follower, preCandidate, candidate, leader
    }

    public internal(set) var config: RaftConfig
    public var id: NodeID { config.id }
    public internal(set) var term: Term = 0
    /// Who this member voted for in `term` (0: nobody).
    public internal(set) var vote: NodeID = 0
    /// The leader of `term` as far as this member knows (0: unknown).
    public internal(set) var leader: NodeID = 0
    public internal(set) var role: Role = .follower
    /// The membership as of the last applied configuration change (or snapshot).
    public internal(set) var confState: ConfState

    var log: RaftLog
    /// The leader's view of every member (itself included). Empty unless leader.
    var progress: [NodeID: Progress] = [:]
    /// Votes received in the current (pre-)election.
    var votes: [NodeID: Bool] = [:]
    var outbox: [Message] = []

    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    var rng: SplitMix64

    /// Leadership transfer in progress (leader only).
    var transferTarget: NodeID = 0
    /// Index of the last configuration change this leader proposed; no new one until it is applied.
    var pendingConfIndex: LogIndex = 0
    /// Payload bytes this leader appended that are not yet committed and applied.
    var uncommittedBytes = 0

    var reads = ReadQueue()
    var readStates: [ReadState] = []
    var failedReads: [[UInt8]] = []

    /// The newest snapshot the application gave us (sent to followers that fell behind the log).
    /// Its data may have been released (`releaseSnapshotData`); then `snapshotDataReleased`.
    var snapshot: Snapshot
    var snapshotDataReleased = false
    /// A follower needs the snapshot while its data is released: the driver should hand it back.
    var snapshotDataWanted = false
    /// A snapshot arriving in chunks from the leader (follower only).
    var incomingSnapshot: IncomingSnapshot?

    /// Hard and soft state as of the last `Ready`, to report only changes.
    var lastHardState: HardState
    var lastSoftState: SoftState
    var readyOutstanding = false

    /// Restores a member from durable state.
    ///
    /// - Parameters:
    ///   - hardState: the persisted term, vote and commit index.
    ///   - snapshot: the newest snapshot (its data is kept to send to lagging followers); an
    ///     empty one for a member that never took one (see `bootstrap(voters:)`).
    ///   - entries: the persisted entries after the snapshot, contiguous.
    ///   - randomSeed: seeds the election-timeout randomisation.
    public init(config: RaftConfig, hardState: HardState, snapshot: Snapshot, entries: [Entry], randomSeed: UInt64) throws(RaftConfigError) {
        try config.validate()
        self.config = config
        self.snapshot = snapshot
        rng = SplitMix64(seed: randomSeed ^ config.id)
        confState = snapshot.metadata.confState
        log = RaftLog(snapshot: snapshot.metadata, entries: entries, commit: hardState.commit)
        term = hardState.term
        vote = hardState.vote
        lastHardState = hardState
        lastSoftState = SoftState(leader: 0, role: .follower)
        becomeFollower(term: hardState.term, leader: 0)
    }

    /// The durable state a brand-new cluster member writes before its first start: the initial
    /// configuration as a committed configuration-change entry at index 1, term 1. Every
    /// founding member writes the identical entry, so their logs match from the start, and
    /// members that join later receive it (or a snapshot covering it) like any other entry.
    public static func bootstrap(voters: Set<NodeID>) -> (hardState: HardState, entries: [Entry]) {
        precondition(!voters.isEmpty && !voters.contains(0), "a cluster needs non-zero voters")
        let change = ConfChange(voters.sorted().map { .addVoter($0) })
        return (HardState(term: 1, vote: 0, commit: 1), [Entry(term: 1, index: 1, kind: .confChange, data: change.encoded())])
    }

    // MARK: - Observers

    public var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    public var softState: SoftState { SoftState(leader: leader, role: role) }
    public var commitIndex: LogIndex { log.committed }
    public var appliedIndex: LogIndex { log.applied }
    public var lastIndex: LogIndex { log.lastIndex }
    public var firstIndex: LogIndex { log.firstIndex }
    public var isLeader: Bool { role == .leader }
    /// Whether this member may become leader: a voter of the current configuration.
    public var isPromotable: Bool { confState.isVoter(id) }
    /// Whether this leader heard from `member` within the last election timeout (what
    /// `followerStatus` reports as `recentActive`, without building the whole map).
    public func isRecentlyActive(_ member: NodeID) -> Bool { progress[member]?.recentActive ?? false }
    /// The follower states the leader tracks (for status pages and tests); empty on non-leaders.
    public var followerStatus: [NodeID: FollowerStatus] {
        progress.mapValues { FollowerStatus(match: $0.match, next: $0.next, isLearner: $0.isLearner, state: $0.stateName, recentActive: $0.recentActive) }
    }
    /// The entry term at `index`, if this member still holds it.
    public func term(at index: LogIndex) -> Term? { log.term(at: index) }
    /// Entries `[from, through]` still in memory (nil when compacted).
    public func entries(from: LogIndex, through: LogIndex) -> [Entry]? {
        log.slice(from: from, through: through, maxBytes: .max)
    }

    // MARK: - Role changes

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID) {
        failPendingReads()
        reset(term: newTerm)
        leader = newLeader
        role = .follower
    }

    mutating func becomePreCandidate() {
        precondition(role != .leader, "a leader cannot become a pre-candidate")
        // Pre-vote changes neither term nor vote (thesis §9.6). A fresh random timeout keeps
        // repeated pre-elections of several members from staying in step.
        votes = [:]
        leader = 0
        role = .preCandidate
        resetRandomizedElectionTimeout()
    }

    mutating func becomeCandidate() {
        precondition(role != .leader, "a leader cannot become a candidate")
        reset(term: term + 1)
        vote = id
        role = .candidate
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader")
        reset(term: term)
        leader = id
        role = .leader
        for member in confState.sortedMembers {
            progress[member] = newProgress(for: member)
        }
        // Appending an empty entry of the new term commits everything before it (§5.4.2) and
        // is what read-index and membership changes wait for. No configuration change may be
        // proposed until it is applied (the single-server-change fix).
        pendingConfIndex = log.lastIndex + 1
        appendLeaderEntries([Entry(term: term, index: log.lastIndex + 1)])
        broadcastAppend()
    }

    func newProgress(for member: NodeID) -> Progress {
        var pr = Progress(
            next: log.lastIndex + 1, isLearner: !confState.isVoter(member),
            maxInflightMessages: config.maxInflightMessages, maxInflightBytes: config.maxInflightBytes)
        if member == id {
            pr.match = log.stableIndex
            pr.becomeReplicate()
            pr.recentActive = true
        }
        return pr
    }

    private mutating func reset(term newTerm: Term) {
        if newTerm != term {
            term = newTerm
            vote = 0
        }
        leader = 0
        electionElapsed = 0
        heartbeatElapsed = 0
        resetRandomizedElectionTimeout()
        transferTarget = 0
        votes = [:]
        progress = [:]
        uncommittedBytes = 0
        pendingConfIndex = 0
        reads = ReadQueue()
    }

    mutating func resetRandomizedElectionTimeout() {
        // Members below the highest configured priority wait longer, so the preferred ones
        // usually win; the random part still breaks ties (§5.2).
        let top = confState.voters.map { config.priority(of: $0) }.max() ?? 0
        let penalty = config.priority(of: id) < top ? config.electionTicks / 2 : 0
        randomizedElectionTimeout = config.electionTicks + penalty + Int(rng.next(upperBound: UInt64(config.electionTicks)))
    }

    // MARK: - Sending

    mutating func send(_ body: Message.Body, to: NodeID, term messageTerm: Term? = nil) {
        precondition(to != id, "a member never sends to itself")
        outbox.append(Message(from: id, to: to, term: messageTerm ?? term, body: body))
    }

    /// Whether the leader has committed an entry of its own term (§5.4.2, §6.4 for reads).
    var hasCommittedInTerm: Bool { log.term(at: log.committed) == term }
}

/// Volatile state the driver may want to react to (leader changes).
public struct SoftState: Sendable, Equatable {
    public var leader: NodeID
    public var role: Raft.Role
}

/// A leader's view of one follower, for status reporting.
public struct FollowerStatus: Sendable, Equatable {
    public var match: LogIndex
    public var next: LogIndex
    public var isLearner: Bool
    public var state: String
    public var recentActive: Bool
}

extension Progress {
    var stateName: String {
        switch state {
        case .probe: return "probe"
        case .replicate: return "replicate"
        case .snapshot: return "snapshot"
        }
    }
}

/// SplitMix64: a tiny, seedable generator so elections are reproducible in the simulator.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
