import Logging
import NIOCore
import NIOPosix
import RaftCore
import WireFormat

/// The replication transport between cluster members (docs/PROTOCOL.md part 2): one TCP port
/// per node, exactly one long-lived connection per peer pair (the lower node id dials), an
/// optional mutual-TLS layer, a handshake, and checksummed frames carrying Raft message batches,
/// snapshot chunks, forwarded requests and pings.
///
/// All connection state lives on one event-loop thread owned by the wire; the public methods
/// are thread-safe and never block: `send` encodes on the caller's thread and hands the frames
/// to the loop. Delegate callbacks arrive on that thread. Call `shutdown()` before releasing it.
public final class ClusterWire: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let loop: any EventLoop
    private let board: NIOLoopBoundBox<Switchboard>
    private let statusBoard: StatusBoard
    private let limits: WireLimits
    private let localID: NodeID

    /// The wire's one event-loop thread. Work run there must not block for long: frames from
    /// peers wait meanwhile (the consensus loop runs its turns here, see `LoopHost`).
    public var eventLoop: any EventLoop { loop }

    /// Validates `config` and loads the TLS material (a missing or unreadable file is an
    /// `.invalidConfig` error naming it). Nothing is bound or dialed before `start()`.
    public init(config: WireConfig, delegate: any WireDelegate, logger: Logger) throws(WireError) {
        try config.validate()
        let tls = try config.tls.map { (tls) throws(WireError) in try TLSMaterial(tls) }
        var logger = logger
        logger[metadataKey: "node"] = "\(config.identity.nodeID)"
        let statusBoard = StatusBoard()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        self.group = group
        self.loop = loop
        self.statusBoard = statusBoard
        self.limits = config.limits
        self.localID = config.identity.nodeID
        self.board = NIOLoopBoundBox.makeBoxSendingValue(
            Switchboard(config: config, tls: tls, delegate: delegate, logger: logger, loop: loop, statusBoard: statusBoard),
            eventLoop: loop)
    }

    /// Binds the peer port (port 0 picks a free one) and starts dialing the peers with higher ids.
    /// Calling it again returns at once.
    public func start() async throws(WireError) {
        guard !statusBoard.isShutDown else { throw WireError(.shutDown, "the wire is shut down") }
        let promise = loop.makePromise(of: Int.self)
        let board = self.board
        loop.execute { board.value.start(promise) }
        do {
            _ = try await promise.futureResult.get()
        } catch {
            throw Self.wireError(error)
        }
    }

    /// The bound peer port; 0 before `start()`.
    public var listeningPort: Int { statusBoard.listeningPort }

    /// Sends Raft messages, each to its `to`. Never blocks. Messages for an unknown peer, a peer
    /// that is not connected, a full send queue or larger than `maxFrameBytes` are dropped and
    /// counted (Raft retransmits). Messages for one peer keep their order.
    public func send(_ messages: [Message]) {
        guard !messages.isEmpty, !statusBoard.isShutDown else { return }
        var byPeer: [NodeID: [Message]] = [:]
        var order: [NodeID] = []
        for message in messages {
            if byPeer[message.to] == nil { order.append(message.to) }
            byPeer[message.to, default: []].append(message)
        }
        let outgoing = order.map { peer in
            let packed = RaftBatcher.pack(byPeer[peer]!, maxPayloadBytes: limits.maxFrameBytes)
            let frames = packed.frames.map { item in
                (
                    frame: EncodedFrame(
                        kind: item.kind, rawPayload: item.payload, compressionThresholdBytes: limits.compressionThresholdBytes),
                    messages: item.messages
                )
            }
            return OutgoingFrames(peer: peer, frames: frames, oversized: packed.oversized.count)
        }
        let board = self.board
        // On the wire's own thread (the consensus loop runs there in incidentd) the frames go
        // out now: a leader's appends must leave before it starts its own fsync.
        if loop.inEventLoop { board.value.route(outgoing) } else { loop.execute { board.value.route(outgoing) } }
    }

    /// Sends a request to `peer` and waits for its answer. Fails `.unknownPeer`, `.disconnected`
    /// (not connected, or the connection dropped while waiting), `.overloaded` (too many pending
    /// requests or a full queue, or the peer said so), `.refused` (the peer does not know `kind`),
    /// `.timeout` after `timeoutMilliseconds`, `.shutDown`.
    public func request(_ kind: WireRequestKind, payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int) async throws(WireError) -> [UInt8] {
        guard !statusBoard.isShutDown else { throw WireError(.shutDown, "the wire is shut down") }
        do {
            return try await startRequest(kind, payload: payload, to: peer, timeoutMilliseconds: timeoutMilliseconds).get()
        } catch {
            throw Self.wireError(error)
        }
    }

    /// `request` without a task: `completion` runs once, on the wire's event loop.
    public func request(
        _ kind: WireRequestKind, payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int,
        completion: @escaping @Sendable (Result<[UInt8], WireError>) -> Void
    ) {
        guard !statusBoard.isShutDown else { return completion(.failure(WireError(.shutDown, "the wire is shut down"))) }
        startRequest(kind, payload: payload, to: peer, timeoutMilliseconds: timeoutMilliseconds).whenComplete { result in
            completion(result.mapError(Self.wireError))
        }
    }

    private func startRequest(_ kind: WireRequestKind, payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int) -> EventLoopFuture<[UInt8]> {
        let promise = loop.makePromise(of: [UInt8].self)
        let board = self.board
        let start: @Sendable () -> Void = {
            board.value.startRequest(
                kind: kind.rawValue, payload: payload, to: peer, timeoutMilliseconds: timeoutMilliseconds, promise: promise)
        }
        if loop.inEventLoop { start() } else { loop.execute(start) }
        return promise.futureResult
    }

    /// Membership changed: connections to removed peers close, new peers are dialed (when their
    /// id is higher than ours), a changed address is redialed. Our own id is ignored.
    public func setPeers(_ peers: [NodeID: PeerAddress]) {
        guard !statusBoard.isShutDown else { return }
        let board = self.board
        loop.execute { board.value.replacePeers(peers) }
    }

    /// One status per peer, sorted by node id.
    public func peerStatuses() -> [PeerStatus] { statusBoard.statuses }

    /// Raft messages dropped because their `to` is not a peer (or is this node).
    public var unroutableMessages: UInt64 { statusBoard.unroutableMessages }

    /// Closes every connection and the listening socket, fails pending requests with
    /// `.shutDown` and stops the event loop. Idempotent.
    public func shutdown() async {
        guard statusBoard.markShutDown() else { return }
        let board = self.board
        let closed = loop.flatSubmit { board.value.shutdown() }
        try? await closed.get()
        try? await group.shutdownGracefully()
    }

    private static func wireError(_ error: any Error) -> WireError {
        if let error = error as? WireError { return error }
        return WireError(.disconnected, "\(error)")
    }
}
