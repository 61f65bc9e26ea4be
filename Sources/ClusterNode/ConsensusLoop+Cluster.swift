import IncidentCore
import RaftCore

extension ConsensusLoop {
    /// Membership and leadership operations (on the leader; the node forwards them there).
    /// A membership change that meets one still being applied (or a new leader that has not
    /// applied its log yet) waits here until `deadline` (monotonic ms) instead of failing: the
    /// obstacle clears by itself within a round trip or two.
    func handle(_ request: Inbox.ClusterRequest, deadline: Int64? = nil) {
        guard raft.isLeader else {
            request.reply(.failure(NodeError(.notLeader, "this node is not the leader; retry", leaderHint: raft.leader)))
            return
        }
        switch request.operation {
        case .setMember(let info):
            proposeCluster(.setMember(info), reply: request.reply)
        case .forgetMember(let id):
            proposeCluster(.forgetMember(id), reply: request.reply)
        case .archive(let command):
            proposeCluster(.archive(command), reply: request.reply)
        case .changeMembership(let change):
            do {
                let index = try raft.proposeConfChange(change)
                wait(at: index, Waiter(term: raft.term, reply: .index(request.reply), envelope: nil))
            } catch where error.code == .confChangePending {
                let deadline = deadline ?? Self.monotonicMilliseconds() + Int64(config.leaderWaitMilliseconds)
                if Self.monotonicMilliseconds() < deadline {
                    parkedConfChanges.append((request, deadline))
                } else {
                    request.reply(.failure(NodeError(.conflict, error.message, leaderHint: raft.leader)))
                }
            } catch {
                request.reply(.failure(NodeError(.conflict, error.message, leaderHint: raft.leader)))
            }
        case .transferLeadership(let target):
            raft.transferLeadership(to: target)
            request.reply(.success(raft.lastIndex))
        }
    }

    /// Tries the parked membership changes again (each turn, after the last one applied).
    func retryParkedConfChanges() {
        guard !parkedConfChanges.isEmpty else { return }
        let parked = parkedConfChanges
        parkedConfChanges = []
        for (request, deadline) in parked { handle(request, deadline: deadline) }
    }

    func proposeCluster(_ command: ClusterCommand, reply: @escaping @Sendable (Result<LogIndex, NodeError>) -> Void) {
        let envelope = Envelope(stamp: nextStamp(), requestID: "", body: .cluster(command))
        do {
            let index = try raft.propose(envelope.encoded())
            wait(at: index, Waiter(term: raft.term, reply: .index(reply), envelope: envelope))
        } catch {
            reply(.failure(NodeError(.notLeader, error.message, leaderHint: error.leaderHint)))
        }
    }

    /// Members in a preferred region outrank the others in elections, whether they founded the
    /// cluster or joined later (the directory says where each one runs).
    func updatePriorities() {
        guard !config.preferredLeaderRegions.isEmpty else { return }
        var priorities: [NodeID: Int] = [:]
        for member in currentMembers where config.preferredLeaderRegions.contains(member.region) { priorities[member.id] = 1 }
        if priorities != raft.config.priorities { raft.setPriorities(priorities) }
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
        updatePriorities()
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
