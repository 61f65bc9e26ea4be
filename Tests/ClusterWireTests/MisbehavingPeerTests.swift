import ClusterWire
import RaftCore
import WireFormat
import XCTest

/// Peers that send garbage, stall the handshake, go silent or stop reading: each affects only
/// its own connection, and the wire reports why.
final class MisbehavingPeerTests: XCTestCase {
    func testGarbageClosesOnlyThatConnection() async throws {
        let logs = LogCapture()
        let nodes = try await startCluster(2)
        let target = try await startNode(5, peers: [:], logger: logs.logger("target"))
        let garbage = try await RawPeer.connect(port: target.port)
        try await garbage.write([0x55] + Array(repeating: 0, count: 11))
        let closed = await garbage.closedByPeer(within: 5)
        XCTAssertTrue(closed)
        XCTAssertTrue(logs.contains("malformed input"))
        // Oversized length: refused from the header alone.
        let oversized = try await RawPeer.connect(port: target.port)
        var header = WireFrame.ping(Ping(sequence: 1, sentNanoseconds: 1)).encoded(compressionThresholdBytes: .max).headerBytes
        header[4...7] = [0xFF, 0xFF, 0xFF, 0x7F]
        try await oversized.write(header)
        let oversizedClosed = await oversized.closedByPeer(within: 5)
        XCTAssertTrue(oversizedClosed)
        // A bad checksum after a valid handshake.
        let corrupt = try await RawPeer.connect(port: target.port)
        let hello = Hello(versions: 1...1, nodeID: 1, expectedPeer: 5, clusterID: "test-cluster", region: "r", zone: "z")
        var ping = WireFrame.ping(Ping(sequence: 1, sentNanoseconds: 1)).encoded(compressionThresholdBytes: .max).bytes
        ping[ping.count - 1] ^= 0xFF
        try await corrupt.write(WireFrame.handshake(hello).encoded(compressionThresholdBytes: .max).bytes + ping)
        let corruptClosed = await corrupt.closedByPeer(within: 5)
        XCTAssertTrue(corruptClosed)
        XCTAssertTrue(logs.contains("CRC32C"))
        // Everyone else is unaffected.
        await eventually("cluster still connected") { nodes[0].wire.isConnected(to: 2) }
        nodes[0].wire.send([Message(from: 1, to: 2, term: 1, body: .timeoutNow)])
        await eventually("delivered") { nodes[1].delegate.messages.count == 1 }
        await shutdownAll(nodes + [target])
    }

    func testSilentDialerIsClosedAtTheHandshakeTimeout() async throws {
        var limits = fastLimits
        limits.handshakeTimeoutMilliseconds = 200
        let logs = LogCapture()
        let node = try await startNode(2, limits: limits, logger: logs.logger("node"))
        let silent = try await RawPeer.connect(port: node.port)
        let closed = await silent.closedByPeer(within: 5)
        XCTAssertTrue(closed)
        XCTAssertTrue(logs.contains("handshake not completed within 200 ms"))
        await node.wire.shutdown()
    }

    func testPeerThatGoesSilentIsDroppedAfterTheIdleTimeout() async throws {
        let answer = HelloAnswer(accepted: true, version: 1, nodeID: 2, clusterID: "test-cluster", region: "r2", zone: "z2")
        let fake = try await FakeAcceptor(answer: answer, reads: true)
        var limits = fastLimits
        limits.idleTimeoutMilliseconds = 300
        let one = try await startNode(1, peers: [2: PeerAddress(host: loopback, port: fake.port)], limits: limits)
        await eventually("connected once") { (one.wire.status(of: 2)?.connectionsEstablished ?? 0) >= 1 }
        XCTAssertEqual(one.wire.status(of: 2)?.region, "r2")
        await eventually("idle noticed") { one.wire.status(of: 2)?.lastError?.contains("nothing heard") == true }
        await eventually("disconnect reported") { one.delegate.connectionEvents.contains { $0.peer == 2 && !$0.connected } }
        await one.wire.shutdown()
        await fake.close()
    }

    func testPeerThatStopsReadingCausesQueueingThenDropsAndOverload() async throws {
        let answer = HelloAnswer(accepted: true, version: 1, nodeID: 2, clusterID: "test-cluster", region: "r2", zone: "z2")
        let fake = try await FakeAcceptor(answer: answer, reads: false)
        var limits = fastLimits
        limits.maxFrameBytes = 1 << 20
        limits.maxQueuedBytesPerPeer = 4 << 20
        limits.maxQueuedFramesPerPeer = 4
        limits.writeBufferHighWaterMarkBytes = 64 << 10
        limits.idleTimeoutMilliseconds = 30_000
        let one = try await startNode(1, peers: [2: PeerAddress(host: loopback, port: fake.port)], limits: limits)
        await eventually("connected") { one.wire.isConnected(to: 2) }
        var random = SystemRandomNumberGenerator()
        let noise = (0..<(512 << 10)).map { _ in UInt8.random(in: 0...255, using: &random) }
        let append = Message(
            from: 1, to: 2, term: 1, body: .append(prevIndex: 0, prevTerm: 0, entries: [Entry(term: 1, index: 1, data: noise)], commit: 0))
        for _ in 0..<64 { one.wire.send([append]) }
        await eventually("frames dropped once the queue is full") { (one.wire.status(of: 2)?.droppedFrames ?? 0) > 0 }
        let status = try XCTUnwrap(one.wire.status(of: 2))
        XCTAssertTrue(status.connected, "back-pressure drops frames, not the connection")
        XCTAssertEqual(status.droppedFrames, status.droppedMessages)
        XCTAssertLessThan(status.framesSent, 64)
        await assertWireError(.overloaded) { try await one.wire.request(.forward, payload: [1], to: 2, timeoutMilliseconds: 1_000) }
        await one.wire.shutdown()
        await fake.close()
    }

    func testAnAnswerFromTheWrongNodeIsNotUsed() async throws {
        let answer = HelloAnswer(accepted: true, version: 1, nodeID: 3, clusterID: "test-cluster", region: "r", zone: "z")
        let fake = try await FakeAcceptor(answer: answer, reads: true)
        let one = try await startNode(1, peers: [2: PeerAddress(host: loopback, port: fake.port)])
        await eventually("mismatch recorded") {
            one.wire.status(of: 2)?.lastError?.contains("expected node 2 but node 3 answered") == true
        }
        XCTAssertFalse(one.wire.isConnected(to: 2))
        await one.wire.shutdown()
        await fake.close()
    }
}
