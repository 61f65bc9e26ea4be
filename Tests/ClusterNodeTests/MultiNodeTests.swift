import ClusterNode
import Foundation
import IncidentCore
import RaftCore
import XCTest

/// Three (or more) nodes in one process on the switchboard: forwarding, failover, reads,
/// membership and leadership — what `incidentd` does across machines, without sockets.
final class MultiNodeTests: XCTestCase {
    func testWritesOnAnyNodeAreForwardedCommittedAndAppliedEverywhere() async throws {
        try await writesOnAnyNodeAreForwardedCommittedAndAppliedEverywhere { _ in }
    }

    /// The same with every member blocking its loop on each log sync (`deferLogSyncs = false`).
    func testWritesOnAnyNodeAreForwardedCommittedAndAppliedEverywhereWithInlineSyncs() async throws {
        try await writesOnAnyNodeAreForwardedCommittedAndAppliedEverywhere { $0.deferLogSyncs = false }
    }

    /// Once a sync is busy (here: any sync), the next one waits out the interval, and what
    /// arrives meanwhile shares it. Writes spaced a millisecond apart, which would otherwise get
    /// a sync each, land in one or two.
    func testUnderLoadTheNextLogSyncWaitsAndCarriesEverythingThatArrivedMeanwhile() async throws {
        let cluster = try LocalCluster(count: 3, configure: {
            $0.minBusySyncIntervalMicroseconds = 50_000  // below the 200 ms election timeout: heartbeats wait too
            $0.busySyncEntries = 1
        })
        let leader = try await cluster.leader()
        let node = cluster.nodes[leader]!
        _ = try await node.submit(.ingest(events: [event("opens the interval")], actor: .user("test")))
        let before = try await node.status().logAppends
        let writes = (0..<10).map { i in
            Task {
                try await Task.sleep(for: .milliseconds(i))
                return try await node.submit(.ingest(events: [event("held \(i)")], actor: .user("test"))).index
            }
        }
        var indexes: [LogIndex] = []
        for write in writes { indexes.append(try await write.value) }
        let after = try await node.status().logAppends
        XCTAssertEqual(Set(indexes).count, 10)
        XCTAssertLessThanOrEqual(after - before, 3, "10 writes over ~10 ms in \(after - before) log syncs")
        await cluster.shutdown()
    }

    /// While the next Ready is held back, what commits and is durable is applied and answered
    /// at once; only the next write waits. A write after a quiet spell is synced at once and
    /// its sync opens a hold (300 ms here); the follower's acknowledgement commits it
    /// well before the hold ends. Through a follower the same: that node synced its copy (and
    /// opened its own hold) before the leader's answer told it the write committed. Before,
    /// every such write waited for the hold's end on the node that answered it. (Ticks of 100
    /// ms: election timeouts of 1–2 s, so that held heartbeats start no election. Three tries
    /// each, in case a background write opened a hold just before.)
    func testWritesThatCommitDuringAHoldAreAnsweredBeforeItEnds() async throws {
        let hold = 300
        let cluster = try LocalCluster(count: 3, configure: {
            $0.tickIntervalMilliseconds = 100
            $0.minBusySyncIntervalMicroseconds = hold * 1_000
            $0.busySyncEntries = 1
        })
        let leader = try await cluster.leader()
        let follower = cluster.nodes.keys.sorted().first { $0 != leader }!
        for through in [leader, follower] {
            var fastest = Double.infinity
            for attempt in 0..<3 {
                // Every node's hold is over, including the one opened by the two entries the
                // leader proposes after each of these writes, written when the write's hold ends.
                try await Task.sleep(for: .milliseconds(2 * hold + 300))
                let started = ContinuousClock.now
                let index = try await cluster.nodes[through]!.submit(.ingest(events: [event("through \(through), try \(attempt)")], actor: .user("test"))).index
                let took = ContinuousClock.now - started
                fastest = min(fastest, Double(took.components.seconds) * 1_000 + Double(took.components.attoseconds) / 1e15)
                XCTAssertGreaterThan(index, 0)
            }
            XCTAssertLessThan(fastest, Double(hold) / 2, "a write through node \(through) waited for the hold (\(hold) ms) to end")
        }
        await cluster.shutdown()
    }

    /// A lone write's commit reaches the followers though no append with entries follows it:
    /// the leader announces it once `commitAnnouncementDelayMicroseconds` have passed. (Ticks of
    /// 100 ms, so that a heartbeat seldom carries it first; five writes, so that some are
    /// announced.) With the delay at 0 every commit goes out at once and none is left to announce.
    func testALoneWritesCommitIsAnnouncedToTheFollowersAfterTheDelay() async throws {
        for delay in [1_000, 0] {
            let cluster = try LocalCluster(count: 3, configure: {
                $0.tickIntervalMilliseconds = 100
                $0.commitAnnouncementDelayMicroseconds = delay
            })
            let leader = try await cluster.leader()
            let node = cluster.nodes[leader]!
            let before = try await node.status().commitAnnouncements
            for i in 0..<5 {
                let index = try await node.submit(.ingest(events: [event("lone write \(i)")], actor: .user("test"))).index
                try await cluster.waitApplied(index)
            }
            let announced = try await node.status().commitAnnouncements - before
            if delay > 0 {
                XCTAssertGreaterThan(announced, 0, "no commit of five lone writes was announced")
            } else {
                XCTAssertEqual(announced, 0)
            }
            for follower in cluster.nodes.keys where follower != leader {
                let titles = try await openTitles(cluster.nodes[follower]!)
                XCTAssertEqual(titles, Set((0..<5).map { "lone write \($0)" }))
            }
            await cluster.shutdown()
        }
    }

    /// A write answered through a follower is in that follower's state by the time it is
    /// answered — with the leader deferring its commit announcements too: the leader's answer
    /// carries the entry's term, from which the follower commits the entry at once.
    func testAWriteAnsweredThroughAFollowerIsAppliedThereByThenEvenWithDeferredAnnouncements() async throws {
        try await writesAnsweredThroughAFollowerAreAppliedThere(termsInAnswers: true)
    }

    /// The same with a leader of an earlier build, whose answers carry no term: the follower
    /// answers once the leader's commit announcement let it apply the write.
    func testWithALeaderWhoseAnswersCarryNoTermTheFollowerWaitsForTheAnnouncement() async throws {
        try await writesAnsweredThroughAFollowerAreAppliedThere(termsInAnswers: false)
    }

    private func writesAnsweredThroughAFollowerAreAppliedThere(termsInAnswers: Bool) async throws {
        let cluster = try LocalCluster(count: 3, configure: {
            $0.tickIntervalMilliseconds = 100
            $0.commitAnnouncementDelayMicroseconds = 100_000
        })
        if !termsInAnswers { cluster.board.answerWithoutTerms() }
        let leader = try await cluster.leader()
        let follower = cluster.follower(excluding: leader)
        let node = cluster.nodes[follower]!
        var titles: Set<String> = []
        for i in 0..<5 {
            let title = "through the follower \(i)"
            let submission: Submission
            if i % 2 == 0 {
                submission = try await node.submit(.ingest(events: [event(title)], actor: .user("test")))
            } else {
                submission = try await withCheckedThrowingContinuation { continuation in
                    node.submit(.ingest(events: [event(title)], actor: .user("test"))) { continuation.resume(with: $0.mapError { $0 as any Error }) }
                }
            }
            XCTAssertEqual(submission.term > 0, termsInAnswers, "the term in the leader's answer")
            XCTAssertGreaterThanOrEqual(node.appliedIndex, submission.index, "answered before the follower applied it")
            titles.insert(title)
            let seen = try await openTitles(node)
            XCTAssertEqual(seen, titles, "a local read on the follower misses a write answered through it")
        }
        let status = try await node.status()
        if termsInAnswers {
            XCTAssertGreaterThan(status.commitsLearnedFromAnswers, 0, "the follower waited for the leader to announce every commit")
        } else {
            XCTAssertEqual(status.commitsLearnedFromAnswers, 0)
        }
        XCTAssertEqual(status.answersBeforeCatchingUp, 0)
        await cluster.shutdown()
    }

    private func writesOnAnyNodeAreForwardedCommittedAndAppliedEverywhere(configure: @escaping (inout NodeConfig) -> Void) async throws {
        let cluster = try LocalCluster(count: 3, configure: configure)
        let leader = try await cluster.leader()
        var last: LogIndex = 0
        for id in cluster.nodes.keys.sorted() {
            let submission = try await cluster.nodes[id]!.submit(.ingest(events: [event("posted to node \(id)")], actor: .user("test")))
            XCTAssertFalse(submission.duplicate)
            last = max(last, submission.index)
        }
        try await cluster.waitApplied(last)
        for node in cluster.nodes.values {
            let titles = try await openTitles(node)
            XCTAssertEqual(titles, ["posted to node 1", "posted to node 2", "posted to node 3"])
        }
        let follower = cluster.follower(excluding: leader)
        let status = try await cluster.nodes[follower]!.status()
        XCTAssertEqual(status.leader, leader)
        XCTAssertEqual(status.voters, [1, 2, 3])
        // Each follower applied the write it forwarded from the command it kept, not decoded.
        for id in cluster.nodes.keys where id != leader {
            let reused = try await cluster.nodes[id]!.status().forwardedCommandsReused
            XCTAssertEqual(reused, 1, "node \(id)")
        }
        // And the leader proposed the two forwarded writes from their commands' bytes as sent,
        // without encoding them again (more only if one was retried).
        let asSent = try await cluster.nodes[leader]!.status().forwardedCommandsProposedAsSent
        XCTAssertGreaterThanOrEqual(asSent, 2)
        await cluster.shutdown()
    }

    func testALinearizableReadOnAFollowerSeesAWriteAcknowledgedElsewhere() async throws {
        let cluster = try LocalCluster(count: 3)
        let leader = try await cluster.leader()
        let follower = cluster.follower(excluding: leader)
        for i in 0..<20 {
            _ = try await cluster.nodes[leader]!.submit(.ingest(events: [event("read-your-writes \(i)")], actor: .user("test")))
            let seen = try await cluster.nodes[follower]!.read { context in
                context.state.machine.incidents(limit: 1_000).contains { $0.title == "read-your-writes \(i)" }
            }
            XCTAssertTrue(seen, "write \(i) acknowledged by the leader must be visible to a linearizable read on a follower")
        }
        await cluster.shutdown()
    }

    func testLeaderFailureElectsANewLeaderAndLosesNothingAcknowledged() async throws {
        let cluster = try LocalCluster(count: 3)
        let first = try await cluster.leader()
        var acknowledged: Set<String> = []
        for i in 0..<30 {
            let title = "before failover \(i)"
            let via = cluster.follower(excluding: first)
            _ = try await cluster.nodes[via]!.submit(.ingest(events: [event(title)], actor: .user("test")))
            acknowledged.insert(title)
        }
        await cluster.stop(first)
        let second = try await cluster.leader(excluding: [first])
        XCTAssertNotEqual(second, first)
        for i in 0..<30 {
            let title = "after failover \(i)"
            let via = cluster.nodes.keys.sorted()[i % 2]
            _ = try await cluster.nodes[via]!.submit(.ingest(events: [event(title)], actor: .user("test")))
            acknowledged.insert(title)
        }
        try cluster.start(first)  // restarts from its data directory and catches up
        let newest = try await cluster.nodes[second]!.status().commitIndex
        try await cluster.waitApplied(newest)
        for (id, node) in cluster.nodes {
            let titles = try await openTitles(node)
            XCTAssertEqual(titles, acknowledged, "node \(id)")
        }
        await cluster.shutdown()
    }

    func testAForwardedWriteWhoseAnswerIsLostIsRetriedAndAppliedOnce() async throws {
        let cluster = try LocalCluster(count: 3)
        let leader = try await cluster.leader()
        let follower = cluster.follower(excluding: leader)
        cluster.board.loseNextAnswers(2)
        let submission = try await cluster.nodes[follower]!.submit(.ingest(events: [event("answer lost", dedupKey: "lost-1")], actor: .user("test")))
        XCTAssertTrue(submission.duplicate, "the retry got the first answer instead of applying again")
        try await cluster.waitApplied(submission.index)
        let count = try await cluster.nodes[leader]!.read { context in
            context.state.machine.incidents(limit: 10).first { $0.title == "answer lost" }?.occurrenceCount
        }
        XCTAssertEqual(count, 1, "applied once although the follower sent it three times")
        await cluster.shutdown()
    }

    /// A follower whose write's answer was lost retries; the leader says the write was applied
    /// earlier, at an index this follower has not reached (its appends are held back). The retry
    /// waits for the follower to apply it and is woken by that apply, not by its (30 s) deadline.
    func testARetryThatFindsItsWriteAppliedEarlierIsAnsweredOnceThisNodeAppliesIt() async throws {
        let cluster = try LocalCluster(count: 3, configure: {
            $0.leaderWaitMilliseconds = 30_000
            $0.electionTicks = 100  // the held follower must not campaign meanwhile
        })
        let leader = try await cluster.leader()
        let followerID = cluster.follower(excluding: leader)
        let follower = cluster.nodes[followerID]!
        _ = try await follower.submit(.ingest(events: [event("before", dedupKey: "before")], actor: .user("test")))
        cluster.board.hold(followerID)
        cluster.board.loseNextAnswers(1)
        let write = Task { try await follower.submit(.ingest(events: [event("applied earlier", dedupKey: "earlier")], actor: .user("test"))) }
        let waiting = try await eventually(20) { try await follower.status().writesCatchingUp == 1 }
        XCTAssertTrue(waiting, "the retry waits for this node to apply its write")
        let status = try await follower.status()
        let leaderApplied = try await cluster.nodes[leader]!.status().appliedIndex
        XCTAssertLessThan(status.appliedIndex, leaderApplied, "held back, the follower has not applied the write")
        cluster.board.release(followerID)
        // The loop ends such waits in the turn that applies their index, so no status shows the
        // write applied while its retry still waits (a wait woken only by its deadline would).
        var caughtUp: NodeStatus?
        _ = try await eventually(20) {
            let now = try await follower.status()
            if now.appliedIndex >= leaderApplied { caughtUp = now }
            return caughtUp != nil
        }
        XCTAssertNotNil(caughtUp, "the follower catches up once released")
        XCTAssertEqual(caughtUp?.writesCatchingUp, 0, "the apply itself ended the retry's wait")
        let submission = try await write.value
        XCTAssertTrue(submission.duplicate, "answered with the first application's answer")
        let count = try await follower.read(.local) { context in
            context.state.machine.incidents(limit: 10).first { $0.title == "applied earlier" }?.occurrenceCount
        }
        XCTAssertEqual(count, 1, "applied once, and visible on the follower that answered")
        await cluster.shutdown()
    }

    /// `submit(_:requestID:completion:)` (the HTTP fast path's) answers like `submit` on the leader
    /// and on a follower, and a forwarded write whose answers are lost continues in a task with
    /// the same retries: applied once.
    func testTheCompletionFormOfSubmitAnswersLikeTheAsyncOneAndRetriesALostAnswer() async throws {
        let cluster = try LocalCluster(count: 3)
        let leader = try await cluster.leader()
        let follower = cluster.follower(excluding: leader)
        func submit(on id: NodeID, _ title: String, requestID: String = "") async throws -> Submission {
            try await withCheckedThrowingContinuation { continuation in
                cluster.nodes[id]!.submit(.ingest(events: [event(title, dedupKey: title)], actor: .user("test")), requestID: requestID) {
                    continuation.resume(with: $0.mapError { $0 as any Error })
                }
            }
        }
        let onLeader = try await submit(on: leader, "on the leader")
        let onFollower = try await submit(on: follower, "on a follower")
        XCTAssertFalse(onLeader.duplicate)
        XCTAssertFalse(onFollower.duplicate)
        let replay = try await submit(on: follower, "on a follower again", requestID: "key:1")
        let replayed = try await submit(on: leader, "on a follower again", requestID: "key:1")
        XCTAssertFalse(replay.duplicate)
        XCTAssertTrue(replayed.duplicate, "the same request id answered from the request table")
        cluster.board.loseNextAnswers(2)
        let lost = try await submit(on: follower, "answer lost")
        XCTAssertTrue(lost.duplicate, "the retry got the first answer instead of applying again")
        try await cluster.waitApplied(lost.index)
        let counts = try await cluster.nodes[leader]!.read { context in
            context.state.machine.incidents(limit: 10).map { "\($0.title): \($0.occurrenceCount)" }.sorted()
        }
        XCTAssertEqual(counts, ["answer lost: 1", "on a follower again: 1", "on a follower: 1", "on the leader: 1"])
        await cluster.shutdown()
    }

    func testConcurrentWritesOnAFollowerTravelInBatchesAndApplyOnceEvenWhenABatchAnswerIsLost() async throws {
        let cluster = try LocalCluster(count: 3)
        let leader = try await cluster.leader()
        let follower = cluster.nodes[cluster.follower(excluding: leader)]!
        cluster.board.loseNextAnswers(1)
        let submissions = try await withThrowingTaskGroup(of: Submission.self) { group in
            for i in 0..<300 {
                group.addTask { try await follower.submit(.ingest(events: [event("batched \(i)", dedupKey: "b\(i)")], actor: .user("test"))) }
            }
            var all: [Submission] = []
            for try await submission in group { all.append(submission) }
            return all
        }
        XCTAssertEqual(submissions.count, 300)
        XCTAssertLessThan(cluster.board.forwardsCarried, 150, "300 concurrent writes went in batches, not one Forward each")
        try await cluster.waitApplied(submissions.map(\.index).max()!)
        let counts = try await cluster.nodes[leader]!.read { context in
            context.state.machine.incidents(limit: 1_000).filter { $0.title.hasPrefix("batched ") }.map(\.occurrenceCount)
        }
        XCTAssertEqual(counts.count, 300, "every write applied")
        XCTAssertEqual(Set(counts), [1], "and none twice, although a whole batch's answer was lost and retried")
        await cluster.shutdown()
    }

    func testAnIsolatedLeaderStepsDownAndTheMajorityGoesOn() async throws {
        let cluster = try LocalCluster(count: 3, configure: { $0.leaderWaitMilliseconds = 1_000 })
        let old = try await cluster.leader()
        cluster.board.isolate(old)
        let new = try await cluster.leader(excluding: [old])
        let via = cluster.follower(excluding: old)
        _ = try await cluster.nodes[via]!.submit(.ingest(events: [event("during the partition")], actor: .user("test")))
        do {
            _ = try await cluster.nodes[old]!.submit(.ingest(events: [event("on the cut-off leader")], actor: .user("test")))
            XCTFail("a leader cut off from the majority must not acknowledge a write")
        } catch {}
        cluster.board.heal(old)
        let after = try await cluster.leader()
        XCTAssertNotEqual(after, 0)
        let commit = try await cluster.nodes[new]!.status().commitIndex
        try await cluster.waitApplied(commit)
        let titles = try await openTitles(cluster.nodes[old]!)
        XCTAssertTrue(titles.contains("during the partition"))
        XCTAssertFalse(titles.contains("on the cut-off leader"), "nothing the cut-off leader proposed may commit")
        await cluster.shutdown()
    }

    func testALearnerJoinsCatchesUpIsPromotedAndRemoved() async throws {
        let cluster = try LocalCluster(count: 3)
        let leader = try await cluster.leader()
        for i in 0..<10 { _ = try await cluster.nodes[leader]!.submit(.ingest(events: [event("history \(i)")], actor: .user("test"))) }
        let joinerDirectory = TemporaryDirectory()
        var joinerConfig = cluster.config(for: 4, join: true)
        joinerConfig.dataDirectory = joinerDirectory.path
        joinerConfig.region = "far-away"
        try cluster.start(4, config: joinerConfig)
        let via = cluster.follower(excluding: leader)
        try await cluster.nodes[via]!.addLearner(MemberInfo(id: 4, peerAddress: "local:4", region: "far-away"))
        let commit = try await cluster.nodes[leader]!.status().commitIndex
        try await cluster.waitApplied(commit)
        let learnerTitles = try await openTitles(cluster.nodes[4]!)
        XCTAssertEqual(learnerTitles.count, 10, "the learner caught up")
        var status = try await cluster.nodes[leader]!.status()
        XCTAssertEqual(status.learners, [4])
        try await cluster.nodes[via]!.promote(4)
        status = try await cluster.nodes[leader]!.status()
        XCTAssertEqual(status.voters, [1, 2, 3, 4])
        let members = try await cluster.nodes[4]!.read(.local) { $0.state.members.sorted.map(\.id) }
        XCTAssertEqual(members, [1, 2, 3, 4], "the directory knows every member, founders included")
        try await cluster.nodes[leader]!.remove(4)
        status = try await cluster.nodes[leader]!.status()
        XCTAssertEqual(status.voters, [1, 2, 3])
        XCTAssertEqual(status.learners, [])
        await cluster.shutdown()
        _ = joinerDirectory
    }

    func testMembershipChangesIssuedTogetherWaitForEachOtherInsteadOfConflicting() async throws {
        let cluster = try LocalCluster(count: 3)
        let leader = try await cluster.leader()
        var directories: [TemporaryDirectory] = []
        for id: NodeID in [4, 5] {
            let directory = TemporaryDirectory()
            directories.append(directory)
            var joinerConfig = cluster.config(for: id, join: true)
            joinerConfig.dataDirectory = directory.path
            try cluster.start(id, config: joinerConfig)
        }
        // Both reach the leader within one turn; Raft takes one change at a time, so the second
        // waits for the first to apply (it used to be refused with a conflict).
        let node = cluster.nodes[leader]!
        async let four = node.addLearner(MemberInfo(id: 4, peerAddress: "local:4", region: "r4"))
        async let five = node.addLearner(MemberInfo(id: 5, peerAddress: "local:5", region: "r5"))
        let (indexFour, indexFive) = try await (four, five)
        XCTAssertNotEqual(indexFour, indexFive)
        let status = try await node.status()
        XCTAssertEqual(status.learners, [4, 5])
        let removals = try await withThrowingTaskGroup(of: LogIndex.self) { group in
            for id: NodeID in [4, 5] { group.addTask { try await node.remove(id) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(Set(removals).count, 2)
        let after = try await node.status()
        XCTAssertEqual(after.learners, [])
        XCTAssertEqual(after.voters, [1, 2, 3])
        await cluster.shutdown()
        _ = directories
    }

    func testALearnerBehindACompactedLogCatchesUpFromASnapshot() async throws {
        let cluster = try LocalCluster(count: 3, configure: {
            $0.snapshotEveryEntries = 20
            $0.retainedEntriesAfterSnapshot = 0
        })
        let leader = try await cluster.leader()
        for i in 0..<120 { _ = try await cluster.nodes[leader]!.submit(.ingest(events: [event("history \(i)")], actor: .user("test"))) }
        let compacted = try await eventually { try await cluster.nodes[leader]!.status().firstIndex > 50 }
        XCTAssertTrue(compacted, "the leader's log was compacted")
        let joinerDirectory = TemporaryDirectory()
        var joinerConfig = cluster.config(for: 4, join: true)
        joinerConfig.dataDirectory = joinerDirectory.path
        try cluster.start(4, config: joinerConfig)
        try await cluster.nodes[leader]!.addLearner(MemberInfo(id: 4, peerAddress: "local:4", region: "r4"))
        let commit = try await cluster.nodes[leader]!.status().commitIndex
        try await cluster.waitApplied(commit)
        let titles = try await openTitles(cluster.nodes[4]!)
        XCTAssertEqual(titles.count, 120, "the learner holds everything, installed from a snapshot")
        let snapshotIndex = try await cluster.nodes[4]!.status().snapshotIndex
        XCTAssertGreaterThan(snapshotIndex, 0, "it started from the leader's snapshot, not from entry 1")
        await cluster.shutdown()
        _ = joinerDirectory
    }

    /// Members snapshot a third of the interval apart, so they never copy and encode their
    /// state at the same entry (which made three encodings compete for the cores at once).
    func testMembersTakeTheirSnapshotsAtDifferentPointsOfTheLog() async throws {
        let cluster = try LocalCluster(count: 3, configure: { $0.snapshotEveryEntries = 30 })
        let leader = try await cluster.leader()
        for i in 0..<75 { _ = try await cluster.nodes[leader]!.submit(.ingest(events: [event("one by one \(i)")], actor: .user("test"))) }
        let commit = try await cluster.nodes[leader]!.status().commitIndex
        try await cluster.waitApplied(commit)
        var indexes: [NodeID: LogIndex] = [:]
        for id in cluster.nodes.keys.sorted() {
            _ = await eventually { ((try? await cluster.nodes[id]!.status().snapshotIndex) ?? 0) > 0 }
            indexes[id] = try await cluster.nodes[id]!.status().snapshotIndex
        }
        XCTAssertEqual(Set(indexes.values).count, 3, "two members snapshot at the same entry: \(indexes)")
        await cluster.shutdown()
    }

    func testAMemberAddedLaterInAPreferredRegionTakesTheLead() async throws {
        let cluster = try LocalCluster(count: 3, regions: ["a", "b", "c"], configure: { $0.preferredLeaderRegions = ["far"] })
        let leader = try await cluster.leader()
        let joinerDirectory = TemporaryDirectory()
        var joinerConfig = cluster.config(for: 4, join: true)
        joinerConfig.dataDirectory = joinerDirectory.path
        joinerConfig.region = "far"
        try cluster.start(4, config: joinerConfig)
        try await cluster.nodes[leader]!.addLearner(MemberInfo(id: 4, peerAddress: "local:4", region: "far"))
        try await cluster.waitApplied(try await cluster.nodes[leader]!.status().commitIndex)
        try await cluster.nodes[leader]!.promote(4)
        let moved = await eventually { (try? await cluster.leader()) == 4 }
        XCTAssertTrue(moved, "the caught-up member in the preferred region leads")
        await cluster.shutdown()
        _ = joinerDirectory
    }

    func testLeadershipTransferMovesTheLeaderToTheTarget() async throws {
        let cluster = try LocalCluster(count: 3)
        let leader = try await cluster.leader()
        let target = cluster.follower(excluding: leader)
        try await cluster.nodes[cluster.follower(excluding: target)]!.transferLeadership(to: target)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, try await cluster.leader() != target { try await Task.sleep(nanoseconds: 10_000_000) }
        let now = try await cluster.leader()
        XCTAssertEqual(now, target)
        await cluster.shutdown()
    }

    func testLeadershipSettlesInThePreferredRegion() async throws {
        let cluster = try LocalCluster(count: 3, regions: ["us-east", "eu-west", "ap-south"], configure: {
            $0.preferredLeaderRegions = ["eu-west"]
        })
        let deadline = Date().addingTimeInterval(10)
        var leader = try await cluster.leader()
        while Date() < deadline, leader != 2 {
            try await Task.sleep(nanoseconds: 20_000_000)
            leader = try await cluster.leader()
        }
        XCTAssertEqual(leader, 2, "the eu-west member leads")
        await cluster.stop(2)
        let interim = try await cluster.leader(excluding: [2])
        XCTAssertNotEqual(interim, 2)
        try cluster.start(2)
        var back = try await cluster.leader()
        let until = Date().addingTimeInterval(10)
        while Date() < until, back != 2 {
            try await Task.sleep(nanoseconds: 20_000_000)
            back = try await cluster.leader()
        }
        XCTAssertEqual(back, 2, "leadership returns to the preferred region once its member caught up")
        await cluster.shutdown()
    }
}
