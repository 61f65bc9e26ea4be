import ClusterTesting
import RaftCore
import XCTest

/// Leader election (§5.2, §5.4.1) with randomised timeouts, pre-vote, check-quorum and leader
/// stickiness (thesis §9.6, §6.2).
final class ElectionTests: XCTestCase {
    func testSingleVoterElectsItselfAndCommits() {
        var cluster = TestCluster(voters: 1)
        cluster.tickAll(times: 30)
        cluster.stabilize()
        XCTAssertEqual(cluster.leader, 1)
        guard case .success(let index) = cluster.propose(7, at: 1) else { return XCTFail("proposal refused") }
        cluster.stabilize()
        XCTAssertEqual(cluster.raft(1).commitIndex, index)
        XCTAssertEqual(cluster.node(1).app.values, [7])
    }

    func testThreeVotersElectOneLeaderAndReplicate() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        XCTAssertEqual(cluster.leaders, [1])
        XCTAssertEqual(cluster.raft(2).leader, 1)
        XCTAssertEqual(cluster.raft(3).leader, 1)
        for value in 1...10 { cluster.propose(UInt64(value), at: 1) }
        cluster.stabilize()
        for id in cluster.ids {
            XCTAssertEqual(cluster.node(id).app.values, Set(1...10), "member \(id)")
        }
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testTimeoutElectsSomeone() {
        var cluster = TestCluster(voters: 3, seed: 42)
        for _ in 0..<50 {
            cluster.tickAll()
            cluster.stabilize()
        }
        XCTAssertEqual(cluster.leaders.count, 1)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testElectionTimeoutsAreRandomisedWithinOneToTwoElectionTimeouts() {
        // Every member alone on its island: the tick at which each first campaigns is its timeout.
        var cluster = TestCluster(voters: 5, seed: 7)
        let initialTerm = cluster.raft(1).term
        cluster.partition(cluster.ids.map { [$0] })
        var timeouts: [NodeID: Int] = [:]
        for id in cluster.ids {
            for tick in 1...40 {
                cluster.tick(id)
                if cluster.raft(id).role != .follower {
                    timeouts[id] = tick
                    break
                }
            }
        }
        let electionTicks = cluster.raft(1).config.electionTicks
        XCTAssertEqual(timeouts.count, 5, "every member campaigns eventually: \(timeouts)")
        for (id, timeout) in timeouts {
            XCTAssertTrue((electionTicks..<2 * electionTicks).contains(timeout), "member \(id) timed out after \(timeout) ticks")
        }
        XCTAssertGreaterThan(Set(timeouts.values).count, 1, "identical timeouts would split every vote: \(timeouts)")
        // Pre-vote: campaigning alone never raised anyone's term.
        XCTAssertEqual(Set(cluster.ids.map { cluster.raft($0).term }), [initialTerm])
    }

    func testRejoiningPartitionedMemberDoesNotDeposeHealthyLeader() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll(1...5, at: 1)
        cluster.stabilize()
        let term = cluster.raft(1).term

        // Member 3 is cut off for ten election timeouts and campaigns again and again.
        cluster.isolate(3)
        var transcript = Transcript()
        cluster.tickAndSettle(&transcript, times: 100)
        cluster.proposeAll(6...10, at: 1)
        cluster.stabilize()
        XCTAssertFalse(cluster.raft(3).role == .follower && cluster.raft(3).leader != 0, "3 cannot know a leader while cut off")
        XCTAssertEqual(cluster.raft(3).term, term, "pre-vote must keep a cut-off member's term from growing")

        // Back on the network, it follows the leader instead of forcing an election.
        cluster.heal()
        cluster.tickAndSettle(&transcript, times: 30)
        XCTAssertEqual(cluster.leaders, [1])
        XCTAssertEqual(cluster.ids.map { cluster.raft($0).term }, [term, term, term])
        XCTAssertEqual(cluster.raft(3).leader, 1)
        XCTAssertEqual(cluster.node(3).app.values, Set(1...10))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLeaderCutOffFromQuorumStepsDownWithinAnElectionTimeout() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        let electionTicks = cluster.raft(1).config.electionTicks
        // A connected leader keeps leading for many election timeouts...
        cluster.tickAll(times: 3)
        cluster.stabilize()
        for _ in 0..<(10 * electionTicks) {
            cluster.tickAll()
            cluster.stabilize()
        }
        XCTAssertEqual(cluster.leaders, [1])

        // ...but one that hears from nobody gives up within one election timeout, whatever
        // point of its check-quorum cycle the partition struck at.
        cluster.tickAll(times: 3)
        cluster.stabilize()
        cluster.isolate(1)
        cluster.tick(1, times: electionTicks)
        XCTAssertEqual(cluster.raft(1).role, .follower, "still leading \(electionTicks) ticks after losing its quorum")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testFollowersThatHearFromTheLeaderIgnoreVoteRequests() {
        // With pre-vote off, the cut-off member asks for real votes at ever higher terms. Leader
        // stickiness alone must keep member 2 (which still hears from leader 1) from granting
        // them or adopting their terms.
        var cluster = TestCluster(voters: 3, options: .configured { $0.preVote = false })
        cluster.elect(1)
        let term = cluster.raft(1).term
        cluster.cut(1, 3)
        cluster.cut(3, 1)
        var transcript = Transcript()
        cluster.tickAndSettle(&transcript, times: 60)
        cluster.proposeAll(1...3, at: 1)
        cluster.stabilize()

        XCTAssertGreaterThan(cluster.raft(3).term, term, "3 did campaign")
        XCTAssertFalse(transcript.messages(from: 3, to: 2, where: \.isVoteRequest).isEmpty, "3 asked 2 for votes")
        XCTAssertTrue(transcript.messages(from: 2, to: 3, where: { $0.grantsVote == true }).isEmpty, "2 granted a vote while it had a leader")
        XCTAssertEqual(cluster.raft(2).term, term)
        XCTAssertEqual(cluster.leaders, [1])
        XCTAssertEqual(cluster.node(2).app.values, [1, 2, 3], "the leader keeps committing with 2")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testEachVoterGrantsAtMostOneVotePerTerm() {
        // 1 and 2 campaign at once; 3 hears both in the same term and may vote only once.
        var cluster = TestCluster(voters: 3)
        var transcript = Transcript()
        cluster.with(1) { $0.campaignNow() }
        cluster.with(2) { $0.campaignNow() }
        cluster.settle(&transcript)

        let requestsTo3 = transcript.messages(to: 3, where: \.isVoteRequest)
        XCTAssertEqual(Set(requestsTo3.map(\.from)), [1, 2], "both candidates asked 3")
        XCTAssertEqual(Set(requestsTo3.map(\.term)).count, 1, "in the same term: \(requestsTo3)")
        let grantsBy3 = transcript.messages(from: 3, where: { if case .voteResponse(false) = $0 { return true } else { return false } })
        XCTAssertEqual(grantsBy3.count, 1, "3 granted: \(grantsBy3)")
        XCTAssertEqual(cluster.leaders.count, 1)
        XCTAssertEqual(cluster.leader, grantsBy3.first?.to)
        XCTAssertEqual(cluster.raft(3).vote, cluster.leader)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testVoterRefusesCandidateWhoseLogIsBehind() {
        // Check-quorum is off so no leader lease hides the log comparison (§5.4.1); both the
        // pre-vote and the real vote must refuse the stale candidate.
        for preVote in [true, false] {
            var cluster = TestCluster(voters: 3, options: .configured {
                $0.checkQuorum = false
                $0.preVote = preVote
            })
            cluster.elect(1)
            cluster.cut(1, 3)
            cluster.proposeAll(1...5, at: 1)
            cluster.stabilize()
            XCTAssertEqual(cluster.node(2).app.values, Set(1...5))
            XCTAssertTrue(cluster.node(3).app.values.isEmpty)
            cluster.crash(1)
            cluster.heal()

            var transcript = Transcript()
            cluster.with(3) { $0.campaignNow() }
            cluster.settle(&transcript)
            let answers = transcript.messages(from: 2, to: 3, where: { $0.grantsVote != nil })
            XCTAssertFalse(answers.isEmpty, "preVote \(preVote): 2 answered")
            XCTAssertTrue(answers.allSatisfy { $0.body.grantsVote == false }, "preVote \(preVote): \(answers)")
            XCTAssertNotEqual(cluster.raft(3).role, .leader)

            // The up-to-date member wins instead, and nothing committed is lost.
            cluster.tickUntil { $0.leader != nil }
            XCTAssertEqual(cluster.leader, 2, "preVote \(preVote)")
            cluster.proposeAll([6], at: 2)
            cluster.stabilize()
            XCTAssertEqual(cluster.node(3).app.values, Set(1...6), "preVote \(preVote)")
            XCTAssertEqual(cluster.checker.violations, [], "preVote \(preVote)")
        }
    }
}
