import RaftCore

/// What a `request` asks for. Values are part of the protocol (the Forward frame's kind byte).
public enum WireRequestKind: UInt8, Sendable {
    /// A proposal from a follower to the leader; payload bytes are the application's.
    case forward = 1
}

/// Receives what arrives from peers. Callbacks come from ClusterWire's event-loop thread;
/// implementations must not block (hand the work to another queue or task).
public protocol WireDelegate: Sendable {
    /// Raft messages from `peer`, in the order it sent them; every `to` is this node.
    func wire(received messages: [Message], from peer: NodeID)
    /// A request (e.g. a forwarded proposal); call `reply` exactly once with the answer bytes
    /// (from any thread, later). Further calls are ignored; a reply after the connection dropped
    /// goes nowhere (the requester already failed with `.disconnected`). `protocolVersion` is
    /// the version the connection it came on negotiated: the answer must be one the requester
    /// reads at that version.
    func wire(
        request kind: WireRequestKind, payload: [UInt8], from peer: NodeID, protocolVersion: UInt16,
        reply: @escaping @Sendable ([UInt8]) -> Void)
    /// The connection to `peer` completed its handshake (`true`) or closed (`false`).
    func wire(peer: NodeID, connected: Bool)
}

/// One peer as ClusterWire sees it (`ClusterWire.peerStatuses()`).
public struct PeerStatus: Sendable, Equatable {
    public var nodeID: NodeID
    public var address: PeerAddress
    public var connected: Bool
    /// Learned in the handshake; nil before the first connection.
    public var region: String?
    public var zone: String?
    /// The protocol version the last handshake chose; nil before the first connection.
    public var protocolVersion: UInt16?
    /// The latest ping round trip.
    public var roundTripMilliseconds: Double?
    /// When a frame from the peer last arrived, on ClusterWire's monotonic clock (NIODeadline).
    public var lastHeardMonotonicMilliseconds: Int64?
    public var framesSent: UInt64 = 0
    public var framesReceived: UInt64 = 0
    /// Bytes on the socket (frame headers and compressed payloads), before TLS.
    public var bytesSent: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    /// Frames dropped for this peer: not connected, queue full, connection lost with them queued,
    /// or a message larger than a frame.
    public var droppedFrames: UInt64 = 0
    /// Raft messages inside the dropped frames.
    public var droppedMessages: UInt64 = 0
    /// Frames sent compressed.
    public var compressedFrames: UInt64 = 0
    /// Successful handshakes so far.
    public var connectionsEstablished: UInt64 = 0
    /// The last failure: connect error, refusal (with the peer's reason), malformed input, idle.
    public var lastError: String?

    public init(nodeID: NodeID, address: PeerAddress) {
        self.nodeID = nodeID
        self.address = address
        self.connected = false
    }
}
