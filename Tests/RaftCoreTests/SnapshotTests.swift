import ClusterTesting
import RaftCore
import XCTest

/// Snapshots and log compaction: a follower that fell behind the compacted log is sent the
/// application's snapshot in chunks, resent where chunks were lost, and continues from it.
final class SnapshotTests: XCTestCase {
    private static let chunkBytes = 256

    /// Snapshot every 10 applied entries, keep 5 below it, pad snapshots to about ten chunks.
    private static func snapshottingCluster(joining: [NodeID] = [], releasingData: Bool = false) -> TestCluster {
        var options = TestCluster.Options.configured { $0.snapshotChunkBytes = SnapshotTests.chunkBytes }
        options.releasesSnapshotData = releasingData
        options.snapshotInterval = 10
        options.retainedEntries = 5
        options.snapshotPadding = 2_000
        return TestCluster(voters: 3, joining: joining, options: options)
    }

    /// A cluster where member 3 missed 60 entries that everyone else has compacted away.
    private static func clusterWithFollowerBehindTheSnapshot(releasingData: Bool = false) -> TestCluster {
        var cluster = snapshottingCluster(releasingData: releasingData)
        cluster.elect(1)
        cluster.proposeAll(1...5, at: 1)
        cluster.stabilize()
        cluster.crash(3)
        cluster.proposeAll(6...65, at: 1)
        cluster.stabilize()
        XCTAssertGreaterThan(cluster.raft(1).firstIndex, cluster.node(3).storage.entries.last!.index + 1, "3's next entry is gone")
        cluster.restart(3)
        return cluster
    }

    /// Ticks until the leader starts sending the snapshot, keeping its chunks in flight.
    private static func tickUntilChunksAreInFlight(_ cluster: inout TestCluster, _ transcript: inout Transcript) {
        for _ in 0..<20 where !cluster.inFlight.contains(where: \.body.isSnapshotChunk) {
            cluster.tickAndSettle(&transcript, holding: \.body.isSnapshotChunk)
        }
        XCTAssertGreaterThanOrEqual(cluster.inFlight.filter(\.body.isSnapshotChunk).count, 2)
    }

    func testMembersSnapshotAndCompactTheirLogs() {
        var cluster = Self.snapshottingCluster()
        cluster.elect(1)
        cluster.proposeAll(1...50, at: 1)
        cluster.stabilize()
        for id in cluster.ids {
            let storage = cluster.node(id).storage
            XCTAssertGreaterThanOrEqual(storage.snapshot.metadata.index, 40, "member \(id)")
            XCTAssertLessThanOrEqual(storage.entries.count, 20, "member \(id) keeps only a tail")
            XCTAssertGreaterThan(cluster.raft(id).firstIndex, 30, "member \(id)")
            XCTAssertEqual(storage.snapshot.metadata.confState.voters, [1, 2, 3])
        }
        // A restart rebuilds the application from the snapshot plus the retained tail.
        let before = cluster.node(2).app
        cluster.crash(2)
        cluster.restart(2)
        XCTAssertEqual(cluster.node(2).app, before)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testFollowerBehindTheCompactedLogReceivesTheSnapshotInChunks() {
        var cluster = Self.clusterWithFollowerBehindTheSnapshot()
        var transcript = Transcript()
        XCTAssertNotNil(cluster.tickUntil(maxTicks: 20, &transcript) { $0.node(3).app.values == Set(1...65) })

        let chunks = transcript.messages(from: 1, to: 3, where: \.isSnapshotChunk).compactMap(\.body.chunk)
        XCTAssertGreaterThanOrEqual(chunks.count, 2, "sent in several chunks")
        XCTAssertTrue(chunks.allSatisfy { $0.data.count <= Self.chunkBytes }, "\(chunks.map(\.data.count))")
        XCTAssertEqual(chunks.map(\.offset), chunks.indices.map { $0 * Self.chunkBytes }, "in order, each once")
        XCTAssertEqual(chunks.filter(\.done).count, 1)
        XCTAssertEqual(chunks.reduce(0) { $0 + $1.data.count }, chunks.first?.total)

        // 3 installed it, holds the leader's application state and replicates from there.
        XCTAssertEqual(cluster.node(3).storage.snapshot.metadata.index, chunks.first?.index)
        XCTAssertEqual(cluster.node(3).app.digest, cluster.node(1).app.digest)
        cluster.proposeAll(66...70, at: 1)
        cluster.stabilize()
        XCTAssertEqual(cluster.node(3).app, cluster.node(1).app)
        XCTAssertTrue(cluster.replicasMatch(1))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testReleasedSnapshotDataIsAskedForWhenAFollowerNeedsItAndReleasedAgainAfterTheTransfer() {
        var cluster = Self.clusterWithFollowerBehindTheSnapshot(releasingData: true)
        // Every member released its snapshot's data once nobody needed it.
        for id in [1, 2] as [NodeID] {
            XCTAssertFalse(cluster.raft(id).holdsSnapshotData, "member \(id)")
            XCTAssertGreaterThan(cluster.raft(id).snapshotMetadata.index, 0)
        }
        var transcript = Transcript()
        XCTAssertNotNil(cluster.tickUntil(maxTicks: 30, &transcript) { $0.node(3).app.values == Set(1...65) })
        let chunks = transcript.messages(from: 1, to: 3, where: \.isSnapshotChunk).compactMap(\.body.chunk)
        XCTAssertGreaterThanOrEqual(chunks.count, 2, "the leader got its data back and sent it in chunks")
        XCTAssertEqual(cluster.node(3).app.digest, cluster.node(1).app.digest)
        cluster.stabilize()
        XCTAssertFalse(cluster.raft(1).holdsSnapshotData, "released again once the transfer was done")
        XCTAssertFalse(cluster.raft(1).wantsSnapshotData)
        cluster.proposeAll(66...70, at: 1)
        cluster.stabilize()
        XCTAssertTrue(cluster.replicasMatch(1))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLostMiddleChunkIsResent() {
        var cluster = Self.clusterWithFollowerBehindTheSnapshot()
        var transcript = Transcript()
        // Hold the chunks back, then lose the second one.
        Self.tickUntilChunksAreInFlight(&cluster, &transcript)
        let lost = cluster.inFlight.first { $0.body.chunk?.offset == Self.chunkBytes }
        XCTAssertNotNil(lost)
        cluster.inFlight.removeAll { $0.body.chunk?.offset == Self.chunkBytes }

        // 3 reports the gap as soon as the next chunk arrives: no need to wait for the stall timer.
        cluster.settle(&transcript)
        XCTAssertEqual(cluster.node(3).app.values, Set(1...65), "installed without a tick")
        let resent = transcript.messages(from: 1, to: 3, where: { $0.chunk?.offset == Self.chunkBytes })
        XCTAssertEqual(resent.count, 1, "the lost chunk was resent")
        let chunkMessages = transcript.messages(from: 1, to: 3, where: \.isSnapshotChunk).count
        XCTAssertLessThanOrEqual(chunkMessages, 4 * 10, "resending stays proportionate: \(chunkMessages) chunk messages")
        XCTAssertEqual(cluster.node(3).app.digest, cluster.node(1).app.digest)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testFollowerRestartingMidTransferGetsTheSnapshotFromTheStart() {
        var cluster = Self.clusterWithFollowerBehindTheSnapshot()
        var transcript = Transcript()
        Self.tickUntilChunksAreInFlight(&cluster, &transcript)
        // Three chunks arrive, then 3 crashes and loses the partial snapshot it held in memory.
        for _ in 0..<3 {
            let next = cluster.inFlight.firstIndex { $0.body.isSnapshotChunk }!
            cluster.deliver(cluster.inFlight.remove(at: next), &transcript)
        }
        cluster.settle(&transcript, holding: \.body.isSnapshotChunk)
        cluster.crash(3)
        cluster.restart(3)

        XCTAssertNotNil(cluster.tickUntil(maxTicks: 40, &transcript) { $0.node(3).app.values == Set(1...65) }, "transfer resumed")
        let restarts = transcript.messages(from: 1, to: 3, where: { $0.chunk?.offset == 0 })
        XCTAssertEqual(restarts.count, 2, "sent from the start again")
        XCTAssertEqual(cluster.node(3).app, cluster.node(1).app)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testNewerSnapshotTakenMidTransferReplacesTheOneBeingSent() {
        var cluster = Self.clusterWithFollowerBehindTheSnapshot()
        var transcript = Transcript()
        Self.tickUntilChunksAreInFlight(&cluster, &transcript)
        let first = cluster.inFlight.compactMap(\.body.chunk).first!.index
        // While the chunks travel, the leader commits 20 more entries and snapshots again.
        cluster.proposeAll(66...85, at: 1)
        cluster.settle(&transcript, holding: \.body.isSnapshotChunk)
        XCTAssertGreaterThan(cluster.node(1).storage.snapshot.metadata.index, first)

        XCTAssertNotNil(cluster.tickUntil(maxTicks: 40, &transcript) { $0.node(3).app.values == Set(1...85) })
        XCTAssertEqual(cluster.node(3).app, cluster.node(1).app)
        XCTAssertTrue(cluster.replicasMatch(1))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testMemberJoiningAfterCompactionStartsFromTheSnapshotAndKnowsTheMembership() {
        var cluster = Self.snapshottingCluster(joining: [4])
        cluster.elect(1)
        cluster.proposeAll(1...40, at: 1)
        cluster.stabilize()
        XCTAssertGreaterThan(cluster.raft(1).firstIndex, 1, "the log start is gone")

        var transcript = Transcript()
        guard case .success = cluster.proposeConfChange(ConfChange([.addVoter(4)]), at: 1) else { return XCTFail("refused") }
        XCTAssertNotNil(cluster.tickUntil(maxTicks: 20, &transcript) { $0.node(4).app.values == Set(1...40) })
        XCTAssertGreaterThanOrEqual(transcript.messages(from: 1, to: 4, where: \.isSnapshotChunk).count, 2)
        XCTAssertEqual(cluster.raft(4).confState.voters, [1, 2, 3, 4])
        cluster.crash(1)
        XCTAssertNotNil(cluster.tickUntil { $0.leader != nil })
        let leader = cluster.soleLeader()
        cluster.proposeAll([41], at: leader)
        cluster.stabilize()
        XCTAssertEqual(cluster.node(4).app.values, Set(1...41))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLostLastChunkIsResentAfterTheTransferStalls() {
        var cluster = Self.clusterWithFollowerBehindTheSnapshot()
        var transcript = Transcript()
        Self.tickUntilChunksAreInFlight(&cluster, &transcript)
        let last = cluster.inFlight.first { $0.body.chunk?.done == true }
        XCTAssertNotNil(last)
        cluster.inFlight.removeAll { $0.body.chunk?.done == true }
        cluster.settle(&transcript)
        XCTAssertTrue(cluster.node(3).app.values.isEmpty || cluster.node(3).app.values.count < 65, "not installed without its last chunk")

        let ticks = cluster.tickUntil(maxTicks: 30, &transcript) { $0.node(3).app.values == Set(1...65) }
        XCTAssertNotNil(ticks, "the stalled transfer was resumed")
        XCTAssertEqual(transcript.messages(from: 1, to: 3, where: { $0.chunk?.done == true }).count, 1, "the last chunk arrived once, resent")
        XCTAssertEqual(cluster.node(3).app, cluster.node(1).app)
        XCTAssertEqual(cluster.checker.violations, [])
    }
}

extension Message.Body {
    /// The fields of a snapshot chunk, or nil for any other message.
    fileprivate var chunk: (index: LogIndex, total: Int, offset: Int, data: [UInt8], done: Bool)? {
        guard case .snapshotChunk(let metadata, let total, let offset, let data, let done) = self else { return nil }
        return (metadata.index, total, offset, data, done)
    }
}
