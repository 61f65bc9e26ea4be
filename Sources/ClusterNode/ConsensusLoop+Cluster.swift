import IncidentCore
import RaftCore

extension ConsensusLoop {
    /// Membership and leadership operations (on the leader; the node forwards them there).
    func handle(_ request: Inbox.ClusterRequest) {
        guard raft.isLeader else {
            request.reply(.failure(NodeError(.notLeader, "this node is not the leader; retry", leaderHint: raft.leader)))
            return
        }
        switch request.operation {
        case .setMember(let info):
            proposeCluster(.setMember(info), reply: request.reply)
        case .forgetMember(let id):
            proposeCluster(.forgetMember(id), reply: request.reply)
        case .changeMembership(let change):
            do {
                let index = try raft.proposeConfChange(change)
                waiting[index] = Waiter(term: raft.term, reply: .index(request.reply), envelope: nil)
            } catch {
                request.reply(.failure(NodeError(.conflict, error.message, leaderHint: raft.leader)))
            }
        case .transferLeadership(let target):
            raft.transferLeadership(to: target)
            request.reply(.success(raft.lastIndex))
        }
    }

    /// Keeps the dispatch lease with this leader: takes it once it is free or expired (by the
    /// leader's clock), renews it when a third of its time is left beyond the reserve.
    func maintainDispatchLease() {
        guard raft.isLeader, !leaseGrantInFlight else { return }
        let now = clock()
        let lease = state.dispatchLeases[Self.dispatchScope]
        let renewBelow = config.dispatchLeaseReserveMilliseconds + (config.dispatchLeaseMilliseconds - config.dispatchLeaseReserveMilliseconds) * 2 / 3
        let wanted: Bool
        if let lease {
            let left = lease.expiresAt.millisecondsSinceEpoch - now
            wanted = lease.holder == config.nodeID ? left < renewBelow : left <= 0
        } else {
            wanted = true
        }
        guard wanted else { return }
        leaseGrantInFlight = true
        let expiresAt = Timestamp(millisecondsSinceEpoch: max(now, lastStamp) + config.dispatchLeaseMilliseconds)
        proposeCluster(.grantDispatchLease(scope: Self.dispatchScope, holder: config.nodeID, expiresAt: expiresAt)) { [self] _ in
            leaseGrantInFlight = false  // answered on the loop thread
        }
    }

    /// Whether this node may start delivery attempts now: it holds the lease with more than the
    /// reserve left, so every attempt it starts ends before anyone else may start one.
    var holdsDispatchLease: Bool {
        guard let lease = state.dispatchLeases[Self.dispatchScope], lease.holder == config.nodeID else { return false }
        return lease.expiresAt.millisecondsSinceEpoch - clock() > config.dispatchLeaseReserveMilliseconds
    }

    static let dispatchScope = "*"

    private func proposeCluster(_ command: ClusterCommand, reply: @escaping @Sendable (Result<LogIndex, NodeError>) -> Void) {
        let envelope = Envelope(stamp: nextStamp(), requestID: "", body: .cluster(command))
        do {
            let index = try raft.propose(envelope.encoded())
            waiting[index] = Waiter(term: raft.term, reply: .index(reply), envelope: envelope)
        } catch {
            reply(.failure(NodeError(.notLeader, error.message, leaderHint: error.leaderHint)))
        }
    }

    /// The founding members are known from configuration; the first leader writes them into the
    /// replicated directory so that members added later learn their addresses from the log.
    func ensureFoundersInDirectory() {
        for info in config.initialMembers where state.members[info.id] == nil && !proposedFounders.contains(info.id) {
            proposedFounders.insert(info.id)
            proposeCluster(.setMember(info)) { _ in }
        }
    }

    /// Every member this node should be connected to: the replicated directory, falling back to
    /// configuration for founders not written yet; handed to the transport when it changes.
    func announceMembers() {
        guard let transport else { return }
        var byID: [NodeID: MemberInfo] = [:]
        for info in config.initialMembers { byID[info.id] = info }
        for info in state.members.sorted { byID[info.id] = info }
        let inConfig = raft.confState.voters.union(raft.confState.learners)
        let founders = Set(config.initialMembers.map(\.id))
        let members = byID.keys.sorted().filter { inConfig.contains($0) || founders.contains($0) }.map { byID[$0]! }
        guard members != announcedMembers else { return }
        announcedMembers = members
        transport.membersChanged(members)
    }
}
