/// Why a proposal was not appended. Nothing was appended when this is thrown.
public struct ProposalError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// Only the leader appends; `leaderHint` names the leader if known.
        case notLeader
        /// A leadership transfer is in progress; retry on the new leader.
        case transferInProgress
        /// `maxUncommittedEntriesBytes` would be exceeded: back-pressure, retry later.
        case uncommittedLimit
        /// A configuration change is still pending (proposed but not applied).
        case confChangePending
        /// The configuration change cannot apply to the current membership.
        case invalidConfChange
    }

    public var code: Code
    public var leaderHint: NodeID
    public var message: String

    public init(code: Code, leaderHint: NodeID, message: String) {
        self.code = code
        self.leaderHint = leaderHint
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

extension Raft {
    /// Appends application data as one entry. Returns the entry's index; it is committed when it
    /// appears in `Ready.committedEntries` with this leader's `term`.
    @discardableResult
    public mutating func propose(_ data: [UInt8]) throws(ProposalError) -> LogIndex {
        try propose(batch: [data]).lowerBound
    }

    /// Appends several entries at once (group commit); all or nothing.
    @discardableResult
    public mutating func propose(batch: [[UInt8]]) throws(ProposalError) -> ClosedRange<LogIndex> {
        precondition(!batch.isEmpty, "empty proposal batch")
        try checkCanPropose()
        let bytes = batch.reduce(0) { $0 + $1.count }
        if config.maxUncommittedEntriesBytes > 0, uncommittedBytes > 0,
            uncommittedBytes + bytes > config.maxUncommittedEntriesBytes
        {
            throw ProposalError(
                code: .uncommittedLimit, leaderHint: leader,
                message: "\(uncommittedBytes) uncommitted bytes; limit \(config.maxUncommittedEntriesBytes)")
        }
        let first = log.lastIndex + 1
        let entries = batch.enumerated().map { Entry(term: term, index: first + LogIndex($0.offset), data: $0.element) }
        appendLeaderEntries(entries)
        broadcastAppend()
        return first...(first + LogIndex(batch.count - 1))
    }

    func checkCanPropose() throws(ProposalError) {
        guard role == .leader else {
            throw ProposalError(code: .notLeader, leaderHint: leader, message: "member \(id) is not the leader")
        }
        guard transferTarget == 0 else {
            throw ProposalError(code: .transferInProgress, leaderHint: transferTarget, message: "leadership is moving to \(transferTarget)")
        }
    }

    mutating func appendLeaderEntries(_ entries: [Entry]) {
        log.append(entries)
        uncommittedBytes += entries.reduce(0) { $0 + $1.payloadBytes }
        // Our own match advances when the driver reports the entries durable (`advance`).
    }

    // MARK: - Ticks

    mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if config.checkQuorum && !ageFollowersAndCheckQuorum() {
            becomeFollower(term: term, leader: 0)
            return
        }
        if electionElapsed >= config.electionTicks {
            electionElapsed = 0
            // A transfer that did not finish within an election timeout is abandoned.
            transferTarget = 0
        }
        tickSnapshotTransfers()
        if heartbeatElapsed >= config.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat(context: [])
            maybeTransferToHigherPriority()
        }
    }

    /// Ages what the leader heard from each follower by one tick; returns whether a quorum was
    /// heard from within the last election timeout. Step down otherwise, so a partitioned leader
    /// stops accepting writes it cannot commit (thesis §6.2). Checked on every tick, not once per
    /// timeout: a leader then gives up no later than the followers that last heard from it may
    /// vote for someone else, instead of leading on for up to two timeouts beside a new leader
    /// (and serving stale lease reads meanwhile).
    private mutating func ageFollowersAndCheckQuorum() -> Bool {
        for member in progress.keys where member != id {
            progress[member]!.silentTicks += 1
            if progress[member]!.silentTicks >= config.electionTicks { progress[member]!.recentActive = false }
        }
        return Quorum.isQuorum(confState) { (progress[$0]?.silentTicks ?? .max) < config.electionTicks }
    }

    // MARK: - Replication

    mutating func broadcastAppend() {
        for member in progress.keys.sorted() where member != id {
            sendAppend(to: member)
        }
    }

    /// Sends what `member` is missing (entries, or a snapshot when they were compacted away).
    /// With `sendIfEmpty` false, nothing is sent when there are no entries. Returns whether a
    /// message was sent.
    @discardableResult
    mutating func sendAppend(to member: NodeID, sendIfEmpty: Bool = true) -> Bool {
        guard var pr = progress[member], !pr.isPaused else { return false }
        let prevIndex = pr.next - 1
        guard let prevTerm = log.term(at: prevIndex),
            let entries = log.slice(from: pr.next, through: log.lastIndex, maxBytes: config.maxSizePerMessageBytes)
        else {
            return startSnapshotTransfer(to: member)
        }
        if entries.isEmpty && !sendIfEmpty { return false }
        let bytes = entries.reduce(0) { $0 + $1.payloadBytes }
        if let last = entries.last {
            pr.sentEntries(last: last.index, bytes: bytes)
        } else if pr.state == .probe {
            pr.probeSent = true
        }
        pr.sentCommit = max(pr.sentCommit, log.committed)
        progress[member] = pr
        send(.append(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: log.committed), to: member)
        return true
    }

    /// Whether a follower that could be sent an append has not been told the current commit
    /// index (see `RaftConfig.deferCommitAnnouncements`).
    public var hasUnannouncedCommit: Bool {
        guard role == .leader else { return false }
        return progress.contains { member, pr in member != id && !pr.isPaused && pr.sentCommit < log.committed }
    }

    /// Sends each follower that has not been told the current commit index an append carrying
    /// it (and whatever entries it lacks). See `RaftConfig.deferCommitAnnouncements`.
    public mutating func announceCommit() {
        guard role == .leader else { return }
        for member in progress.keys.sorted() where member != id && progress[member]!.sentCommit < log.committed {
            sendAppend(to: member)
        }
    }

    mutating func broadcastHeartbeat(context: [UInt8]) {
        for member in progress.keys.sorted() where member != id {
            // Never tell a follower to commit beyond what it is known to hold.
            let commit = min(progress[member]!.match, log.committed)
            progress[member]!.sentCommit = max(progress[member]!.sentCommit, commit)
            send(.heartbeat(commit: commit, context: context), to: member)
        }
    }

    /// Advances the commit index to what a quorum holds, if that entry is of this term (§5.4.2).
    @discardableResult
    mutating func maybeCommit() -> Bool {
        let index = Quorum.committedIndex(confState) { progress[$0]?.match ?? 0 }
        guard index > log.committed, index <= log.lastIndex, log.term(at: index) == term else { return false }
        let hadCommittedInTerm = hasCommittedInTerm
        log.commit(to: index)
        if !hadCommittedInTerm { releaseReadsWaitingForTermCommit() }
        return true
    }

    mutating func stepLeader(_ message: Message) {
        switch message.body {
        case .appendResponse(let index, let reject, let hintIndex, let hintTerm):
            handleAppendResponse(from: message.from, index: index, reject: reject, hintIndex: hintIndex, hintTerm: hintTerm)
        case .heartbeatResponse(let context):
            guard progress[message.from] != nil else { return }
            progress[message.from]!.recentActive = true
            progress[message.from]!.probeSent = false
            if progress[message.from]!.state == .replicate && progress[message.from]!.inflights.isFull {
                progress[message.from]!.inflights.freeFirst()
            }
            if progress[message.from]!.match < log.lastIndex { sendAppend(to: message.from) }
            if !context.isEmpty { acknowledgeRead(context: context, from: message.from) }
        case .snapshotChunkResponse(let index, let received, let reject):
            handleSnapshotChunkResponse(from: message.from, index: index, received: received, reject: reject)
        case .readIndex(let context):
            requestRead(context: context, from: message.from)
        case .transferLeader(let target):
            transferLeadership(to: target)
        default:
            break
        }
    }

    private mutating func handleAppendResponse(from member: NodeID, index: LogIndex, reject: Bool, hintIndex: LogIndex, hintTerm: Term) {
        guard var pr = progress[member] else { return }
        pr.recentActive = true
        if reject {
            // Fast backtracking: skip every entry of terms the follower cannot have.
            let probe = hintTerm > 0 ? log.lastIndex(atOrBelow: hintIndex, withTermAtMost: hintTerm) : hintIndex
            if pr.maybeDecrease(rejected: index, hint: probe) {
                if pr.state == .replicate { pr.becomeProbe() }
                progress[member] = pr
                sendAppend(to: member)
            } else {
                progress[member] = pr
            }
            return
        }
        let wasProbeAtMatch = pr.state == .probe && pr.match == index
        guard pr.maybeUpdate(index) || wasProbeAtMatch else {
            progress[member] = pr
            return
        }
        switch pr.state {
        case .probe: pr.becomeReplicate()
        case .snapshot(let transfer) where pr.match >= transfer.metadata.index:
            pr.becomeProbe()
            pr.becomeReplicate()
        case .snapshot: break
        case .replicate: pr.inflights.free(through: index)
        }
        progress[member] = pr
        if maybeCommit(), !config.deferCommitAnnouncements {
            broadcastAppend()
        } else {
            while sendAppend(to: member, sendIfEmpty: false) {}
            // A follower that was paused when the commit index last advanced was skipped by
            // that broadcast: tell it now rather than at the next heartbeat (etcd's
            // CanBumpCommit). Deferred announcements are the driver's (`announceCommit`).
            if !config.deferCommitAnnouncements, progress[member]!.sentCommit < log.committed { sendAppend(to: member) }
        }
        if member == transferTarget, progress[member]!.match == log.lastIndex {
            send(.timeoutNow, to: member)
        }
    }

    /// The transport could not deliver to `member` (connection lost): stop pipelining to it and
    /// probe once it answers again, instead of waiting for a full window of lost messages.
    public mutating func reportUnreachable(_ member: NodeID) {
        guard role == .leader, var pr = progress[member], member != id else { return }
        if pr.state == .replicate { pr.becomeProbe() }
        progress[member] = pr
    }

    // MARK: - Leadership transfer

    /// Hands leadership to `target` (thesis §3.10): catch it up, then tell it to campaign now.
    /// Proposals fail with `transferInProgress` until it completes or times out (an election
    /// timeout). On a follower, the request is forwarded to the leader.
    public mutating func transferLeadership(to target: NodeID) {
        guard role == .leader else {
            if leader != 0, leader != id { send(.transferLeader(target: target), to: leader) }
            return
        }
        guard target != id, let pr = progress[target], !pr.isLearner else { return }
        guard transferTarget != target else { return }
        transferTarget = target
        electionElapsed = 0
        if pr.match == log.lastIndex {
            send(.timeoutNow, to: target)
        } else {
            sendAppend(to: target)
        }
    }

    /// The member this leader is handing over to, if any.
    public var leadershipTransferTarget: NodeID? { transferTarget == 0 ? nil : transferTarget }

    /// Region preference: hand over to the highest-priority caught-up voter above our priority.
    private mutating func maybeTransferToHigherPriority() {
        guard config.transferToHigherPriority, transferTarget == 0, hasCommittedInTerm else { return }
        let own = config.priority(of: id)
        let candidates = progress.filter { member, pr in
            member != id && !pr.isLearner && confState.voters.contains(member) && pr.recentActive
                && pr.match == log.lastIndex && config.priority(of: member) > own
        }.keys
        guard let best = candidates.max(by: { (config.priority(of: $0), $1) < (config.priority(of: $1), $0) }) else { return }
        transferLeadership(to: best)
    }
}

extension Raft {
    /// Replaces the election priorities (the driver derives them from replicated facts such as
    /// members' regions, so every member computes the same map). Takes effect at the next
    /// election timeout and the leader's next hand-over check.
    public mutating func setPriorities(_ priorities: [NodeID: Int]) {
        config.priorities = priorities
    }
}
