import Locking
import RaftCore
import XCTest

@testable import ClusterNode

/// `ForwardBatcher`: at most `maxBatchesInFlight` batches out to a leader (more when even the
/// quickest recent batch took several `maxWaitMicroseconds`); what arrives meanwhile leaves
/// together, each write with its own answer. The settings are `NodeConfig.forwardBatchesInFlight` and
/// `NodeConfig.forwardWaitMicroseconds`.
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
        func fail(_ call: Int) {
            let completion = calls.withLock { $0[call].completion }
            completion(.failure(NodeError(.unavailable, "cut off")))
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

    /// Monotonic nanoseconds the test moves by hand.
    final class ManualClock: Sendable {
        private let value = Lock<UInt64>(1)
        var now: UInt64 { value.withLock { $0 } }
        func advance(_ nanoseconds: UInt64) { value.withLock { $0 += nanoseconds } }
    }

    func makeBatcher(_ transport: HeldTransport, clock: ManualClock = ManualClock(), inFlight: Int = 2, waitMicroseconds: Int = 2_000) -> ForwardBatcher {
        ForwardBatcher(
            transport: transport, timeoutMilliseconds: 1_000, maxBatchesInFlight: inFlight, maxWaitMicroseconds: waitMicroseconds,
            now: { clock.now })
    }

    func testTheLimitIsTheRoundTripInWaitsNeverBelowTheConfiguredOneNorAboveTheCap() {
        let transport = HeldTransport()
        let batcher = makeBatcher(transport)
        XCTAssertEqual(batcher.limit(roundTripNanoseconds: .max), 2, "nothing measured yet")
        XCTAssertEqual(batcher.limit(roundTripNanoseconds: 300_000), 2, "a LAN")
        XCTAssertEqual(batcher.limit(roundTripNanoseconds: 4_000_000), 2)
        XCTAssertEqual(batcher.limit(roundTripNanoseconds: 4_000_001), 3)
        XCTAssertEqual(batcher.limit(roundTripNanoseconds: 70_000_000), 35, "a round trip of 35 ms each way")
        XCTAssertEqual(batcher.limit(roundTripNanoseconds: 260_000_000), ForwardBatcher.maxBatchesWithExtras, "capped")
        let unbounded = makeBatcher(transport, waitMicroseconds: 0)
        XCTAssertEqual(unbounded.limit(roundTripNanoseconds: 260_000_000), 2, "0 turns it off")
    }

    func testSlowBatchesLetMoreOutAndAnswersTakeWhatWaitsUntilNothingDoes() throws {
        let transport = HeldTransport()
        let clock = ManualClock()
        let batcher = makeBatcher(transport, clock: clock)
        let replies = Lock<[Int: [UInt8]]>([:])
        let forward = { (i: Int) in
            batcher.forward([UInt8(i)], to: 1) { result in replies.withLock { $0[i] = try? result.get() } }
        }
        for i in 0..<4 { forward(i) }
        XCTAssertEqual(transport.payloads, [[0], [1]], "nothing measured: two out, two wait")
        clock.advance(10_000_000)
        transport.answer(0, [100])  // took 10 ms: five waits of 2 ms
        XCTAssertEqual(transport.payloads.count, 3, "the answer takes what waits")
        XCTAssertEqual(try Forwarded.batchElements(transport.payloads[2]), [[2], [3]])
        for i in 4..<7 { forward(i) }
        XCTAssertEqual(transport.payloads.count, 6, "two out, five allowed: 4, 5 and 6 go at once")
        forward(7)
        XCTAssertEqual(transport.payloads.count, 6, "five out: 7 waits")
        transport.answer(1, [101])
        XCTAssertEqual(transport.payloads[6], [7])
        // Answers that find nothing waiting free their slots.
        transport.answer(2, Forwarded.encodeBatchAnswer([[102], [103]]))
        for call in 3...6 { transport.answer(call, [UInt8(101 + call)]) }
        forward(8)
        XCTAssertEqual(transport.payloads.count, 8, "nothing out: 8 goes at once")
        transport.answer(7, [108])
        XCTAssertEqual(replies.withLock { $0 }, Dictionary(uniqueKeysWithValues: (0..<9).map { ($0, [UInt8(100 + $0)]) }))
    }

    func testTheShortestRoundTripOfTheLastTwoWindowsSetsTheLimit() throws {
        let transport = HeldTransport()
        let clock = ManualClock()
        let batcher = makeBatcher(transport, clock: clock)
        /// One write out alone and answered `milliseconds` later; the lane's limit after it.
        func batch(taking milliseconds: UInt64) -> Int? {
            batcher.forward([0], to: 1) { _ in }
            clock.advance(milliseconds * 1_000_000)
            transport.answer(transport.payloads.count - 1, [0])
            return batcher.limit(to: 1)
        }
        XCTAssertNil(batcher.limit(to: 1), "no lane yet")
        XCTAssertEqual(batch(taking: 100), 50, "100 ms at the quickest: 50 batches")
        XCTAssertEqual(batch(taking: 120), 50)
        XCTAssertEqual(batch(taking: 10), 5, "a quicker batch lowers it at once")
        XCTAssertEqual(batch(taking: 100), 5, "slower ones do not raise it within the window")
        clock.advance(ForwardBatcher.roundTripWindowNanoseconds)
        XCTAssertEqual(batch(taking: 100), 5, "nor in the next window: the quick one is in the window before")
        clock.advance(ForwardBatcher.roundTripWindowNanoseconds)
        XCTAssertEqual(batch(taking: 100), 50, "two windows on, only 100 ms batches count")
        XCTAssertEqual(batch(taking: 1), 2, "a LAN's batches: the configured limit")
    }

    func testOnlyAnsweredBatchesAreTimed() throws {
        let transport = HeldTransport()
        let clock = ManualClock()
        let batcher = makeBatcher(transport, clock: clock)
        batcher.forward([0], to: 1) { _ in }
        clock.advance(5_000_000_000)
        transport.fail(0)  // a forward timeout says nothing of the path
        XCTAssertEqual(batcher.limit(to: 1), 2)
        batcher.forward([1], to: 1) { _ in }
        clock.advance(100_000_000)
        transport.answer(1, [1])
        XCTAssertEqual(batcher.limit(to: 1), 50)
    }

    func testWithoutAWaitBatchTimesChangeNothing() throws {
        let transport = HeldTransport()
        let clock = ManualClock()
        let batcher = makeBatcher(transport, clock: clock, inFlight: 1, waitMicroseconds: 0)
        batcher.forward([0], to: 1) { _ in }
        batcher.forward([1], to: 1) { _ in }
        clock.advance(1_000_000_000)
        transport.answer(0, [100])
        XCTAssertEqual(transport.payloads, [[0], [1]])
        batcher.forward([2], to: 1) { _ in }
        XCTAssertEqual(transport.payloads.count, 2, "still one out at most")
    }

    func testTheNodeTakesTheLimitFromItsConfiguration() async throws {
        let cluster = try LocalCluster(count: 2, configure: {
            $0.forwardBatchesInFlight = 5
            $0.forwardWaitMicroseconds = 700
        })
        XCTAssertEqual(cluster.nodes[1]?.batcher?.maxBatchesInFlight, 5)
        XCTAssertEqual(cluster.nodes[1]?.batcher?.maxWaitMicroseconds, 700)
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
        config.forwardBatchesInFlight = 2
        XCTAssertEqual(NodeConfig(dataDirectory: "/x").forwardWaitMicroseconds, 2_000, "bounded by default")
        for good in [0, 1_000_000] {
            config.forwardWaitMicroseconds = good
            XCTAssertNoThrow(try config.validate(), "a \(good) µs wait")
        }
        for bad in [-1, 1_000_001] {
            config.forwardWaitMicroseconds = bad
            XCTAssertThrowsError(try config.validate(), "a \(bad) µs wait")
        }
    }
}
