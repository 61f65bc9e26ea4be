import ClusterTesting
import RaftCore
import XCTest

/// Linearizable reads (thesis §6.4): ReadIndex confirmed by a heartbeat round, forwarded from
/// followers, and lease reads only when configured.
final class ReadIndexTests: XCTestCase {
    func testLeaderAnswersAReadOnlyAfterAQuorumConfirmedItsLeadership() {
        var cluster = TestCluster(voters: 5)
        cluster.elect(1)
        cluster.proposeAll(1...3, at: 1)
        cluster.stabilize()
        let commit = cluster.raft(1).commitIndex

        cluster.requestRead("r1", at: 1)
        XCTAssertEqual(cluster.takeReads(1).served, [:], "no answer before the heartbeat round")
        let round = cluster.inFlight.filter { $0.body.heartbeatContext == Array("r1".utf8) }
        XCTAssertEqual(Set(round.map(\.to)), [2, 3, 4, 5])

        // The leader plus one follower is not a quorum of five; plus two is.
        var transcript = Transcript()
        cluster.settle(&transcript, holding: { $0.to != 2 && $0.from != 2 })
        XCTAssertEqual(cluster.takeReads(1).served, [:], "answered with two of five")
        cluster.settle(&transcript, holding: { ![2, 3].contains($0.to) && ![2, 3].contains($0.from) })
        XCTAssertEqual(cluster.takeReads(1).served, ["r1": commit])
        cluster.stabilize()
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testPartitionedLeaderNeverAnswersAReadAndFailsItOnSteppingDown() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll([1], at: 1)
        cluster.stabilize()
        cluster.isolate(1)
        cluster.requestRead("stale?", at: 1)

        // The other side elects a leader and commits a write the old leader has not seen.
        XCTAssertNotNil(cluster.tickUntil { $0.leaders.contains { $0 != 1 } })
        let newLeader = cluster.leaders.first { $0 != 1 }!
        cluster.proposeAll([2], at: newLeader)
        cluster.stabilize()

        let reads = cluster.takeReads(1)
        XCTAssertEqual(reads.served, [:], "a read served by the old leader would miss value 2")
        XCTAssertEqual(reads.failed, ["stale?"], "the requester learns to retry elsewhere")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testNewLeaderServesReadsOnlyAfterCommittingAnEntryOfItsTerm() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll(1...3, at: 1)
        cluster.stabilize()

        // 2 wins through a transfer; its appends (carrying its first entry) are held back.
        var transcript = Transcript()
        cluster.with(1) { $0.transferLeadership(to: 2) }
        let fromNewLeader: (Message) -> Bool = { $0.from == 2 && $0.body.isAppend }
        cluster.settle(&transcript, holding: fromNewLeader)
        XCTAssertEqual(cluster.leader, 2)
        let termStart = cluster.raft(2).lastIndex
        XCTAssertEqual(cluster.raft(2).term(at: termStart), cluster.raft(2).term)
        XCTAssertLessThan(cluster.raft(2).commitIndex, termStart)

        cluster.requestRead("early", at: 2)
        cluster.settle(&transcript, holding: fromNewLeader)
        XCTAssertEqual(cluster.takeReads(2).served, [:], "2 does not know the commit index yet")
        XCTAssertTrue(cluster.inFlight.allSatisfy { $0.body.heartbeatContext?.isEmpty ?? true }, "no confirmation round yet")

        cluster.settle(&transcript)
        let served = cluster.takeReads(2).served
        XCTAssertNotNil(served["early"])
        XCTAssertGreaterThanOrEqual(served["early"] ?? 0, termStart)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testFollowerReadIsForwardedToTheLeaderAndAnswered() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll(1...5, at: 1)
        cluster.stabilize()
        let commit = cluster.raft(1).commitIndex

        var transcript = Transcript()
        cluster.requestRead("via-3", at: 3)
        cluster.settle(&transcript)
        XCTAssertEqual(transcript.messages(from: 3, to: 1, where: { if case .readIndex = $0 { return true } else { return false } }).count, 1)
        XCTAssertFalse(transcript.messages(from: 1, where: { $0.heartbeatContext == Array("via-3".utf8) }).isEmpty, "confirmed by a heartbeat round")
        XCTAssertEqual(cluster.takeReads(3).served, ["via-3": commit])
        XCTAssertEqual(cluster.takeReads(1).served, [:], "the answer goes to the asker only")
        XCTAssertGreaterThanOrEqual(cluster.raft(3).appliedIndex, commit, "3 can serve the read locally")

        // A follower that knows no leader fails the read at once instead of hanging.
        cluster.isolate(3)
        cluster.tickUntil(maxTicks: 40) { $0.raft(3).leader == 0 }
        cluster.requestRead("orphan", at: 3)
        XCTAssertEqual(cluster.takeReads(3).failed, ["orphan"])
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLeaseReadsAnswerWithoutAHeartbeatRoundOnlyWhenConfigured() {
        for lease in [false, true] {
            var cluster = TestCluster(voters: 3, options: .configured { $0.leaseBasedReads = lease })
            cluster.elect(1)
            cluster.proposeAll(1...3, at: 1)
            cluster.stabilize()
            let commit = cluster.raft(1).commitIndex

            cluster.requestRead("now", at: 1)
            let confirmation = cluster.inFlight.filter { !($0.body.heartbeatContext?.isEmpty ?? true) }
            if lease {
                XCTAssertEqual(cluster.takeReads(1).served, ["now": commit], "lease read answered at once")
                XCTAssertEqual(confirmation, [], "and without a heartbeat round")
            } else {
                XCTAssertEqual(cluster.takeReads(1).served, [:], "no lease: must confirm first")
                XCTAssertEqual(confirmation.count, 2)
            }
            cluster.stabilize()
            XCTAssertEqual(cluster.checker.violations, [])
        }
    }

    func testDeposedLeaderNeverServesAStaleLeaseRead() {
        // A lease read is only safe if the old leader gives up before anyone else can be elected.
        var cluster = TestCluster(voters: 3, options: .configured { $0.leaseBasedReads = true })
        cluster.elect(1)
        cluster.tickAll(times: 4)
        cluster.stabilize()
        cluster.proposeAll([1], at: 1)
        cluster.stabilize()
        cluster.isolate(1)

        XCTAssertNotNil(cluster.tickUntil { $0.leaders.contains { $0 != 1 } })
        let newLeader = cluster.leaders.first { $0 != 1 }!
        guard case .success(let written) = cluster.propose(2, at: newLeader) else { return XCTFail("write refused") }
        cluster.stabilize()
        XCTAssertEqual(cluster.raft(newLeader).commitIndex, written)

        cluster.requestRead("after-write", at: 1)
        let served = cluster.takeReads(1).served
        XCTAssertNil(served["after-write"], "old leader \(cluster.raft(1).role) served index \(served["after-write"] ?? 0) < \(written)")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLeaseReadDuringLeadershipTransferIsNotServedFromTheOldLease() {
        // Once TimeoutNow is out, the target may win and commit at once (transfer campaigns
        // bypass leader stickiness), so the old leader's lease no longer proves anything.
        var cluster = TestCluster(voters: 3, options: .configured { $0.leaseBasedReads = true })
        cluster.elect(1)
        cluster.proposeAll([1], at: 1)
        cluster.stabilize()

        var transcript = Transcript()
        cluster.with(1) { $0.transferLeadership(to: 2) }
        cluster.settle(&transcript, holding: { $0.to == 1 })
        XCTAssertEqual(cluster.raft(2).role, .leader)
        guard case .success(let written) = cluster.propose(2, at: 2) else { return XCTFail("write refused") }
        cluster.settle(&transcript, holding: { $0.to == 1 })
        XCTAssertEqual(cluster.raft(2).commitIndex, written)
        XCTAssertEqual(cluster.raft(1).role, .leader, "1 has not heard of the new term yet")

        cluster.requestRead("mid-transfer", at: 1)
        cluster.stabilize()
        let served = cluster.takeReads(1).served
        if let index = served["mid-transfer"] {
            XCTAssertGreaterThanOrEqual(index, written, "stale read point: value 2 was committed before the read")
        }
        XCTAssertEqual(cluster.leader, 2)
        XCTAssertEqual(cluster.checker.violations, [])
    }
}
