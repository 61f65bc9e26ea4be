import ClusterNode
import IncidentCore
import XCTest

final class IncidentNodeTests: XCTestCase {
    func testAnEventBecomesAnIncidentAndSurvivesRestart() async throws {
        let directory = TemporaryDirectory()
        var node = try makeNode(directory)
        let first = try await node.submit(.ingest(events: [event("GPU memory exhausted")], actor: .user("test")))
        let incident = try XCTUnwrap(first.eventResults.first?.incident)
        XCTAssertEqual(first.eventResults.first?.disposition, .created)
        let repeated = try await node.submit(.ingest(events: [event("GPU memory exhausted")], actor: .user("test")))
        XCTAssertEqual(repeated.eventResults.first?.disposition, .deduplicated)
        XCTAssertEqual(repeated.eventResults.first?.incident, incident)
        await node.shutdown()

        node = try makeNode(directory)
        let restored = try await node.read { $0.state.machine.incident(incident) }
        XCTAssertEqual(restored?.occurrenceCount, 2)
        let status = try await node.status()
        XCTAssertEqual(status.voters, [1])
        await node.shutdown()
    }

    /// `deferLogSyncs = false` blocks the loop on each sync: the same answers, durability and
    /// group commit as the default.
    func testInlineLogSyncsAnswerRecoverAndGroupCommitLikeDeferredOnes() async throws {
        let directory = TemporaryDirectory()
        let inline: (inout NodeConfig) -> Void = { $0.deferLogSyncs = false }
        var node = try makeNode(directory, configure: inline)
        let first = try await node.submit(.ingest(events: [event("inline sync")], actor: .user("test")))
        let incident = try XCTUnwrap(first.eventResults.first?.incident)
        let writer = node
        let ids = try await withThrowingTaskGroup(of: IncidentID?.self) { group in
            for i in 0..<200 {
                group.addTask { try await writer.submit(.ingest(events: [event("inline \(i)")], actor: .user("test"))).eventResults.first?.incident }
            }
            var ids: [IncidentID?] = []
            for try await id in group { ids.append(id) }
            return ids
        }
        XCTAssertEqual(Set(ids.compactMap { $0 }).count, 200)
        let appends = try await node.status().logAppends
        XCTAssertLessThan(appends, 100, "concurrent writes share appends")
        await node.shutdown()

        node = try makeNode(directory)  // reopened with deferred syncs: the same log
        let restored = try await node.read { ($0.state.machine.incident(incident) != nil, $0.state.machine.openIncidentCount) }
        XCTAssertTrue(restored.0)
        XCTAssertEqual(restored.1, 201)
        await node.shutdown()
    }

    func testConcurrentWritesShareAppendsAndAllApply() async throws {
        let directory = TemporaryDirectory()
        let node = try makeNode(directory)
        let count = 500
        let results = try await withThrowingTaskGroup(of: IncidentID?.self) { group in
            for i in 0..<count {
                group.addTask { try await node.submit(.ingest(events: [event("alert \(i)")], actor: .user("test"))).eventResults.first?.incident }
            }
            var ids: [IncidentID?] = []
            for try await id in group { ids.append(id) }
            return ids
        }
        XCTAssertEqual(Set(results.compactMap { $0 }).count, count)
        let status = try await node.status()
        XCTAssertGreaterThanOrEqual(status.appliedIndex, UInt64(count))
        // Group commit: every command is its own entry, but concurrent ones share appends.
        XCTAssertLessThan(status.logAppends, UInt64(count / 2), "\(status.logAppends) appends for \(count) commands")
        let open = try await node.read { $0.state.machine.openIncidentCount }
        XCTAssertEqual(open, count)
        await node.shutdown()
    }

    func testARetriedRequestIDReturnsTheFirstAnswerAndAppliesOnce() async throws {
        let directory = TemporaryDirectory()
        let node = try makeNode(directory)
        let command = Command.ingest(events: [event("token latency")], actor: .user("test"))
        let first = try await node.submit(command, requestID: "key-1:retry-me")
        let second = try await node.submit(command, requestID: "key-1:retry-me")
        XCTAssertFalse(first.duplicate)
        XCTAssertTrue(second.duplicate)
        XCTAssertEqual(second.eventResults, first.eventResults)
        let count = try await node.read { $0.state.machine.incident(first.eventResults[0].incident!)?.occurrenceCount }
        XCTAssertEqual(count, 1, "the retry must not count as a second occurrence")
        await node.shutdown()
    }

    func testSnapshotsCompactTheLogAndRestartRestoresFromThem() async throws {
        let directory = TemporaryDirectory()
        var node = try makeNode(directory) {
            $0.snapshotEveryEntries = 50
            $0.retainedEntriesAfterSnapshot = 10
            $0.storage.segmentSizeBytes = 4_096
        }
        for i in 0..<200 { _ = try await node.submit(.ingest(events: [event("alert \(i)")], actor: .user("test"))) }
        let before = try await node.status()
        XCTAssertGreaterThan(before.snapshotIndex, 100)
        XCTAssertGreaterThan(before.firstIndex, 50, "the log was compacted")
        await node.shutdown()
        // The compacted segments' files were deleted (off the loop; shutdown waits for that):
        // 200 writes filled dozens of 4 KiB segments, and only those after the snapshot remain.
        let segments = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/raft/wal").filter { $0.hasSuffix(".seg") }
        XCTAssertLessThanOrEqual(segments.count, 4, "\(segments.sorted())")
        node = try makeNode(directory)
        let open = try await node.read { $0.state.machine.openIncidentCount }
        XCTAssertEqual(open, 200)
        await node.shutdown()
    }

    /// The interval between snapshots grows with the state (`snapshotLogRatio`): while the
    /// state's snapshot is below `snapshotEveryBytes` they come every `snapshotEveryEntries`; at
    /// ten times that size, about ten times as far apart.
    func testTheSnapshotIntervalGrowsWithTheState() async throws {
        let directory = TemporaryDirectory()
        let node = try makeNode(directory) {
            $0.snapshotEveryEntries = 20
            $0.snapshotEveryBytes = 16 << 10
            $0.snapshotLogRatio = 1
            $0.retainedEntriesAfterSnapshot = 5
        }
        var taken: [UInt64] = []
        for i in 0..<800 {
            _ = try await node.submit(.ingest(events: [event("alert \(i)")], actor: .user("test")))
            let index = try await node.status().snapshotIndex
            if index > 0, index != taken.last { taken.append(index) }
        }
        let state = try await node.read { $0.state.machine.snapshot().count }
        await node.shutdown()
        let gaps = zip(taken, taken.dropFirst()).map { $1 - $0 }
        XCTAssertGreaterThan(state, 10 * (16 << 10), "the state grew to over ten times snapshotEveryBytes")
        XCTAssertGreaterThanOrEqual(gaps.count, 4, "\(taken)")
        XCTAssertLessThanOrEqual(gaps.first ?? 0, 30, "small state: every 20 entries (\(taken))")
        XCTAssertGreaterThanOrEqual(gaps.last ?? 0, 100, "large state: far apart (\(taken))")
    }

    /// Snapshots are encoded off the loop while writes keep applying: each must hold exactly the
    /// state at its index, or a restart (snapshot + replay of the tail) would lose or repeat
    /// writes. Occurrence counts show either: 40 keys, each sent 15 times, concurrently.
    func testSnapshotsTakenDuringConcurrentWritesHoldExactlyTheirIndex() async throws {
        let directory = TemporaryDirectory()
        var node = try makeNode(directory) {
            $0.snapshotEveryEntries = 25
            $0.retainedEntriesAfterSnapshot = 5
        }
        let keys = 40, repeats = 15
        var snapshotIndex: UInt64 = 0
        for round in 0..<repeats {
            // One wave of concurrent writes per round, so snapshots start between and during waves.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for key in 0..<keys {
                    group.addTask { [node] in
                        _ = try await node.submit(.ingest(events: [event("key \(key)", dedupKey: "k\(key)")], actor: .user("round \(round)")))
                    }
                }
                try await group.waitForAll()
            }
            snapshotIndex = try await node.status().snapshotIndex
        }
        XCTAssertGreaterThan(snapshotIndex, 0, "snapshots were taken while the waves applied")
        let expected = try await node.read { context in context.state.machine.incidents(limit: 1_000).map(\.occurrenceCount).sorted() }
        XCTAssertEqual(expected, Array(repeating: UInt64(repeats), count: keys))
        await node.shutdown()

        node = try makeNode(directory)
        let after = try await node.read { context in context.state.machine.incidents(limit: 1_000).map(\.occurrenceCount).sorted() }
        XCTAssertEqual(after, expected, "restored snapshot + replayed tail must equal the state before the restart")
        await node.shutdown()
    }

    func testRememberedRequestIDsSurviveSnapshotsAndRestarts() async throws {
        let directory = TemporaryDirectory()
        var node = try makeNode(directory) {
            $0.snapshotEveryEntries = 20
            $0.retainedEntriesAfterSnapshot = 0
        }
        let command = Command.ingest(events: [event("moderation queue backlog")], actor: .user("test"))
        let first = try await node.submit(command, requestID: "key-9:once")
        for i in 0..<60 { _ = try await node.submit(.ingest(events: [event("filler \(i)")], actor: .user("test"))) }
        let snapshotIndex = try await node.status().snapshotIndex
        XCTAssertGreaterThan(snapshotIndex, first.index, "the remembered request must be covered by a snapshot")
        await node.shutdown()

        node = try makeNode(directory)
        let retry = try await node.submit(command, requestID: "key-9:once")
        XCTAssertTrue(retry.duplicate, "a retry after snapshot + restart must not apply again")
        XCTAssertEqual(retry.eventResults, first.eventResults)
        let count = try await node.read { $0.state.machine.incident(first.eventResults[0].incident!)?.occurrenceCount }
        XCTAssertEqual(count, 1)
        await node.shutdown()
    }
}
