import ClusterTesting
import RaftCore
import XCTest

/// `Raft.learnCommitted`: a follower told by the leader's answer to a forwarded write that the
/// entry at an index and term committed commits it at once when its log holds that entry, and
/// never when it holds another entry there.
final class LearnCommittedTests: XCTestCase {
    func testAFollowerHoldingTheEntryCommitsAndAppliesItAtOnce() throws {
        var cluster = TestCluster(voters: 3, options: .configured { $0.deferCommitAnnouncements = true })
        cluster.elect(1)
        cluster.with(1) { $0.announceCommit() }
        cluster.stabilize()
        let index = try cluster.propose(7, at: 1).get()
        cluster.stabilize()
        let term = cluster.raft(1).term
        XCTAssertEqual(cluster.raft(1).commitIndex, index)
        XCTAssertLessThan(cluster.raft(2).commitIndex, index, "the leader has not announced the commit")

        var results: [Bool] = []
        cluster.with(2) { raft in
            results.append(raft.learnCommitted(index: index, term: term + 1))  // another term
            results.append(raft.learnCommitted(index: index + 1, term: term))  // beyond the log
            results.append(raft.learnCommitted(index: index, term: 0))  // unknown term
        }
        XCTAssertEqual(results, [false, false, false])
        XCTAssertLessThan(cluster.raft(2).commitIndex, index)

        cluster.with(2) { results = [$0.learnCommitted(index: index, term: term), $0.learnCommitted(index: index, term: term)] }
        XCTAssertEqual(results, [true, false], "once committed, the same hint changes nothing")
        XCTAssertEqual(cluster.raft(2).commitIndex, index)
        XCTAssertEqual(cluster.raft(2).appliedIndex, index, "the follower applied the write")
        XCTAssertEqual(cluster.node(2).app.digest, cluster.node(1).app.digest)
        XCTAssertLessThan(cluster.raft(3).commitIndex, index, "only the member told learns it")

        cluster.with(1) { results = [$0.learnCommitted(index: index, term: term)] }
        XCTAssertEqual(results, [false], "a leader's commit index moves only with its quorum")
    }

    /// Five members: the old leader's entry reaches one follower (5) only and never commits; a
    /// new leader commits its own entry at the same index. Told that (index, new term) committed,
    /// member 5 — still holding the old entry — must not commit anything; once the new leader
    /// replaced its entry, the same hint commits it.
    func testAStaleEntryAtTheIndexIsNeverCommittedFromAHint() throws {
        var cluster = TestCluster(voters: 5)
        cluster.elect(1)
        for other: NodeID in [2, 3, 4] { cluster.cut(1, other) }
        cluster.cut(5, 1)
        let index = try cluster.propose(7, at: 1).get()
        cluster.stabilize()
        let oldTerm = cluster.raft(1).term
        XCTAssertEqual(cluster.raft(5).term(at: index), oldTerm, "member 5 holds the old leader's entry")
        XCTAssertLessThan(cluster.raft(5).commitIndex, index)

        cluster.heal()
        cluster.isolate(1)
        cluster.isolate(5)
        XCTAssertNotNil(cluster.tickUntil(maxTicks: 100) { c in [2, 3, 4].contains { c.raft($0).isLeader } })
        let leader = try XCTUnwrap([NodeID(2), 3, 4].first { cluster.raft($0).isLeader })
        cluster.proposeAll([8], at: leader)
        cluster.stabilize()
        let newTerm = cluster.raft(leader).term
        XCTAssertEqual(cluster.raft(leader).term(at: index), newTerm, "the new leader's own entry took the index")
        XCTAssertGreaterThanOrEqual(cluster.raft(leader).commitIndex, index)

        var learned = true
        cluster.with(5) { learned = $0.learnCommitted(index: index, term: newTerm) }
        XCTAssertFalse(learned)
        XCTAssertLessThan(cluster.raft(5).commitIndex, index)
        XCTAssertEqual(cluster.raft(5).term(at: index), oldTerm)

        cluster.heal()
        cluster.isolate(1)
        let ticks = cluster.tickUntil(maxTicks: 20) { $0.raft(5).term(at: index) == newTerm }
        XCTAssertNotNil(ticks, "the new leader replaced member 5's entry")
        if cluster.raft(5).commitIndex < index {
            cluster.with(5) { learned = $0.learnCommitted(index: index, term: newTerm) }
            XCTAssertTrue(learned)
        }
        XCTAssertGreaterThanOrEqual(cluster.raft(5).commitIndex, index)
        _ = cluster.tickUntil(maxTicks: 20) { $0.raft(5).appliedIndex == $0.raft(leader).appliedIndex }
        XCTAssertTrue(cluster.node(5).app.values.contains(8))
        XCTAssertFalse(cluster.node(5).app.values.contains(7), "the old leader's entry never applied")
        XCTAssertEqual(cluster.node(5).app.digest, cluster.node(leader).app.digest)
    }
}
