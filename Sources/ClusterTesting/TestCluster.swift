import RaftCore

/// A cluster of simulated members on a controllable network, for scenario tests and the
/// randomized simulator. Messages wait in `inFlight` until delivered; links can be cut.
public struct TestCluster: Sendable {
    public private(set) var nodes: [NodeID: SimulatedNode] = [:]
    /// Messages sent and not yet delivered, in send order.
    public var inFlight: [Message] = []
    /// Directed links that drop everything (`from → to`).
    public private(set) var cutLinks: Set<Link> = []
    public private(set) var checker = InvariantChecker()
    var seed: UInt64

    /// A directed link between two members.
    public struct Link: Hashable, Sendable {
        public var from: NodeID
        public var to: NodeID
        public init(_ from: NodeID, _ to: NodeID) {
            self.from = from
            self.to = to
        }
    }

    /// Options shared by every member of a test cluster.
    public struct Options: Sendable {
        public var configure: @Sendable (inout RaftConfig) -> Void = { _ in }
        public var snapshotInterval: LogIndex = 0
        public var retainedEntries: LogIndex = 0
        public var snapshotPadding = 0
        /// Test-only fault: the disk forgets votes (see `SimulationConfig.skipVotePersistence`).
        public var skipVotePersistence = false
        /// Test-only fault: see `SimulationConfig.sendEverythingBeforeWriting`.
        public var sendEverythingBeforeWriting = false
        /// Members release their snapshot's data and reload it on demand (see `SimulatedNode`).
        public var releasesSnapshotData = false
        /// Members sync each write later (see `SimulatedNode.defersSyncs`).
        public var defersSyncs = false
        /// With `defersSyncs`: members hold each next Ready back after a sync (see
        /// `SimulatedNode.holdsReadies`).
        public var holdsReadies = false
        public init() {}
    }

    let options: Options

    /// Members `1...voters` bootstrap as voters; `learnersJoining` ids start empty and join
    /// through configuration changes.
    public init(voters: Int, joining: [NodeID] = [], seed: UInt64 = 1, options: Options = Options()) {
        self.seed = seed
        self.options = options
        let ids = Set((1...voters).map { NodeID($0) })
        for id in ids.sorted() { addNode(id, storage: SimulatedStorage(bootstrap: ids)) }
        for id in joining { addNode(id, storage: .joining()) }
        // Apply the bootstrap configuration entry, as a starting driver would.
        for id in ids { collect(id) }
    }

    private mutating func addNode(_ id: NodeID, storage: SimulatedStorage) {
        var config = RaftConfig(id: id)
        options.configure(&config)
        nodes[id] = SimulatedNode(
            config: config, storage: storage, snapshotInterval: options.snapshotInterval,
            retainedEntries: options.retainedEntries, snapshotPadding: options.snapshotPadding, seed: seed &* 31 &+ id)
        nodes[id]!.storage.forgetsVotes = options.skipVotePersistence
        nodes[id]!.releasesSnapshotData = options.releasesSnapshotData
        nodes[id]!.sendsEverythingBeforeWriting = options.sendEverythingBeforeWriting
        nodes[id]!.defersSyncs = options.defersSyncs
        nodes[id]!.holdsReadies = options.defersSyncs && options.holdsReadies
    }

    public var ids: [NodeID] { nodes.keys.sorted() }
    public func node(_ id: NodeID) -> SimulatedNode { nodes[id]! }
    /// Takes the read-index answers member `id` received so far.
    public mutating func takeReadStates(_ id: NodeID) -> (served: [ReadState], failed: [[UInt8]]) {
        defer {
            nodes[id]!.readStates = []
            nodes[id]!.failedReads = []
        }
        return (nodes[id]!.readStates, nodes[id]!.failedReads)
    }
    public func raft(_ id: NodeID) -> Raft { nodes[id]!.raft }

    /// The live members that believe they lead, highest term first.
    public var leaders: [NodeID] {
        ids.filter { nodes[$0]!.isUp && nodes[$0]!.raft.role == .leader }.sorted { raft($0).term > raft($1).term }
    }
    public var leader: NodeID? { leaders.first }

    // MARK: - Driving

    /// Runs `body` on member `id`'s Raft, then collects its output.
    public mutating func with(_ id: NodeID, _ body: (inout Raft) -> Void) {
        guard nodes[id]!.isUp else { return }
        body(&nodes[id]!.raft)
        collect(id)
    }

    /// Processes `id`'s pending Ready, queueing its messages.
    public mutating func collect(_ id: NodeID) {
        var checker = self.checker
        let out = nodes[id]!.processReady { node, entry in checker.applied(entry, on: node) }
        checker.observe(nodes[id]!.raft)
        self.checker = checker
        inFlight.append(contentsOf: out)
    }

    public mutating func tick(_ id: NodeID, times: Int = 1) {
        for _ in 0..<times { with(id) { $0.tick() } }
    }

    public mutating func tickAll(times: Int = 1) {
        for _ in 0..<times { for id in ids { tick(id) } }
    }

    /// Delivers one message (dropped when its link is cut or its receiver is down).
    public mutating func deliver(_ message: Message) {
        guard !cutLinks.contains(Link(message.from, message.to)), let node = nodes[message.to], node.isUp else { return }
        with(message.to) { $0.step(message) }
    }

    /// Delivers everything in flight, and whatever that causes, until the network is quiet
    /// (with deferred syncs: and no write waits for its sync; they complete whenever no message
    /// is in flight). Returns how many messages were delivered.
    @discardableResult
    public mutating func stabilize(maxMessages: Int = 100_000) -> Int {
        var delivered = 0
        for id in ids { collect(id) }
        while !inFlight.isEmpty || completeSyncs() {
            let batch = inFlight
            inFlight = []
            for message in batch {
                deliver(message)
                delivered += 1
                precondition(delivered < maxMessages, "the cluster did not quiesce")
            }
        }
        return delivered
    }

    /// Completes the pending sync of every live member that has one; returns whether any did.
    public mutating func completeSyncs() -> Bool {
        let syncing = ids.filter { nodes[$0]!.isUp && nodes[$0]!.hasPendingSync }
        for id in syncing { collect(id) }
        return !syncing.isEmpty
    }

    /// Makes `id` campaign and settles the election.
    public mutating func elect(_ id: NodeID) {
        with(id) { $0.campaignNow() }
        stabilize()
    }

    /// Proposes `value` at member `id`; returns the index or the error.
    @discardableResult
    public mutating func propose(_ value: UInt64, at id: NodeID) -> Result<LogIndex, ProposalError> {
        var result: Result<LogIndex, ProposalError> = .failure(ProposalError(code: .notLeader, leaderHint: 0, message: "down"))
        with(id) { raft in
            do throws(ProposalError) { result = .success(try raft.propose(value.proposalBytes)) } catch { result = .failure(error) }
        }
        return result
    }

    // MARK: - Faults

    public mutating func cut(_ from: NodeID, _ to: NodeID) { cutLinks.insert(Link(from, to)) }

    /// Cuts both directions between `a` and every member of `others`.
    public mutating func isolate(_ a: NodeID, from others: [NodeID]? = nil) {
        for b in others ?? ids where b != a {
            cut(a, b)
            cut(b, a)
        }
    }

    /// Splits the cluster into groups that cannot talk to each other.
    public mutating func partition(_ groups: [[NodeID]]) {
        for (i, group) in groups.enumerated() {
            for other in groups[(i + 1)...] {
                for a in group { for b in other { cut(a, b); cut(b, a) } }
            }
        }
    }

    public mutating func heal() { cutLinks = [] }

    /// Delivers `message` and crashes the receiver while it writes the resulting Ready: only
    /// `keptEntries` of its new entries reach the disk, its hard state does not, and nothing it
    /// would have sent after the write leaves. When the message cannot arrive (its link is cut)
    /// it is lost and the receiver just crashes; returns whether the write was torn.
    @discardableResult
    public mutating func crashWhileWriting(_ message: Message, keptEntries: Int) -> Bool {
        guard let node = nodes[message.to], node.isUp else { return false }
        guard !cutLinks.contains(Link(message.from, message.to)) else {
            // Returning without the crash once left the victim up while the simulator counted it
            // down, and then restarted it with a sync pending (seed 206426, 5 voters).
            crash(message.to)
            return false
        }
        nodes[message.to]!.raft.step(message)
        crash(message.to, tornEntries: keptEntries)
        return true
    }

    /// Proposes `value` at leader `id` and crashes it while it writes the resulting Ready: its
    /// appends already left (they go before its own write), only `keptEntries` of the new
    /// entries reach its disk and its hard state does not. Returns whether `id` led.
    @discardableResult
    public mutating func crashLeaderWhileWriting(_ id: NodeID, proposing value: UInt64, keptEntries: Int) -> Bool {
        guard let node = nodes[id], node.isUp, node.raft.isLeader else { return false }
        _ = try? nodes[id]!.raft.propose(value.proposalBytes)
        crash(id, tornEntries: keptEntries)
        return true
    }

    public mutating func crash(_ id: NodeID, tornEntries: Int? = nil) {
        let sent = nodes[id]!.crash(tornEntries: tornEntries)
        inFlight.removeAll { $0.to == id }
        inFlight.append(contentsOf: sent)
    }

    /// Restarts member `id`, which must be down.
    public mutating func restart(_ id: NodeID) {
        precondition(!nodes[id]!.isUp, "restart of member \(id), which is up")
        nodes[id]!.restart(seed: seed &+ id)
        collect(id)
    }
}
