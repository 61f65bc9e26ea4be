import ClusterWire
import RaftCore
import WireFormat
import XCTest

/// A raw socket that completes the handshake as `node` and then speaks frames by hand.
final class ImpersonationTests: XCTestCase {
    private let parser = FrameParser(maxFrameBytes: 1 << 20)

    private func impersonate(_ node: NodeID, of target: TestNode) async throws -> RawPeer {
        let raw = try await RawPeer.connect(port: target.port)
        let hello = Hello(versions: 1...1, nodeID: node, expectedPeer: target.id, clusterID: "test-cluster", region: "raw", zone: "raw")
        try await raw.write(WireFrame.handshake(hello).encoded(compressionThresholdBytes: .max).bytes)
        await eventually("accepted") { self.frames(raw).first.map { if case .handshakeAnswer(let a) = $0 { a.accepted } else { false } } == true }
        return raw
    }

    private func frames(_ raw: RawPeer) -> [WireFrame] {
        let bytes = raw.received.bytes.withLock { $0 }
        var frames: [WireFrame] = []
        var offset = 0
        while offset < bytes.count,
            let parsed = try? Array(bytes[offset...]).withUnsafeBytes({ try parser.parse($0) })
        {
            frames.append(parsed.frame)
            offset += parsed.consumed
        }
        return frames
    }

    func testUnknownRequestKindIsAnsweredUnsupported() async throws {
        let target = try await startNode(2)
        let raw = try await impersonate(1, of: target)
        let request = WireFrame.forward(ForwardRequest(requestID: 42, kind: 99, payload: [1]))
        try await raw.write(request.encoded(compressionThresholdBytes: .max).bytes)
        await eventually("answered") {
            self.frames(raw).contains { $0 == .forwardResult(ForwardResult(requestID: 42, status: .unsupported)) }
        }
        // A known kind is handed to the delegate and answered.
        let forward = WireFrame.forward(ForwardRequest(requestID: 43, kind: WireRequestKind.forward.rawValue, payload: [5]))
        try await raw.write(forward.encoded(compressionThresholdBytes: .max).bytes)
        await eventually("answered by the delegate") {
            self.frames(raw).contains { $0 == .forwardResult(ForwardResult(requestID: 43, status: .ok, payload: Array("re:".utf8) + [5])) }
        }
        await raw.close()
        await target.wire.shutdown()
    }

    func testMessagesNotFromThePeerCloseTheConnection() async throws {
        let logs = LogCapture()
        let target = try await startNode(2, logger: logs.logger("target"))
        let raw = try await impersonate(1, of: target)
        let forged = WireFrame.raftMessages([Message(from: 3, to: 2, term: 1, body: .timeoutNow)])
        try await raw.write(forged.encoded(compressionThresholdBytes: .max).bytes)
        let closed = await raw.closedByPeer(within: 5)
        XCTAssertTrue(closed)
        XCTAssertTrue(logs.contains("Raft message not from node 1 to node 2"))
        XCTAssertTrue(target.delegate.messages.isEmpty)
        await target.wire.shutdown()
    }

    func testTheNewestConnectionFromAPeerReplacesTheOldOne() async throws {
        // Node 1 redials slowly, so the impersonator holds the connection long enough to look at.
        var slowRedial = fastLimits
        slowRedial.reconnectBackoffMinMilliseconds = 600
        slowRedial.reconnectBackoffMaxMilliseconds = 800
        let two = try await startNode(2)
        let one = try await startNode(1, peers: [2: two.address], limits: slowRedial)
        two.wire.setPeers([1: one.address])
        let nodes = [one, two]
        await eventually("connected") { nodes[1].wire.isConnected(to: 1) }
        // A second connection claiming node 1 (as after a restart the acceptor has not noticed).
        let raw = try await impersonate(1, of: nodes[1])
        XCTAssertEqual(nodes[1].wire.status(of: 1)?.region, "raw")
        nodes[1].wire.send([Message(from: 2, to: 1, term: 1, body: .timeoutNow)])
        await eventually("sent on the newest connection") {
            self.frames(raw).contains { if case .raftMessages = $0 { true } else { false } }
        }
        // The real node 1 lost its connection and dials again; its new connection wins in turn.
        await eventually("node 1 is back") { (nodes[0].wire.status(of: 2)?.connectionsEstablished ?? 0) >= 2 }
        let closed = await raw.closedByPeer(within: 5)
        XCTAssertTrue(closed)
        await eventually("region from the real node") { nodes[1].wire.status(of: 1)?.region == "region-1" }
        await shutdownAll(nodes)
    }
}
