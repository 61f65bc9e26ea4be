import NIOCore
import RaftCore
import WireFormat

/// Everything ClusterWire keeps about one peer across connections: address, the established
/// connection if any, the dialing state and backoff, and the counters of `PeerStatus`.
/// Confined to the wire's event loop.
final class PeerLink {
    let id: NodeID
    /// Whether this node dials the peer (the lower id dials, docs/PROTOCOL.md §2.9).
    let dialsOut: Bool
    var status: PeerStatus
    /// The connection that completed its handshake; nil while disconnected.
    var connection: PeerConnection?
    /// The outbound connection being set up (connect, TLS, handshake), if any.
    var dialing: PeerConnection?
    var isDialInProgress = false
    var reconnectTask: Scheduled<Void>?
    var backoff: ReconnectBackoff
    /// Learned from an accepted handshake while the peer list was empty; not a configured peer.
    var isLearned: Bool
    /// Set once the peer is removed by `setPeers`; late callbacks then leave it alone.
    var isRemoved = false

    init(id: NodeID, address: PeerAddress, localID: NodeID, limits: WireLimits, isLearned: Bool = false) {
        self.id = id
        self.dialsOut = localID < id
        self.status = PeerStatus(nodeID: id, address: address)
        self.backoff = ReconnectBackoff(
            minimumMilliseconds: limits.reconnectBackoffMinMilliseconds,
            maximumMilliseconds: limits.reconnectBackoffMaxMilliseconds)
        self.isLearned = isLearned
    }

    var address: PeerAddress { status.address }

    func countSent(_ frame: EncodedFrame) {
        status.framesSent &+= 1
        status.bytesSent &+= UInt64(frame.totalBytes)
        if frame.isCompressed { status.compressedFrames &+= 1 }
    }

    func countReceived(bytes: Int, at nowNanoseconds: UInt64) {
        status.framesReceived &+= 1
        status.bytesReceived &+= UInt64(bytes)
        status.lastHeardMonotonicMilliseconds = Int64(nowNanoseconds / 1_000_000)
    }

    func countDropped(frames: Int, messages: Int) {
        status.droppedFrames &+= UInt64(frames)
        status.droppedMessages &+= UInt64(messages)
    }
}

/// The monotonic clock every timestamp of ClusterWire uses.
func monotonicNanoseconds() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
