@testable import RaftCore

/// The script commands (names and arguments follow etcd-raft's `rafttest` where one exists).
extension GoldenEnvironment {
    /// Runs one script line:
    ///
    /// - `add-nodes N [voters=(…)] [learners=(…)] [prevote= checkquorum= lease= priorities=(id:p,…) …]`
    /// - `campaign ID`, `tick-election ID`, `tick-heartbeat ID`, `tick ID [times=N]`,
    ///   `set-randomized-election-timeout ID timeout=N`
    /// - `propose ID DATA`, `propose-conf-change ID v4 l5 r2 | leave-joint`,
    ///   `transfer-leadership from=ID to=ID`, `read-index ID CONTEXT`
    /// - `process-ready [IDs]`, `deliver-msgs [IDs] [drop=(IDs)]`, `stabilize [IDs]`
    /// - `status ID`, `raft-state`, `raft-log ID`, `compact ID INDEX`
    /// - `cut A B`, `isolate ID`, `heal`, `crash ID`, `restart ID`, `log-level none|info`
    ///
    /// Protocol outcomes (a refused proposal) are printed; script mistakes throw.
    func execute(_ line: String) throws(ScriptError) {
        let cmd = try GoldenCommand(parsing: line)
        switch cmd.name {
        case "log-level":
            // `log-level none` silences everything but errors (for setup); `log-level info` undoes it.
            output.quiet = try cmd.positional(0, "level") == "none"
        case "add-nodes": try addNodes(cmd)
        case "campaign": try mutate(try cmd.id()) { $0.campaignNow() }
        case "tick-election": try tickElection(try cmd.id())
        case "tick-heartbeat":
            let id = try cmd.id()
            let ticks = try node(id).config.heartbeatTicks
            for _ in 0..<ticks { try mutate(id) { $0.tick() } }
        case "tick":
            let id = try cmd.id()
            let ticks = try cmd.int("times") ?? 1
            for _ in 0..<ticks { try mutate(id) { $0.tick() } }
        case "set-randomized-election-timeout":
            guard let timeout = try cmd.int("timeout") else { throw ScriptError(description: "missing timeout=") }
            try mutate(try cmd.id()) { $0.randomizedElectionTimeout = timeout }
        case "propose": try propose(cmd)
        case "propose-conf-change": try proposeConfChange(cmd)
        case "transfer-leadership":
            let target = try cmd.nodeID("to")
            try mutate(try cmd.nodeID("from")) { $0.transferLeadership(to: target) }
        case "read-index":
            let context = Array(try cmd.positional(1, "context").utf8)
            try mutate(try cmd.id()) { $0.readIndex(context: context) }
        case "process-ready": try processReadies(try cmd.allIDs())
        case "deliver-msgs": try deliverMessages(cmd)
        case "stabilize": try stabilize(try cmd.allIDs())
        case "status": try status(try cmd.id())
        case "raft-state": raftState()
        case "raft-log": try raftLog(try cmd.id())
        case "compact": try compact(try cmd.id(), through: try GoldenCommand.number(try cmd.positional(1, "index"), in: cmd.name))
        case "cut":
            let (a, b) = (try cmd.id(0), try cmd.id(1))
            cutLinks.formUnion([GoldenLink(a, b), GoldenLink(b, a)])
        case "isolate":
            let a = try cmd.id()
            for b in ids where b != a { cutLinks.formUnion([GoldenLink(a, b), GoldenLink(b, a)]) }
        case "heal": cutLinks = []
        case "crash": try crash(try cmd.id())
        case "restart": try restart(try cmd.id())
        default:
            throw ScriptError(description: "unknown command \(cmd.name)")
        }
    }

    /// Ticks until the election timer fires: a follower's (randomized) election timeout, or a
    /// leader's check-quorum / transfer-timeout round of `electionTicks`.
    private func tickElection(_ id: NodeID) throws(ScriptError) {
        let raft = try node(id).raft
        let timeout = raft.role == .leader ? raft.config.electionTicks : raft.randomizedElectionTimeout
        for _ in 0..<max(1, timeout - raft.electionElapsed) { try mutate(id) { $0.tick() } }
    }

    private func propose(_ cmd: GoldenCommand) throws(ScriptError) {
        let data = Array(try cmd.positional(1, "data").utf8)
        let result = try mutate(try cmd.id()) { raft -> ProposalError? in
            do throws(ProposalError) {
                try raft.propose(data)
                return nil
            } catch {
                return error
            }
        }
        if let error = result ?? nil { emit(error) }
    }

    private func proposeConfChange(_ cmd: GoldenCommand) throws(ScriptError) {
        var steps: [ConfChange.Step] = []
        for token in cmd.positional.dropFirst() where token != "leave-joint" {
            guard let kind = token.first, let id = NodeID(token.dropFirst()) else {
                throw ScriptError(description: "bad conf change step \(token) (want v4, l5, r2 or leave-joint)")
            }
            switch kind {
            case "v": steps.append(.addVoter(id))
            case "l": steps.append(.addLearner(id))
            case "r": steps.append(.remove(id))
            default: throw ScriptError(description: "bad conf change step \(token)")
            }
        }
        let change = ConfChange(steps)
        let result = try mutate(try cmd.id()) { raft -> ProposalError? in
            do throws(ProposalError) {
                try raft.proposeConfChange(change)
                return nil
            } catch {
                return error
            }
        }
        if let error = result ?? nil { emit(error) }
    }

    private func emit(_ error: ProposalError) {
        output.emit("error: \(error)" + (error.leaderHint != 0 ? " (leader hint: \(error.leaderHint))" : ""))
    }

    private func processReadies(_ only: [NodeID]) throws(ScriptError) {
        let members = only.isEmpty ? ids : only
        for id in members {
            if members.count > 1 {
                output.emit("> \(id) handling Ready")
                try indented { () throws(ScriptError) in try processReady(id) }
            } else {
                try processReady(id)
            }
        }
    }

    /// `deliver-msgs 2 3 drop=(4)`: deliver to 2 and 3, discard what is addressed to 4.
    private func deliverMessages(_ cmd: GoldenCommand) throws(ScriptError) {
        var handled = 0
        for id in try cmd.allIDs() { handled += try deliver(to: id) }
        for id in try cmd.ids("drop") ?? [] { handled += try deliver(to: id, drop: true) }
        if handled == 0 { output.emit("no messages") }
    }

    /// Power loss: whatever was not persisted by a processed Ready is gone, and so are the
    /// messages still on their way to the member.
    private func crash(_ id: NodeID) throws(ScriptError) {
        _ = try node(id)
        nodes[id]!.crash()
        for message in messages where message.to == id { output.emit("dropped (node down): \(GoldenFormat.message(message))") }
        messages.removeAll { $0.to == id }
    }

    private func restart(_ id: NodeID) throws(ScriptError) {
        _ = try node(id)
        do {
            try nodes[id]!.restart()
        } catch {
            throw ScriptError(description: "\(error)")
        }
        let raft = nodes[id]!.raft
        output.emit(
            "INFO \(id) restarted from disk: \(GoldenFormat.hardState(raft.hardState)) first=\(raft.firstIndex) last=\(raft.lastIndex) "
                + "applied=\(raft.appliedIndex) \(GoldenFormat.conf(raft.confState))")
    }
}
