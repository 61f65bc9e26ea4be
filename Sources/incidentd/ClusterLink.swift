import ClusterNode
import ClusterWire
import Locking
import Logging
import NIOCore
import RaftCore

/// Joins the node and the wire: `WireTransport` is how the consensus loop reaches peers
/// (ClusterWire frames), `NodeRelay` hands what peers send to the node. The relay exists before
/// the node (ClusterWire needs its delegate first), so it holds the node once it is attached;
/// anything arriving before that is dropped (Raft retransmits, forwarders retry).
final class NodeRelay: WireDelegate {
    private let node = Lock<IncidentNode?>(nil)
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func attach(_ node: IncidentNode) { self.node.withLock { $0 = node } }

    private var current: IncidentNode? { node.withLock { $0 } }

    func wire(received messages: [Message], from peer: NodeID) {
        current?.receive(messages)
    }

    func wire(
        request kind: WireRequestKind, payload: [UInt8], from peer: NodeID, protocolVersion: UInt16,
        reply: @escaping @Sendable ([UInt8]) -> Void
    ) {
        guard let node = current else {
            reply(IncidentNode.refusal(NodeError(.unavailable, "the node is starting")))
            return
        }
        node.serveForwarded(payload, answersWithTerms: protocolVersion >= IncidentNode.forwardTermsSinceProtocolVersion, reply: reply)
    }

    func wire(peer: NodeID, connected: Bool) {
        logger.info(connected ? "peer connected" : "peer disconnected", metadata: ["peer": "\(peer)"])
    }
}

/// The consensus loop's view of ClusterWire.
struct WireTransport: ClusterTransport {
    let wire: ClusterWire
    let logger: Logger

    func send(_ messages: [Message]) { wire.send(messages) }

    func forward(_ payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int) async throws(NodeError) -> [UInt8] {
        do {
            return try await wire.request(.forward, payload: payload, to: peer, timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            throw NodeError(.unavailable, "forwarding to node \(peer) failed: \(error.message)", leaderHint: peer)
        }
    }

    func forward(
        _ payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int, completion: @escaping @Sendable (Result<[UInt8], NodeError>) -> Void
    ) {
        wire.request(.forward, payload: payload, to: peer, timeoutMilliseconds: timeoutMilliseconds) { result in
            completion(result.mapError { NodeError(.unavailable, "forwarding to node \(peer) failed: \($0.message)", leaderHint: peer) })
        }
    }

    func membersChanged(_ members: [MemberInfo]) {
        var peers: [NodeID: PeerAddress] = [:]
        for member in members {
            guard let (host, port) = Settings.hostPort(member.peerAddress) else {
                logger.warning("member has an unusable peer address", metadata: ["member": "\(member.id)", "address": "\(member.peerAddress)"])
                continue
            }
            peers[member.id] = PeerAddress(host: host, port: port)
        }
        wire.setPeers(peers)
    }

    func connectedPeers() -> Set<NodeID> { Set(wire.peerStatuses().filter(\.connected).map(\.nodeID)) }

    /// The consensus loop runs on the wire's event loop (see `LoopHost`).
    var loopHost: (any LoopHost)? { EventLoopHost(eventLoop: wire.eventLoop) }
}

/// A NIO event loop as the consensus loop's thread.
struct EventLoopHost: LoopHost {
    let eventLoop: any EventLoop

    func execute(_ work: @escaping @Sendable () -> Void) { eventLoop.execute(work) }

    func schedule(afterMicroseconds microseconds: Int64, _ work: @escaping @Sendable () -> Void) -> any LoopHostTimer {
        ScheduledWork(task: eventLoop.scheduleTask(in: .microseconds(microseconds), work))
    }

    private struct ScheduledWork: LoopHostTimer {
        let task: Scheduled<Void>
        func cancel() { task.cancel() }
    }
}
