import ClusterWire
import RaftCore
import XCTest

/// Real ClusterWire instances on loopback sockets exchanging Raft messages and requests.
final class LoopbackTests: XCTestCase {
    func testTwoNodesExchangeMessagesBothWaysOverOneConnection() async throws {
        let nodes = try await startCluster(2)
        let (one, two) = (nodes[0], nodes[1])
        await eventually("connected") { one.wire.isConnected(to: 2) && two.wire.isConnected(to: 1) }
        let votes = (1...50).map { Message(from: 1, to: 2, term: UInt64($0), body: .vote(lastIndex: 1, lastTerm: 1, transfer: false)) }
        one.wire.send(votes)
        two.wire.send([Message(from: 2, to: 1, term: 9, body: .voteResponse(reject: false))])
        await eventually("delivered") { two.delegate.messages.count == 50 && one.delegate.messages.count == 1 }
        XCTAssertEqual(two.delegate.messages, votes, "order kept")
        let status = try XCTUnwrap(one.wire.status(of: 2))
        XCTAssertEqual(status.region, "region-2")
        XCTAssertEqual(status.zone, "zone-2")
        XCTAssertEqual(status.connectionsEstablished, 1)
        XCTAssertGreaterThan(status.bytesSent, 0)
        XCTAssertEqual(two.wire.status(of: 1)?.connectionsEstablished, 1, "exactly one connection per pair")
        XCTAssertEqual(one.delegate.connectionEvents.map(\.peer), [2])
        XCTAssertEqual(two.delegate.connectionEvents.map(\.peer), [1])
        await eventually("a ping round trip") { one.wire.status(of: 2)?.roundTripMilliseconds != nil }
        await shutdownAll(nodes)
    }

    func testThreeNodesRouteByRecipientAndSnapshotChunksArrive() async throws {
        let nodes = try await startCluster(3)
        await eventually("full mesh") {
            nodes.allSatisfy { node in nodes.filter { $0.id != node.id }.allSatisfy { node.wire.isConnected(to: $0.id) } }
        }
        let chunk = Message(
            from: 3, to: 1, term: 2,
            body: .snapshotChunk(
                metadata: SnapshotMetadata(index: 10, term: 2, confState: ConfState(voters: [1, 2, 3])), totalBytes: 64_000, offset: 0,
                data: Array(repeating: 5, count: 64_000), done: true))
        nodes[2].wire.send([
            Message(from: 3, to: 1, term: 2, body: .heartbeat(commit: 4, context: [])), chunk,
            Message(from: 3, to: 2, term: 2, body: .heartbeat(commit: 4, context: [1])),
        ])
        await eventually("routed") { nodes[0].delegate.messages.count == 2 && nodes[1].delegate.messages.count == 1 }
        XCTAssertEqual(nodes[0].delegate.messages.last, chunk)
        XCTAssertEqual(nodes[1].delegate.messages.first?.to, 2)
        XCTAssertGreaterThanOrEqual(nodes[2].wire.status(of: 1)?.compressedFrames ?? 0, 1, "64 KB of one byte value compresses")
        await shutdownAll(nodes)
    }

    func testRequestsAreAnsweredAndPipelined() async throws {
        let nodes = try await startCluster(2)
        await eventually("connected") { nodes[1].wire.isConnected(to: 1) }
        let answers = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for i in 0..<100 {
                group.addTask { try await nodes[1].wire.request(.forward, payload: [UInt8(i)], to: 1, timeoutMilliseconds: 5_000) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(Set(answers), Set((0..<100).map { Array("re:".utf8) + [UInt8($0)] }))
        XCTAssertEqual(nodes[0].delegate.requestCount, 100)
        await shutdownAll(nodes)
    }

    func testRequestsFailTypedWhenUnknownDisconnectedTimedOutOrDropped() async throws {
        let slow = RecordingDelegate(answersRequests: false)
        let one = try await startNode(1, delegate: slow)
        let two = try await startNode(2, peers: [1: one.address])
        one.wire.setPeers([2: two.address])
        await eventually("connected") { two.wire.isConnected(to: 1) }
        await assertWireError(.unknownPeer) { try await two.wire.request(.forward, payload: [], to: 7, timeoutMilliseconds: 100) }
        await assertWireError(.timeout) { try await two.wire.request(.forward, payload: [1], to: 1, timeoutMilliseconds: 50) }
        // A pending request fails `.disconnected` when its connection drops.
        let pending = Task { try await two.wire.request(.forward, payload: [2], to: 1, timeoutMilliseconds: 10_000) }
        await eventually("request arrived") { slow.requestCount == 2 }
        await one.wire.shutdown()
        switch await pending.result {
        case .success: XCTFail("expected a failure")
        case .failure(let error):
            let code = (error as? WireError)?.code
            XCTAssertTrue(code == .disconnected || code == .shutDown, "\(error)")
        }
        await eventually("noticed") { !two.wire.isConnected(to: 1) }
        await assertWireError(.disconnected) { try await two.wire.request(.forward, payload: [], to: 1, timeoutMilliseconds: 100) }
        // Replies after the shutdown go nowhere and do not crash.
        for reply in slow.state.withLock({ $0.heldReplies }) { reply([1]) }
        await two.wire.shutdown()
        await assertWireError(.shutDown) { try await two.wire.request(.forward, payload: [], to: 1, timeoutMilliseconds: 100) }
    }

    func testReconnectsAfterAPeerRestartsOnItsPort() async throws {
        let port = try await reservedPort()
        var two = try await startNode(2, port: port)
        let one = try await startNode(1, peers: [2: PeerAddress(host: loopback, port: port)])
        two.wire.setPeers([1: one.address])
        await eventually("connected") { one.wire.isConnected(to: 2) }
        await two.wire.shutdown()
        await eventually("disconnect noticed") { !one.wire.isConnected(to: 2) }
        one.wire.send([Message(from: 1, to: 2, term: 1, body: .timeoutNow)])
        await eventually("dropped while down") { (one.wire.status(of: 2)?.droppedMessages ?? 0) >= 1 }
        two = try await startNode(2, port: port, peers: [1: one.address])
        await eventually("reconnected") { one.wire.isConnected(to: 2) && two.wire.isConnected(to: 1) }
        one.wire.send([Message(from: 1, to: 2, term: 2, body: .timeoutNow)])
        await eventually("delivered after restart") { two.delegate.messages.count == 1 }
        XCTAssertEqual(one.wire.status(of: 2)?.connectionsEstablished, 2)
        XCTAssertEqual(one.delegate.connectionEvents.map(\.connected), [true, false, true])
        await shutdownAll([one, two])
    }

    func testTooManyPendingRequestsFailOverloaded() async throws {
        var limits = fastLimits
        limits.maxPendingRequestsPerPeer = 2
        let held = RecordingDelegate(answersRequests: false)
        let one = try await startNode(1, limits: limits, delegate: held)
        let two = try await startNode(2, peers: [1: one.address], limits: limits)
        one.wire.setPeers([2: two.address])
        await eventually("connected") { two.wire.isConnected(to: 1) }
        let waiting = (0..<2).map { i in
            Task { try await two.wire.request(.forward, payload: [UInt8(i)], to: 1, timeoutMilliseconds: 10_000) }
        }
        await eventually("both held") { held.requestCount == 2 }
        await assertWireError(.overloaded) { try await two.wire.request(.forward, payload: [9], to: 1, timeoutMilliseconds: 1_000) }
        for reply in held.state.withLock({ $0.heldReplies }) {
            reply([7])
            reply([8])  // a second reply is ignored
        }
        for task in waiting {
            let answer = try await task.value
            XCTAssertEqual(answer, [7])
        }
        await shutdownAll([one, two])
    }

    func testSetPeersOpensAndClosesConnections() async throws {
        let nodes = try await startCluster(3)
        await eventually("mesh") { nodes[0].wire.isConnected(to: 3) }
        nodes[0].wire.setPeers([1: nodes[0].address, 2: nodes[1].address])
        await eventually("node 3 dropped") { nodes[0].wire.status(of: 3) == nil }
        await eventually("disconnect reported") { nodes[0].delegate.connectionEvents.contains { $0.peer == 3 && !$0.connected } }
        nodes[0].wire.send([Message(from: 1, to: 3, term: 1, body: .timeoutNow)])
        await eventually("unroutable counted") { nodes[0].wire.unroutableMessages == 1 }
        await shutdownAll(nodes)
    }
}

func assertWireError<T>(
    _ expected: WireError.Code, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        XCTFail("expected \(expected)", file: file, line: line)
    } catch {
        XCTAssertEqual((error as? WireError)?.code, expected, "\(error)", file: file, line: line)
    }
}
