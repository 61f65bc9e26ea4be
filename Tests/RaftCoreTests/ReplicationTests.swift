import ClusterTesting
import RaftCore
import XCTest

/// Log replication (§5.3): pipelining and batching, flow control towards slow followers,
/// message-size limits, back-pressure on uncommitted bytes and fast backtracking on conflicts.
final class ReplicationTests: XCTestCase {
    func testProposalsArePipelinedAndBatchedToFollowers() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.inFlight = []

        // Five proposals, nothing answered yet: a follower in the replicate state gets one
        // append per proposal without waiting for acknowledgements (pipelining).
        cluster.proposeAll(1...5, at: 1)
        let pipelined = cluster.inFlight.filter { $0.to == 2 && $0.body.isAppend }
        XCTAssertEqual(pipelined.map { $0.body.appendEntries.count }, [1, 1, 1, 1, 1])
        let firstIndexes = pipelined.compactMap { $0.body.appendEntries.first?.index }
        XCTAssertEqual(firstIndexes, firstIndexes.sorted())

        // A batch of ten proposed at once travels as one append (group commit).
        cluster.with(1) { raft in
            _ = try? raft.propose(batch: (6...15).map { UInt64($0).proposalBytes })
        }
        let batched = cluster.inFlight.filter { $0.to == 3 && $0.body.isAppend }.last
        XCTAssertEqual(batched?.body.appendEntries.count, 10)

        cluster.stabilize()
        XCTAssertTrue(cluster.replicasMatch(1))
        XCTAssertEqual(cluster.node(3).app.values, Set(1...15))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testAppendsInFlightToASlowFollowerNeverExceedMaxInflightMessages() {
        let limit = 4
        var cluster = TestCluster(voters: 3, options: .configured { $0.maxInflightMessages = limit })
        cluster.elect(1)
        var transcript = Transcript()
        let toSlowFollower: (Message) -> Bool = { $0.to == 3 }

        var mostInFlight = 0
        for value in UInt64(1)...30 {
            cluster.proposeAll([value], at: 1)
            cluster.settle(&transcript, holding: toSlowFollower)
            if value % 5 == 0 { cluster.tickAndSettle(&transcript, holding: toSlowFollower) }
            let appends = cluster.inFlight.filter { $0.to == 3 && !$0.body.appendEntries.isEmpty }
            XCTAssertLessThanOrEqual(appends.count, limit, "after proposing \(value)")
            mostInFlight = max(mostInFlight, appends.count)
        }
        XCTAssertEqual(mostInFlight, limit, "the window did fill up")
        XCTAssertEqual(cluster.node(2).app.values, Set(1...30), "the fast follower keeps the leader committing")

        // Once the slow follower drains its queue it catches up completely.
        cluster.stabilize()
        cluster.tickAll(times: 2)
        cluster.stabilize()
        XCTAssertEqual(cluster.node(3).app.values, Set(1...30))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testPayloadInFlightToASlowFollowerStopsAtMaxInflightBytes() {
        // 8-byte proposals, one per append: the leader stops sending once the window is full.
        let limit = 64
        var cluster = TestCluster(voters: 3, options: .configured { $0.maxInflightBytes = limit })
        cluster.elect(1)
        var transcript = Transcript()
        var mostBytes = 0
        for value in UInt64(1)...40 {
            cluster.proposeAll([value], at: 1)
            cluster.settle(&transcript, holding: { $0.to == 3 })
            let bytes = cluster.inFlight.filter { $0.to == 3 }.reduce(0) { $0 + $1.payloadBytes }
            XCTAssertLessThanOrEqual(bytes, limit, "after proposing \(value)")
            mostBytes = max(mostBytes, bytes)
        }
        XCTAssertEqual(mostBytes, limit)
        cluster.stabilize()
        cluster.tickAll(times: 2)
        cluster.stabilize()
        XCTAssertEqual(cluster.node(3).app.values, Set(1...40))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLargeBacklogIsSplitIntoMessagesOfAtMostMaxSizePerMessage() {
        let maxBytes = 64
        var cluster = TestCluster(voters: 3, options: .configured { $0.maxSizePerMessageBytes = maxBytes })
        cluster.elect(1)
        cluster.crash(3)
        cluster.proposeAll(1...100, at: 1)
        cluster.stabilize()
        cluster.restart(3)

        var transcript = Transcript()
        cluster.tickUntil(maxTicks: 20, &transcript) { $0.node(3).app.values.count == 100 }
        let catchUp = transcript.messages(from: 1, to: 3, where: { !$0.appendEntries.isEmpty })
        XCTAssertEqual(catchUp.reduce(0) { $0 + $1.body.appendEntries.count }, 100, "every entry sent once")
        XCTAssertTrue(catchUp.allSatisfy { $0.payloadBytes <= maxBytes }, "\(catchUp.map(\.payloadBytes))")
        XCTAssertGreaterThanOrEqual(catchUp.count, 100 * 8 / maxBytes)
        XCTAssertTrue(cluster.replicasMatch(1))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testProposalsBeyondTheUncommittedLimitAreRefused() {
        // Room for four 8-byte proposals that cannot commit while the leader is cut off.
        var cluster = TestCluster(voters: 3, options: .configured { $0.maxUncommittedEntriesBytes = 32 })
        cluster.elect(1)
        cluster.isolate(1)
        cluster.proposeAll(1...4, at: 1)
        let lastIndex = cluster.raft(1).lastIndex

        guard case .failure(let error) = cluster.propose(5, at: 1) else { return XCTFail("fifth proposal accepted") }
        XCTAssertEqual(error.code, .uncommittedLimit)
        XCTAssertEqual(cluster.raft(1).lastIndex, lastIndex, "nothing appended")

        // Once the backlog commits there is room again.
        cluster.heal()
        cluster.tickUntil(maxTicks: 5) { $0.node(1).app.values == Set(1...4) }
        XCTAssertEqual(cluster.node(1).app.values, Set(1...4))
        guard case .success = cluster.propose(5, at: 1) else { return XCTFail("refused after the backlog committed") }
        cluster.stabilize()
        XCTAssertEqual(cluster.node(2).app.values, Set(1...5))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testFastBacktrackingSkipsWholeTermsOfConflictingEntries() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll(1...3, at: 1)
        cluster.stabilize()
        let commonPrefix = cluster.raft(1).lastIndex

        // The old leader, cut off, appends 40 entries nobody else will ever have.
        cluster.isolate(1)
        cluster.proposeAll(101...140, at: 1)
        XCTAssertEqual(cluster.raft(1).lastIndex, commonPrefix + 40)

        // Meanwhile 2 and 3 elect a leader, commit 40 different entries, and hand leadership
        // over, so the current leader starts with a long log of a term 1 never saw.
        XCTAssertNotNil(cluster.tickUntil { $0.leaders.contains { $0 != 1 } })
        let first = cluster.leaders.first { $0 != 1 }!
        let second: NodeID = first == 2 ? 3 : 2
        cluster.proposeAll(201...240, at: first)
        cluster.stabilize()
        cluster.with(first) { $0.transferLeadership(to: second) }
        cluster.stabilize()
        XCTAssertEqual(cluster.leaders.filter { $0 != 1 }, [second])

        // On rejoining, 1 holds 40 conflicting entries; probing one index at a time would take
        // about 40 round trips.
        cluster.heal()
        var transcript = Transcript()
        cluster.tickUntil(maxTicks: 30, &transcript) { $0.node(1).app.values == $0.node(second).app.values }
        let rejections = transcript.messages(from: 1, to: second, where: \.isRejectedAppend)
        XCTAssertGreaterThanOrEqual(rejections.count, 1, "the conflict was found by probing")
        XCTAssertLessThanOrEqual(rejections.count, 3, "\(rejections.count) probe round trips for 40 conflicting entries")

        let last = cluster.raft(second).lastIndex
        XCTAssertEqual(cluster.raft(1).lastIndex, last)
        XCTAssertEqual(cluster.terms(1, through: last), cluster.terms(second, through: last), "logs converged")
        XCTAssertEqual(cluster.node(1).app.values, Set<UInt64>(1...3).union(201...240))
        XCTAssertTrue(cluster.node(1).app.values.isDisjoint(with: 101...140), "the stale entries were never applied")
        XCTAssertEqual(cluster.checker.violations, [])
    }
}
