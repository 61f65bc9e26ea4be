import IncidentCore
import RaftCore

/// Who delivers which notification: dispatch leases in replicated state.
///
/// Scope `"*"` covers incidents without a region (or in a region where no member runs) and is
/// always the leader's. Scope `"region:<r>"` covers incidents labelled `region=<r>` (label or
/// tag) and goes to a healthy member in `<r>` — the current holder while it stays healthy, else
/// the lowest id there — or, when none is healthy, to the leader ("else anywhere"). Only the
/// leader proposes grants and renewals (it sees every member's health); a lease moves to another
/// holder only after it expired by the leader's clock, and a holder starts an attempt only while
/// more than `dispatchLeaseReserveMilliseconds` is left by its own clock, so no notification is
/// ever being delivered by two nodes at once.
extension ConsensusLoop {
    static let globalScope = "*"
    /// The archiver's lease: one node at a time writes to PostgreSQL (ConsensusLoop+Dispatch).
    static let archiveScope = "archive"
    static func regionScope(_ region: String) -> String { "region:" + region }

    /// Current members (voters and learners) with what the directory or configuration knows.
    var currentMembers: [MemberInfo] { membership.members }

    var memberRegions: Set<String> { membership.regions }

    /// `currentMembers` and `memberRegions`, worked out again only when the configuration or the
    /// member directory changed: the leader asks on every tick (`maintainDispatchLeases`) and the
    /// holder of a regional scope whenever it starts a delivery.
    private var membership: MembershipView {
        if let view = membershipView, view.confState == raft.confState, view.directory == state.members { return view }
        let ids = raft.confState.voters.union(raft.confState.learners)
        var byID: [NodeID: MemberInfo] = [:]
        for info in config.initialMembers where ids.contains(info.id) { byID[info.id] = info }
        for info in state.members.sorted where ids.contains(info.id) { byID[info.id] = info }
        let members = byID.keys.sorted().map { byID[$0]! }
        let view = MembershipView(
            confState: raft.confState, directory: state.members, members: members, regions: Set(members.map(\.region).filter { !$0.isEmpty }))
        membershipView = view
        return view
    }

    func dispatchScope(ofNotification id: UInt64) -> String {
        guard let intent = state.machine.notification(id), let incident = state.machine.incident(intent.incident) else { return Self.globalScope }
        let region = incident.labels["region"] ?? incident.tags["region"] ?? ""
        guard !region.isEmpty, memberRegions.contains(region) else { return Self.globalScope }
        return Self.regionScope(region)
    }

    /// A lone voter with no learners needs no lease: nobody else could deliver (and it writes no
    /// lease renewals into its log while idle). Leases start once a second member is added.
    var dispatchesAlone: Bool {
        guard raft.isLeader else { return false }
        let conf = raft.confState
        return conf.learners.isEmpty && conf.voters.count == 1 && conf.voters.contains(config.nodeID)
    }

    /// The scopes this node may start deliveries for now.
    func heldDispatchScopes() -> Set<String> {
        if dispatchesAlone {
            // Not before its log is applied: after a restart, delivery reports in the log's
            // tail apply only once the new term commits, and a delivery started earlier would
            // page again for one already recorded.
            return loneLeaderIsCurrent ? Set([Self.globalScope] + memberRegions.map(Self.regionScope)) : []
        }
        let now = clock()
        var held: Set<String> = []
        for (scope, lease) in state.dispatchLeases
        where scope != Self.archiveScope && lease.holder == config.nodeID && lease.expiresAt.millisecondsSinceEpoch - now > config.dispatchLeaseReserveMilliseconds {
            held.insert(scope)
        }
        return held
    }

    /// On gaining a scope, queue whatever the previous holder left undelivered.
    func noteLeaseChanges(_ held: Set<String>) {
        if !held.subtracting(heldScopes).isEmpty { deliveries.refill(from: state.machine) }
        heldScopes = held
    }

    /// The leader keeps every scope's lease granted and renewed.
    func maintainDispatchLeases() {
        guard raft.isLeader, !dispatchesAlone else { return }
        let now = clock()
        var desired: [String: NodeID] = [Self.globalScope: config.nodeID]
        let view = membership
        let members = view.members
        for region in view.regions {
            let scope = Self.regionScope(region)
            let healthy = members.filter { $0.region == region && isHealthy($0.id) }.map(\.id)
            if let current = state.dispatchLeases[scope]?.holder, healthy.contains(current) {
                desired[scope] = current
            } else if let member = healthy.min() {
                desired[scope] = member
            } else if ticksAsLeader >= config.electionTicks {
                desired[scope] = config.nodeID
            }
            // else: a new leader has heard from nobody in that region yet, which says nothing of
            // it (every follower counts as inactive until it answers); a lease granted to the
            // leader now would keep the region's pages away from it until the lease ran out.
        }
        if let archiver = desiredArchiver(members: members) { desired[Self.archiveScope] = archiver }
        let renewBelow = config.dispatchLeaseReserveMilliseconds + (config.dispatchLeaseMilliseconds - config.dispatchLeaseReserveMilliseconds) * 2 / 3
        for scope in desired.keys.sorted() where !leaseGrantsInFlight.contains(scope) {
            let holder = desired[scope]!
            let expiresAt = Timestamp(millisecondsSinceEpoch: max(now, lastStamp) + config.dispatchLeaseMilliseconds)
            if scope == Self.archiveScope, let lease = state.dispatchLeases[scope], lease.holder == config.nodeID, holder != config.nodeID {
                // The leader gives the archive to a follower at once: a batch of its own still
                // in flight is fenced by the archive's watermark compare-and-set.
                leaseGrantsInFlight.insert(scope)
                proposeCluster(.handOverLease(scope: scope, from: config.nodeID, to: holder, expiresAt: expiresAt)) { [self] _ in
                    leaseGrantsInFlight.remove(scope)
                }
                continue
            }
            if let lease = state.dispatchLeases[scope] {
                let left = lease.expiresAt.millisecondsSinceEpoch - now
                // Renew the holder's lease in time; hand it to another only once it ran out.
                guard lease.holder == holder ? left < renewBelow : left <= 0 else { continue }
            }
            leaseGrantsInFlight.insert(scope)
            proposeCluster(.grantDispatchLease(scope: scope, holder: holder, expiresAt: expiresAt)) { [self] _ in
                leaseGrantsInFlight.remove(scope)  // answered on the loop thread
            }
        }
    }

    /// Who should archive: the current holder while it stays healthy and able (unless it is the
    /// leader and a follower could: then its lease runs out unrenewed), else a healthy follower
    /// that can (sparing the leader's CPU), else the leader if it can; nil if nobody can.
    func desiredArchiver(members: [MemberInfo]) -> NodeID? {
        let journal = state.archive
        guard journal.isEnabled, !journal.archivers.isEmpty else { return nil }
        let ids = Set(members.map(\.id))
        let able = journal.archivers.filter { ids.contains($0) && isHealthy($0) }
        if let current = state.dispatchLeases[Self.archiveScope]?.holder, able.contains(current), current != config.nodeID || able.count == 1 {
            return current
        }
        return able.filter { $0 != config.nodeID }.min() ?? (able.contains(config.nodeID) ? config.nodeID : nil)
    }

    /// Whether this node may write archive batches now (`NodeStatus.holdsArchiveLease`). Two
    /// archivers overlapping anyway (clock trouble) still write nothing twice: the archive's
    /// watermark moves by compare-and-set in the batch's transaction.
    var holdsArchiveLease: Bool {
        let journal = state.archive
        guard journal.isEnabled, journal.archivers.contains(config.nodeID) else { return false }
        if dispatchesAlone { return loneLeaderIsCurrent }
        guard let lease = state.dispatchLeases[Self.archiveScope], lease.holder == config.nodeID else { return false }
        return lease.expiresAt.millisecondsSinceEpoch - clock() > config.dispatchLeaseReserveMilliseconds
    }

    /// This node, or a member the leader heard from within the last election timeout.
    func isHealthy(_ id: NodeID) -> Bool {
        id == config.nodeID || raft.isRecentlyActive(id)
    }

    /// A command this node makes up itself (delivery reports): proposed here when leading, else
    /// handed to the leader like any write.
    func proposeInternal(_ command: Command) {
        if raft.isLeader {
            propose([Inbox.Proposal(command: command, requestID: "", reply: nil)])
        } else {
            forwardInternal?(command)
        }
    }
}
