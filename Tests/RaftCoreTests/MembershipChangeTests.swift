import ClusterTesting
import RaftCore
import XCTest

/// Membership changes: one voter at a time (with the single-server-change fix), joint consensus
/// for several at once (thesis §4.3), one pending change, removed leaders, joining members.
final class MembershipChangeTests: XCTestCase {
    func testJoiningMemberAddedAsVoterCatchesUpAndKnowsTheWholeMembership() {
        var cluster = TestCluster(voters: 3, joining: [4])
        cluster.elect(1)
        cluster.proposeAll(1...20, at: 1)
        cluster.stabilize()
        guard case .success = cluster.proposeConfChange(ConfChange([.addVoter(4)]), at: 1) else { return XCTFail("refused") }
        cluster.stabilize()
        cluster.tickAll(times: 2)
        cluster.stabilize()

        XCTAssertEqual(cluster.node(4).app.values, Set(1...20))
        XCTAssertEqual(cluster.raft(4).confState.voters, [1, 2, 3, 4], "4 learned the membership it joined")
        XCTAssertEqual(cluster.raft(2).confState.voters, [1, 2, 3, 4])

        // With the leader gone, 2, 3 and 4 elect exactly one leader and keep committing.
        cluster.crash(1)
        XCTAssertNotNil(cluster.tickUntil { $0.leader != nil })
        let leader = cluster.soleLeader()
        cluster.proposeAll([21], at: leader)
        cluster.stabilize()
        XCTAssertTrue(cluster.replicasMatch(leader))
        XCTAssertEqual(cluster.node(4).app.values, Set(1...21))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testRemovedVoterStopsReceivingAndNoLongerCountsForQuorum() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll(1...3, at: 1)
        cluster.stabilize()
        guard case .success = cluster.proposeConfChange(ConfChange([.remove(3)]), at: 1) else { return XCTFail("refused") }
        cluster.stabilize()
        XCTAssertEqual(cluster.raft(1).confState.voters, [1, 2])
        XCTAssertEqual(cluster.raft(3).confState.voters, [1, 2], "3 applied its own removal")

        var transcript = Transcript()
        cluster.proposeAll(4...6, at: 1)
        cluster.tickAndSettle(&transcript, times: 30)
        XCTAssertTrue(transcript.messages(from: 1, to: 3).isEmpty, "the leader still talks to a removed member")
        XCTAssertEqual(cluster.node(2).app.values, Set(1...6))
        XCTAssertEqual(cluster.node(3).app.values, Set(1...3))
        XCTAssertEqual(cluster.leaders, [1], "3 did not disrupt the cluster")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testMultiStepChangeGoesThroughAJointConfigurationAndLeavesItAutomatically() {
        // Replace 2 and 3 by 4 and 5 in one change.
        var cluster = TestCluster(voters: 3, joining: [4, 5])
        cluster.elect(1)
        cluster.proposeAll(1...5, at: 1)
        cluster.stabilize()
        let change = ConfChange([.addVoter(4), .addVoter(5), .remove(2), .remove(3)])
        guard case .success(let index) = cluster.proposeConfChange(change, at: 1) else { return XCTFail("refused") }

        // Step by step until the leader applies it: the joint configuration needs both majorities.
        var transcript = Transcript()
        var joint: ConfState?
        while joint == nil, !cluster.inFlight.isEmpty {
            let message = cluster.inFlight.removeFirst()
            cluster.deliver(message, &transcript)
            if cluster.raft(1).confState.isJoint { joint = cluster.raft(1).confState }
        }
        XCTAssertEqual(joint?.voters, [1, 4, 5])
        XCTAssertEqual(joint?.outgoingVoters, [1, 2, 3])

        // The leader proposed leaving on its own, right after the joint entry.
        let leave = cluster.raft(1).entries(from: index + 1, through: index + 1)?.first
        XCTAssertEqual(leave?.kind, .confChange)
        XCTAssertEqual(leave.flatMap { ConfChange(decoding: $0.data) }, .leaveJoint)

        // While joint, the old voters' majority is needed too: 1, 4 and 5 alone cannot commit.
        cluster.isolate(1, from: [2, 3])
        cluster.settle(&transcript)
        XCTAssertEqual(cluster.raft(4).lastIndex, index + 1, "the new voters have the leave entry")
        XCTAssertLessThanOrEqual(cluster.raft(1).commitIndex, index, "committed without the outgoing majority")
        XCTAssertTrue(cluster.raft(1).confState.isJoint)

        cluster.heal()
        cluster.tickAndSettle(&transcript, times: 3)
        for id: NodeID in [1, 4, 5] {
            XCTAssertEqual(cluster.raft(id).confState, ConfState(voters: [1, 4, 5]), "member \(id)")
        }
        cluster.proposeAll([6], at: 1)
        cluster.stabilize()
        XCTAssertEqual(cluster.node(5).app.values, Set(1...6))
        XCTAssertEqual(cluster.node(2).app.values, Set(1...5), "2 left before 6")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testJointConfigurationIsLeftEvenIfTheLeaderThatEnteredItFails() {
        // Leader 1 applies a joint change (shrinking five voters to three) and proposes leaving
        // it, then crashes before the leave entry reaches anyone. The next leader must leave.
        var cluster = TestCluster(voters: 5)
        cluster.elect(1)
        guard case .success(let index) = cluster.proposeConfChange(ConfChange([.remove(4), .remove(5)]), at: 1) else {
            return XCTFail("refused")
        }
        var transcript = Transcript()
        let carriesLeave: (Message) -> Bool = { $0.from == 1 && $0.body.appendEntries.contains { $0.index > index } }
        cluster.settle(&transcript, holding: carriesLeave)
        XCTAssertEqual(cluster.raft(1).lastIndex, index + 1, "1 proposed leaving")
        for id: NodeID in [2, 3, 4, 5] {
            XCTAssertEqual(cluster.raft(id).confState.outgoingVoters, [1, 2, 3, 4, 5], "member \(id) is in the joint configuration")
            XCTAssertEqual(cluster.raft(id).lastIndex, index, "member \(id) never got the leave entry")
        }
        cluster.inFlight.removeAll(where: carriesLeave)
        cluster.crash(1)

        XCTAssertNotNil(cluster.tickUntil { $0.leader != nil })
        let leader = cluster.soleLeader()
        cluster.tickAndSettle(&transcript, times: 5)
        XCTAssertEqual(cluster.raft(leader).confState, ConfState(voters: [1, 2, 3]), "the new leader left the joint configuration")
        cluster.proposeAll([1], at: leader)
        cluster.stabilize()
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testOnlyOneConfigurationChangeMayBePendingAtATime() {
        var cluster = TestCluster(voters: 3, joining: [4, 5])
        cluster.elect(1)
        guard case .success = cluster.proposeConfChange(ConfChange([.addLearner(4)]), at: 1) else { return XCTFail("refused") }
        let lastIndex = cluster.raft(1).lastIndex
        guard case .failure(let error) = cluster.proposeConfChange(ConfChange([.addLearner(5)]), at: 1) else {
            return XCTFail("second change accepted while the first is pending")
        }
        XCTAssertEqual(error.code, .confChangePending)
        XCTAssertEqual(cluster.raft(1).lastIndex, lastIndex, "nothing appended")

        cluster.stabilize()
        guard case .success = cluster.proposeConfChange(ConfChange([.addLearner(5)]), at: 1) else { return XCTFail("refused once applied") }
        cluster.stabilize()
        XCTAssertEqual(cluster.raft(1).confState.learners, [4, 5])
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testNewLeaderCannotChangeMembershipBeforeApplyingAnEntryOfItsTerm() {
        var cluster = TestCluster(voters: 3, joining: [4])
        cluster.elect(1)
        cluster.proposeAll(1...3, at: 1)
        cluster.stabilize()

        var transcript = Transcript()
        cluster.with(1) { $0.transferLeadership(to: 2) }
        cluster.settle(&transcript, holding: { $0.from == 2 && $0.body.isAppend })
        XCTAssertEqual(cluster.leader, 2)
        guard case .failure(let error) = cluster.proposeConfChange(ConfChange([.addVoter(4)]), at: 2) else {
            return XCTFail("change accepted before the leader's first entry applied")
        }
        XCTAssertEqual(error.code, .confChangePending)

        cluster.settle(&transcript)
        guard case .success = cluster.proposeConfChange(ConfChange([.addVoter(4)]), at: 2) else { return XCTFail("refused after") }
        cluster.stabilize()
        XCTAssertEqual(cluster.raft(4).confState.voters, [1, 2, 3, 4])
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLeaderThatRemovesItselfStepsDownAndTheRestCarryOn() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll(1...3, at: 1)
        cluster.stabilize()
        guard case .success = cluster.proposeConfChange(ConfChange([.remove(1)]), at: 1) else { return XCTFail("refused") }
        cluster.stabilize()
        XCTAssertEqual(cluster.raft(1).role, .follower, "a removed leader steps down")
        XCTAssertFalse(cluster.raft(1).isPromotable)

        XCTAssertNotNil(cluster.tickUntil { $0.leader != nil })
        let leader = cluster.soleLeader()
        XCTAssertTrue([2, 3].contains(leader))
        XCTAssertEqual(cluster.raft(leader).confState.voters, [2, 3])
        cluster.proposeAll([4], at: leader)
        cluster.stabilize()
        XCTAssertEqual(cluster.node(2).app.values, Set(1...4))
        XCTAssertEqual(cluster.node(3).app.values, Set(1...4))
        XCTAssertEqual(cluster.checker.violations, [])
    }
}
