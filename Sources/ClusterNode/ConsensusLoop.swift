import Foundation
import Synchronization
import IncidentCore
import Logging
import RaftCore
import RaftStorage

/// The single thread that owns Raft, the durable log and the replicated state: a thread of its
/// own (`run`) or the transport's network thread (`start(on:stopped:)`, see `LoopHost`). Each
/// turn it takes every queued request and peer message, steps Raft with the messages, proposes
/// the requests as one batch (one log append, one fsync: group commit), sends what Raft produced
/// (a leader's appends before its own write, the rest once it is durable), applies what
/// committed, answers the waiting requests, runs reads, fires due timers, starts deliveries and
/// takes snapshots. Blocking disk I/O stays on this thread, away from the async runtime.
final class ConsensusLoop: @unchecked Sendable {
    // @unchecked: every mutable field below is touched only on the loop thread (`run`), or on
    // the host's thread (`start(on:stopped:)`, which runs turns serially), started once; other
    // threads talk to it only through `inbox` (a Mutex), the published atomics, `transport`
    // and `delivery`.
    let inbox: Inbox
    let config: NodeConfig
    let logger: Logger
    let clock: @Sendable () -> Int64
    let delivery: (any NotificationDelivery)?
    let transport: (any ClusterTransport)?

    var raft: Raft
    let store: RaftLogStore
    var state: ReplicatedState
    var scheduler = EscalationScheduler()
    var deliveries = DeliveryQueue()
    /// Requests waiting for their entry to apply, by log index. An entry that commits at the same
    /// index and term is the one proposed (Raft's log matching), so `apply` uses the kept
    /// envelope instead of decoding the bytes it was just encoded into.
    var waiting: [LogIndex: Waiter] = [:]
    /// Answers to this node's own writes in flight (shared with `IncidentNode`).
    let ownWrites: OwnWrites

    struct Waiter {
        enum Reply {
            case submission(@Sendable (Result<Submission, NodeError>) -> Void)
            case index(@Sendable (Result<LogIndex, NodeError>) -> Void)
        }
        var term: Term
        var reply: Reply
        var envelope: Envelope?

        func fail(_ error: NodeError) {
            switch reply {
            case .submission(let reply): reply(.failure(error))
            case .index(let reply): reply(.failure(error))
            }
        }
    }

    /// Keeps `waiter` until the entry at `index` applies. A waiter already there (its entry was
    /// replaced in a leader change this loop never saw as one) is failed, never dropped unanswered.
    func wait(at index: LogIndex, _ waiter: Waiter) {
        guard let replaced = waiting.updateValue(waiter, forKey: index) else { return }
        replaced.fail(NodeError(.uncertain, "the proposal at index \(index) was superseded by a leader change; retry"))
    }

    /// Linearizable reads waiting for their read index (by context) and then for this node to
    /// apply it.
    var pendingReads = PendingReads()
    /// Writes this node forwarded, waiting to be applied here before they are answered.
    var catchUps = CatchUps()
    var commitsLearnedFromAnswers: UInt64 = 0
    var answersBeforeCatchingUp: UInt64 = 0
    /// The last stamp given to an entry; stamps never go backwards within the log.
    var lastStamp: Int64 = 0
    var appliedSinceSnapshot: (entries: UInt64, bytes: Int) = (0, 0)
    /// When the next snapshot is due (`NodeConfig.snapshotThresholds`): set from the size of the
    /// last snapshot taken, installed or restored.
    var snapshotThresholds: (entries: UInt64, bytes: Int) = (0, 0)
    /// A copy of the state is being encoded on `snapshotThread`; no second one starts meanwhile.
    var snapshotEncoding = false
    /// Snapshots written and placed off the loop, to publish once no log sync is in flight: the
    /// WAL marker that publishing writes would otherwise first wait out that sync, a second
    /// `fdatasync` on the loop (`RaftLogStore.writeRecord`).
    var snapshotsToPublish: [EncodedSnapshot] = []
    /// The latest snapshot file is being read back for Raft on `snapshotThread`.
    var snapshotLoading = false
    /// Encodes snapshots off the loop thread: the state is a value, so the loop hands over a copy
    /// (copy-on-write: only what the loop changes meanwhile gets duplicated) and keeps applying.
    /// A thread of its own at `config.snapshotThreadNice`, so that the serving threads get the
    /// core first when both want it.
    let snapshotThread: BackgroundThread
    /// Frees what log compaction dropped and deletes the files a snapshot made obsolete, off the
    /// loop. Not on `snapshotThread`: freeing the entries (up to hundreds of megabytes in blocks
    /// of a few kilobytes) takes the allocator's arena locks, which the serving threads take
    /// too; a thread that gets only the CPU they leave over should not be the one holding them.
    let cleanupQueue = DispatchQueue(label: "incidentd-log-cleanup", qos: .utility)
    /// Runs the fdatasync of each log write off the loop (see `processReady`), one at a time.
    let logSyncQueue = DispatchQueue(label: "incidentd-log-sync", qos: .userInitiated)
    /// The Ready whose log write is syncing; no other Ready is taken until it finishes.
    var syncing: SyncingReady?
    /// When the last deferred log sync started (monotonic ns) and how many entries it carried,
    /// for `syncIsHeldBack`; whether the turn that ends the hold is armed.
    var lastSync: (started: UInt64, entries: Int) = (0, 0)
    var syncHoldArmed = false
    /// When the loop tells followers the commit index no append carried yet
    /// (`announceCommitWhenDue`), on the uptime clock in nanoseconds.
    var commitAnnouncementDue: UInt64?
    var commitAnnouncements: UInt64 = 0
    /// The members as of a configuration and member directory (`ConsensusLoop.currentMembers`).
    var membershipView: MembershipView?
    var wasLeader = false
    var logAppends: UInt64 = 0
    var loopTurns: UInt64 = 0
    /// What the current turn's log appends and applies took (for the slow-turn warning).
    var turnWork = TurnWork()
    let metrics = NodeMetrics()
    /// `state.accessRevision` as last published to other threads; stored before any write that
    /// changed it is answered, so a client that saw its key revoked is never served from a cache.
    let publishedAccessRevision = Atomic<UInt64>(0)
    /// The leader as this node last knew it (0: none), for routing writes without a loop trip.
    let publishedLeader = Atomic<UInt64>(0)
    /// The applied index, and the monotonic milliseconds at which this node last heard from
    /// its leader (the leader: its last tick), for the headers of local reads.
    let publishedApplied = Atomic<UInt64>(0)
    let publishedLeaderContact = Atomic<Int64>(0)
    /// Members (with addresses) last handed to the transport.
    var announcedMembers: [MemberInfo] = []
    /// Founders this leader already proposed into the member directory.
    var proposedFounders: Set<NodeID> = []
    /// Membership changes waiting for the pending one to apply, with their deadlines.
    var parkedConfChanges: [(request: Inbox.ClusterRequest, deadline: Int64)] = []
    /// Dispatch-lease grants proposed and not yet answered, by scope.
    var leaseGrantsInFlight: Set<String> = []
    /// Turns with a tick since this node last became leader (0 when not leading; several ticks in
    /// one turn count once, so it errs late): until an election timeout has passed, a member
    /// that has not answered it yet may just not have had the chance.
    var ticksAsLeader = 0
    /// Whether this node, leading, has seen to the member directory and the dispatch leases
    /// since it became leader; after that it does so on ticks (`leaderBookkeeping`).
    var leaderBookkept = false
    var leaderBookkeepingRuns: UInt64 = 0
    var forwardedCommandsProposedAsSent: UInt64 = 0
    /// The dispatch scopes this node held at the end of the last turn.
    var heldScopes: Set<String> = []
    /// Hands a command this node made up (a delivery report on a follower) to the leader;
    /// set by `IncidentNode` to its forwarding `submit`.
    var forwardInternal: (@Sendable (Command) -> Void)?

    init(
        config: NodeConfig, logger: Logger, clock: @escaping @Sendable () -> Int64, delivery: (any NotificationDelivery)?,
        transport: (any ClusterTransport)?
    ) throws(NodeError) {
        self.config = config
        ownWrites = OwnWrites(nodeID: config.nodeID)
        self.logger = logger
        self.clock = clock
        self.delivery = delivery
        self.transport = transport
        snapshotThread = BackgroundThread(name: "incidentd-snap", nice: config.snapshotThreadNice)
        inbox = Inbox(proposalLimit: config.proposalQueueDepth)
        let opened: (store: RaftLogStore, recovered: RecoveredState)
        do {
            try FileManager.default.createDirectory(atPath: config.dataDirectory + "/raft", withIntermediateDirectories: true)
            opened = try RaftLogStore.open(directory: config.dataDirectory + "/raft", config: config.storage)
        } catch let error as StorageError {
            throw NodeError(.storage, "cannot open the Raft log in \(config.dataDirectory)/raft: \(error)")
        } catch {
            throw NodeError(.storage, "cannot create \(config.dataDirectory)/raft: \(error)")
        }
        store = opened.store
        var recovered = opened.recovered
        if let tail = recovered.discardedTail {
            logger.warning("discarded a torn tail of the Raft log", metadata: ["path": "\(tail.path)", "offset": "\(tail.offset)", "bytes": "\(tail.bytes)", "reason": "\(tail.reason)"])
        }
        state = ReplicatedState(
            rememberedRequests: config.rememberedRequests, requestMemoryMilliseconds: config.requestMemoryMilliseconds,
            transientRequests: config.rememberedRetryIDs, transientMemoryMilliseconds: config.retryIDMemoryMilliseconds)
        var snapshot = Snapshot()
        do {
            if recovered.snapshot == nil && recovered.entries.isEmpty && !config.join {
                // First start of a founding member: every founder writes the same configuration
                // entry (the initial voters), so their logs agree from index 1.
                let (hard, entries) = Raft.bootstrap(voters: Set(config.initialVoters))
                try store.append(entries, hardState: hard)
                recovered = RecoveredState(snapshot: nil, hardState: hard, entries: entries)
                logger.info("bootstrapped a new cluster", metadata: ["data_dir": "\(config.dataDirectory)", "voters": "\(config.initialVoters.sorted())"])
            }
            if recovered.snapshot != nil {
                guard let loaded = try store.loadSnapshot() else { throw NodeError(.storage, "the snapshot named by the log is missing") }
                snapshot = loaded
                try state.restore(loaded.data)
            }
        } catch let error as NodeError {
            throw error
        } catch {
            throw NodeError(.storage, "cannot restore \(config.dataDirectory): \(error)")
        }
        do {
            raft = try Raft(config: config.raftConfig, hardState: recovered.hardState, snapshot: snapshot, entries: recovered.entries, randomSeed: UInt64.random(in: 1...UInt64.max))
        } catch {
            throw NodeError(.invalidConfig, "\(error)")
        }
        lastStamp = state.machine.appliedAt.millisecondsSinceEpoch
        publishedAccessRevision.store(state.accessRevision, ordering: .releasing)
        // Members snapshot a third of the interval apart (by node id): three members that
        // snapshot at the same entry copy, encode and compress at once, on cores they share with
        // everything else, and no majority is left undisturbed to commit meanwhile (p99 at
        // 2,000 events/s went from 3–4 ms to 5–9 ms in every 10 s run that had the three).
        snapshotThresholds = config.snapshotThresholds(lastSnapshotBytes: snapshot.data.count)
        let phase = config.nodeID % 3
        appliedSinceSnapshot = (snapshotThresholds.entries * phase / 3, snapshotThresholds.bytes * Int(phase) / 3)
    }

    /// Milliseconds on the monotonic clock, for local delays: Raft ticks and delivery retries.
    /// The wall clock (`clock`) is only for what is replicated — entry stamps and the escalation
    /// timers compared with them — so a wall clock stepped backwards (NTP, a clock-jump drill)
    /// cannot stall ticks or retries for the length of the step.
    static func monotonicMilliseconds() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000) }

    /// When Raft ticks next (monotonic milliseconds).
    var nextTick: Int64 = 0
    /// The thread the loop runs on when it has none of its own (`start(on:stopped:)`).
    var host: (any LoopHost)?
    /// The deadline turn armed on `host` while the loop is idle, and its generation.
    var hostDeadline: (timer: any LoopHostTimer, at: Int64, generation: UInt64)?
    var hostDeadlineGeneration: UInt64 = 0
    var onStopped: (@Sendable () -> Void)?
    var stopped = false

    /// Runs on the calling thread (a thread of the loop's own) until `inbox.stop()`; then fails
    /// what is still waiting and closes the log.
    func run() {
        begin()
        while true {
            let work = inbox.take(waitingUpTo: millisecondsUntilDeadline)
            if work.stopping {
                shutDown(answering: work)
                return
            }
            turn(work)
        }
    }

    /// Runs the loop on `host` instead: a turn whenever work arrives (the inbox wakes the host),
    /// another right after each turn while work keeps coming (queued behind the host's own
    /// work, so its network I/O interleaves), and one at each due tick or timer when idle.
    /// `stopped` runs once the loop has shut down.
    func start(on host: any LoopHost, stopped: @escaping @Sendable () -> Void) {
        self.host = host
        onStopped = stopped
        inbox.setWake { host.execute { self.hostTurn(deadline: nil) } }
        host.execute {
            self.begin()
            self.hostTurn(deadline: nil)
        }
    }

    private func hostTurn(deadline generation: UInt64?) {
        guard !stopped, let host else { return }
        if let generation, hostDeadline?.generation == generation { hostDeadline = nil }
        let work: Inbox.Contents
        if let queued = inbox.takeIfAny() {
            work = queued
        } else if generation != nil || millisecondsUntilDeadline == 0 {
            work = Inbox.Contents()
        } else {
            armDeadline(on: host)
            return
        }
        if work.stopping {
            stopped = true
            hostDeadline?.timer.cancel()
            hostDeadline = nil
            inbox.setWake(nil)
            shutDown(answering: work)
            onStopped?()
            return
        }
        turn(work)
        host.execute { self.hostTurn(deadline: nil) }
    }

    /// Makes sure an idle loop on `host` wakes for its next tick or timer.
    private func armDeadline(on host: any LoopHost) {
        let now = Self.monotonicMilliseconds()
        let at = now + Int64(millisecondsUntilDeadline)
        if let armed = hostDeadline, armed.at <= at { return }
        hostDeadline?.timer.cancel()
        hostDeadlineGeneration &+= 1
        let generation = hostDeadlineGeneration
        let timer = host.schedule(afterMicroseconds: max(0, at - now) * 1_000) { self.hostTurn(deadline: generation) }
        hostDeadline = (timer, at, generation)
    }

    /// Before the first turn: the members, whatever the recovered log left to do, and a lone
    /// voter's election.
    private func begin() {
        nextTick = Self.monotonicMilliseconds() + Int64(config.tickIntervalMilliseconds)
        announceMembers()
        processReady()
        campaignIfAlone()
    }

    /// How long the loop may wait for work before its next tick or, on the leader, due timer or
    /// commit announcement.
    /// (Only the leader fires timers; a follower's scheduler may hold some that are long due.)
    private var millisecondsUntilDeadline: Int {
        let untilTick = nextTick - Self.monotonicMilliseconds()
        let untilTimer = raft.isLeader ? scheduler.millisecondsUntilNext(from: Timestamp(millisecondsSinceEpoch: clock())) ?? Int64.max : Int64.max
        var untilAnnouncement = Int64.max
        if let due = commitAnnouncementDue {
            let now = DispatchTime.now().uptimeNanoseconds
            untilAnnouncement = due > now ? Int64((due - now + 999_999) / 1_000_000) : 0
        }
        return Int(max(0, min(untilTick, untilTimer, untilAnnouncement)))
    }

    /// One turn: tick when due, step the peers' messages, propose the queued writes as one
    /// batch, persist, send, apply and answer, then deliveries and snapshots.
    private func turn(_ work: Inbox.Contents) {
        var clock = TurnClock()
        defer { finishTurn(clock, work) }
        loopTurns += 1
        let ticked = Self.monotonicMilliseconds() >= nextTick
        if ticked {
            raft.tick()
            nextTick = Self.monotonicMilliseconds() + Int64(config.tickIntervalMilliseconds)
            campaignIfAlone()
            failExpiredReads()
            answersBeforeCatchingUp += UInt64(catchUps.releaseExpired(now: Self.monotonicMilliseconds()))
            announceMembers()
            metrics.observe(status)
        }
        for message in work.messages where message.to == config.nodeID {
            raft.step(message)
            if message.from == raft.leader { publishedLeaderContact.store(Self.monotonicMilliseconds(), ordering: .relaxed) }
        }
        if work.logSynced { finishLogSync() }
        catchUp(work.catchUps)
        clock.mark(.step)
        if raft.isLeader { publishedLeaderContact.store(Self.monotonicMilliseconds(), ordering: .relaxed) }
        for id in work.deliveriesFinished { deliveries.finished(id) }
        snapshotsToPublish += work.encodedSnapshots
        if syncing == nil, !snapshotsToPublish.isEmpty {
            // Right after a sync finished (above), or with none under way.
            for snapshot in snapshotsToPublish { saveEncodedSnapshot(snapshot) }
            snapshotsToPublish = []
        }
        for loaded in work.loadedSnapshots { snapshotDataLoaded(loaded) }
        var proposals = work.proposals
        for (id, report) in work.deliveryReports {
            if raft.isLeader {
                proposals.append(Inbox.Proposal(command: .recordDelivery(notification: id, report: report, actor: .system), requestID: "", reply: nil))
            } else {
                proposeInternal(.recordDelivery(notification: id, report: report, actor: .system))
            }
            scheduleRetryIfNeeded(id, report)
        }
        if raft.isLeader { proposals += dueTimerProposals() }
        // Reads first: they see every write answered before they were queued (those were
        // applied in an earlier turn), and need not wait for this turn's fsync.
        serve(work.reads)
        retryParkedConfChanges()
        for request in work.clusterRequests { handle(request) }
        clock.mark(.bookkeeping)
        propose(proposals)
        clock.mark(.propose)
        processReady()
        clock.mark(.ready)
        leaderBookkeeping(ticked: ticked)
        announceCommitWhenDue()
        clock.mark(.leader)
        startDeliveries()
        clock.mark(.deliveries)
        maybeSnapshot()
        manageSnapshotData()
        clock.mark(.snapshots)
    }

    /// Records the turn's duration and, past `slowTurnWarningMilliseconds`, logs where it went.
    private func finishTurn(_ clock: TurnClock, _ work: Inbox.Contents) {
        let nanoseconds = DispatchTime.now().uptimeNanoseconds - clock.started
        metrics.turnDuration.recordNanoseconds(Int64(nanoseconds))
        defer { turnWork = TurnWork() }
        guard config.slowTurnWarningMilliseconds > 0, nanoseconds > UInt64(config.slowTurnWarningMilliseconds) * 1_000_000 else { return }
        logger.warning(
            "slow consensus-loop turn",
            metadata: [
                "ms": "\(nanoseconds / 1_000_000)", "phases_us": "\(clock.phases)", "messages": "\(work.messages.count)",
                "proposals": "\(work.proposals.count)", "log_append_us": "\(turnWork.appendNanoseconds / 1_000)",
                "applied": "\(turnWork.applied)", "apply_us": "\(turnWork.applyNanoseconds / 1_000)",
            ])
    }

    /// On the leader: founders into the member directory, dispatch leases granted and renewed —
    /// in its first turn as leader, then on ticks. Not every turn: under load a turn carries a few
    /// writes, and working out the leases (the members, their health, every scope) cost the
    /// leader's loop a tenth of its time at 500 writes a second. An idle leader turns only on
    /// ticks anyway, so leases never relied on more: one is renewed a third of the way from its
    /// grant to its reserve (`maintainDispatchLeases`), and handed to another member only after
    /// it ran out.
    private func leaderBookkeeping(ticked: Bool) {
        guard raft.isLeader else {
            leaderBookkept = false
            ticksAsLeader = 0
            return
        }
        if ticked { ticksAsLeader += 1 }
        guard ticked || !leaderBookkept else { return }
        leaderBookkept = true
        leaderBookkeepingRuns += 1
        ensureFoundersInDirectory()
        maintainDispatchLeases()
        processReady()
    }

    private func campaignIfAlone() {
        if !raft.isLeader, raft.confState.voters == [config.nodeID], raft.leader == 0 {
            raft.campaignNow()
            processReady()
        }
    }

    // MARK: - Proposing

    func propose(_ proposals: [Inbox.Proposal]) {
        guard !proposals.isEmpty else { return }
        guard raft.isLeader else {
            for proposal in proposals {
                proposal.reply?(.failure(NodeError(.notLeader, "this node is not the leader; retry", leaderHint: raft.leader)))
            }
            return
        }
        var start = 0
        while start < proposals.count {
            var batch: [[UInt8]] = []
            var envelopes: [Envelope] = []
            var bytes = 0
            var end = start
            let stamp = nextStamp()
            while end < proposals.count, batch.count < config.maxBatchCommands, bytes < config.maxBatchBytes {
                let envelope = Envelope(stamp: stamp, requestID: proposals[end].requestID, body: .incident(proposals[end].command))
                let data: [UInt8]
                if let sent = proposals[end].encodedCommand {
                    data = envelope.encoded(incidentCommandBytes: sent)
                    forwardedCommandsProposedAsSent += 1
                } else {
                    data = envelope.encoded()
                }
                bytes += data.count
                batch.append(data)
                envelopes.append(envelope)
                end += 1
            }
            do {
                let range = try raft.propose(batch: batch)
                for (offset, index) in range.enumerated() {
                    if let reply = proposals[start + offset].reply {
                        wait(at: index, Waiter(term: raft.term, reply: .submission(reply), envelope: envelopes[offset]))
                    }
                }
                metrics.batchProposed(commands: batch.count, bytes: bytes)
            } catch {
                let nodeError = error.code == .uncommittedLimit
                    ? NodeError(.overloaded, "too many uncommitted writes; retry", leaderHint: error.leaderHint)
                    : NodeError(.notLeader, error.message, leaderHint: error.leaderHint)
                for proposal in proposals[start..<end] { proposal.reply?(.failure(nodeError)) }
            }
            start = end
        }
    }

    /// The leader's clock, but never below the previous entry's stamp.
    func nextStamp() -> Timestamp {
        lastStamp = max(lastStamp, clock())
        return Timestamp(millisecondsSinceEpoch: lastStamp)
    }

    private func dueTimerProposals() -> [Inbox.Proposal] {
        scheduler.takeDue(at: Timestamp(millisecondsSinceEpoch: clock())).map {
            Inbox.Proposal(command: .fireTimer($0, actor: .system), requestID: "", reply: nil)
        }
    }
}

/// The time a turn spends in each of its phases, without allocating (a turn is often tens of
/// microseconds).
struct TurnClock {
    enum Phase: Int, CaseIterable {
        case step, bookkeeping, propose, ready, leader, deliveries, snapshots
        var name: StaticString {
            switch self {
            case .step: "step"
            case .bookkeeping: "reads_and_snapshot_files"
            case .propose: "propose"
            case .ready: "append_send_apply"
            case .leader: "leader_upkeep"
            case .deliveries: "deliveries"
            case .snapshots: "snapshots"
            }
        }
    }

    let started = DispatchTime.now().uptimeNanoseconds
    private var marks = InlineArray<7, UInt64>(repeating: 0)

    mutating func mark(_ phase: Phase) { marks[phase.rawValue] = DispatchTime.now().uptimeNanoseconds }

    /// `step=12 propose=40 ...` in microseconds per phase reached.
    var phases: String {
        var last = started
        var parts: [String] = []
        for phase in Phase.allCases where marks[phase.rawValue] != 0 {
            parts.append("\(phase.name)=\((marks[phase.rawValue] - last) / 1_000)")
            last = marks[phase.rawValue]
        }
        return parts.joined(separator: " ")
    }
}

/// The log appends and applies of one turn.
struct TurnWork {
    var appendNanoseconds: UInt64 = 0
    var applied = 0
    var applyNanoseconds: UInt64 = 0
}

/// The current members and their regions, and the configuration and directory they were worked
/// out from.
struct MembershipView {
    let confState: ConfState
    let directory: MemberDirectory
    let members: [MemberInfo]
    let regions: Set<String>
}
