import ClusterTesting
import RaftCore
import XCTest

/// `RaftConfig.deferCommitAnnouncements`: a leader whose commit index advances sends no empty
/// appends; the next append with entries, a heartbeat or `announceCommit()` carries it.
final class CommitAnnouncementTests: XCTestCase {
    private func cluster(deferring: Bool) -> TestCluster {
        var options = TestCluster.Options()
        options.configure = { $0.deferCommitAnnouncements = deferring }
        var cluster = TestCluster(voters: 3, options: options)
        cluster.elect(1)
        cluster.with(1) { $0.announceCommit() }
        cluster.stabilize()
        return cluster
    }

    private static func isEmptyAppend(_ body: Message.Body) -> Bool {
        if case .append(_, _, let entries, _) = body { return entries.isEmpty }
        return false
    }

    func testByDefaultEveryCommitIsAnnouncedAtOnce() {
        var cluster = cluster(deferring: false)
        var transcript = Transcript()
        cluster.proposeAll([7], at: 1)
        cluster.settle(&transcript)
        let committed = cluster.raft(1).commitIndex
        XCTAssertEqual(cluster.raft(2).commitIndex, committed)
        XCTAssertEqual(cluster.raft(3).commitIndex, committed)
        XCTAssertEqual(transcript.messages(from: 1, where: Self.isEmptyAppend).count, 2, "one empty append per follower, only to announce the commit")
        XCTAssertFalse(cluster.raft(1).hasUnannouncedCommit)
    }

    func testDeferredCommitTravelsWithTheNextEntriesOrWhenAnnounced() throws {
        var cluster = cluster(deferring: true)
        XCTAssertEqual(cluster.raft(2).commitIndex, cluster.raft(1).commitIndex, "the election's entry was announced")

        var transcript = Transcript()
        cluster.proposeAll([7], at: 1)
        cluster.settle(&transcript)
        let first = cluster.raft(1).commitIndex
        XCTAssertEqual(cluster.raft(1).appliedIndex, first, "the leader commits and applies as before")
        XCTAssertLessThan(cluster.raft(2).commitIndex, first)
        XCTAssertLessThan(cluster.raft(3).commitIndex, first)
        XCTAssertTrue(transcript.messages(from: 1, where: Self.isEmptyAppend).isEmpty, "no append only for the commit")
        XCTAssertTrue(cluster.raft(1).hasUnannouncedCommit)

        // The next entry's append carries the first one's commit.
        transcript = Transcript()
        cluster.proposeAll([8], at: 1)
        cluster.settle(&transcript)
        let second = cluster.raft(1).commitIndex
        XCTAssertGreaterThan(second, first)
        XCTAssertEqual(cluster.raft(2).commitIndex, first)
        XCTAssertEqual(cluster.raft(3).commitIndex, first)
        XCTAssertEqual(cluster.raft(2).appliedIndex, first, "the follower applied what it learned had committed")
        XCTAssertTrue(transcript.messages(from: 1, where: Self.isEmptyAppend).isEmpty)

        // The driver announces the rest: one append per follower, and nothing is left to tell.
        transcript = Transcript()
        cluster.with(1) { $0.announceCommit() }
        cluster.settle(&transcript)
        XCTAssertEqual(transcript.messages(from: 1, where: Self.isEmptyAppend).count, 2)
        XCTAssertEqual(cluster.raft(2).commitIndex, second)
        XCTAssertEqual(cluster.raft(3).commitIndex, second)
        XCTAssertFalse(cluster.raft(1).hasUnannouncedCommit)
        cluster.with(1) { $0.announceCommit() }
        XCTAssertTrue(cluster.inFlight.isEmpty, "announcing again sends nothing")
    }

    func testHeartbeatsCarryTheCommitWithoutTheDriver() {
        var cluster = cluster(deferring: true)
        cluster.proposeAll([7], at: 1)
        cluster.stabilize()
        let committed = cluster.raft(1).commitIndex
        XCTAssertLessThan(cluster.raft(2).commitIndex, committed)
        var transcript = Transcript()
        let ticks = cluster.tickUntil(maxTicks: 5, &transcript) { cluster in
            cluster.raft(2).commitIndex == committed && cluster.raft(3).commitIndex == committed
        }
        XCTAssertNotNil(ticks, "a heartbeat told the followers")
        XCTAssertEqual(cluster.raft(3).appliedIndex, committed)
    }

    func testOnlyLeadersHaveCommitsToAnnounce() {
        var cluster = cluster(deferring: true)
        cluster.proposeAll([7], at: 1)
        cluster.stabilize()
        XCTAssertFalse(cluster.raft(2).hasUnannouncedCommit)
        cluster.with(2) { $0.announceCommit() }
        XCTAssertTrue(cluster.inFlight.isEmpty, "a follower announces nothing")
    }
}
