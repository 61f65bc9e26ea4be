import ClusterWire
import RaftCore
import XCTest

/// `WireConfig.sendDelays`: a WAN's latency simulated on loopback, per peer region, within the
/// per-peer queue limits. Only lower bounds are checked: the delay guarantees them on any machine.
final class SendDelayTests: XCTestCase {
    func testFramesToADelayedRegionLeaveLateInOrderAndRequestsPayBothWays() async throws {
        // Node 1 adds 150 ms to what it sends to region-2, node 2 as much to region-1; node 3 none.
        let nodes = try await startCluster(3, sendDelays: [1: ["region-2": 150], 2: ["region-1": 150]])
        await eventually("full mesh") {
            nodes.allSatisfy { node in nodes.filter { $0.id != node.id }.allSatisfy { node.wire.isConnected(to: $0.id) } }
        }
        let votes = (1...50).map { Message(from: 1, to: 2, term: UInt64($0), body: .vote(lastIndex: 1, lastTerm: 1, transfer: false)) }
        let sent = ContinuousClock.now
        for vote in votes { nodes[0].wire.send([vote]) }
        await eventually("delivered") { nodes[1].delegate.messages.count == 50 }
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - sent, .milliseconds(150))
        XCTAssertEqual(nodes[1].delegate.messages, votes, "order kept across 50 frames")

        let asked = ContinuousClock.now
        let answer = try await nodes[0].wire.request(.forward, payload: [7], to: 2, timeoutMilliseconds: 5_000)
        XCTAssertEqual(answer, Array("re:".utf8) + [7])
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - asked, .milliseconds(300), "the request and its answer each wait 150 ms")
        // Without a delay for region-3 the same request is answered too (no bound asserted).
        let undelayed = try await nodes[0].wire.request(.forward, payload: [8], to: 3, timeoutMilliseconds: 5_000)
        XCTAssertEqual(undelayed, Array("re:".utf8) + [8])
        // Pings and pongs wait too: the measured round trip is the simulated one.
        await eventually("a ping round trip") { (nodes[0].wire.status(of: 2)?.roundTripMilliseconds ?? 0) >= 300 }
        await shutdownAll(nodes)
    }

    func testDelayedFramesCountAgainstThePerPeerQueueLimit() async throws {
        let limits = WireLimits(
            maxQueuedFramesPerPeer: 10, connectTimeoutMilliseconds: 500, handshakeTimeoutMilliseconds: 1_000,
            reconnectBackoffMinMilliseconds: 20, reconnectBackoffMaxMilliseconds: 150, pingIntervalMilliseconds: 5_000,
            idleTimeoutMilliseconds: 20_000)
        let nodes = try await startCluster(2, limits: limits, sendDelays: [1: ["region-2": WireConfig.maxSendDelayMilliseconds]])
        await eventually("connected") { nodes[0].wire.isConnected(to: 2) }
        let votes = (1...30).map { Message(from: 1, to: 2, term: UInt64($0), body: .vote(lastIndex: 1, lastTerm: 1, transfer: false)) }
        for vote in votes { nodes[0].wire.send([vote]) }
        // Ten frames find room in the delay line; the rest are dropped and counted, as with a
        // full outbox (Raft retransmits). A stall of this machine could let later ones in after
        // the first release, so only order and the total are exact.
        func dropped() -> Int { Int(nodes[0].wire.status(of: 2)?.droppedMessages ?? 0) }
        await eventually("dropped and counted") { dropped() > 0 }
        await eventually("the rest released after the delay", within: 10) { nodes[1].delegate.messages.count + dropped() == 30 }
        let received = nodes[1].delegate.messages
        XCTAssertGreaterThanOrEqual(received.count, 10)
        XCTAssertEqual(received.map(\.term), received.map(\.term).sorted(), "in order")
        XCTAssertEqual(received.first, votes.first)
        await shutdownAll(nodes)
    }
}
