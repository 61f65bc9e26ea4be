import RaftCore

/// Runs real `Raft` members through a seeded storm of faults — message loss, duplication and
/// reordering, crashes with torn writes, partitions, clock jumps, leadership transfers and
/// membership changes — then heals everything and checks that the cluster is safe and live:
/// one leader per term, identical applied logs, every acknowledged write present on every
/// member, linearizable read indexes. The same seed replays the same run exactly.
public struct Simulator {
    var config: SimulationConfig
    var cluster: TestCluster
    var rng: SimulationRNG
    var report: SimulationReport
    var step = 0
    /// Messages on the wire with the step they arrive at.
    var wire: [(at: Int, message: Message)] = []
    var crashedAt: [NodeID: Int] = [:]
    var partitionedAt: Int?
    var nextValue: UInt64 = 1
    /// Proposals accepted by a leader: value → (index, term, proposer).
    var pending: [UInt64: (index: LogIndex, term: Term, node: NodeID)] = [:]
    var acknowledged: [UInt64: LogIndex] = [:]
    /// Read requests: context → the highest acknowledged index when the read was issued.
    var reads: [[UInt8]: LogIndex] = [:]
    var nextRead: UInt64 = 1
    var spareIDs: [NodeID]
    var lastTrace: [NodeID: String] = [:]

    func trace(_ text: @autoclosure () -> String) {
        if config.trace { print("step \(step): \(text())") }
    }

    public init(_ config: SimulationConfig) {
        self.config = config
        var options = TestCluster.Options()
        options.configure = config.configure
        options.snapshotInterval = config.snapshotInterval
        options.retainedEntries = config.retainedEntries
        options.snapshotPadding = config.snapshotPadding
        let spare = NodeID(config.voters + 1)
        cluster = TestCluster(voters: config.voters, joining: [spare], seed: config.seed, options: options)
        rng = SimulationRNG(seed: config.seed)
        report = SimulationReport(seed: config.seed, violations: [])
        spareIDs = [spare]
    }

    /// Runs the whole simulation and returns what it found.
    public static func run(_ config: SimulationConfig) -> SimulationReport {
        var simulator = Simulator(config)
        return simulator.run()
    }

    mutating func run() -> SimulationReport {
        for _ in 0..<config.steps { faultyStep() }
        settle()
        for _ in 0..<config.settleSteps { quietStep() }
        verifyFinalState()
        report.violations = cluster.checker.violations + report.violations
        report.leaderTerms = cluster.checker.leaderByTerm.count
        report.acknowledged = acknowledged.count
        return report
    }

    // MARK: - Steps

    private mutating func faultyStep() {
        step += 1
        injectFaults()
        if rng.chance(config.proposalProbability) { proposeSomewhere() }
        if rng.chance(config.readProbability) { readSomewhere() }
        if rng.chance(config.transferProbability) { transferSomewhere() }
        if rng.chance(config.membershipProbability) { changeMembership() }
        advanceNetworkAndClocks(lossy: true)
    }

    private mutating func quietStep() {
        step += 1
        if step % 5 == 0 { proposeSomewhere() }
        advanceNetworkAndClocks(lossy: false)
    }

    private mutating func advanceNetworkAndClocks(lossy: Bool) {
        if step % config.stepsPerTick == 0 {
            for id in cluster.ids where cluster.node(id).isUp { cluster.tick(id) }
        }
        pickUpMessages(lossy: lossy)
        let due = wire.filter { $0.at <= step }
        wire.removeAll { $0.at <= step }
        for item in due {
            cluster.deliver(item.message)
            report.messagesDelivered += 1
            pickUpMessages(lossy: lossy)
        }
        observeProgress()
    }

    /// Moves what members sent onto the wire with random delays, losses and duplicates.
    private mutating func pickUpMessages(lossy: Bool) {
        let sent = cluster.inFlight
        cluster.inFlight = []
        for message in sent {
            if case .snapshotChunk(_, _, _, _, true) = message.body { report.snapshotsInstalled += 1 }
            if lossy && rng.chance(config.dropProbability) { continue }
            let delay = lossy ? Int(rng.below(UInt64(config.maxDelaySteps + 1))) : 0
            wire.append((step + 1 + delay, message))
            if lossy && rng.chance(config.duplicateProbability) {
                wire.append((step + 1 + Int(rng.below(UInt64(config.maxDelaySteps + 1))), message))
            }
        }
    }

    // MARK: - Faults

    private mutating func injectFaults() {
        let up = cluster.ids.filter { cluster.node($0).isUp }
        if rng.chance(config.crashProbability), let victim = rng.pick(up) {
            let torn = rng.chance(config.tornWriteProbability) ? Int(rng.below(3)) : nil
            let appendsToVictim = wire.indices.filter {
                if case .append(_, _, let entries, _) = wire[$0].message.body { return wire[$0].message.to == victim && !entries.isEmpty }
                return false
            }
            if let keep = torn, let next = appendsToVictim.first ?? wire.firstIndex(where: { $0.message.to == victim }) {
                // Power fails while the victim writes what this message made it append.
                let message = wire.remove(at: next).message
                if case .append(_, _, let entries, _) = message.body, !entries.isEmpty { report.tornWrites += 1 }
                cluster.crashWhileWriting(message, keptEntries: keep)
            } else {
                cluster.crash(victim)
            }
            wire.removeAll { $0.message.to == victim || $0.message.from == victim }
            crashedAt[victim] = step
            trace("crash \(victim) torn \(String(describing: torn))")
            report.crashes += 1
        }
        for (id, at) in crashedAt where step - at >= config.restartAfterSteps {
            cluster.restart(id)
            crashedAt[id] = nil
            trace("restart \(id)")
        }
        if partitionedAt == nil, rng.chance(config.partitionProbability) {
            var shuffled = cluster.ids
            rng.shuffle(&shuffled)
            let cut = 1 + Int(rng.below(UInt64(shuffled.count - 1)))
            cluster.partition([Array(shuffled[..<cut]), Array(shuffled[cut...])])
            partitionedAt = step
            trace("partition \(shuffled[..<cut]) | \(shuffled[cut...])")
            report.partitions += 1
        } else if let at = partitionedAt, step - at >= config.healAfterSteps {
            cluster.heal()
            partitionedAt = nil
            trace("heal")
        }
        if rng.chance(config.clockJumpProbability), let jumper = rng.pick(up) {
            // A clock jump: this member sees many ticks at once.
            cluster.tick(jumper, times: 1 + Int(rng.below(UInt64(cluster.raft(jumper).config.electionTicks))))
        }
    }

    private mutating func settle() {
        cluster.heal()
        partitionedAt = nil
        for id in crashedAt.keys.sorted() { cluster.restart(id) }
        crashedAt = [:]
    }

    // MARK: - Clients

    private mutating func proposeSomewhere() {
        guard let target = rng.pick(cluster.ids.filter { cluster.node($0).isUp }) else { return }
        let value = nextValue
        nextValue += 1
        report.proposed += 1
        if case .success(let index) = cluster.propose(value, at: target) {
            pending[value] = (index, cluster.raft(target).term, target)
        }
    }

    private mutating func readSomewhere() {
        guard let target = rng.pick(cluster.ids.filter { cluster.node($0).isUp && cluster.raft($0).isPromotable }) else { return }
        let context = nextRead.proposalBytes
        nextRead += 1
        // Linearizability: the read must see every write acknowledged before it was issued.
        reads[context] = acknowledged.values.max() ?? 0
        cluster.with(target) { $0.readIndex(context: context) }
    }

    private mutating func transferSomewhere() {
        guard let leader = cluster.leader, let target = rng.pick(cluster.raft(leader).confState.voters.sorted()) else { return }
        cluster.with(leader) { $0.transferLeadership(to: target) }
    }

    /// A random legal-looking membership change: add a learner, promote or remove one, remove a
    /// voter (keeping three), or swap a learner and a voter through a joint configuration.
    private mutating func changeMembership() {
        guard let leader = cluster.leader else { return }
        let conf = cluster.raft(leader).confState
        let outsiders = cluster.ids.filter { !conf.allMembers.contains($0) }
        let learners = conf.learners.sorted()
        let voters = conf.voters.sorted()
        var options: [ConfChange] = []
        if let newcomer = rng.pick(outsiders) { options.append(ConfChange([.addLearner(newcomer)])) }
        if let learner = rng.pick(learners) {
            options.append(ConfChange([.addVoter(learner)]))
            options.append(ConfChange([.remove(learner)]))
            if let voter = rng.pick(voters.filter { $0 != leader }) {
                options.append(ConfChange([.addVoter(learner), .addLearner(voter)]))
            }
        }
        if voters.count > 3, let voter = rng.pick(voters) { options.append(ConfChange([.remove(voter)])) }
        guard let change = rng.pick(options) else { return }
        var accepted = false
        cluster.with(leader) { raft in accepted = (try? raft.proposeConfChange(change)) != nil }
        if accepted { report.membershipChanges += 1 }
        trace("conf change \(change) at leader \(leader): accepted \(accepted)")
    }

    /// Acknowledges proposals whose proposer applied them, and checks answered reads.
    private mutating func observeProgress() {
        if config.trace {
            for id in cluster.ids {
                let raft = cluster.raft(id)
                let line = "\(raft.role) term \(raft.term) leader \(raft.leader) commit \(raft.commitIndex) last \(raft.lastIndex) lastTerm \(raft.term(at: raft.lastIndex) ?? 0) conf \(raft.confState.voters.sorted())/\(raft.confState.learners.sorted()) up \(cluster.node(id).isUp)"
                if lastTrace[id] != line {
                    print("step \(step) member \(id): \(line)")
                    lastTrace[id] = line
                }
            }
        }
        for (value, proposal) in pending {
            let node = cluster.node(proposal.node)
            guard node.app.appliedIndex >= proposal.index else { continue }
            pending[value] = nil
            if let entry = cluster.checker.appliedEntries[proposal.index], entry.term == proposal.term, entry.data == value.proposalBytes {
                acknowledged[value] = proposal.index
            }
        }
        for id in cluster.ids {
            let (served, _) = cluster.takeReadStates(id)
            for state in served {
                guard let floor = reads.removeValue(forKey: state.context) else { continue }
                report.readsServed += 1
                if state.index < floor {
                    report.violations.append("read at member \(id) got index \(state.index), below acknowledged write index \(floor)")
                }
            }
        }
    }

    // MARK: - Final checks

    private mutating func verifyFinalState() {
        guard let leader = cluster.leader else {
            report.violations.append("no leader after \(config.settleSteps) quiet steps")
            return
        }
        // A removed member never hears of its removal; only current members must be caught up.
        let members = cluster.raft(leader).confState.allMembers.sorted()
        let target = cluster.raft(leader).commitIndex
        report.committedIndex = target
        for id in members {
            let node = cluster.node(id)
            if node.app.appliedIndex != target {
                report.violations.append("member \(id) applied \(node.app.appliedIndex), leader committed \(target)")
            }
            if node.app.digest != cluster.node(leader).app.digest && node.app.appliedIndex == target {
                report.violations.append("member \(id) state differs from the leader's at index \(target)")
            }
            for (value, index) in acknowledged.sorted(by: { $0.key < $1.key }) where !node.app.values.contains(value) {
                report.violations.append("member \(id) lost acknowledged write \(value) (index \(index))")
                break
            }
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
