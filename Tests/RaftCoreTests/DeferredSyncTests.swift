import ClusterTesting
import RaftCore
import XCTest

/// A driver that syncs a Ready's write off its thread (`Raft.committedEntriesWhilePersisting`):
/// what it may apply before the sync completes, and that the Ready's own `advance` then neither
/// repeats nor skips anything.
final class DeferredSyncTests: XCTestCase {
    func testLeaderAppliesWhatFollowersAcknowledgeDuringItsOwnSync() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll(1...3, at: 1)
        cluster.stabilize()

        var leader = cluster.raft(1)  // a copy, driven by hand
        let term = leader.term
        _ = try leader.propose(UInt64(4).proposalBytes)
        let first = leader.ready()
        let four = try XCTUnwrap(first.entries.last?.index)
        leader.advance(first)  // 4 is durable on the leader; no follower has acknowledged it yet
        XCTAssertLessThan(leader.commitIndex, four)

        _ = try leader.propose(UInt64(5).proposalBytes)
        let second = leader.ready()  // 5 is being written and synced
        let five = try XCTUnwrap(second.entries.last?.index)
        XCTAssertTrue(second.committedEntries.isEmpty)
        XCTAssertTrue(leader.committedEntriesWhilePersisting(second).isEmpty, "nothing committed yet")

        // 2 acknowledges 4 and 5 while the leader's sync of 5 runs.
        leader.step(Message(from: 2, to: 1, term: term, body: .appendResponse(index: five, reject: false, hintIndex: 0, hintTerm: 0)))
        XCTAssertEqual(leader.commitIndex, four, "5 needs the leader's own durable copy")
        let meanwhile = leader.committedEntriesWhilePersisting(second)
        XCTAssertEqual(meanwhile.map(\.index), [four], "4 is applied without waiting for the sync of 5")
        XCTAssertEqual(leader.appliedIndex, four)
        XCTAssertTrue(leader.committedEntriesWhilePersisting(second).isEmpty, "handed out once")

        leader.advance(second)
        XCTAssertEqual(leader.commitIndex, five)
        XCTAssertEqual(leader.appliedIndex, four, "advance did not count 4 twice, nor 5 before it is handed out")
        let third = leader.ready()
        XCTAssertEqual(third.committedEntries.map(\.index), [five])
        leader.advance(third)
        XCTAssertEqual(leader.appliedIndex, five)
    }

    /// Member 2 of a settled three-member cluster (1 leads), driven by hand: it has stepped the
    /// leader's append of one more entry (not committed yet) and taken the Ready that writes it.
    private func followerWritingOneMoreEntry() throws -> (follower: Raft, entry: Entry, writing: Ready) {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll(1...3, at: 1)
        cluster.stabilize()
        let leaderTerm = cluster.raft(1).term
        let last = cluster.raft(2).lastIndex
        let lastTerm = try XCTUnwrap(cluster.raft(2).term(at: last))

        var follower = cluster.raft(2)
        let entry = Entry(term: leaderTerm, index: last + 1, data: UInt64(4).proposalBytes)
        follower.step(Message(from: 1, to: 2, term: leaderTerm, body: .append(prevIndex: last, prevTerm: lastTerm, entries: [entry], commit: last)))
        let writing = follower.ready()
        XCTAssertEqual(writing.entries.map(\.index), [entry.index])
        return (follower, entry, writing)
    }

    func testFollowerAppliesOnlyWhatIsDurableHere() throws {
        var (follower, entry, writing) = try followerWritingOneMoreEntry()

        // The leader's next heartbeat says the entry committed, while the follower's copy syncs.
        follower.step(Message(from: 1, to: 2, term: entry.term, body: .heartbeat(commit: entry.index, context: [])))
        XCTAssertEqual(follower.commitIndex, entry.index)
        XCTAssertTrue(follower.committedEntriesWhilePersisting(writing).isEmpty, "not durable here yet")
        XCTAssertEqual(follower.appliedIndex, entry.index - 1)

        follower.advance(writing)
        let next = follower.ready()
        XCTAssertEqual(next.committedEntries.map(\.index), [entry.index], "applied once it is durable")
    }

    /// A driver that holds its next Ready back after a sync (`durableCommittedEntries`): a
    /// follower applies the entries of the write it just synced once it learns their commit,
    /// without taking a Ready; an entry it has not written yet waits for the Ready that writes
    /// it; nothing is handed out twice.
    func testAHeldBackFollowerAppliesWhatCommittedAndIsDurableWithoutTakingAReady() throws {
        var (follower, four, writing) = try followerWritingOneMoreEntry()
        let leaderTerm = four.term
        follower.advance(writing)  // four is durable here; the next Ready is held back

        let five = Entry(term: leaderTerm, index: four.index + 1, data: UInt64(5).proposalBytes)
        follower.step(Message(from: 1, to: 2, term: leaderTerm, body: .append(prevIndex: four.index, prevTerm: leaderTerm, entries: [five], commit: four.index - 1)))
        XCTAssertTrue(follower.durableCommittedEntries().isEmpty, "nothing new committed yet")

        // The leader's answer to a forwarded write says both committed.
        XCTAssertTrue(follower.learnCommitted(index: five.index, term: leaderTerm))
        XCTAssertEqual(follower.durableCommittedEntries().map(\.index), [four.index], "five is not written here yet")
        XCTAssertEqual(follower.appliedIndex, four.index)
        XCTAssertTrue(follower.durableCommittedEntries().isEmpty, "handed out once")

        let next = follower.ready()
        XCTAssertEqual(next.entries.map(\.index), [five.index])
        XCTAssertEqual(next.committedEntries.map(\.index), [five.index], "only what was not applied")
        follower.advance(next)
        XCTAssertEqual(follower.appliedIndex, five.index)
    }

    /// The same on a leader: a write it synced commits when a follower acknowledges it during
    /// the hold, and is applied then.
    func testAHeldBackLeaderAppliesWhatAFollowerAcknowledges() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.proposeAll(1...3, at: 1)
        cluster.stabilize()

        var leader = cluster.raft(1)
        let term = leader.term
        _ = try leader.propose(UInt64(4).proposalBytes)
        let writing = leader.ready()
        let four = try XCTUnwrap(writing.entries.last?.index)
        leader.advance(writing)
        XCTAssertTrue(leader.durableCommittedEntries().isEmpty, "not acknowledged yet")
        _ = try leader.propose(UInt64(5).proposalBytes)  // waits for the held Ready

        leader.step(Message(from: 2, to: 1, term: term, body: .appendResponse(index: four, reject: false, hintIndex: 0, hintTerm: 0)))
        XCTAssertEqual(leader.commitIndex, four)
        XCTAssertEqual(leader.durableCommittedEntries().map(\.index), [four])
        XCTAssertEqual(leader.appliedIndex, four)

        let next = leader.ready()
        XCTAssertTrue(next.committedEntries.isEmpty, "four was applied during the hold")
        XCTAssertEqual(next.entries.map(\.index), [four + 1])
        leader.advance(next)
        XCTAssertEqual(leader.appliedIndex, four)
    }

    func testDeferredSyncClusterAgreesAndSurvivesACrashDuringASync() {
        var options = TestCluster.Options()
        options.defersSyncs = true
        var cluster = TestCluster(voters: 3, options: options)
        cluster.elect(1)
        cluster.proposeAll(1...5, at: 1)
        cluster.stabilize()
        cluster.tickUntil(maxTicks: 5) { cluster in cluster.ids.allSatisfy { cluster.node($0).app.values == Set(1...5) } }
        XCTAssertTrue(cluster.ids.allSatisfy { cluster.node($0).app.values == Set(1...5) })

        // The leader writes 6 and its appends leave; it loses power before the sync completes,
        // so its own copy is lost. The followers' copies commit it.
        XCTAssertEqual(cluster.propose(6, at: 1).map { _ in true }, .success(true))
        XCTAssertTrue(cluster.node(1).hasPendingSync)
        XCTAssertEqual(Set(cluster.inFlight.filter { !$0.body.appendEntries.isEmpty }.map(\.to)), [2, 3])
        let six = cluster.node(1).raft.lastIndex
        cluster.crash(1)
        XCTAssertLessThan(cluster.node(1).storage.lastIndex, six, "the unsynced write was lost")
        cluster.stabilize()
        XCTAssertNotNil(cluster.tickUntil { $0.leader != nil })
        let leader = cluster.soleLeader()
        cluster.proposeAll([7], at: leader)
        cluster.stabilize()
        cluster.restart(1)
        XCTAssertNotNil(cluster.tickUntil(maxTicks: 10) { $0.node(1).app.values == Set(1...7) })
        XCTAssertTrue(cluster.replicasMatch(leader))
        XCTAssertEqual(cluster.checker.violations, [])
    }
}
