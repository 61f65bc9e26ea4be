import ClusterTesting
import RaftCore
import XCTest

/// Leadership transfer (thesis §3.10): catch the target up, then TimeoutNow; proposals wait; an
/// unreachable target is given up on after an election timeout.
final class LeadershipTransferTests: XCTestCase {
    func testTransferToACaughtUpFollowerHandsOverAtOnce() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll(1...5, at: 1)
        cluster.stabilize()
        let term = cluster.raft(1).term

        var transcript = Transcript()
        cluster.with(1) { $0.transferLeadership(to: 2) }
        XCTAssertEqual(cluster.inFlight.filter(\.body.isTimeoutNow).map(\.to), [2], "TimeoutNow goes out immediately")
        cluster.settle(&transcript)

        XCTAssertEqual(cluster.leaders, [2])
        XCTAssertEqual(cluster.raft(2).term, term + 1)
        XCTAssertEqual(cluster.raft(1).role, .follower)
        XCTAssertEqual(cluster.raft(1).leader, 2)
        XCTAssertTrue(transcript.messages(where: \.isPreVoteRequest).isEmpty, "the target campaigns without pre-vote")
        cluster.proposeAll([6], at: 2)
        cluster.stabilize()
        XCTAssertEqual(cluster.node(1).app.values, Set(1...6))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testTransferToALaggingFollowerCatchesItUpFirstAndRefusesProposalsMeanwhile() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.cut(1, 3)
        cluster.proposeAll(1...20, at: 1)
        cluster.stabilize()
        XCTAssertTrue(cluster.node(3).app.values.isEmpty, "3 lags 20 entries behind")
        cluster.heal()

        var transcript = Transcript()
        cluster.with(1) { $0.transferLeadership(to: 3) }
        XCTAssertEqual(cluster.raft(1).leadershipTransferTarget, 3)
        XCTAssertTrue(cluster.inFlight.filter(\.body.isTimeoutNow).isEmpty, "no TimeoutNow to a lagging target")

        // Proposals are refused while leadership is moving, pointing at the target.
        guard case .failure(let error) = cluster.propose(21, at: 1) else { return XCTFail("proposal accepted mid-transfer") }
        XCTAssertEqual(error.code, .transferInProgress)
        XCTAssertEqual(error.leaderHint, 3)

        let electionTicks = cluster.raft(1).config.electionTicks
        let ticks = cluster.tickUntil(maxTicks: electionTicks - 1, &transcript) { $0.leader == 3 }
        XCTAssertNotNil(ticks, "transfer finished within an election timeout")

        // TimeoutNow was sent only after 3 had acknowledged the leader's whole log.
        let timeoutNow = transcript.delivered.firstIndex { $0.body.isTimeoutNow }
        let lastCatchUp = transcript.delivered.lastIndex { $0.from == 1 && $0.to == 3 && !$0.body.appendEntries.isEmpty }
        XCTAssertNotNil(timeoutNow)
        XCTAssertNotNil(lastCatchUp)
        if let timeoutNow, let lastCatchUp { XCTAssertLessThan(lastCatchUp, timeoutNow) }
        XCTAssertEqual(cluster.leaders, [3])
        XCTAssertEqual(cluster.node(3).app.values, Set(1...20))
        cluster.proposeAll([21], at: 3)
        cluster.stabilize()
        XCTAssertTrue(cluster.replicasMatch(3))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testTransferToAnUnreachableTargetIsAbandonedAfterAnElectionTimeout() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll(1...3, at: 1)
        cluster.stabilize()
        let term = cluster.raft(1).term
        cluster.crash(3)

        cluster.with(1) { $0.transferLeadership(to: 3) }
        let electionTicks = cluster.raft(1).config.electionTicks
        for tick in 1..<electionTicks {
            cluster.tickAll()
            cluster.stabilize()
            guard case .failure(let error) = cluster.propose(100, at: 1) else { return XCTFail("accepted at tick \(tick)") }
            XCTAssertEqual(error.code, .transferInProgress, "tick \(tick)")
        }
        cluster.tickAll()
        cluster.stabilize()

        XCTAssertNil(cluster.raft(1).leadershipTransferTarget, "given up after \(electionTicks) ticks")
        XCTAssertEqual(cluster.leaders, [1])
        XCTAssertEqual(cluster.raft(1).term, term)
        guard case .success = cluster.propose(4, at: 1) else { return XCTFail("still refusing proposals") }
        cluster.stabilize()
        XCTAssertEqual(cluster.node(2).app.values, Set(1...4))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testTransferRequestedAtAFollowerIsForwardedToTheLeader() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.stabilize()
        cluster.with(2) { $0.transferLeadership(to: 3) }
        cluster.stabilize()
        XCTAssertEqual(cluster.leaders, [3])
        XCTAssertEqual(cluster.checker.violations, [])
    }
}
