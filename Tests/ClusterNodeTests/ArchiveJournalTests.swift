import Archiver
import ClusterNode
import Foundation
import IncidentCore
import Locking
import Logging
import RaftCore
import Synchronization
import XCTest

/// The archiver's runtime against an in-memory archive with PostgreSQL's semantics (batch and
/// watermark in one step, compare-and-set): every event reaches it once, across outages, journal
/// overflow, snapshots, restarts and the archiving node's failure.
final class ArchiveJournalTests: XCTestCase {
    func testEveryEventReachesTheArchiveOnceAndTheJournalIsTrimmed() async throws {
        let directory = TemporaryDirectory()
        let node = try makeNode(directory)
        let sink = MemorySink()
        let runner = RunningArchiver(node: node, sink: sink)
        try await runner.announced()
        var expected = 0
        for batch in 0..<20 {
            let events = (0..<5).map { event("service \(batch)-\($0)", dedupKey: "k\(($0 + batch) % 7)") }
            expected += events.count
            _ = try await node.submit(.ingest(events: events, actor: .user("test")))
        }
        let applied = try await node.status().appliedIndex
        let drained = await eventually { sink.watermark >= applied }
        XCTAssertTrue(drained, "the archive caught up with the applied index")
        XCTAssertEqual(sink.eventCount, expected)
        XCTAssertEqual(sink.duplicateWrites, 0)
        let incidents = try await node.read(.local) { $0.state.machine.incidents(limit: 1_000) }
        XCTAssertEqual(Set(sink.incidentNumbers), Set(incidents.map(\.id.number)), "every incident has its row")
        for incident in incidents { XCTAssertEqual(sink.incident(incident.id.number)?.occurrenceCount, incident.occurrenceCount) }
        let trimmed = await eventually { ((try? await node.read(.local) { $0.state.archive.records.count }) ?? -1) == 0 }
        XCTAssertTrue(trimmed, "progress reports trimmed the journal")
        let status = try await node.status()
        XCTAssertTrue(status.archiveEnabled)
        XCTAssertEqual(sink.gaps.count, 1, "only the entries before archival was switched on")
        XCTAssertEqual(sink.gaps.first?.reason, "before archival was enabled")
        await runner.stop()
        await node.shutdown()
    }

    func testAnArchiveOutageGrowsTheBacklogThenDrainsToExactlyTheRightRows() async throws {
        let directory = TemporaryDirectory()
        let node = try makeNode(directory)
        let sink = MemorySink()
        let runner = RunningArchiver(node: node, sink: sink)
        try await runner.announced()
        _ = try await node.submit(.ingest(events: [event("before the outage")], actor: .user("test")))
        let first = try await node.status().appliedIndex
        let caughtUp = await eventually { sink.watermark >= first }
        XCTAssertTrue(caughtUp)
        sink.failing = true
        for i in 0..<30 { _ = try await node.submit(.ingest(events: [event("during the outage \(i)")], actor: .user("test"))) }
        let degraded = await eventually { runner.runner.status.state == .degraded }
        XCTAssertTrue(degraded, "the archiver reports the outage")
        let lagging = try await node.status()
        XCTAssertGreaterThanOrEqual(lagging.archiveLagEntries, 30, "the backlog is visible")
        sink.failing = false
        let applied = try await node.status().appliedIndex
        let drained = await eventually(15) { sink.watermark >= applied }
        XCTAssertTrue(drained, "the backlog drained")
        XCTAssertEqual(sink.eventCount, 31)
        XCTAssertEqual(sink.duplicateWrites, 0)
        XCTAssertEqual(runner.runner.status.state, .archiving)
        await runner.stop()
        await node.shutdown()
    }

    func testBeyondTheJournalLimitAGapIsRecordedAndIncidentsAreResynced() async throws {
        let directory = TemporaryDirectory()
        let node = try makeNode(directory)
        let sink = MemorySink()
        var settings = ArchiveRunner.Settings()
        settings.journalLimitBytes = 4_096
        settings.resyncPageSize = 7
        let runner = RunningArchiver(node: node, sink: sink, settings: settings)
        try await runner.announced()
        let drainedStart = await eventually { sink.watermark > 0 }
        XCTAssertTrue(drainedStart)
        sink.failing = true
        for i in 0..<60 { _ = try await node.submit(.ingest(events: [event("overflow \(i)", dedupKey: "o\(i)")], actor: .user("test"))) }
        let journal = try await node.read(.local) { $0.state.archive }
        XCTAssertGreaterThan(journal.gapThrough, 0, "the oldest records were dropped")
        XCTAssertLessThanOrEqual(journal.bytes, 4_096)
        sink.failing = false
        let applied = try await node.status().appliedIndex
        let drained = await eventually(15) { sink.watermark >= applied }
        XCTAssertTrue(drained)
        XCTAssertEqual(Set(sink.incidentNumbers).count, 60, "every incident was re-synced from state")
        XCTAssertLessThan(sink.eventCount, 60, "events of the dropped range are missing ...")
        XCTAssertTrue(sink.gaps.contains { $0.reason.contains("journal limit") && $0.through >= journal.gapThrough }, "... and the gap says which")
        await runner.stop()
        await node.shutdown()
    }

    func testPipelinedCatchUpWithFailingWritesArchivesEveryEventOnce() async throws {
        let directory = TemporaryDirectory()
        let node = try makeNode(directory)
        let sink = MemorySink()
        var settings = ArchiveRunner.Settings()
        settings.maxRecordsPerBatch = 4
        let runner = RunningArchiver(node: node, sink: sink, settings: settings)
        try await runner.announced()
        sink.failing = true
        for i in 0..<60 { _ = try await node.submit(.ingest(events: [event("backlog \(i)", dedupKey: "b\(i % 9)")], actor: .user("test"))) }
        // Catching up in whole batches, pipelined, while every third write fails (after the
        // batch before it may or may not have committed) and each takes a few milliseconds.
        sink.writeDelayMilliseconds = 3
        sink.failEvery = 3
        sink.failing = false
        let applied = try await node.status().appliedIndex
        let drained = await eventually(20) { sink.watermark >= applied }
        XCTAssertTrue(drained)
        XCTAssertEqual(sink.eventCount, 60)
        XCTAssertEqual(sink.duplicateWrites, 0)
        XCTAssertGreaterThan(sink.writes, 15, "many small batches")
        await runner.stop()
        await node.shutdown()
    }

    func testAnArchiveAheadOfTheLogIsReportedAndNotTrustedOrTrimmedTo() async throws {
        let directory = TemporaryDirectory()
        let node = try makeNode(directory)
        let sink = MemorySink()
        sink.setWatermark(1_000)  // another cluster's history under the same cluster id
        let runner = RunningArchiver(node: node, sink: sink)
        try await runner.announced()
        _ = try await node.submit(.ingest(events: [event("not lost")], actor: .user("test")))
        let reported = await eventually { runner.runner.status.lastError?.contains("ahead of this node's applied index") == true }
        XCTAssertTrue(reported, "\(runner.runner.status)")
        XCTAssertEqual(runner.runner.status.state, .degraded)
        let journal = try await node.read(.local) { $0.state.archive }
        XCTAssertEqual(journal.watermark, 0, "no progress beyond the log is reported")
        XCTAssertEqual(journal.records.count, 1, "the event waits in the journal")
        XCTAssertEqual(sink.eventCount, 0)
        await runner.stop()
        await node.shutdown()
    }

    func testAnEmptyReplacementArchiveGetsAGapForWhatWentElsewhereAndEveryIncident() async throws {
        let directory = TemporaryDirectory()
        let node = try makeNode(directory)
        let first = MemorySink()
        var runner = RunningArchiver(node: node, sink: first)
        try await runner.announced()
        for i in 0..<10 { _ = try await node.submit(.ingest(events: [event("first archive \(i)", dedupKey: "f\(i)")], actor: .user("test"))) }
        let applied = try await node.status().appliedIndex
        let drained = await eventually { first.watermark >= applied }
        XCTAssertTrue(drained)
        let trimmed = await eventually { ((try? await node.read(.local) { $0.state.archive.watermark }) ?? 0) >= applied }
        XCTAssertTrue(trimmed)
        await runner.stop()
        // The operator points the cluster at a new, empty database.
        let second = MemorySink()
        runner = RunningArchiver(node: node, sink: second)
        _ = try await node.submit(.ingest(events: [event("second archive")], actor: .user("test")))
        let now = try await node.status().appliedIndex
        let caughtUp = await eventually { second.watermark >= now }
        XCTAssertTrue(caughtUp)
        XCTAssertEqual(second.eventCount, 1, "only what the journal still held")
        XCTAssertEqual(Set(second.incidentNumbers).count, 11, "every incident re-synced from state")
        let gap = second.gaps.first { $0.reason.contains("another database") }
        XCTAssertNotNil(gap, "\(second.gaps)")
        XCTAssertEqual(gap?.from, 1)
        XCTAssertGreaterThanOrEqual(gap?.through ?? 0, applied, "the gap covers everything archived elsewhere")
        await runner.stop()
        await node.shutdown()
    }

    func testTheJournalSurvivesSnapshotsAndARestart() async throws {
        let directory = TemporaryDirectory()
        let configure: (inout NodeConfig) -> Void = {
            $0.snapshotEveryEntries = 10
            $0.retainedEntriesAfterSnapshot = 0
        }
        var node = try makeNode(directory, configure: configure)
        let sink = MemorySink()
        var runner = RunningArchiver(node: node, sink: sink)
        try await runner.announced()
        let enabled = await eventually { sink.watermark > 0 }
        XCTAssertTrue(enabled)
        sink.failing = true
        for i in 0..<40 { _ = try await node.submit(.ingest(events: [event("kept \(i)", dedupKey: "s\(i)")], actor: .user("test"))) }
        let compacted = await eventually { ((try? await node.status().snapshotIndex) ?? 0) > 20 }
        XCTAssertTrue(compacted, "snapshots cover the unarchived entries")
        await runner.stop()
        await node.shutdown()
        node = try makeNode(directory, configure: configure)
        runner = RunningArchiver(node: node, sink: sink)
        sink.failing = false
        let applied = try await node.status().appliedIndex
        let drained = await eventually(15) { sink.watermark >= applied }
        XCTAssertTrue(drained)
        XCTAssertEqual(sink.eventCount, 40, "the restarted node found every unarchived event in its snapshot")
        XCTAssertEqual(sink.duplicateWrites, 0)
        XCTAssertFalse(sink.gaps.contains { $0.reason.contains("journal limit") })
        await runner.stop()
        await node.shutdown()
    }

    func testTheArchiveLeaseMovesWhenTheArchivingNodeFailsAndNothingIsLostOrDoubled() async throws {
        let cluster = try LocalCluster(count: 3, configure: {
            $0.dispatchLeaseMilliseconds = 1_200
            $0.dispatchLeaseReserveMilliseconds = 300
        })
        let sink = MemorySink()
        var runners: [NodeID: RunningArchiver] = [:]
        for (id, node) in cluster.nodes { runners[id] = RunningArchiver(node: node, sink: sink) }
        for runner in runners.values { try await runner.announced() }
        let leader = try await cluster.leader()
        var posted = 0
        for i in 0..<10 {
            _ = try await cluster.nodes[leader]!.submit(.ingest(events: [event("first \(i)")], actor: .user("test")))
            posted += 1
        }
        var holder: NodeID = 0
        let followerHolds = await eventually {
            for (id, node) in cluster.nodes where id != leader {
                if (try? await node.status().holdsArchiveLease) == true {
                    holder = id
                    return true
                }
            }
            return false
        }
        XCTAssertTrue(followerHolds, "a follower holds the archive lease, sparing the leader")
        let firstDrained = await eventually { sink.eventCount == posted }
        XCTAssertTrue(firstDrained)
        await runners[holder]!.stop()
        await cluster.stop(holder)
        let survivor = try await cluster.leader(excluding: [holder])
        for i in 0..<10 {
            _ = try await cluster.nodes[survivor]!.submit(.ingest(events: [event("after \(i)")], actor: .user("test")))
            posted += 1
        }
        let applied = try await cluster.nodes[survivor]!.status().appliedIndex
        let drained = await eventually(20) { sink.watermark >= applied }
        XCTAssertTrue(drained, "another node took the lease and caught up")
        XCTAssertEqual(sink.eventCount, posted)
        XCTAssertEqual(sink.duplicateWrites, 0)
        for (id, runner) in runners where id != holder { await runner.stop() }
        await cluster.shutdown()
    }
}

/// A runner on its own task.
final class RunningArchiver: Sendable {
    let runner: ArchiveRunner
    let node: IncidentNode
    private let task: Task<Void, Never>

    init(node: IncidentNode, sink: MemorySink, settings: ArchiveRunner.Settings = ArchiveRunner.Settings()) {
        var settings = settings
        settings.idleMilliseconds = 10
        settings.retryMinimumMilliseconds = 20
        settings.retryMaximumMilliseconds = 100
        settings.quietMillisecondsBeforeWrite = 50
        var logger = Logger(label: "archiver")
        logger.logLevel = .critical
        let runner = ArchiveRunner(node: node, sink: sink, settings: settings, logger: logger)
        self.runner = runner
        self.node = node
        task = Task { await runner.run() }
    }

    /// Waits until the node switched archival on and offered itself as an archiver.
    func announced() async throws {
        let node = self.node
        let done = await eventually {
            let journal = try? await node.read(.local) { $0.state.archive }
            return journal.map { $0.isEnabled && $0.archivers.contains(node.config.nodeID) } ?? false
        }
        if !done { throw ClusterTestError("node \(node.config.nodeID) never announced itself as an archiver") }
    }

    func stop() async {
        runner.stop()
        task.cancel()
        await task.value
    }
}

/// An archive in memory with PostgreSQL's guarantees: a slice and its watermark move together,
/// only from the expected watermark. Counts rows keyed like the real tables' primary keys.
final class MemorySink: ArchiveSink {
    struct Contents {
        var watermark: LogIndex = 0
        var events: Set<EventKey> = []
        var incidents: [UInt64: Incident] = [:]
        var gaps: [ArchiveSlice.Gap] = []
        var duplicateWrites = 0
    }

    struct EventKey: Hashable {
        var index: LogIndex
        var position: Int
    }

    struct Down: Error {}

    private let contents = Lock(Contents())
    private let down = Atomic<Bool>(false)
    private let delay = Atomic<Int>(0)
    private let failPeriod = Atomic<Int>(0)
    private let writeCount = Atomic<Int>(0)

    var writeDelayMilliseconds: Int {
        get { delay.load(ordering: .relaxed) }
        set { delay.store(newValue, ordering: .relaxed) }
    }

    /// Every n-th write throws (0: none).
    var failEvery: Int {
        get { failPeriod.load(ordering: .relaxed) }
        set { failPeriod.store(newValue, ordering: .relaxed) }
    }

    var writes: Int { writeCount.load(ordering: .relaxed) }

    var failing: Bool {
        get { down.load(ordering: .relaxed) }
        set { down.store(newValue, ordering: .relaxed) }
    }

    var watermark: LogIndex { contents.withLock { $0.watermark } }
    func setWatermark(_ index: LogIndex) { contents.withLock { $0.watermark = index } }
    var eventCount: Int { contents.withLock { $0.events.count } }
    var duplicateWrites: Int { contents.withLock { $0.duplicateWrites } }
    var incidentNumbers: [UInt64] { contents.withLock { Array($0.incidents.keys) } }
    var gaps: [ArchiveSlice.Gap] { contents.withLock { $0.gaps } }
    func incident(_ number: UInt64) -> Incident? { contents.withLock { $0.incidents[number] } }

    func prepare() async throws {
        if failing { throw Down() }
    }

    func watermark() async throws -> LogIndex {
        if failing { throw Down() }
        return watermark
    }

    func write(_ slice: ArchiveSlice, expected: LogIndex) async throws -> ArchiveWriteOutcome {
        if failing { throw Down() }
        let n = writeCount.wrappingAdd(1, ordering: .relaxed).newValue
        if writeDelayMilliseconds > 0 { try await Task.sleep(nanoseconds: UInt64(writeDelayMilliseconds) * 1_000_000) }
        if failEvery > 0, n.isMultiple(of: failEvery) { throw Down() }
        return contents.withLock { contents in
            guard contents.watermark == expected else { return .moved(actual: contents.watermark) }
            var rows = 0
            for record in slice.records {
                for position in record.events.indices {
                    if !contents.events.insert(EventKey(index: record.index, position: position)).inserted { contents.duplicateWrites += 1 }
                    rows += 1
                }
            }
            for incident in slice.incidents {
                contents.incidents[incident.id.number] = incident
                rows += 1
            }
            if let gap = slice.gap { contents.gaps.append(gap) }
            if !slice.isResyncPage { contents.watermark = slice.lastIndex }
            return .written(rows: rows)
        }
    }
}
