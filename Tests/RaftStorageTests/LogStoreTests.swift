import Foundation
import RaftCore
import XCTest

@testable import RaftStorage

/// Appending, reopening, suffix replacement, segment rolling and compaction on a healthy disk.
final class LogStoreTests: XCTestCase {
    private var temp: TemporaryDirectory!

    override func setUpWithError() throws { temp = try TemporaryDirectory() }
    override func tearDown() { temp = nil }

    func testNewStoreRecoversNothingAndCreatesTheFirstSegment() throws {
        let path = temp.child("node")
        let (store, recovered) = try openStore(path)
        XCTAssertEqual(recovered, RecoveredState(snapshot: nil, hardState: .empty, entries: []))
        XCTAssertEqual(store.firstIndex, 1)
        XCTAssertEqual(store.lastIndex, 0)
        XCTAssertEqual(try Files.names(path + "/wal"), ["0000000000000001.seg"])
        XCTAssertEqual(store.logBytes, WALFormat.recordHeaderBytes + SegmentHeader.payloadBytes)
        XCTAssertEqual(store.snapshotBytes, 0)
    }

    func testAppendedEntriesAndHardStateSurviveReopen() throws {
        let path = temp.child("node")
        var expected = ExpectedLog()
        do {
            let (store, _) = try openStore(path)
            for (batch, state) in [
                (makeEntries(1...3, term: 1), HardState(term: 1, vote: 1, commit: 0)),
                (makeEntries(4...4, term: 1), nil),
                (makeEntries(5...9, term: 2), HardState(term: 2, vote: 3, commit: 4)),
            ] {
                try store.append(batch, hardState: state)
                expected.append(batch, hardState: state)
            }
            XCTAssertEqual(store.lastIndex, 9)
            XCTAssertEqual(store.hardState, HardState(term: 2, vote: 3, commit: 4))
        }
        let (_, recovered) = try openStore(path)
        XCTAssertTrue(expected.matches(recovered), "\(recovered)")
        XCTAssertEqual(recovered.firstIndex, 1)
        XCTAssertEqual(recovered.lastIndex, 9)
    }

    func testHardStateAloneIsDurable() throws {
        let path = temp.child("node")
        do {
            let (store, _) = try openStore(path)
            try store.append([], hardState: HardState(term: 7, vote: 2, commit: 0))
            try store.append([], hardState: HardState(term: 8, vote: 0, commit: 0))
        }
        let (_, recovered) = try openStore(path)
        XCTAssertEqual(recovered.hardState, HardState(term: 8, vote: 0, commit: 0))
        XCTAssertEqual(recovered.entries, [])
    }

    func testConflictingSuffixIsReplacedAndStaysReplacedAfterReopen() throws {
        let path = temp.child("node")
        var expected = ExpectedLog()
        do {
            let (store, _) = try openStore(path)
            try store.append(makeEntries(1...10, term: 1), hardState: HardState(term: 1, vote: 1, commit: 3))
            expected.append(makeEntries(1...10, term: 1), hardState: HardState(term: 1, vote: 1, commit: 3))
            try store.append(makeEntries(6...8, term: 2), hardState: HardState(term: 2, vote: 2, commit: 3))
            expected.append(makeEntries(6...8, term: 2), hardState: HardState(term: 2, vote: 2, commit: 3))
            XCTAssertEqual(store.lastIndex, 8)
        }
        let (store, recovered) = try openStore(path)
        XCTAssertTrue(expected.matches(recovered), "\(recovered.entries.map { ($0.index, $0.term) })")
        // And the log keeps going from the replaced suffix.
        try store.append(makeEntries(9...9, term: 2), hardState: nil)
        expected.append(makeEntries(9...9, term: 2), hardState: nil)
        store.close()
        XCTAssertTrue(expected.matches(try openStore(path).recovered))
    }

    func testSuffixReplacementReachingBackAcrossSegments() throws {
        let path = temp.child("node")
        let config = StorageConfig(segmentSizeBytes: 1024)
        var expected = ExpectedLog()
        do {
            let (store, _) = try openStore(path, config)
            for start in stride(from: LogIndex(1), through: 91, by: 10) {
                try store.append(makeEntries(start...start + 9, term: 1, bytes: 40), hardState: nil)
                expected.append(makeEntries(start...start + 9, term: 1, bytes: 40), hardState: nil)
            }
            XCTAssertGreaterThan(store.segmentCount, 3)
            // A new leader overwrites everything from 25 on: that reaches back several segments.
            try store.append(makeEntries(25...30, term: 3, bytes: 40), hardState: HardState(term: 3, vote: 0, commit: 20))
            expected.append(makeEntries(25...30, term: 3, bytes: 40), hardState: HardState(term: 3, vote: 0, commit: 20))
            try store.append(makeEntries(31...60, term: 3, bytes: 40), hardState: nil)
            expected.append(makeEntries(31...60, term: 3, bytes: 40), hardState: nil)
        }
        let (_, recovered) = try openStore(path, config)
        XCTAssertTrue(expected.matches(recovered), "\(recovered.entries.map { ($0.index, $0.term) })")
        XCTAssertEqual(recovered.lastIndex, 60)
    }

    func testSegmentsRollAtTheConfiguredSizeAndAreNamedByTheirFirstIndex() throws {
        let path = temp.child("node")
        let config = StorageConfig(segmentSizeBytes: 1024)
        let (store, _) = try openStore(path, config)
        var starts: [LogIndex] = [1]
        var index: LogIndex = 1
        for _ in 0..<20 {
            let before = store.segmentCount
            let activeBytes = store.segments.last!.bytes
            try store.append(makeEntries(index...index + 2, term: 1, bytes: 60), hardState: nil)
            if store.segmentCount > before {
                XCTAssertGreaterThanOrEqual(activeBytes, config.segmentSizeBytes, "rolled before the segment was full")
                starts.append(index)
            } else {
                XCTAssertLessThan(activeBytes, config.segmentSizeBytes, "did not roll a full segment")
            }
            index += 3
        }
        XCTAssertGreaterThan(starts.count, 3)
        XCTAssertEqual(try Files.names(path + "/wal"), starts.map { SegmentName.make(firstIndex: $0) })
        // Every segment but the active one exceeds the limit by less than one batch.
        let batchBytes = WALFormat.recordHeaderBytes + Batch.payloadBytes(entries: makeEntries(1...3, term: 1, bytes: 60), hardState: nil)
        for segment in store.segments.dropLast() {
            XCTAssertLessThan(segment.bytes, config.segmentSizeBytes + batchBytes)
        }
        XCTAssertEqual(store.logBytes, try store.segments.reduce(0) { $0 + (try Files.read($1.path).count) })
        store.close()
        let (_, recovered) = try openStore(path, config)
        XCTAssertEqual(recovered.entries.map(\.index), Array(1...60))
    }

    func testInvalidAppendsAreRejectedWithoutWriting() throws {
        let (store, _) = try openStore(temp.child("node"))
        try store.append(makeEntries(1...5, term: 1), hardState: nil)
        let bytes = store.logBytes
        assertStorageError(.invalidAppend) { try store.append(makeEntries(7...8, term: 1), hardState: nil) }
        assertStorageError(.invalidAppend) {
            try store.append([Entry(term: 1, index: 6), Entry(term: 1, index: 8)], hardState: nil)
        }
        assertStorageError(.invalidAppend) { try store.append(makeEntries(0...1, term: 1), hardState: nil) }
        XCTAssertEqual(store.logBytes, bytes)
        // A failed validation is not an I/O failure: the store keeps working.
        try store.append(makeEntries(6...6, term: 1), hardState: nil)
        XCTAssertEqual(store.lastIndex, 6)
    }

    func testBatchOverTheLimitIsRejected() throws {
        let (store, _) = try openStore(temp.child("node"), StorageConfig(maxBatchBytes: 4096))
        assertStorageError(.batchTooLarge) { try store.append(makeEntries(1...1, term: 1, bytes: 5000), hardState: nil) }
        try store.append(makeEntries(1...1, term: 1, bytes: 4000), hardState: nil)
    }

    func testASecondOpenOfTheSameDirectoryIsRefusedUntilClose() throws {
        let path = temp.child("node")
        let (store, _) = try openStore(path)
        assertStorageError(.directoryLocked) { try RaftLogStore.open(directory: path) }
        store.close()
        assertStorageError(.storeFailed) { try store.append(makeEntries(1...1, term: 1), hardState: nil) }
        assertStorageError(.storeFailed) { try store.loadSnapshot() }
        XCTAssertNoThrow(try RaftLogStore.open(directory: path))
    }

    func testAFailedWriteFailsTheStoreUntilItIsReopened() throws {
        let path = temp.child("node")
        let (store, _) = try openStore(path)
        try store.append(makeEntries(1...2, term: 1), hardState: HardState(term: 1, vote: 1, commit: 1))
        store.active.close()  // the next pwrite fails with EBADF, as a dying disk would fail it
        let error = assertStorageError(.ioFailure) { try store.append(makeEntries(3...3, term: 1), hardState: nil) }
        XCTAssertEqual(error?.errorNumber, EBADF)
        XCTAssertEqual(store.lastIndex, 2, "a failed append changes nothing in memory")
        assertStorageError(.storeFailed) { try store.append(makeEntries(3...3, term: 1), hardState: nil) }
        assertStorageError(.storeFailed) { try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 2, term: 1))) }
        assertStorageError(.storeFailed) { try store.compact(upTo: 0) }
        store.close()
        let (_, recovered) = try openStore(path)
        XCTAssertEqual(recovered.entries, makeEntries(1...2, term: 1))
        XCTAssertEqual(recovered.hardState, HardState(term: 1, vote: 1, commit: 1))
    }

    func testCompactionDeletesOnlyWholeSegmentsBelowTheSnapshotIndex() throws {
        let path = temp.child("node")
        let config = StorageConfig(segmentSizeBytes: 1024)
        let (store, _) = try openStore(path, config)
        for start in stride(from: LogIndex(1), through: 196, by: 5) {
            try store.append(makeEntries(start...start + 4, term: 2, bytes: 50), hardState: nil)
        }
        let firstIndexes = store.segments.map(\.header.firstIndex)
        XCTAssertGreaterThan(firstIndexes.count, 5)
        // Snapshot in the middle of the fourth segment.
        let snapshotIndex = firstIndexes[3] + 2
        assertStorageError(.compactBeyondSnapshot) { try store.compact(upTo: 1) }
        try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: snapshotIndex, term: 2), data: [1, 2, 3]))
        assertStorageError(.compactBeyondSnapshot) { try store.compact(upTo: snapshotIndex + 1) }
        let removed = try store.compact(upTo: snapshotIndex)
        // Segments 0...2 end below firstIndexes[3] and go; segment 3 holds snapshotIndex + 1... and stays.
        XCTAssertEqual(removed, 3)
        XCTAssertEqual(try Files.names(path + "/wal"), firstIndexes[3...].map { SegmentName.make(firstIndex: $0) })
        XCTAssertEqual(try store.compact(upTo: snapshotIndex), 0)
        store.close()
        let (_, recovered) = try openStore(path, config)
        XCTAssertEqual(recovered.snapshot?.index, snapshotIndex)
        XCTAssertEqual(recovered.entries.map(\.index), Array(snapshotIndex + 1...200))
        XCTAssertEqual(recovered.entries, makeEntries(snapshotIndex + 1...200, term: 2, bytes: 50))
    }

    func testRewriteReachingBelowTheOldestRetainedSegmentReplaysAfterCompaction() throws {
        let path = temp.child("node")
        let config = StorageConfig(segmentSizeBytes: 1024)
        do {
            let (store, _) = try openStore(path, config)
            for start in stride(from: LogIndex(1), through: 51, by: 10) {
                try store.append(makeEntries(start...start + 9, term: 1, bytes: 40), hardState: nil)
            }
            XCTAssertEqual(store.segments.map(\.header.firstIndex), [1, 21, 41])
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 10, term: 1), data: [1]))
            // A new leader rewrites from 35, below the active segment's first index (41), so the
            // batch stays in segment 41; then a snapshot at 40 lets compaction drop segments 1 and 21.
            try store.append(makeEntries(35...45, term: 2, bytes: 40), hardState: HardState(term: 2, vote: 0, commit: 40))
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 40, term: 2), data: [2]))
            XCTAssertEqual(try store.compact(upTo: 40), 2)
        }
        // Replay now starts at segment 41, whose header says the log begins after 40, and meets a
        // batch starting at 35: it restarts the log there (the batch carries the term before it).
        let (_, recovered) = try openStore(path, config)
        XCTAssertEqual(recovered.snapshot?.index, 40)
        XCTAssertEqual(recovered.entries, makeEntries(41...45, term: 2, bytes: 40))
    }

    /// `detachSegments` drops the segments from the log at once and leaves their files until
    /// `delete()`: a reopening in between replays them as a prefix and compacts them again.
    func testDetachedSegmentsStayOnDiskUntilDeletedAndReplayIfTheNodeStopsFirst() throws {
        let path = temp.child("node")
        let config = StorageConfig(segmentSizeBytes: 1024)
        let files = { try Files.names(path + "/wal").filter { !$0.hasPrefix(".") }.count }
        do {
            let (store, _) = try openStore(path, config)
            for start in stride(from: LogIndex(1), through: 51, by: 10) {
                try store.append(makeEntries(start...start + 9, term: 1, bytes: 40), hardState: nil)
            }
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 45, term: 1), data: [1]))
            let before = try files()
            let obsolete = try store.detachSegments(upTo: 45)
            XCTAssertEqual(obsolete.count, 2)
            XCTAssertEqual(store.segmentCount, 1, "gone from the log")
            XCTAssertEqual(try files(), before, "still on disk")
            try store.append(makeEntries(61...70, term: 1, bytes: 40), hardState: nil)
        }
        // The node stopped before deleting them: they replay as a prefix, under the snapshot.
        do {
            let (store, recovered) = try openStore(path, config)
            XCTAssertEqual(recovered.snapshot?.index, 45)
            XCTAssertEqual(recovered.entries, makeEntries(46...70, term: 1, bytes: 40))
            let again = try store.detachSegments(upTo: 45)
            XCTAssertEqual(again.count, 2)
            let before = try files()
            try DispatchQueue(label: "delete").sync { try again.delete() }
            XCTAssertEqual(try files(), before - 2)
        }
        let (_, reopened) = try openStore(path, config)
        XCTAssertEqual(reopened.entries, makeEntries(46...70, term: 1, bytes: 40))
    }

    func testCompactionNeverDeletesTheActiveSegment() throws {
        let path = temp.child("node")
        let (store, _) = try openStore(path)
        try store.append(makeEntries(1...50, term: 1), hardState: nil)
        try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 50, term: 1), data: [9]))
        XCTAssertEqual(try store.compact(upTo: 50), 0)
        XCTAssertEqual(store.segmentCount, 1)
    }
}
