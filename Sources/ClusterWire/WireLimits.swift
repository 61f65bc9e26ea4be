/// Every bound ClusterWire enforces, with its unit in the name. Both ends of a connection should
/// use the same `maxFrameBytes`; everything else is local.
public struct WireLimits: Sendable, Equatable {
    /// Largest frame payload sent or accepted, compressed or not (default 16 MiB). Must exceed
    /// Raft's `maxSizePerMessageBytes` and `snapshotChunkBytes` plus some headroom, or those
    /// messages are dropped as oversized; a larger value lets one peer make us buffer more.
    public var maxFrameBytes: Int
    /// Encoded bytes queued for a peer while its socket is not writable (default 64 MiB). Over it
    /// Raft frames are dropped (Raft retransmits) and requests fail `.overloaded`. Larger absorbs
    /// longer stalls at the price of memory and staler messages. At least `maxFrameBytes`.
    public var maxQueuedBytesPerPeer: Int
    /// Frames queued for a peer while its socket is not writable (default 4,096).
    public var maxQueuedFramesPerPeer: Int
    /// Entry batches and snapshot chunks with at least this many payload bytes are LZ4-compressed
    /// when that makes them smaller (default 4 KiB). Lower saves bandwidth on WAN links and costs
    /// CPU; `Int.max` turns compression off.
    public var compressionThresholdBytes: Int
    /// TCP connect attempt limit (default 2,000 ms); a slow WAN path needs more.
    public var connectTimeoutMilliseconds: Int
    /// Time from connect to a completed handshake, TLS included (default 3,000 ms). A connection
    /// that has not finished by then is closed; too low fails on high-RTT links.
    public var handshakeTimeoutMilliseconds: Int
    /// First reconnect delay after a failed or lost connection (default 50 ms); doubles per
    /// failure up to the maximum, with jitter (each delay is uniform in [d/2, d]).
    public var reconnectBackoffMinMilliseconds: Int
    /// Longest reconnect delay (default 2,000 ms). Bounds how long a restarted peer waits for
    /// the lower id to dial it again; lower values mean more connection attempts to a dead peer.
    public var reconnectBackoffMaxMilliseconds: Int
    /// Ping period on every connection (default 1,000 ms); gives the RTT in `PeerStatus` and
    /// keeps idle connections alive.
    public var pingIntervalMilliseconds: Int
    /// A connection that received nothing for this long is closed and redialed (default
    /// 5,000 ms). Must exceed `pingIntervalMilliseconds`; too low drops healthy but slow links,
    /// too high leaves a dead half-open connection in place longer.
    public var idleTimeoutMilliseconds: Int
    /// Requests in flight to one peer (default 1,024); the next fails `.overloaded`. The same
    /// bound caps requests served concurrently for one peer (answered `overloaded`).
    public var maxPendingRequestsPerPeer: Int
    /// The socket's write buffer turns unwritable above this many bytes and writable again
    /// below half of it (default 1 MiB). Larger smooths bursts; smaller makes back-pressure
    /// (queueing in our bounded per-peer queue) start earlier.
    public var writeBufferHighWaterMarkBytes: Int

    public init(
        maxFrameBytes: Int = 16 << 20,
        maxQueuedBytesPerPeer: Int = 64 << 20,
        maxQueuedFramesPerPeer: Int = 4_096,
        compressionThresholdBytes: Int = 4_096,
        connectTimeoutMilliseconds: Int = 2_000,
        handshakeTimeoutMilliseconds: Int = 3_000,
        reconnectBackoffMinMilliseconds: Int = 50,
        reconnectBackoffMaxMilliseconds: Int = 2_000,
        pingIntervalMilliseconds: Int = 1_000,
        idleTimeoutMilliseconds: Int = 5_000,
        maxPendingRequestsPerPeer: Int = 1_024,
        writeBufferHighWaterMarkBytes: Int = 1 << 20
    ) {
        self.maxFrameBytes = maxFrameBytes
        self.maxQueuedBytesPerPeer = maxQueuedBytesPerPeer
        self.maxQueuedFramesPerPeer = maxQueuedFramesPerPeer
        self.compressionThresholdBytes = compressionThresholdBytes
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.handshakeTimeoutMilliseconds = handshakeTimeoutMilliseconds
        self.reconnectBackoffMinMilliseconds = reconnectBackoffMinMilliseconds
        self.reconnectBackoffMaxMilliseconds = reconnectBackoffMaxMilliseconds
        self.pingIntervalMilliseconds = pingIntervalMilliseconds
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.maxPendingRequestsPerPeer = maxPendingRequestsPerPeer
        self.writeBufferHighWaterMarkBytes = writeBufferHighWaterMarkBytes
    }

    public static let `default` = WireLimits()

    /// Frames smaller than this cannot carry a handshake with long names.
    public static let minimumFrameBytes = 4_096
    /// liblz4 and the u32 length field bound frames well below 2 GiB; 1 GiB is the sane ceiling.
    public static let maximumFrameBytes = 1 << 30

    public func validate() throws(WireError) {
        guard Self.minimumFrameBytes...Self.maximumFrameBytes ~= maxFrameBytes else {
            throw WireError(.invalidConfig, "maxFrameBytes \(maxFrameBytes) outside \(Self.minimumFrameBytes)...\(Self.maximumFrameBytes)")
        }
        guard maxQueuedBytesPerPeer >= maxFrameBytes else {
            throw WireError(.invalidConfig, "maxQueuedBytesPerPeer \(maxQueuedBytesPerPeer) below maxFrameBytes \(maxFrameBytes)")
        }
        let positive: [(String, Int)] = [
            ("maxQueuedFramesPerPeer", maxQueuedFramesPerPeer), ("compressionThresholdBytes", compressionThresholdBytes),
            ("connectTimeoutMilliseconds", connectTimeoutMilliseconds),
            ("handshakeTimeoutMilliseconds", handshakeTimeoutMilliseconds),
            ("reconnectBackoffMinMilliseconds", reconnectBackoffMinMilliseconds),
            ("pingIntervalMilliseconds", pingIntervalMilliseconds), ("maxPendingRequestsPerPeer", maxPendingRequestsPerPeer),
            ("writeBufferHighWaterMarkBytes", writeBufferHighWaterMarkBytes),
        ]
        for (name, value) in positive where value <= 0 {
            throw WireError(.invalidConfig, "\(name) must be positive, is \(value)")
        }
        guard reconnectBackoffMaxMilliseconds >= reconnectBackoffMinMilliseconds else {
            throw WireError(.invalidConfig, "reconnectBackoffMaxMilliseconds below reconnectBackoffMinMilliseconds")
        }
        guard idleTimeoutMilliseconds > pingIntervalMilliseconds else {
            throw WireError(.invalidConfig, "idleTimeoutMilliseconds \(idleTimeoutMilliseconds) must exceed pingIntervalMilliseconds \(pingIntervalMilliseconds)")
        }
    }
}
