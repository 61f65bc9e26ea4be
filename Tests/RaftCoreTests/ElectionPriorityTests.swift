import ClusterTesting
import RaftCore
import XCTest

/// Election priority (region leader preference): the highest-priority up-to-date voter ends up
/// leading, but the cluster never depends on it being alive.
final class ElectionPriorityTests: XCTestCase {
    /// Member 3 is preferred; 1 and 2 are equal.
    private static let preferThree = TestCluster.Options.configured { $0.priorities = [1: 1, 2: 1, 3: 10] }
    /// The same, with one entry per append message.
    private static let preferThreeSmallMessages = TestCluster.Options.configured {
        $0.priorities = [1: 1, 2: 1, 3: 10]
        $0.maxSizePerMessageBytes = 8
    }

    func testPreferredMemberEndsUpLeadingAfterAColdStart() {
        for seed: UInt64 in 1...10 {
            var cluster = TestCluster(voters: 3, seed: seed, options: Self.preferThree)
            let ticks = cluster.tickUntil(maxTicks: 100) { $0.leader == 3 }
            XCTAssertNotNil(ticks, "seed \(seed): leaders \(cluster.leaders)")
            cluster.proposeAll([1], at: 3)
            cluster.stabilize()
            XCTAssertEqual(cluster.node(1).app.values, [1], "seed \(seed)")
            XCTAssertEqual(cluster.checker.violations, [], "seed \(seed)")
        }
    }

    func testLowerPriorityLeaderHandsOverToTheCaughtUpPreferredMember() {
        var cluster = TestCluster(voters: 3, options: Self.preferThree)
        cluster.elect(1)
        XCTAssertEqual(cluster.leaders, [1])
        var transcript = Transcript()
        XCTAssertNotNil(cluster.tickUntil(maxTicks: 5, &transcript) { $0.leader == 3 }, "handed over within a few heartbeats")
        XCTAssertEqual(transcript.messages(from: 1, to: 3, where: \.isTimeoutNow).count, 1)

        // Leadership stays put from then on.
        let term = cluster.raft(3).term
        cluster.tickAndSettle(&transcript, times: 50)
        XCTAssertEqual(cluster.leaders, [3])
        XCTAssertEqual(cluster.raft(3).term, term)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLaggingPreferredMemberGetsLeadershipOnlyOnceCaughtUp() {
        var cluster = TestCluster(voters: 3, options: Self.preferThreeSmallMessages)
        cluster.elect(1)
        cluster.isolate(3)
        cluster.proposeAll(1...30, at: 1)
        cluster.stabilize()
        let last = cluster.raft(1).lastIndex
        var transcript = Transcript()
        cluster.tickAndSettle(&transcript, times: 20)
        XCTAssertEqual(cluster.leaders, [1], "no transfer to an unreachable member")
        XCTAssertTrue(transcript.messages(where: \.isTimeoutNow).isEmpty)

        // On a slow link (one entry per message, three messages a tick), the leader accepts ten
        // more writes while 3 catches up, and starts handing over (which pauses writes) only
        // once 3 holds its whole log.
        cluster.heal()
        transcript = Transcript()
        var value: UInt64 = 31
        for _ in 0..<100 where cluster.leader == 1 {
            for id in cluster.ids { cluster.tick(id) }
            cluster.settle(&transcript, holding: { $0.to == 3 })
            for _ in 0..<3 {
                guard let next = cluster.inFlight.firstIndex(where: { $0.to == 3 }) else { break }
                cluster.deliver(cluster.inFlight.remove(at: next), &transcript)
                cluster.settle(&transcript, holding: { $0.to == 3 })
            }
            if cluster.raft(1).leadershipTransferTarget != nil {
                XCTAssertEqual(cluster.raft(3).lastIndex, cluster.raft(1).lastIndex, "handing over to a lagging member")
                continue
            }
            guard value <= 40 else { continue }
            if case .failure(let error) = cluster.propose(value, at: 1) { XCTFail("write \(value) refused: \(error)") }
            value += 1
        }
        cluster.stabilize()
        XCTAssertEqual(value, 41, "ten writes accepted while 3 caught up")
        XCTAssertEqual(cluster.leader, 3)
        // By the time it was told to campaign, 3 had acknowledged every entry.
        let timeoutNow = transcript.delivered.firstIndex { $0.body.isTimeoutNow }
        let acks = transcript.delivered.enumerated().filter { position, message in
            message.from == 3 && position < (timeoutNow ?? 0)
                && { if case .appendResponse(let index, false, _, _) = message.body { return index >= last } else { return false } }()
        }
        XCTAssertFalse(acks.isEmpty, "TimeoutNow before 3 caught up")
        XCTAssertEqual(cluster.node(3).app.values, Set(1..<value))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testOthersStillElectALeaderWhileThePreferredMemberIsDown() {
        var cluster = TestCluster(voters: 3, options: Self.preferThree)
        cluster.tickUntil { $0.leader == 3 }
        cluster.crash(3)

        XCTAssertNotNil(cluster.tickUntil(maxTicks: 100) { $0.leader != nil && $0.leader != 3 })
        let fallback = cluster.soleLeader()
        cluster.proposeAll(1...5, at: fallback)
        cluster.stabilize()
        // The fallback leader keeps serving: it does not keep trying to hand over to a dead member.
        var refused = 0
        for value in UInt64(6)...40 {
            cluster.tickAll()
            cluster.stabilize()
            if case .failure = cluster.propose(value, at: fallback) { refused += 1 }
        }
        XCTAssertEqual(cluster.leaders, [fallback])
        XCTAssertEqual(refused, 0)

        // Back and caught up, the preferred member leads again.
        cluster.restart(3)
        XCTAssertNotNil(cluster.tickUntil(maxTicks: 50) { $0.leader == 3 })
        cluster.stabilize()
        XCTAssertEqual(cluster.node(3).app.values.count, 40 - refused)
        XCTAssertTrue(cluster.replicasMatch(3))
        XCTAssertEqual(cluster.checker.violations, [])
    }
}
