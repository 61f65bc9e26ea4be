/// Read-index requests the leader is confirming (thesis §6.4).
struct ReadQueue: Sendable {
    struct Pending: Sendable {
        var context: [UInt8]
        /// Who asked: this member (answer through `Ready.readStates`) or a follower.
        var requester: NodeID
        var index: LogIndex
        var acks: Set<NodeID>
    }

    /// Reads waiting for a heartbeat round, oldest first.
    var confirming: [Pending] = []
    /// Reads that arrived before this leader committed an entry of its term.
    var waitingForTermCommit: [Pending] = []
}

extension Raft {
    /// Asks for a linearizable read point. The answer arrives in `Ready.readStates` (serve the
    /// read once `appliedIndex >= index`) or, when it cannot be served, in `Ready.failedReads`.
    /// `context` identifies the request and must be unique among outstanding reads.
    public mutating func readIndex(context: [UInt8]) {
        precondition(!context.isEmpty, "a read context must not be empty")
        switch role {
        case .leader:
            requestRead(context: context, from: id)
        default:
            if leader != 0 {
                send(.readIndex(context: context), to: leader)
            } else {
                failedReads.append(context)
            }
        }
    }

    mutating func requestRead(context: [UInt8], from requester: NodeID) {
        guard !context.isEmpty else { return }
        let pending = ReadQueue.Pending(context: context, requester: requester, index: log.committed, acks: [id])
        guard hasCommittedInTerm else {
            // A new leader does not know the commit index until an entry of its term commits.
            if reads.waitingForTermCommit.count < config.maxPendingReadIndexRequests {
                reads.waitingForTermCommit.append(pending)
            } else {
                answerRead(pending, index: nil)
            }
            return
        }
        startConfirming(pending)
    }

    private mutating func startConfirming(_ request: ReadQueue.Pending) {
        var pending = request
        pending.index = log.committed
        if (config.leaseBasedReads && transferTarget == 0) || Quorum.isQuorum(confState, { $0 == id }) {
            // Lease (check-quorum guarantees no other leader within the timeout), or we are
            // the only voter: the commit index is current now. Not while handing over: the
            // target's transfer campaign ignores leader stickiness and may win (and commit)
            // before this leader hears of it, so the read is confirmed by a heartbeat round.
            answerRead(pending, index: pending.index)
            return
        }
        guard reads.confirming.count < config.maxPendingReadIndexRequests else {
            answerRead(pending, index: nil)
            return
        }
        reads.confirming.append(pending)
        broadcastHeartbeat(context: pending.context)
    }

    mutating func releaseReadsWaitingForTermCommit() {
        let waiting = reads.waitingForTermCommit
        reads.waitingForTermCommit = []
        for pending in waiting { startConfirming(pending) }
    }

    /// A heartbeat answer carried `context`: once a quorum confirmed leadership after the read
    /// arrived, that read and every earlier one are safe to serve.
    mutating func acknowledgeRead(context: [UInt8], from member: NodeID) {
        guard let position = reads.confirming.firstIndex(where: { $0.context == context }) else { return }
        reads.confirming[position].acks.insert(member)
        let acks = reads.confirming[position].acks
        guard Quorum.isQuorum(confState, { acks.contains($0) }) else { return }
        let ready = reads.confirming[...position]
        reads.confirming.removeFirst(position + 1)
        for pending in ready { answerRead(pending, index: pending.index) }
    }

    private mutating func answerRead(_ pending: ReadQueue.Pending, index: LogIndex?) {
        if pending.requester == id {
            if let index { readStates.append(ReadState(index: index, context: pending.context)) } else { failedReads.append(pending.context) }
        } else {
            send(.readIndexResponse(context: pending.context, index: index), to: pending.requester)
        }
    }

    /// On losing leadership, every outstanding read fails (its requester may retry elsewhere).
    mutating func failPendingReads() {
        guard role == .leader else { return }
        for pending in reads.confirming + reads.waitingForTermCommit { answerRead(pending, index: nil) }
        reads = ReadQueue()
    }
}
