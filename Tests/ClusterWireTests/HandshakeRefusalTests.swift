import ClusterWire
import WireFormat
import RaftCore
import XCTest

/// Handshake mismatches are refused with a reason that both sides can see.
final class HandshakeRefusalTests: XCTestCase {
    /// Node 1 dials node 2, which refuses; returns both log captures and node 1's view.
    private func refusal(
        dialer: (cluster: String, versions: ClosedRange<UInt16>?) = ("test-cluster", nil),
        acceptorPeers: [NodeID: PeerAddress]? = nil, acceptorVersions: ClosedRange<UInt16>? = nil,
        dialerID: NodeID = 1, acceptorID: NodeID = 2
    ) async throws -> (dialerError: String, acceptorLogs: LogCapture, dialerLogs: LogCapture) {
        let acceptorLogs = LogCapture()
        let dialerLogs = LogCapture()
        let acceptor = try await startNode(
            acceptorID, peers: acceptorPeers ?? [:], versions: acceptorVersions, logger: acceptorLogs.logger("acceptor"))
        let dialer = try await startNode(
            dialerID, peers: [acceptorID: acceptor.address], cluster: dialer.cluster, versions: dialer.versions,
            logger: dialerLogs.logger("dialer"))
        await eventually("refusal recorded") { dialer.wire.status(of: acceptorID)?.lastError?.contains("refused") == true }
        let error = dialer.wire.status(of: acceptorID)?.lastError ?? ""
        XCTAssertFalse(dialer.wire.isConnected(to: acceptorID))
        XCTAssertTrue(dialer.delegate.connectionEvents.isEmpty)
        XCTAssertTrue(acceptor.delegate.connectionEvents.isEmpty)
        await shutdownAll([dialer, acceptor])
        return (error, acceptorLogs, dialerLogs)
    }

    func testWrongClusterIDIsRefused() async throws {
        let result = try await refusal(dialer: ("other-cluster", nil))
        XCTAssertTrue(result.dialerError.contains("clusterMismatch"), result.dialerError)
        XCTAssertTrue(result.dialerError.contains("cluster id 'other-cluster' is not 'test-cluster'"))
        XCTAssertTrue(result.acceptorLogs.contains("refused a peer handshake"))
        XCTAssertTrue(result.acceptorLogs.contains("cluster id 'other-cluster' is not 'test-cluster'"))
        XCTAssertTrue(result.dialerLogs.contains("peer refused our handshake"))
    }

    func testUnknownNodeIsRefusedWhenTheAcceptorHasAPeerList() async throws {
        let result = try await refusal(acceptorPeers: [3: PeerAddress(host: loopback, port: 1)])
        XCTAssertTrue(result.dialerError.contains("unknownNode"), result.dialerError)
        XCTAssertTrue(result.acceptorLogs.contains("node 1 is not a peer of node 2"))
        XCTAssertTrue(result.dialerLogs.contains("unknownNode"))
    }

    func testVersionMismatchIsRefused() async throws {
        let result = try await refusal(dialer: ("test-cluster", 2...3), acceptorVersions: 1...1)
        XCTAssertTrue(result.dialerError.contains("versionMismatch"), result.dialerError)
        XCTAssertTrue(result.acceptorLogs.contains("protocol versions 2...3 do not overlap node 2's 1...1"))
    }

    func testOverlappingVersionRangesAgreeOnTheHighestCommonVersion() async throws {
        let two = try await startNode(2, versions: 1...2)
        let one = try await startNode(1, peers: [2: two.address], versions: 2...5)
        await eventually("connected") { one.wire.isConnected(to: 2) }
        XCTAssertEqual(one.wire.peerStatuses().first { $0.nodeID == 2 }?.protocolVersion, 2)
        await shutdownAll([one, two])
    }

    /// The application answers a request in a form the requester reads: it is told the version
    /// the request's connection negotiated, on both the dialing and the accepting side.
    func testRequestsCarryTheVersionTheirConnectionNegotiated() async throws {
        XCTAssertEqual(Hello.supportedVersions, 1...2)
        for (versions, expected): (ClosedRange<UInt16>, UInt16) in [(1...1, 1), (Hello.supportedVersions, 2)] {
            let two = try await startNode(2)
            let one = try await startNode(1, peers: [2: two.address], versions: versions)
            await eventually("connected") { one.wire.isConnected(to: 2) && two.wire.isConnected(to: 1) }
            XCTAssertEqual(two.wire.peerStatuses().first { $0.nodeID == 1 }?.protocolVersion, expected)
            _ = try await one.wire.request(.forward, payload: [1], to: 2, timeoutMilliseconds: 5_000)
            _ = try await two.wire.request(.forward, payload: [2], to: 1, timeoutMilliseconds: 5_000)
            XCTAssertEqual(two.delegate.requestVersions, [expected])
            XCTAssertEqual(one.delegate.requestVersions, [expected])
            await shutdownAll([one, two])
        }
    }

    func testNodesClaimingOurIDExpectingAnotherNodeOrDialingUpwardAreRefused() async throws {
        let logs = LogCapture()
        let node = try await startNode(2, logger: logs.logger("acceptor"))
        let cases: [(Hello, RefusalReason, String)] = [
            (hello(from: 2, expecting: 2), .sameNodeID, "claims node id 2, which is ours"),
            (hello(from: 1, expecting: 3), .wrongNode, "expected node 3 at this address"),
            (hello(from: 5, expecting: 2), .wrongDirection, "the lower id dials"),
        ]
        for (hello, reason, text) in cases {
            let answer = try await rawAnswer(to: hello, port: node.port)
            XCTAssertFalse(answer.accepted)
            XCTAssertEqual(answer.reason, reason)
            XCTAssertTrue(answer.reasonText.contains(text), answer.reasonText)
            XCTAssertTrue(logs.contains(text))
        }
        XCTAssertTrue(node.delegate.connectionEvents.isEmpty)
        await node.wire.shutdown()
    }

    private func hello(from id: NodeID, expecting peer: NodeID) -> Hello {
        Hello(versions: 1...1, nodeID: id, expectedPeer: peer, clusterID: "test-cluster", region: "", zone: "")
    }

    /// Sends `hello` from a raw socket and returns the answer the wire sent before closing.
    private func rawAnswer(to hello: Hello, port: Int) async throws -> HelloAnswer {
        let raw = try await RawPeer.connect(port: port)
        try await raw.write(WireFrame.handshake(hello).encoded(compressionThresholdBytes: .max).bytes)
        let closed = await raw.closedByPeer(within: 5)
        XCTAssertTrue(closed, "a refused connection is closed")
        let bytes = raw.received.bytes.withLock { $0 }
        let parsed = try bytes.withUnsafeBytes { try FrameParser(maxFrameBytes: 1 << 20).parse($0) }
        guard case .handshakeAnswer(let answer) = parsed?.frame else {
            throw WireError(.malformed, "no handshake answer in \(bytes)")
        }
        return answer
    }
}
