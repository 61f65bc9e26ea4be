import Foundation
import RaftCore
import XCTest

@testable import RaftStorage

/// `appendDeferringSync`: the record is written at once and made durable by a `PendingSync` run
/// elsewhere; at most one record is ever written and not yet durable.
final class DeferredSyncTests: XCTestCase {
    private var temp: TemporaryDirectory!

    override func setUpWithError() throws { temp = try TemporaryDirectory() }
    override func tearDown() { temp = nil }

    func testDeferredAppendIsRecoveredOnceSynced() throws {
        let path = temp.child("node")
        var expected = ExpectedLog()
        do {
            let (store, _) = try openStore(path)
            for (batch, state) in [
                (makeEntries(1...3, term: 1), HardState(term: 1, vote: 1, commit: 0)),
                (makeEntries(4...6, term: 1), HardState(term: 1, vote: 1, commit: 3)),
            ] {
                let pending = try XCTUnwrap(try store.appendDeferringSync(batch, hardState: state))
                XCTAssertEqual(store.lastIndex, batch.last!.index, "the log knows the entries while they sync")
                let result = pending.run()
                try store.finishSync(pending, result)
                expected.append(batch, hardState: state)
            }
        }
        let (_, recovered) = try openStore(path)
        XCTAssertTrue(expected.matches(recovered), "\(recovered)")
    }

    func testAnotherAppendWaitsForTheSyncInFlight() throws {
        let (store, _) = try openStore(temp.child("node"))
        let pending = try XCTUnwrap(try store.appendDeferringSync(makeEntries(1...2, term: 1), hardState: nil))
        assertStorageError(.invalidAppend) { try store.append(makeEntries(3...3, term: 1)) }
        assertStorageError(.invalidAppend) { try store.appendDeferringSync(makeEntries(3...3, term: 1)) }
        XCTAssertEqual(store.lastIndex, 2, "the refused appends wrote nothing")
        try store.finishSync(pending, pending.run())
        try store.append(makeEntries(3...3, term: 1))
        XCTAssertEqual(store.lastIndex, 3)
    }

    func testASyncRunsOnce() throws {
        let (store, _) = try openStore(temp.child("node"))
        let pending = try XCTUnwrap(try store.appendDeferringSync(makeEntries(1...1, term: 1), hardState: nil))
        XCTAssertNoThrow(try pending.run().get())
        XCTAssertThrowsError(try pending.run().get())
        try store.finishSync(pending, .success(()))
    }

    func testFailedSyncFailsTheStore() throws {
        let (store, _) = try openStore(temp.child("node"))
        let pending = try XCTUnwrap(try store.appendDeferringSync(makeEntries(1...1, term: 1), hardState: nil))
        _ = pending.run()
        let failure = StorageError(.ioFailure, "fdatasync failed: Input/output error", path: "test")
        assertStorageError(.ioFailure) { try store.finishSync(pending, .failure(failure)) }
        assertStorageError(.storeFailed) { try store.append(makeEntries(2...2, term: 1)) }
    }

    func testBatchThatOpensASegmentIsDurableAtOnce() throws {
        let path = temp.child("node")
        let config = StorageConfig(segmentSizeBytes: 1024)
        var index: LogIndex = 1
        do {
            let (store, _) = try openStore(path, config)
            var opened = false
            while !opened {
                let before = try Files.names(path + "/wal").count
                let pending = try store.appendDeferringSync(makeEntries(index...index, term: 1, bytes: 200), hardState: nil)
                opened = try Files.names(path + "/wal").count > before
                if opened {
                    XCTAssertNil(pending, "a new segment is written durably, with its first batch")
                } else {
                    let pending = try XCTUnwrap(pending)
                    try store.finishSync(pending, pending.run())
                }
                index += 1
            }
            // The next deferred append goes to the new segment, and its sync to the new file.
            let pending = try XCTUnwrap(try store.appendDeferringSync(makeEntries(index...index, term: 1, bytes: 200), hardState: nil))
            try store.finishSync(pending, pending.run())
        }
        let (_, recovered) = try openStore(path, config)
        XCTAssertEqual(recovered.entries.map(\.index), Array(1...index))
    }

    /// A snapshot marker written while a batch's sync is in flight makes that batch durable
    /// first: two records are never written and not yet durable at once.
    func testSnapshotWhileASyncIsInFlightKeepsTheLogRecoverable() throws {
        let path = temp.child("node")
        do {
            let (store, _) = try openStore(path)
            try store.append(makeEntries(1...4, term: 1), hardState: HardState(term: 1, vote: 1, commit: 4))
            let pending = try XCTUnwrap(try store.appendDeferringSync(makeEntries(5...6, term: 1), hardState: nil))
            let snapshot = Snapshot(metadata: SnapshotMetadata(index: 4, term: 1, confState: ConfState(voters: [1])), data: [1, 2, 3])
            _ = try store.publishSnapshot(try store.snapshotPreparer.prepare(snapshot))
            try store.finishSync(pending, pending.run())
            try store.append(makeEntries(7...7, term: 1))
        }
        let (_, recovered) = try openStore(path)
        XCTAssertEqual(recovered.snapshot?.index, 4)
        XCTAssertEqual(recovered.entries.map(\.index), Array(5...7))
    }
}
