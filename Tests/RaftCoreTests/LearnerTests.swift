import ClusterTesting
import RaftCore
import XCTest

/// Learners: members that receive the log but neither vote nor count towards commitment, until
/// they are promoted.
final class LearnerTests: XCTestCase {
    /// Three voters plus two empty members added as learners and caught up.
    private func clusterWithLearners() -> TestCluster {
        var cluster = TestCluster(voters: 3, joining: [4, 5])
        cluster.elect(1)
        cluster.proposeAll(1...10, at: 1)
        cluster.stabilize()
        for learner: NodeID in [4, 5] {
            if case .failure(let error) = cluster.proposeConfChange(ConfChange([.addLearner(learner)]), at: 1) {
                XCTFail("adding learner \(learner): \(error)")
            }
            cluster.stabilize()
        }
        cluster.tickAll(times: 2)
        cluster.stabilize()
        return cluster
    }

    func testLearnersReceiveTheWholeLogButDoNotVote() {
        var cluster = clusterWithLearners()
        XCTAssertEqual(cluster.raft(1).confState.voters, [1, 2, 3])
        XCTAssertEqual(cluster.raft(1).confState.learners, [4, 5])
        for learner: NodeID in [4, 5] {
            XCTAssertEqual(cluster.node(learner).app.values, Set(1...10), "learner \(learner) caught up")
            XCTAssertEqual(cluster.raft(learner).confState, cluster.raft(1).confState, "learner \(learner) knows the membership")
            XCTAssertFalse(cluster.raft(learner).isPromotable)
        }

        // Elections ask voters only.
        var transcript = Transcript()
        cluster.crash(1)
        cluster.tickUntil(&transcript) { $0.leader != nil }
        XCTAssertTrue([2, 3].contains(cluster.leader ?? 0))
        let asked = transcript.delivered.filter { $0.body.isPreVoteRequest || $0.body.isVoteRequest }.map(\.to)
        XCTAssertFalse(asked.contains(4) || asked.contains(5), "learners were asked to vote: \(asked)")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLearnerNeverCampaignsEvenWhenItHearsFromNoLeader() {
        var cluster = clusterWithLearners()
        let term = cluster.raft(4).term
        cluster.isolate(4)
        for _ in 0..<100 {
            cluster.tick(4)
            XCTAssertEqual(cluster.raft(4).role, .follower)
        }
        XCTAssertTrue(cluster.inFlight.filter { $0.from == 4 }.isEmpty, "a learner sent: \(cluster.inFlight.filter { $0.from == 4 })")
        XCTAssertEqual(cluster.raft(4).term, term)
        cluster.heal()
        cluster.stabilize()
        XCTAssertEqual(cluster.leaders, [1])
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLearnersAreNotCountedForCommitment() {
        // The leader and both learners are three of five members, but only one of three voters.
        var cluster = clusterWithLearners()
        let commit = cluster.raft(1).commitIndex
        cluster.cut(1, 2)
        cluster.cut(1, 3)
        guard case .success(let index) = cluster.propose(11, at: 1) else { return XCTFail("proposal refused") }
        cluster.stabilize()
        XCTAssertEqual(cluster.raft(4).lastIndex, index, "the learner has the entry")
        XCTAssertEqual(cluster.raft(5).lastIndex, index)
        XCTAssertEqual(cluster.raft(1).commitIndex, commit, "committed without a voter quorum")

        cluster.heal()
        let ticks = cluster.tickUntil(maxTicks: 5) { $0.raft(1).commitIndex >= index && $0.replicasMatch(1) }
        XCTAssertNotNil(ticks, "committed and applied everywhere once the voters are back")
        XCTAssertEqual(cluster.node(5).app.values, Set(1...11))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testPromotedLearnerVotesCountsAndCanLead() {
        var cluster = clusterWithLearners()
        guard case .success = cluster.proposeConfChange(ConfChange([.addVoter(4)]), at: 1) else { return XCTFail("promotion refused") }
        cluster.stabilize()
        XCTAssertEqual(cluster.raft(1).confState.voters, [1, 2, 3, 4])
        XCTAssertEqual(cluster.raft(1).confState.learners, [5])
        XCTAssertTrue(cluster.raft(4).isPromotable)

        // With four voters, the leader plus 4 is no longer enough; plus 4 and 2 is.
        cluster.cut(1, 3)
        cluster.cut(1, 2)
        guard case .success(let index) = cluster.propose(11, at: 1) else { return XCTFail("proposal refused") }
        cluster.stabilize()
        XCTAssertLessThan(cluster.raft(1).commitIndex, index)
        cluster.heal()
        cluster.cut(1, 3)
        cluster.tickUntil(maxTicks: 5) { $0.raft(1).commitIndex >= index }
        XCTAssertEqual(cluster.raft(1).commitIndex, index)
        cluster.heal()

        // The promoted member can win an election.
        cluster.with(1) { $0.transferLeadership(to: 4) }
        cluster.stabilize()
        XCTAssertEqual(cluster.leaders, [4])
        cluster.proposeAll([12], at: 4)
        cluster.stabilize()
        XCTAssertEqual(cluster.node(5).app.values, Set(1...12))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testVoterDemotedToLearnerWhileALearnerIsPromotedInOneJointChange() {
        var cluster = clusterWithLearners()
        let swap = ConfChange([.addLearner(3), .addVoter(4)])
        guard case .success = cluster.proposeConfChange(swap, at: 1) else { return XCTFail("refused") }
        cluster.stabilize()
        cluster.tickAll(times: 2)
        cluster.stabilize()
        let expected = ConfState(voters: [1, 2, 4], learners: [3, 5])
        for id in cluster.ids { XCTAssertEqual(cluster.raft(id).confState, expected, "member \(id)") }

        // 3 still receives the log but no longer campaigns; 4 now counts.
        cluster.proposeAll([11], at: 1)
        cluster.stabilize()
        XCTAssertEqual(cluster.node(3).app.values, Set(1...11))
        XCTAssertFalse(cluster.raft(3).isPromotable)
        cluster.crash(1)
        var transcript = Transcript()
        XCTAssertNotNil(cluster.tickUntil(&transcript) { $0.leader != nil })
        XCTAssertTrue([2, 4].contains(cluster.soleLeader()))
        XCTAssertTrue(transcript.messages(from: 3, where: { $0.isVoteRequest || $0.isPreVoteRequest }).isEmpty)
        XCTAssertEqual(cluster.checker.violations, [])
    }
}
