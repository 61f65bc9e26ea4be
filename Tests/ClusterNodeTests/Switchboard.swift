import ClusterNode
import Foundation
import IncidentCore
import Locking
import Logging
import RaftCore
import Synchronization
import XCTest

/// Several `IncidentNode`s in one process, connected by an in-memory transport that can cut
/// nodes off (both directions) and lose the answers of forwarded writes: the multi-node logic
/// without sockets (ClusterWire has its own tests; the integration tests use both together).
final class Switchboard: Sendable {
    private struct Wiring {
        var nodes: [NodeID: IncidentNode] = [:]
        var isolated: Set<NodeID> = []
        /// Forwarded requests to carry out but answer as lost (the leader applied them).
        var answersToLose = 0
        /// Forward requests carried so far (a batch counts once).
        var forwards = 0
        /// Leaders answer forwarded writes without the entry's term, as one of an earlier build
        /// (wire protocol version 1) does.
        var answersWithoutTerms = false
        /// Nodes whose incoming Raft messages wait in `heldMessages` until `release`.
        var held: Set<NodeID> = []
        var heldMessages: [Message] = []
    }

    private let wiring = Lock(Wiring())

    func attach(_ node: IncidentNode, as id: NodeID) { wiring.withLock { $0.nodes[id] = node } }
    func detach(_ id: NodeID) { _ = wiring.withLock { $0.nodes.removeValue(forKey: id) } }
    func isolate(_ id: NodeID) { _ = wiring.withLock { $0.isolated.insert(id) } }
    func heal(_ id: NodeID) { _ = wiring.withLock { $0.isolated.remove(id) } }
    func loseNextAnswers(_ count: Int) { wiring.withLock { $0.answersToLose = count } }
    /// Raft messages to `id` wait (in order) until `release(id)`: the node falls behind without
    /// being cut off (its own messages and forwarded writes still go out).
    func hold(_ id: NodeID) { _ = wiring.withLock { $0.held.insert(id) } }

    /// Delivers what waited for `id`, in the order it was sent, and stops holding.
    func release(_ id: NodeID) {
        let (node, messages) = wiring.withLock { w -> (IncidentNode?, [Message]) in
            w.held.remove(id)
            let messages = w.heldMessages.filter { $0.to == id }
            w.heldMessages.removeAll { $0.to == id }
            return (w.isolated.contains(id) ? nil : w.nodes[id], messages)
        }
        if let node, !messages.isEmpty { node.receive(messages) }
    }

    /// Hands `message` to its node, unless either end is cut off or the receiver is held.
    fileprivate func deliver(_ message: Message, from: NodeID) {
        let node = wiring.withLock { w -> IncidentNode? in
            guard let node = Self.node(message.to, from: from, in: w) else { return nil }
            guard !w.held.contains(message.to) else {
                w.heldMessages.append(message)
                return nil
            }
            return node
        }
        node?.receive([message])
    }
    func answerWithoutTerms() { wiring.withLock { $0.answersWithoutTerms = true } }
    fileprivate var answersWithTerms: Bool { wiring.withLock { !$0.answersWithoutTerms } }

    fileprivate func node(_ to: NodeID, from: NodeID) -> IncidentNode? {
        wiring.withLock { Self.node(to, from: from, in: $0) }
    }

    /// Node `to`, unless it or `from` is cut off.
    private static func node(_ to: NodeID, from: NodeID, in w: Wiring) -> IncidentNode? {
        guard !w.isolated.contains(from), !w.isolated.contains(to) else { return nil }
        return w.nodes[to]
    }

    fileprivate func reachable(from id: NodeID) -> Set<NodeID> {
        wiring.withLock { w in
            w.isolated.contains(id) ? [] : Set(w.nodes.keys.filter { $0 != id && !w.isolated.contains($0) })
        }
    }

    var forwardsCarried: Int { wiring.withLock { $0.forwards } }
    fileprivate func countForward() { wiring.withLock { $0.forwards += 1 } }

    fileprivate func takeAnswerToLose() -> Bool {
        wiring.withLock { w in
            guard w.answersToLose > 0 else { return false }
            w.answersToLose -= 1
            return true
        }
    }

    /// Each node's consensus loop runs on a serial queue of its transport (`LoopHost`), as
    /// `incidentd` runs it on ClusterWire's event loop; false: on a thread of its own.
    let hostedLoops: Bool

    init(hostedLoops: Bool = true) { self.hostedLoops = hostedLoops }

    func transport(for id: NodeID) -> any ClusterTransport {
        LocalTransport(id: id, board: self, loopHost: hostedLoops ? QueueHost(queue: DispatchQueue(label: "node-\(id)-consensus")) : nil)
    }
}

/// A serial dispatch queue as a consensus loop's thread.
struct QueueHost: LoopHost {
    let queue: DispatchQueue

    func execute(_ work: @escaping @Sendable () -> Void) { queue.async(execute: work) }

    func schedule(afterMicroseconds microseconds: Int64, _ work: @escaping @Sendable () -> Void) -> any LoopHostTimer {
        let scheduled = Scheduled()
        queue.asyncAfter(deadline: .now() + .microseconds(Int(microseconds))) {
            if !scheduled.cancelled.load(ordering: .acquiring) { work() }
        }
        return scheduled
    }

    private final class Scheduled: LoopHostTimer {
        let cancelled = Atomic<Bool>(false)
        func cancel() { cancelled.store(true, ordering: .releasing) }
    }
}

private struct LocalTransport: ClusterTransport {
    let id: NodeID
    let board: Switchboard
    let loopHost: (any LoopHost)?

    func send(_ messages: [Message]) {
        for message in messages { board.deliver(message, from: id) }
    }

    func forward(_ payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int) async throws(NodeError) -> [UInt8] {
        guard let node = board.node(peer, from: id) else { throw NodeError(.unavailable, "peer \(peer) unreachable") }
        board.countForward()
        let answer = await node.serveForwarded(payload, answersWithTerms: board.answersWithTerms)
        if board.takeAnswerToLose() { throw NodeError(.unavailable, "the answer from \(peer) was lost") }
        return answer
    }

    func membersChanged(_ members: [MemberInfo]) {}

    func connectedPeers() -> Set<NodeID> { board.reachable(from: id) }
}

/// A cluster of `count` founding members on a switchboard, each in its own data directory.
final class LocalCluster {
    let board: Switchboard
    let directories: [NodeID: TemporaryDirectory]
    let members: [MemberInfo]
    private(set) var nodes: [NodeID: IncidentNode] = [:]

    /// The wall clock of every node (nil: the real one) and each node's notification delivery.
    let clock: ManualClock?
    let delivery: (NodeID) -> (any NotificationDelivery)?

    init(
        count: Int, regions: [String]? = nil, clock: ManualClock? = nil,
        delivery: @escaping (NodeID) -> (any NotificationDelivery)? = { _ in nil },
        hostedLoops: Bool = true, configure: @escaping (inout NodeConfig) -> Void = { _ in }
    ) throws {
        board = Switchboard(hostedLoops: hostedLoops)
        self.clock = clock
        self.delivery = delivery
        let ids = (1...count).map { NodeID($0) }
        members = ids.map { MemberInfo(id: $0, peerAddress: "local:\($0)", region: regions?[Int($0) - 1] ?? "r\($0)") }
        directories = Dictionary(uniqueKeysWithValues: ids.map { ($0, TemporaryDirectory()) })
        self.configure = configure
        for id in ids { try start(id) }
    }

    private let configure: (inout NodeConfig) -> Void

    func config(for id: NodeID, join: Bool = false) -> NodeConfig {
        var config = NodeConfig(dataDirectory: directories[id]?.path ?? "")
        config.nodeID = id
        config.region = members.first { $0.id == id }?.region ?? "joiner"
        config.initialMembers = join ? [] : members
        config.join = join
        config.tickIntervalMilliseconds = 10
        config.electionTicks = 10
        config.leaderWaitMilliseconds = 5_000
        configure(&config)
        return config
    }

    func start(_ id: NodeID, config explicit: NodeConfig? = nil) throws {
        var logger = Logger(label: "node-\(id)")
        logger.logLevel = .warning
        let node: IncidentNode
        if let clock {
            node = try IncidentNode(
                config: explicit ?? config(for: id), logger: logger, delivery: delivery(id), clock: { clock.now },
                transport: board.transport(for: id))
        } else {
            node = try IncidentNode(config: explicit ?? config(for: id), logger: logger, delivery: delivery(id), transport: board.transport(for: id))
        }
        nodes[id] = node
        board.attach(node, as: id)
    }

    /// kill -9 in spirit: the node stops answering at once (its loop is then shut down).
    func stop(_ id: NodeID) async {
        board.detach(id)
        await nodes.removeValue(forKey: id)?.shutdown()
    }

    func shutdown() async {
        for id in nodes.keys { await stop(id) }
    }

    /// Waits until the running nodes agree on one leader (among them) and returns it.
    func leader(within seconds: Double = 10, excluding excluded: Set<NodeID> = []) async throws -> NodeID {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let views = nodes.filter { !excluded.contains($0.key) }.map { $0.value.leader }
            if let first = views.first, first != 0, views.allSatisfy({ $0 == first }), nodes[first] != nil, !excluded.contains(first) {
                return first
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        throw ClusterTestError("no agreed leader within \(seconds) s")
    }

    /// Waits until every running node has applied at least `index`.
    func waitApplied(_ index: LogIndex, within seconds: Double = 10) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var all = true
            for node in nodes.values where try await node.status().appliedIndex < index { all = false }
            if all { return }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        throw ClusterTestError("not every node applied \(index) within \(seconds) s")
    }

    func follower(excluding leader: NodeID) -> NodeID { nodes.keys.sorted().first { $0 != leader }! }
}

struct ClusterTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Titles of the open incidents on `node`, from its local state.
func openTitles(_ node: IncidentNode) async throws -> Set<String> {
    try await node.read(.local) { context in Set(context.state.machine.incidents(limit: 100_000).map(\.title)) }
}
