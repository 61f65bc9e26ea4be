import Foundation
import RaftCore
import WireFormat

/// Where a peer listens: a host name or IP literal and a TCP port.
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Who this node is on the wire. Sent in every handshake; a peer refuses another `clusterID`.
/// Each string is at most 255 UTF-8 bytes (one length byte on the wire).
public struct WireIdentity: Sendable, Equatable {
    /// Shared by every member; guards against wiring two clusters together by a wrong address.
    public var clusterID: String
    /// This node's Raft id (non-zero).
    public var nodeID: NodeID
    public var region: String
    public var zone: String

    public init(clusterID: String, nodeID: NodeID, region: String, zone: String) {
        self.clusterID = clusterID
        self.nodeID = nodeID
        self.region = region
        self.zone = zone
    }

    public func validate() throws(WireError) {
        guard nodeID != 0 else { throw WireError(.invalidConfig, "node id 0 is reserved for 'nobody'") }
        guard !clusterID.isEmpty else { throw WireError(.invalidConfig, "cluster id is empty") }
        for (name, value) in [("cluster id", clusterID), ("region", region), ("zone", zone)]
        where value.utf8.count > Hello.maxNameBytes {
            throw WireError(.invalidConfig, "\(name) is \(value.utf8.count) UTF-8 bytes, at most \(Hello.maxNameBytes)")
        }
    }
}

/// TLS material, as PEM files. With TLS every connection is encrypted and the server (acceptor)
/// proves its identity with a certificate signed by the cluster CA; with
/// `requireClientCertificate` the dialer must do the same (mutual TLS, the production setting).
public struct WireTLS: Sendable, Equatable {
    /// The cluster CA (PEM); the only trust root for peers' certificates.
    public var caCertificatePath: String
    /// This node's certificate (PEM), presented both when accepting and when dialing.
    public var certificatePath: String
    /// This node's private key (PEM, unencrypted).
    public var privateKeyPath: String
    /// Refuse dialers that present no certificate signed by the cluster CA.
    public var requireClientCertificate: Bool
    /// When set, a peer must be the node its certificate names: the certificate's subject common
    /// name or one of its DNS subject alternative names equals this pattern with `{id}` replaced
    /// by the node id the peer claims (e.g. `node-{id}`, what `incidentctl certs` issues). Without
    /// it any certificate from the cluster CA could claim any node id. Needs
    /// `requireClientCertificate` to check dialers.
    public var nodeNamePattern: String?

    public init(
        caCertificatePath: String, certificatePath: String, privateKeyPath: String, requireClientCertificate: Bool = true,
        nodeNamePattern: String? = nil
    ) {
        self.caCertificatePath = caCertificatePath
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.requireClientCertificate = requireClientCertificate
        self.nodeNamePattern = nodeNamePattern
    }

    /// The name a certificate of node `id` must carry, nil when names are not checked.
    func expectedName(for id: NodeID) -> String? {
        nodeNamePattern.map { $0.replacingOccurrences(of: "{id}", with: String(id)) }
    }
}

/// Everything `ClusterWire` needs. `peers` may contain this node's own id; it is ignored.
public struct WireConfig: Sendable {
    public var identity: WireIdentity
    /// The peer port to bind; port 0 picks a free one (see `ClusterWire.listeningPort`).
    public var listen: PeerAddress
    /// The other members' peer addresses. When not empty, dialers whose id is not listed are
    /// refused (`unknownNode`); when empty, any dialer of the same cluster is accepted.
    public var peers: [NodeID: PeerAddress]
    /// Nil: plain TCP (tests, trusted networks). Both sides of a connection must agree.
    public var tls: WireTLS?
    public var limits: WireLimits
    /// Simulated one-way latency, for drills of a multi-region cluster on one machine: every
    /// frame this node sends to a peer in region `r` after the handshake leaves `sendDelays[r]`
    /// milliseconds late (order kept; the frames wait within the per-peer queue limits). Empty in
    /// production. `cluster/wan-5.json` gives each region its row of a latency matrix.
    public var sendDelays: [String: Int] = [:]
    /// Protocol versions offered in handshakes; only tests change it.
    var protocolVersions: ClosedRange<UInt16> = Hello.supportedVersions

    public init(
        identity: WireIdentity, listen: PeerAddress, peers: [NodeID: PeerAddress], tls: WireTLS? = nil,
        limits: WireLimits = .default
    ) {
        self.identity = identity
        self.listen = listen
        self.peers = peers
        self.tls = tls
        self.limits = limits
    }

    public func validate() throws(WireError) {
        try identity.validate()
        try limits.validate()
        try Self.validate(listen, what: "listen address", allowPortZero: true)
        for (region, milliseconds) in sendDelays where !(0...Self.maxSendDelayMilliseconds).contains(milliseconds) {
            throw WireError(.invalidConfig, "send delay to \(region) is \(milliseconds) ms, not 0–\(Self.maxSendDelayMilliseconds)")
        }
        for (id, address) in peers {
            guard id != 0 else { throw WireError(.invalidConfig, "peer id 0 (\(address))") }
            try Self.validate(address, what: "address of peer \(id)", allowPortZero: false)
        }
    }

    /// Longest simulated one-way latency: twice the Earth's longest great-circle fibre path.
    public static let maxSendDelayMilliseconds = 1_000

    static func validate(_ address: PeerAddress, what: String, allowPortZero: Bool) throws(WireError) {
        guard !address.host.isEmpty else { throw WireError(.invalidConfig, "\(what) has an empty host") }
        guard (allowPortZero ? 0 : 1)...65_535 ~= address.port else {
            throw WireError(.invalidConfig, "\(what) has port \(address.port)")
        }
    }
}
