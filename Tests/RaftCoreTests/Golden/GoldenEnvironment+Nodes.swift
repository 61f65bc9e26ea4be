@testable import RaftCore

/// Creating members and looking at them.
extension GoldenEnvironment {
    /// `add-nodes N [voters=(1,2,3)] [learners=(4)] [prevote=true] [checkquorum=true] [lease=true]
    /// [priorities=(1:3,2:1)] [election=3] [heartbeat=1] [snapshot-chunk=B] [inflight-msgs=N]
    /// [inflight-bytes=B] [max-msg-bytes=B] [max-uncommitted-bytes=B]`
    ///
    /// Adds N members with the next free ids. Those named in `voters`/`learners` are founding
    /// members: their disk holds `Raft.bootstrap(voters:)` (plus the learners in the same entry),
    /// which is applied right away as a starting driver would. The others start empty and join
    /// through configuration changes. Unlike RaftCore's defaults, pre-vote and check-quorum
    /// are off unless asked for (as in etcd's environment), and `election` defaults to 3 ticks.
    func addNodes(_ cmd: GoldenCommand) throws(ScriptError) {
        let count = Int(try GoldenCommand.number(try cmd.positional(0, "node count"), in: cmd.name))
        let voters = try cmd.ids("voters") ?? []
        let learners = try cmd.ids("learners") ?? []
        guard learners.isEmpty || !voters.isEmpty else { throw ScriptError(description: "learners need voters to bootstrap") }
        let template = try config(cmd)
        for _ in 0..<count {
            let id = NodeID(nodes.count + 1)
            var config = template
            config.id = id
            var storage = GoldenStorage()
            if voters.contains(id) || learners.contains(id) {
                storage = Self.bootstrapStorage(voters: voters, learners: learners)
            }
            do {
                nodes[id] = try GoldenNode(config: config, storage: storage)
            } catch {
                throw ScriptError(description: "\(error)")
            }
            if let first = storage.entries.first {
                output.emit("INFO \(id) bootstrapped with \(GoldenFormat.entry(first))")
                // Apply the committed bootstrap entry, as a starting driver would.
                let ready = nodes[id]!.raft.ready()
                nodes[id]!.storage.persist(ready)
                try mutate(id) { $0.advance(ready) }
            } else {
                output.emit("INFO \(id) starts with an empty log")
            }
        }
    }

    private func config(_ cmd: GoldenCommand) throws(ScriptError) -> RaftConfig {
        var config = RaftConfig(id: 1)
        config.electionTicks = try cmd.int("election") ?? 3
        config.heartbeatTicks = try cmd.int("heartbeat") ?? 1
        config.preVote = try cmd.bool("prevote") ?? false
        config.checkQuorum = try cmd.bool("checkquorum") ?? false
        config.leaseBasedReads = try cmd.bool("lease") ?? false
        if let chunk = try cmd.int("snapshot-chunk") { config.snapshotChunkBytes = chunk }
        if let n = try cmd.int("inflight-msgs") { config.maxInflightMessages = n }
        if let n = try cmd.int("inflight-bytes") { config.maxInflightBytes = n }
        if let n = try cmd.int("max-msg-bytes") { config.maxSizePerMessageBytes = n }
        if let n = try cmd.int("max-uncommitted-bytes") { config.maxUncommittedEntriesBytes = n }
        for item in cmd.list("priorities") ?? [] {
            let parts = item.split(separator: ":")
            guard parts.count == 2, let member = NodeID(parts[0]), let priority = Int(parts[1]) else {
                throw ScriptError(description: "priorities: want id:priority, not \(item)")
            }
            config.priorities[member] = priority
        }
        return config
    }

    /// `Raft.bootstrap(voters:)`, with the learners added to the same first configuration entry.
    private static func bootstrapStorage(voters: [NodeID], learners: [NodeID]) -> GoldenStorage {
        var (hardState, entries) = Raft.bootstrap(voters: Set(voters))
        if !learners.isEmpty, let change = ConfChange(decoding: entries[0].data) {
            entries[0].data = ConfChange(change.steps + learners.sorted().map { .addLearner($0) }).encoded()
        }
        return GoldenStorage(hardState: hardState, entries: entries)
    }

    // MARK: - Inspection

    /// `status ID`: the member's own state, its configuration and application, and on a
    /// leader the progress of every member (etcd's `status`).
    func status(_ id: NodeID) throws(ScriptError) {
        let node = try node(id)
        guard node.isUp else {
            let disk = node.storage
            output.emit("\(id): down; on disk \(GoldenFormat.hardState(disk.hardState)) last=\(disk.entries.last?.index ?? disk.snapshot.metadata.index)")
            return
        }
        let raft = node.raft
        var header = "\(id): \(GoldenFormat.role(raft.role)) term=\(raft.term) vote=\(raft.vote) lead=\(raft.leader)"
        header += " commit=\(raft.commitIndex) applied=\(raft.appliedIndex) first=\(raft.firstIndex) last=\(raft.lastIndex)"
        if let target = raft.leadershipTransferTarget { header += " transferring-to=\(target)" }
        output.emit(header)
        output.emit("conf: \(GoldenFormat.conf(raft.confState))")
        output.emit("app: [" + node.values.joined(separator: " ") + "]")
        guard raft.role == .leader else { return }
        output.emit("progress:")
        for (member, pr) in raft.progress.sorted(by: { $0.key < $1.key }) {
            output.emit("  \(member): " + Self.describe(pr))
        }
    }

    private static func describe(_ pr: Progress) -> String {
        var s: String
        switch pr.state {
        case .probe: s = "StateProbe"
        case .replicate: s = "StateReplicate"
        case .snapshot: s = "StateSnapshot"
        }
        s += " match=\(pr.match) next=\(pr.next)"
        if pr.isLearner { s += " learner" }
        if pr.isPaused { s += " paused" }
        if !pr.recentActive { s += " inactive" }
        if pr.inflights.count > 0 { s += " inflight=\(pr.inflights.count)" }
        if case .snapshot(let transfer) = pr.state {
            s += " snapshot=\(transfer.metadata.term)/\(transfer.metadata.index) sent=\(transfer.sent)/\(transfer.totalBytes) acked=\(transfer.acknowledged)"
        }
        return s
    }

    /// `raft-state`: one line per member, from its own point of view.
    func raftState() {
        for id in ids {
            let node = nodes[id]!
            guard node.isUp else {
                output.emit("\(id): down")
                continue
            }
            let raft = node.raft
            let kind = raft.confState.isVoter(id) ? "Voter" : raft.confState.allMembers.contains(id) ? "Learner" : "NonMember"
            output.emit("\(id): \(GoldenFormat.role(raft.role)) (\(kind)) Term:\(raft.term) Lead:\(raft.leader)")
        }
    }

    /// `raft-log ID`: the entries the member holds in memory.
    func raftLog(_ id: NodeID) throws(ScriptError) {
        let raft = try node(id).raft
        if raft.firstIndex > 1 {
            output.emit("compacted through \(raft.term(at: raft.firstIndex - 1) ?? 0)/\(raft.firstIndex - 1)")
        }
        let entries = raft.entries(from: raft.firstIndex, through: raft.lastIndex) ?? []
        if entries.isEmpty { output.emit("log is empty") }
        for entry in entries { output.emit(GoldenFormat.entry(entry)) }
    }

    /// `compact ID INDEX`: the member snapshots its application at the applied index and drops
    /// its log entries through INDEX (≤ applied; entries between INDEX and the snapshot stay
    /// for slow followers). A follower that needs a dropped entry then gets the snapshot.
    func compact(_ id: NodeID, through index: LogIndex) throws(ScriptError) {
        let node = try node(id)
        guard node.isUp else {
            output.emit("error: node \(id) is down")
            return
        }
        guard index <= node.raft.appliedIndex else {
            output.emit("error: cannot compact through \(index): only \(node.raft.appliedIndex) applied")
            return
        }
        let snap = Snapshot(metadata: node.raft.snapshotMetadataAtApplied, data: node.snapshotData)
        nodes[id]!.raft.setSnapshot(snap)
        nodes[id]!.raft.compactLog(through: index)
        nodes[id]!.storage.compact(saving: snap, through: index)
        output.emit("snapshot \(GoldenFormat.snapshot(snap.metadata)) Data:\(GoldenFormat.bytes(snap.data))")
        try raftLog(id)
    }
}
