import RaftCore

/// How a node reaches its peers: the boundary between the consensus loop and the network
/// (`ClusterWire` in `incidentd`, an in-process switchboard in tests).
///
/// `send` is fire-and-forget: Raft retransmits what is lost, so a transport drops messages it
/// cannot deliver (peer down, queue full) instead of blocking the loop. `forward` is a request
/// with an answer, used for proposals and membership operations from followers; it fails with a
/// `NodeError` (`unavailable` when the peer cannot be reached or does not answer in time), and
/// the caller decides whether retrying is safe.
public protocol ClusterTransport: Sendable {
    func send(_ messages: [Message])
    func forward(_ payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int) async throws(NodeError) -> [UInt8]
    /// The members (with their addresses) changed: connect to new ones, drop removed ones.
    func membersChanged(_ members: [MemberInfo])
    /// Peers with a live connection right now (health in `GET /api/v1/cluster`).
    func connectedPeers() -> Set<NodeID>
    /// The thread the consensus loop should run on (the transport's network thread), or nil
    /// for a thread of the loop's own. `send` must then go out at once when called there.
    var loopHost: (any LoopHost)? { get }
    /// `forward` without a task: `completion` runs once, on whatever thread the answer arrives
    /// (the wire's event loop in incidentd).
    func forward(_ payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int, completion: @escaping @Sendable (Result<[UInt8], NodeError>) -> Void)
}

extension ClusterTransport {
    public var loopHost: (any LoopHost)? { nil }

    public func forward(
        _ payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int, completion: @escaping @Sendable (Result<[UInt8], NodeError>) -> Void
    ) {
        Task {
            do throws(NodeError) {
                completion(.success(try await forward(payload, to: peer, timeoutMilliseconds: timeoutMilliseconds)))
            } catch {
                completion(.failure(error))
            }
        }
    }
}

/// One member as the cluster knows it: id, where its peer port is, and where it runs.
public struct MemberInfo: Sendable, Equatable, Hashable {
    public var id: NodeID
    /// `host:port` of the member's peer (replication) port.
    public var peerAddress: String
    /// `host:port` (or URL) of the member's HTTP API, for clients looking for the nearest node.
    public var apiAddress: String
    public var region: String
    public var zone: String

    public init(id: NodeID, peerAddress: String, apiAddress: String = "", region: String, zone: String = "") {
        self.id = id
        self.peerAddress = peerAddress
        self.apiAddress = apiAddress
        self.region = region
        self.zone = zone
    }
}
