import ClusterTesting
import RaftCore
import XCTest

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
}
