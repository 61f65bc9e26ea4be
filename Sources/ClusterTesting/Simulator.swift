import RaftCore

/// Runs real `Raft` members through a seeded storm of faults — message loss (0–30 %),
/// duplication, reordering and per-link delays, symmetric and asymmetric partitions, crashes
/// with torn writes, pauses, tick skew and clock jumps, leadership transfers and membership
/// changes — then heals everything and checks that the cluster is safe and live: one leader
/// per term, log matching, identical applied histories, every acknowledged write present on
/// every member, linearizable read indexes. The same seed replays the same run exactly.
public struct Simulator {
    var config: SimulationConfig
    var cluster: TestCluster
    var rng: SimulationRNG
    var report: SimulationReport
    var step = 0
    /// Messages on the wire with the step they arrive at.
    var wire: [(at: Int, message: Message)] = []
    /// This run's loss rate, drawn from `0...config.maxDropProbability`.
    var dropProbability: Double
    /// Base delay of each directed link, in steps.
    var linkDelay: [TestCluster.Link: Int] = [:]
    /// Steps between ticks, per member (tick skew).
    var tickPeriod: [NodeID: Int] = [:]
    var crashedAt: [NodeID: Int] = [:]
    var pausedUntil: [NodeID: Int] = [:]
    var partitionedAt: Int?
    var nextValue: UInt64 = 1
    /// Proposals accepted by a leader: value → (index, term, proposer).
    var pending: [UInt64: (index: LogIndex, term: Term, node: NodeID)] = [:]
    var acknowledged: [UInt64: LogIndex] = [:]
    /// Commit hints on their way: an acknowledged write's (index, term), as the leader's answer
    /// to a forwarded write carries it to the follower that forwarded it (`Raft.learnCommitted`),
    /// with the step it arrives at. Some arrive long after, from a leader long gone.
    var commitHints: [(at: Int, to: NodeID, index: LogIndex, term: Term)] = []
    /// Read requests: context → the highest acknowledged index when the read was issued.
    var reads: [[UInt8]: LogIndex] = [:]
    var nextRead: UInt64 = 1
    /// (index, term) → (entry, term of the previous entry) as seen in any member's log.
    var logMatching = LogMatchingChecker()
    var lastTrace: [NodeID: String] = [:]

    public init(_ config: SimulationConfig) {
        self.config = config
        var options = TestCluster.Options()
        options.configure = config.configure
        options.snapshotInterval = config.snapshotInterval
        options.retainedEntries = config.retainedEntries
        options.snapshotPadding = config.snapshotPadding
        options.skipVotePersistence = config.skipVotePersistence
        options.sendEverythingBeforeWriting = config.sendEverythingBeforeWriting
        options.releasesSnapshotData = config.releasesSnapshotData
        options.defersSyncs = config.defersSyncs
        options.holdsReadies = config.holdsReadies
        cluster = TestCluster(voters: config.voters, joining: [NodeID(config.voters + 1)], seed: config.seed, options: options)
        rng = SimulationRNG(seed: config.seed)
        report = SimulationReport(seed: config.seed, violations: [])
        dropProbability = Double(rng.below(1_000)) / 1_000 * config.maxDropProbability
        for a in cluster.ids {
            tickPeriod[a] = max(1, config.stepsPerTick + Int(rng.below(3)) - 1)
            for b in cluster.ids where a != b {
                linkDelay[TestCluster.Link(a, b)] = Int(rng.below(UInt64(config.maxDelaySteps + 1)))
            }
        }
    }

    /// Runs the whole simulation and returns what it found.
    public static func run(_ config: SimulationConfig) -> SimulationReport {
        var simulator = Simulator(config)
        return simulator.run()
    }

    mutating func run() -> SimulationReport {
        report.dropProbability = dropProbability
        // Invariants are checked after every step; the run stops at the first violation.
        for _ in 0..<config.steps where isSafeSoFar { faultyStep() }
        settle()
        for _ in 0..<config.settleSteps where isSafeSoFar { quietStep() }
        // A driver that defers commit announcements makes them within its delay: the last
        // proposals' commits get that long (quiet steps without new proposals) to arrive.
        for _ in 0..<config.settleSteps where isSafeSoFar && config.defersCommitAnnouncements {
            guard !wire.isEmpty || cluster.ids.contains(where: { isRunning($0) && cluster.raft($0).hasUnannouncedCommit }) else { break }
            step += 1
            advanceNetworkAndClocks(faulty: false)
        }
        if isSafeSoFar { verifyFinalState() }
        report.violations = cluster.checker.violations + logMatching.violations + report.violations
        report.leaderTerms = cluster.checker.leaderByTerm.count
        report.acknowledged = acknowledged.count
        return report
    }

    var isSafeSoFar: Bool { cluster.checker.violations.isEmpty && logMatching.violations.isEmpty && report.violations.isEmpty }

    func trace(_ text: @autoclosure () -> String) {
        if config.trace { print("step \(step): \(text())") }
    }

    // MARK: - Steps

    private mutating func faultyStep() {
        step += 1
        injectFaults()
        if rng.chance(config.proposalProbability) { proposeSomewhere() }
        if rng.chance(config.readProbability) { readSomewhere() }
        if rng.chance(config.transferProbability) { transferSomewhere() }
        if rng.chance(config.membershipProbability) { changeMembership() }
        advanceNetworkAndClocks(faulty: true)
    }

    private mutating func quietStep() {
        step += 1
        if step % 5 == 0 { proposeSomewhere() }
        advanceNetworkAndClocks(faulty: false)
    }

    private func isRunning(_ id: NodeID) -> Bool { cluster.node(id).isUp && (pausedUntil[id] ?? 0) <= step }

    private mutating func advanceNetworkAndClocks(faulty: Bool) {
        for id in cluster.ids where isRunning(id) && step % (faulty ? tickPeriod[id]! : config.stepsPerTick) == 0 {
            cluster.tick(id)
        }
        // Deferred syncs (`SimulationConfig.defersSyncs`) complete at random, messages stepping
        // in between.
        for id in cluster.ids where isRunning(id) && cluster.node(id).hasPendingSync && rng.chance(0.5) {
            cluster.collect(id)
        }
        // Deferred commit announcements (`SimulationConfig.defersCommitAnnouncements`) go out
        // after a random delay, unless an append with entries carried them first.
        for id in cluster.ids where config.defersCommitAnnouncements && isRunning(id) && cluster.raft(id).hasUnannouncedCommit && rng.chance(0.3) {
            cluster.with(id) { $0.announceCommit() }
        }
        deliverCommitHints()
        pickUpMessages(faulty: faulty)
        var due: [Message] = []
        var later: [(at: Int, message: Message)] = []
        for item in wire {
            // A paused member's messages wait for it, like a socket buffer during a GC pause.
            if item.at <= step && isRunning(item.message.to) { due.append(item.message) } else { later.append(item) }
        }
        wire = later
        for message in due {
            cluster.deliver(message)
            report.messagesDelivered += 1
            pickUpMessages(faulty: faulty)
        }
        observeProgress()
        if step % 5 == 0 { checkLogMatching() }
    }

    /// Moves what members sent onto the wire with link delays, jitter, losses and duplicates.
    private mutating func pickUpMessages(faulty: Bool) {
        let sent = cluster.inFlight
        cluster.inFlight = []
        for message in sent {
            if case .snapshotChunk(_, _, _, _, true) = message.body { report.snapshotsInstalled += 1 }
            if faulty, case .voteResponse(reject: false) = message.body, rng.chance(config.crashAfterVoteProbability) {
                // The voter dies right after its vote left: the vote must have been durable.
                crashedAt[message.from] = step - config.restartAfterSteps + 1
                cluster.crash(message.from)
                report.crashes += 1
                trace("crash \(message.from) right after voting for \(message.to)")
            }
            guard faulty else {
                wire.append((step + 1, message))
                continue
            }
            if rng.chance(dropProbability) { continue }
            var base = linkDelay[TestCluster.Link(message.from, message.to)] ?? 0
            if rng.chance(config.longDelayProbability) { base += Int(rng.below(UInt64(config.maxLongDelaySteps))) }
            wire.append((step + 1 + base + Int(rng.below(2)), message))
            if rng.chance(config.duplicateProbability) {
                wire.append((step + 1 + base + Int(rng.below(UInt64(config.maxDelaySteps + 1))), message))
            }
        }
    }

    private mutating func checkLogMatching() {
        for id in cluster.ids where cluster.node(id).isUp {
            let raft = cluster.raft(id)
            logMatching.check(raft, member: id)
        }
    }
}

/// Log matching (§5.3): two logs holding an entry with the same index and term hold the same
/// entry there and the same term before it — by induction, identical prefixes.
struct LogMatchingChecker {
    var seen: [Key: (entry: Entry, previousTerm: Term)] = [:]
    var violations: [String] = []

    struct Key: Hashable {
        var index: LogIndex
        var term: Term
    }

    mutating func check(_ raft: Raft, member: NodeID) {
        guard raft.lastIndex >= raft.firstIndex, let entries = raft.entries(from: raft.firstIndex, through: raft.lastIndex) else { return }
        var previousTerm = raft.term(at: raft.firstIndex - 1) ?? 0
        for entry in entries {
            let key = Key(index: entry.index, term: entry.term)
            if let known = seen[key] {
                if known.entry != entry || known.previousTerm != previousTerm {
                    violations.append("log matching: member \(member) differs at index \(entry.index) term \(entry.term)")
                }
            } else {
                seen[key] = (entry, previousTerm)
            }
            previousTerm = entry.term
        }
    }
}

/// The simulator's seeded randomness (SplitMix64).
struct SimulationRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed ^ 0x5DEE_CE66_D1CE_4E5B }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: UInt64) -> UInt64 { bound == 0 ? 0 : next() % bound }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ items: [T]) -> T? { items.isEmpty ? nil : items[Int(below(UInt64(items.count)))] }
    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, Int(below(UInt64(i + 1)))) }
    }
}
