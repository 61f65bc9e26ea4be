import RaftCore

extension Simulator {
    mutating func proposeSomewhere() {
        guard let target = rng.pick(cluster.ids.filter { cluster.node($0).isUp }) else { return }
        let value = nextValue
        nextValue += 1
        report.proposed += 1
        if case .success(let index) = cluster.propose(value, at: target) {
            pending[value] = (index, cluster.raft(target).term, target)
        }
    }

    mutating func readSomewhere() {
        guard let target = rng.pick(cluster.ids.filter { cluster.node($0).isUp && cluster.raft($0).isPromotable }) else { return }
        let context = nextRead.proposalBytes
        nextRead += 1
        // Linearizability: the read must see every write acknowledged before it was issued.
        reads[context] = acknowledged.values.max() ?? 0
        cluster.with(target) { $0.readIndex(context: context) }
    }

    mutating func transferSomewhere() {
        guard let leader = cluster.leader, let target = rng.pick(cluster.raft(leader).confState.voters.sorted()) else { return }
        cluster.with(leader) { $0.transferLeadership(to: target) }
        trace("transfer \(leader) -> \(target)")
    }

    /// A random membership change: add a learner, promote or remove one, remove a voter
    /// (keeping three), or swap a learner and a voter through a joint configuration.
    mutating func changeMembership() {
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
        trace("conf change \(change.steps) at leader \(leader): accepted \(accepted)")
    }

    /// Acknowledges proposals whose proposer applied them, and checks answered reads.
    mutating func observeProgress() {
        if config.trace { traceMembers() }
        for (value, proposal) in pending {
            let node = cluster.node(proposal.node)
            guard node.app.appliedIndex >= proposal.index else { continue }
            pending[value] = nil
            if let entry = cluster.checker.appliedEntries[proposal.index], entry.term == proposal.term, entry.data == value.proposalBytes {
                acknowledged[value] = proposal.index
                sendCommitHint(index: proposal.index, term: proposal.term)
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

    /// Tells a random member, after a random delay (now and then a long one), that the entry
    /// at `index` of `term` committed, as a leader's answer to a forwarded write does.
    private mutating func sendCommitHint(index: LogIndex, term: Term) {
        guard rng.chance(0.7), let target = rng.pick(cluster.ids) else { return }
        let delay = rng.chance(config.longDelayProbability * 5)
            ? Int(rng.below(UInt64(config.maxLongDelaySteps + 1))) : Int(rng.below(UInt64(2 * config.maxDelaySteps + 1)))
        commitHints.append((step + delay, target, index, term))
    }

    /// Hands the hints that arrived to their members; a member that is down or paused misses
    /// them (its forwarded write's waiter went with it).
    mutating func deliverCommitHints() {
        guard !commitHints.isEmpty else { return }
        var later: [(at: Int, to: NodeID, index: LogIndex, term: Term)] = []
        for hint in commitHints {
            guard hint.at <= step else {
                later.append(hint)
                continue
            }
            guard cluster.node(hint.to).isUp, (pausedUntil[hint.to] ?? 0) <= step else { continue }
            var learned = false
            cluster.with(hint.to) { learned = $0.learnCommitted(index: hint.index, term: hint.term) }
            if learned { report.commitsLearnedFromHints += 1 }
        }
        commitHints = later
    }

    private mutating func traceMembers() {
        for id in cluster.ids {
            let raft = cluster.raft(id)
            let line = "\(raft.role) term \(raft.term) leader \(raft.leader) commit \(raft.commitIndex) last \(raft.lastIndex) "
                + "conf \(raft.confState.voters.sorted())/\(raft.confState.learners.sorted()) up \(cluster.node(id).isUp)"
            if lastTrace[id] != line {
                print("step \(step) member \(id): \(line)")
                lastTrace[id] = line
            }
        }
    }

    /// After the quiet phase: a leader exists, every current member applied everything the
    /// leader committed, their states are identical, and no acknowledged write is missing.
    mutating func verifyFinalState() {
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
