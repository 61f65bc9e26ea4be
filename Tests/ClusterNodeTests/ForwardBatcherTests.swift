import Locking
import RaftCore
import XCTest

@testable import ClusterNode

/// `ForwardBatcher`: at most `maxBatchesInFlight` batches out to a leader; what arrives meanwhile
/// leaves together, each write with its own answer. The limit is `NodeConfig.forwardBatchesInFlight`.
final class ForwardBatcherTests: XCTestCase {
    /// Records what is forwarded and holds each completion until the test answers it.
    final class HeldTransport: ClusterTransport {
        let calls = Lock<[(payload: [UInt8], completion: @Sendable (Result<[UInt8], NodeError>) -> Void)]>([])

        func send(_ messages: [Message]) {}
        func membersChanged(_ members: [MemberInfo]) {}
        func connectedPeers() -> Set<NodeID> { [] }
        func forward(_ payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int) async throws(NodeError) -> [UInt8] {
            throw NodeError(.unavailable, "only the completion form is used")
        }
        func forward(
            _ payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int, completion: @escaping @Sendable (Result<[UInt8], NodeError>) -> Void
        ) {
            calls.withLock { $0.append((payload, completion)) }
        }

        var payloads: [[UInt8]] { calls.withLock { $0.map(\.payload) } }
        func answer(_ call: Int, _ bytes: [UInt8]) {
            let completion = calls.withLock { $0[call].completion }
            completion(.success(bytes))
        }
    }

    func testOnlyTheConfiguredNumberOfBatchesIsOutAndWhatWaitedLeavesTogether() throws {
        let transport = HeldTransport()
        let batcher = ForwardBatcher(transport: transport, timeoutMilliseconds: 1_000, maxBatchesInFlight: 3)
        let replies = Lock<[Int: [UInt8]]>([:])
        for i in 0..<10 {
            batcher.forward([UInt8(i)], to: 1) { result in replies.withLock { $0[i] = try? result.get() } }
        }
        XCTAssertEqual(transport.payloads, [[0], [1], [2]], "three go alone at once; seven wait")

        transport.answer(0, [100])
        XCTAssertEqual(transport.payloads.count, 4, "an answer lets the next batch go")
        XCTAssertEqual(try Forwarded.batchElements(transport.payloads[3]), (3..<10).map { [UInt8($0)] }, "all seven in one batch")
        transport.answer(3, Forwarded.encodeBatchAnswer((3..<10).map { [UInt8(100 + $0)] }))
        transport.answer(1, [101])
        transport.answer(2, [102])
        XCTAssertEqual(transport.payloads.count, 4, "nothing waits any more")
        XCTAssertEqual(replies.withLock { $0 }, Dictionary(uniqueKeysWithValues: (0..<10).map { ($0, [UInt8(100 + $0)]) }))
    }

    func testTheNodeTakesTheLimitFromItsConfiguration() async throws {
        let cluster = try LocalCluster(count: 2, configure: { $0.forwardBatchesInFlight = 5 })
        XCTAssertEqual(cluster.nodes[1]?.batcher?.maxBatchesInFlight, 5)
        await cluster.shutdown()
        var config = NodeConfig(dataDirectory: "/nonexistent")
        for good in [1, 64] {
            config.forwardBatchesInFlight = good
            XCTAssertNoThrow(try config.validate(), "\(good) batches in flight")
        }
        for bad in [0, 65] {
            config.forwardBatchesInFlight = bad
            XCTAssertThrowsError(try config.validate(), "\(bad) batches in flight")
        }
    }
}
