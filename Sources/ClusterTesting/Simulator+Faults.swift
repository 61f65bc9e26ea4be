import RaftCore

extension Simulator {
    mutating func injectFaults() {
        let up = cluster.ids.filter { cluster.node($0).isUp }
        if rng.chance(config.crashProbability), let victim = rng.pick(up) { crash(victim) }
        for (id, at) in crashedAt.sorted(by: { $0.key < $1.key }) where step - at >= config.restartAfterSteps {
            cluster.restart(id)
            crashedAt[id] = nil
            trace("restart \(id)")
        }
        if partitionedAt == nil, rng.chance(config.partitionProbability) {
            partition()
        } else if let at = partitionedAt, step - at >= config.healAfterSteps {
            cluster.heal()
            partitionedAt = nil
            trace("heal")
        }
        if rng.chance(config.pauseProbability), let sleeper = rng.pick(up) {
            pausedUntil[sleeper] = step + 1 + Int(rng.below(UInt64(config.maxPauseSteps)))
            report.pauses += 1
            trace("pause \(sleeper) until \(pausedUntil[sleeper]!)")
        }
        if rng.chance(config.clockJumpProbability), let jumper = rng.pick(up) {
            // A clock jump: this member sees many ticks at once.
            let ticks = 1 + Int(rng.below(UInt64(cluster.raft(jumper).config.electionTicks)))
            cluster.tick(jumper, times: ticks)
            trace("clock jump \(jumper) by \(ticks) ticks")
        }
    }

    private mutating func crash(_ victim: NodeID) {
        report.crashes += 1
        crashedAt[victim] = step
        pausedUntil[victim] = nil
        let appendsToVictim = wire.indices.filter {
            if case .append(_, _, let entries, _) = wire[$0].message.body { return wire[$0].message.to == victim && !entries.isEmpty }
            return false
        }
        let tornWrite = rng.chance(config.tornWriteProbability)
        if tornWrite, cluster.raft(victim).isLeader, rng.chance(0.5) {
            // Power fails while the leader writes a new proposal: its appends to the followers
            // left before its own write (thesis §10.2.1), which keeps only a prefix.
            let value = nextValue
            nextValue += 1
            report.proposed += 1
            let keep = Int(rng.below(2))
            cluster.crashLeaderWhileWriting(victim, proposing: value, keptEntries: keep)
            report.tornWrites += 1
            trace("crash leader \(victim) while writing value \(value) (kept \(keep) entries)")
        } else if tornWrite, let next = appendsToVictim.first {
            // Power fails while the victim writes what this append made it store: a prefix of
            // the entries survives, the hard state and every reply are lost.
            let message = wire.remove(at: next).message
            let keep = Int(rng.below(3))
            if cluster.crashWhileWriting(message, keptEntries: keep) {
                report.tornWrites += 1
                trace("crash \(victim) while writing (kept \(keep) entries)")
            } else {
                trace("crash \(victim) (the append it was to write could not arrive)")
            }
        } else {
            cluster.crash(victim)
            trace("crash \(victim)")
        }
        // Messages already on the wire stay there: the network may deliver them after the
        // victim restarts (Raft assumes arbitrary delays), or drop them while it is down.
    }

    private mutating func partition() {
        var shuffled = cluster.ids
        rng.shuffle(&shuffled)
        let cut = 1 + Int(rng.below(UInt64(shuffled.count - 1)))
        let (left, right) = (Array(shuffled[..<cut]), Array(shuffled[cut...]))
        if rng.chance(config.asymmetricPartitionShare) {
            // Asymmetric: `left` cannot reach `right`, but hears from it.
            for a in left { for b in right { cluster.cut(a, b) } }
            trace("asymmetric partition \(left) -/-> \(right)")
        } else {
            cluster.partition([left, right])
            trace("partition \(left) | \(right)")
        }
        partitionedAt = step
        report.partitions += 1
    }

    mutating func settle() {
        cluster.heal()
        partitionedAt = nil
        pausedUntil = [:]
        for id in crashedAt.keys.sorted() { cluster.restart(id) }
        crashedAt = [:]
    }
}
