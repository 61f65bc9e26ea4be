@testable import ClusterWire
import Locking
import Logging
import RaftCore
import XCTest

/// Records everything a wire hands to its delegate; answers requests with `replyPrefix + payload`
/// (or not at all when `answersRequests` is false).
final class RecordingDelegate: WireDelegate {
    struct State {
        var messages: [Message] = []
        var senders: [NodeID] = []
        var requests: [(kind: WireRequestKind, payload: [UInt8], from: NodeID)] = []
        /// The protocol version of the connection each request came on.
        var requestVersions: [UInt16] = []
        var connections: [(peer: NodeID, connected: Bool)] = []
        var heldReplies: [@Sendable ([UInt8]) -> Void] = []
    }

    let state = Lock(State())
    let answersRequests: Bool
    let replyPrefix: [UInt8]

    init(answersRequests: Bool = true, replyPrefix: [UInt8] = Array("re:".utf8)) {
        self.answersRequests = answersRequests
        self.replyPrefix = replyPrefix
    }

    func wire(received messages: [Message], from peer: NodeID) {
        state.withLock {
            $0.messages.append(contentsOf: messages)
            $0.senders.append(peer)
        }
    }

    func wire(
        request kind: WireRequestKind, payload: [UInt8], from peer: NodeID, protocolVersion: UInt16,
        reply: @escaping @Sendable ([UInt8]) -> Void
    ) {
        state.withLock {
            $0.requests.append((kind, payload, peer))
            $0.requestVersions.append(protocolVersion)
            if !answersRequests { $0.heldReplies.append(reply) }
        }
        if answersRequests { reply(replyPrefix + payload) }
    }

    func wire(peer: NodeID, connected: Bool) {
        state.withLock { $0.connections.append((peer, connected)) }
    }

    var messages: [Message] { state.withLock { $0.messages } }
    var connectionEvents: [(peer: NodeID, connected: Bool)] { state.withLock { $0.connections } }
    var requestCount: Int { state.withLock { $0.requests.count } }
    var requestVersions: [UInt16] { state.withLock { $0.requestVersions } }
}

/// Captures log lines so tests can check that both sides logged a refusal's reason.
final class LogCapture: Sendable {
    let lines = Lock<[String]>([])

    func logger(_ label: String) -> Logger {
        Logger(label: label) { _ in CapturingHandler(capture: self) }
    }

    func contains(_ text: String) -> Bool {
        lines.withLock { $0.contains { $0.contains(text) } }
    }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.lines.withLock { $0.append("\(event.level) \(event.message) \(rendered)") }
        }
    }
}

/// Limits that make reconnects, pings and idle detection happen within a test's patience.
let fastLimits = WireLimits(
    connectTimeoutMilliseconds: 500, handshakeTimeoutMilliseconds: 1_000, reconnectBackoffMinMilliseconds: 20,
    reconnectBackoffMaxMilliseconds: 150, pingIntervalMilliseconds: 100, idleTimeoutMilliseconds: 1_500)

let loopback = "127.0.0.1"

/// Tests that do not inspect logs keep the output readable.
let quietLogger = Logger(label: "wire") { _ in SwiftLogNoOpLogHandler() }

func identity(_ id: NodeID, cluster: String = "test-cluster") -> WireIdentity {
    WireIdentity(clusterID: cluster, nodeID: id, region: "region-\(id)", zone: "zone-\(id)")
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass.
func eventually(
    _ what: String, within seconds: Double = 5, file: StaticString = #filePath, line: UInt = #line,
    _ condition: () -> Bool
) async {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1_000))
    while ContinuousClock.now < deadline {
        if condition() { return }
        try? await Task.sleep(for: .milliseconds(10))
    }
    XCTFail("timed out waiting for: \(what)", file: file, line: line)
}

/// A free loopback port: bind port 0, note it, close. Used where a node must come back on the
/// same port after a restart.
func reservedPort() async throws -> Int {
    let probe = try ClusterWire(
        config: WireConfig(identity: identity(999), listen: PeerAddress(host: loopback, port: 0), peers: [:]),
        delegate: RecordingDelegate(), logger: quietLogger)
    try await probe.start()
    let port = probe.listeningPort
    await probe.shutdown()
    return port
}

extension ClusterWire {
    func status(of peer: NodeID) -> PeerStatus? { peerStatuses().first { $0.nodeID == peer } }
    func isConnected(to peer: NodeID) -> Bool { status(of: peer)?.connected == true }
}

/// A running node for tests: its wire, delegate and port.
struct TestNode {
    let id: NodeID
    let wire: ClusterWire
    let delegate: RecordingDelegate
    var port: Int { wire.listeningPort }
    var address: PeerAddress { PeerAddress(host: loopback, port: port) }
}

/// Starts a node listening on `port` (0: any) with the given peers.
func startNode(
    _ id: NodeID, port: Int = 0, peers: [NodeID: PeerAddress] = [:], tls: WireTLS? = nil,
    limits: WireLimits = fastLimits, cluster: String = "test-cluster", versions: ClosedRange<UInt16>? = nil,
    delegate: RecordingDelegate = RecordingDelegate(), logger: Logger? = nil, sendDelays: [String: Int] = [:]
) async throws -> TestNode {
    var config = WireConfig(
        identity: identity(id, cluster: cluster), listen: PeerAddress(host: loopback, port: port), peers: peers, tls: tls,
        limits: limits)
    config.sendDelays = sendDelays
    if let versions { config.protocolVersions = versions }
    let wire = try ClusterWire(config: config, delegate: delegate, logger: logger ?? quietLogger)
    try await wire.start()
    return TestNode(id: id, wire: wire, delegate: delegate)
}

/// Starts nodes 1...count wired to each other: listeners first (port 0), then peer lists.
func startCluster(
    _ count: Int, limits: WireLimits = fastLimits, tls: [NodeID: WireTLS] = [:], sendDelays: [NodeID: [String: Int]] = [:]
) async throws -> [TestNode] {
    var nodes: [TestNode] = []
    for id in 1...NodeID(count) {
        nodes.append(try await startNode(id, tls: tls[id], limits: limits, sendDelays: sendDelays[id] ?? [:]))
    }
    let peers = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.address) })
    for node in nodes { node.wire.setPeers(peers) }
    return nodes
}

func shutdownAll(_ nodes: [TestNode]) async {
    for node in nodes { await node.wire.shutdown() }
}
