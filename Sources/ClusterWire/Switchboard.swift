import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RaftCore
import WireFormat

/// The event-loop side of ClusterWire: the listening socket, one `PeerLink` per peer, dialing
/// with backoff, attaching handshaken connections, routing frames. Every method runs on `loop`
/// (the public `ClusterWire` hops there), so none of this state needs a lock.
final class Switchboard {
    let localID: NodeID
    let identity: WireIdentity
    let limits: WireLimits
    let versions: ClosedRange<UInt16>
    let listen: PeerAddress
    let delegate: any WireDelegate
    let logger: Logger
    let loop: any EventLoop
    let tls: TLSMaterial?
    /// The TLS settings (for the node-name check), nil without TLS.
    let tlsConfig: WireTLS?
    let statusBoard: StatusBoard
    /// `WireConfig.sendDelays`.
    let sendDelays: [String: Int]
    var links: [NodeID: PeerLink] = [:]
    /// Whether a peer list was configured: then unknown dialers are refused.
    var hasConfiguredPeers: Bool
    /// Every open connection, handshaking or established, for shutdown.
    var connections: [ObjectIdentifier: PeerConnection] = [:]
    var serverChannel: (any Channel)?
    var isShuttingDown = false
    var pingTimer: Scheduled<Void>?
    var random = SystemRandomNumberGenerator()

    init(config: WireConfig, tls: TLSMaterial?, delegate: any WireDelegate, logger: Logger, loop: any EventLoop, statusBoard: StatusBoard) {
        self.localID = config.identity.nodeID
        self.identity = config.identity
        self.limits = config.limits
        self.versions = config.protocolVersions
        self.listen = config.listen
        self.delegate = delegate
        self.logger = logger
        self.loop = loop
        self.tls = tls
        self.tlsConfig = config.tls
        self.statusBoard = statusBoard
        self.sendDelays = config.sendDelays
        self.hasConfiguredPeers = false
        replacePeers(config.peers)
    }

    func publish(_ link: PeerLink) {
        statusBoard.update(link.status)
    }

    func recordError(_ reason: String, for link: PeerLink) {
        link.status.lastError = reason
        publish(link)
    }

    // MARK: - Listening

    func start(_ promise: EventLoopPromise<Int>) {
        if let serverChannel {
            return promise.succeed(serverChannel.localAddress?.port ?? 0)
        }
        guard !isShuttingDown else { return promise.fail(WireError(.shutDown, "the wire is shut down")) }
        let bound = NIOLoopBound(self, eventLoop: loop)
        ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: waterMark)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try bound.value.configure(channel, role: .acceptor) }
            }
            .bind(host: listen.host, port: listen.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel): self.listening(on: channel, promise: promise)
                case .failure(let error):
                    promise.fail(WireError(.bindFailed, "cannot listen on \(self.listen): \(error)"))
                }
            }
    }

    private func listening(on channel: any Channel, promise: EventLoopPromise<Int>) {
        guard !isShuttingDown else {
            channel.close(promise: nil)
            return promise.fail(WireError(.shutDown, "the wire was shut down while starting"))
        }
        serverChannel = channel
        let port = channel.localAddress?.port ?? 0
        statusBoard.listeningPort = port
        logger.info("peer port listening", metadata: ["address": "\(listen.host):\(port)", "tls": "\(tls != nil)"])
        for link in links.values.sorted(by: { $0.id < $1.id }) { dial(link) }
        schedulePings()
        promise.succeed(port)
    }

    var waterMark: ChannelOptions.Types.WriteBufferWaterMark {
        .init(low: limits.writeBufferHighWaterMarkBytes / 2, high: limits.writeBufferHighWaterMarkBytes)
    }

    /// Builds the pipeline of a new channel: `[TLS] → FrameDecoder → PeerConnection`.
    func configure(_ channel: any Channel, role: PeerConnection.Role) throws {
        let operations = channel.pipeline.syncOperations
        if let tls {
            switch role {
            case .acceptor: try operations.addHandler(NIOSSLServerHandler(context: tls.server))
            case .dialer(let link): try operations.addHandler(tls.clientHandler(host: link.address.host))
            }
        }
        try operations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: limits.maxFrameBytes)))
        var connectionLogger = logger
        if case .dialer(let link) = role { connectionLogger[metadataKey: "peer"] = "\(link.id)" }
        let connection = PeerConnection(board: self, role: role, logger: connectionLogger)
        try operations.addHandler(connection)
        connections[ObjectIdentifier(connection)] = connection
        if case .dialer(let link) = role { link.dialing = connection }
    }

    // MARK: - Dialing

    /// Dials `link` unless it is connected, being dialed, removed, or not ours to dial.
    func dial(_ link: PeerLink) {
        guard !isShuttingDown, !link.isRemoved, link.dialsOut, link.connection == nil, !link.isDialInProgress,
            serverChannel != nil
        else { return }
        link.reconnectTask?.cancel()
        link.reconnectTask = nil
        link.isDialInProgress = true
        let bound = NIOLoopBound(self, eventLoop: loop)
        let boundLink = NIOLoopBound(link, eventLoop: loop)
        let address = link.address
        ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(Int64(limits.connectTimeoutMilliseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: waterMark)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try bound.value.configure(channel, role: .dialer(boundLink.value)) }
            }
            .connect(host: address.host, port: address.port)
            .assumeIsolated()
            .whenFailure { error in self.dialFailed(link, reason: "cannot connect to \(address): \(error)") }
    }

    private func dialFailed(_ link: PeerLink, reason: String) {
        if let dialing = link.dialing { connections.removeValue(forKey: ObjectIdentifier(dialing)) }
        link.dialing = nil
        link.isDialInProgress = false
        logger.debug("dial failed", metadata: ["peer": "\(link.id)", "reason": "\(reason)"])
        recordError(reason, for: link)
        scheduleReconnect(link)
    }

    func scheduleReconnect(_ link: PeerLink) {
        guard !isShuttingDown, !link.isRemoved, link.dialsOut, link.connection == nil, !link.isDialInProgress,
            link.reconnectTask == nil
        else { return }
        let delay = link.backoff.nextDelayMilliseconds(using: &random)
        link.reconnectTask = loop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(delay))) {
            link.reconnectTask = nil
            self.dial(link)
        }
    }

    // MARK: - Connections coming and going

    /// A connection finished its handshake for `link`: it becomes the peer's connection. A
    /// previous one (a peer that restarted before we noticed) is closed: the newest wins.
    func attach(_ connection: PeerConnection, to link: PeerLink, region: String, zone: String, version: UInt16) {
        if link.dialing === connection {
            link.dialing = nil
            link.isDialInProgress = false
        }
        let wasConnected = link.connection != nil
        if let old = link.connection, old !== connection {
            old.close(reason: "replaced by a newer connection from the same peer", isError: false)
        }
        link.connection = connection
        link.backoff.reset()
        link.status.connected = true
        link.status.region = region
        link.status.zone = zone
        link.status.protocolVersion = version
        link.status.connectionsEstablished &+= 1
        link.status.lastHeardMonotonicMilliseconds = Int64(monotonicNanoseconds() / 1_000_000)
        logger.info("peer connected", metadata: ["peer": "\(link.id)", "region": "\(region)", "zone": "\(zone)", "protocol_version": "\(version)"])
        // The delegate hears first, so whoever sees the status also finds the event delivered.
        if !wasConnected { delegate.wire(peer: link.id, connected: true) }
        publish(link)
    }

    /// `link` is the peer the connection was established with or dialing, if any.
    func connectionClosed(_ connection: PeerConnection, link: PeerLink?, reason: String) {
        connections.removeValue(forKey: ObjectIdentifier(connection))
        guard let link else { return }
        if link.dialing === connection {
            link.dialing = nil
            link.isDialInProgress = false
            if link.status.lastError == nil || !connection.closedWithRecordedError {
                recordError("handshake with \(link.address) failed: \(reason)", for: link)
            }
        }
        if link.connection === connection {
            link.connection = nil
            link.status.connected = false
            logger.info("peer disconnected", metadata: ["peer": "\(link.id)", "reason": "\(reason)"])
            if !link.isRemoved { delegate.wire(peer: link.id, connected: false) }
            publish(link)
        }
        scheduleReconnect(link)
    }
}
