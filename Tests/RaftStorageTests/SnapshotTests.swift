import Foundation
import RaftCore
import XCTest

@testable import RaftStorage

/// Snapshot files: round trips (small, large, incompressible), damage, limits, retention, and how
/// a snapshot reshapes the log it is saved next to.
final class SnapshotTests: XCTestCase {
    private var temp: TemporaryDirectory!

    override func setUpWithError() throws { temp = try TemporaryDirectory() }
    override func tearDown() { temp = nil }

    private let jointConf = ConfState(voters: [1, 2, 4], learners: [7], outgoingVoters: [1, 2, 3], learnersNext: [3], autoLeave: true)

    /// `count` bytes that compress partly: runs of text mixed with random noise.
    private func mixedData(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        let text = Array("incident opened: p95 latency over threshold for model gateway; ".utf8)
        var data: [UInt8] = []
        data.reserveCapacity(count)
        while data.count < count {
            if generator.next() % 3 == 0 {
                for _ in 0..<64 { data.append(UInt8(truncatingIfNeeded: generator.next())) }
            } else {
                data.append(contentsOf: text)
            }
        }
        return Array(data.prefix(count))
    }

    private func snapshotPath(_ store: String, index: LogIndex) -> String {
        store + "/snap/" + SnapshotFormat.fileName(index: index)
    }

    func testSnapshotRoundTripKeepsMetadataAndData() throws {
        let path = temp.child("node")
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 12, term: 3, confState: jointConf), data: Array("state".utf8))
        do {
            let (store, _) = try openStore(path)
            try store.append(makeEntries(1...20, term: 3), hardState: HardState(term: 3, vote: 1, commit: 15))
            try store.saveSnapshot(snapshot)
            XCTAssertEqual(try store.loadSnapshot(), snapshot)
            XCTAssertEqual(store.latestSnapshot, snapshot.metadata)
            XCTAssertEqual(store.firstIndex, 13)
            XCTAssertEqual(store.snapshotBytes, try Files.read(snapshotPath(path, index: 12)).count)
        }
        let (store, recovered) = try openStore(path)
        XCTAssertEqual(recovered.snapshot, snapshot.metadata)
        XCTAssertEqual(recovered.entries, makeEntries(13...20, term: 3))
        XCTAssertEqual(recovered.hardState, HardState(term: 3, vote: 1, commit: 15))
        XCTAssertEqual(try store.loadSnapshot(), snapshot)
    }

    func testLargeSnapshotRoundTripsThroughSeveralCompressedChunks() throws {
        let path = temp.child("node")
        let data = mixedData(11 * 1_048_576 + 12_345, seed: 7)
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 1, term: 1, confState: jointConf), data: data)
        do {
            let (store, _) = try openStore(path)
            try store.append(makeEntries(1...1, term: 1), hardState: nil)
            try store.saveSnapshot(snapshot)
            XCTAssertLessThan(store.snapshotBytes, data.count, "compressible data should shrink")
        }
        let (store, _) = try openStore(path)
        let loaded = try XCTUnwrap(try store.loadSnapshot())
        XCTAssertEqual(loaded.metadata, snapshot.metadata)
        XCTAssertTrue(loaded.data == data, "data differs after the round trip")
    }

    func testIncompressibleSnapshotIsStoredRaw() throws {
        let path = temp.child("node")
        var generator = SplitMix64(seed: 99)
        let data = (0..<(5 * 1_048_576)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let (store, _) = try openStore(path)
        try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 4, term: 1), data: data))
        XCTAssertLessThan(store.snapshotBytes, data.count + 200, "stored chunks must not grow beyond framing")
        XCTAssertEqual(try store.loadSnapshot()?.data, data)
    }

    /// The writer compresses every chunk into one buffer it reuses: a raw chunk between two
    /// compressed ones, and a short last one, must not carry bytes over from the one before.
    func testChunksAlternatingCompressedAndRawRoundTrip() throws {
        let chunk = SnapshotFormat.chunkRawBytes
        var generator = SplitMix64(seed: 17)
        let noise = (0..<chunk).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let data = mixedData(chunk, seed: 11) + noise + [UInt8](repeating: 7, count: chunk) + mixedData(1_000, seed: 12)
        let path = temp.child("node")
        do {
            let (store, _) = try openStore(path)
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 6, term: 2), data: data))
            XCTAssertGreaterThan(store.snapshotBytes, chunk, "the random chunk is stored as it is")
            XCTAssertLessThan(store.snapshotBytes, 2 * chunk, "the other chunks are compressed")
        }
        let (store, _) = try openStore(path)
        XCTAssertTrue(try store.loadSnapshot()?.data == data, "data differs after the round trip")
    }

    func testEmptySnapshotDataRoundTrips() throws {
        let (store, _) = try openStore(temp.child("node"))
        try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 3, term: 1), data: []))
        XCTAssertEqual(try store.loadSnapshot(), Snapshot(metadata: SnapshotMetadata(index: 3, term: 1), data: []))
    }

    func testCorruptedSnapshotDataFailsItsChecksum() throws {
        let path = temp.child("node")
        let (store, _) = try openStore(path)
        try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 5, term: 1), data: mixedData(300_000, seed: 1)))
        let file = snapshotPath(path, index: 5)
        let size = try Files.read(file).count
        try Files.flipByte(at: size - 100, in: file)
        let error = assertStorageError(.corruptSnapshot) { try store.loadSnapshot() }
        XCTAssertEqual(error?.path, file)
    }

    func testDamagedSnapshotHeaderStopsRecovery() throws {
        let path = temp.child("node")
        do {
            let (store, _) = try openStore(path)
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 5, term: 1, confState: jointConf), data: [1, 2, 3]))
        }
        let file = snapshotPath(path, index: 5)
        try Files.flipByte(at: 20, in: file)
        let error = assertStorageError(.corruptSnapshot) { try RaftLogStore.open(directory: path) }
        XCTAssertEqual(error?.path, file)
        XCTAssertTrue(error?.message.contains("checksum") == true, "\(String(describing: error))")
    }

    func testTruncatedSnapshotIsRejected() throws {
        let path = temp.child("node")
        let (store, _) = try openStore(path)
        try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 5, term: 1), data: mixedData(100_000, seed: 2)))
        let file = snapshotPath(path, index: 5)
        let bytes = try Files.read(file)
        for cut in [bytes.count - 1, bytes.count / 2, 200] {
            try Files.write(Array(bytes.prefix(cut)), to: file)
            assertStorageError(.corruptSnapshot) { try store.loadSnapshot() }
        }
    }

    func testLyingChunkLengthsAreRejectedBeforeDecompressing() throws {
        let path = temp.child("node")
        let (store, _) = try openStore(path)
        try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 5, term: 1), data: mixedData(100_000, seed: 3)))
        let file = snapshotPath(path, index: 5)
        let header = try SnapshotFile.readHeader(file)
        var bytes = try Files.read(file)
        bytes[header.headerBytes + 3] = 0x7F  // raw length of the first chunk: ~2 GB
        try Files.write(bytes, to: file)
        let error = assertStorageError(.corruptSnapshot) { try store.loadSnapshot() }
        XCTAssertEqual(error?.offset, header.headerBytes)
    }

    func testASnapshotPreparedOnAnotherThreadIsInvisibleUntilPublishedAndThenLikeASavedOne() throws {
        let path = temp.child("node")
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 12, term: 3, confState: jointConf), data: mixedData(300_000, seed: 5))
        do {
            let (store, _) = try openStore(path)
            try store.append(makeEntries(1...20, term: 3), hardState: HardState(term: 3, vote: 1, commit: 15))
            let preparer = store.snapshotPreparer
            let prepared = try DispatchQueue(label: "prepare").sync { try preparer.prepare(snapshot) }
            // Written, fsync'd and under its real name, but not the latest yet: the store and a
            // reader see nothing.
            XCTAssertNil(store.latestSnapshot)
            XCTAssertNil(try store.loadSnapshot())
            XCTAssertEqual(try Files.names(path + "/snap"), [SnapshotFormat.fileName(index: 12)], "placed off the store's thread")
            let replaced = try store.publishSnapshot(prepared)
            XCTAssertEqual(replaced.count, 0, "there was no snapshot to replace")
            XCTAssertEqual(store.latestSnapshot, snapshot.metadata)
            XCTAssertEqual(store.firstIndex, 13)
            XCTAssertEqual(try Files.names(path + "/snap"), [SnapshotFormat.fileName(index: 12)])
        }
        let (store, recovered) = try openStore(path)
        XCTAssertEqual(recovered.snapshot, snapshot.metadata)
        XCTAssertEqual(recovered.entries, makeEntries(13...20, term: 3))
        XCTAssertEqual(try store.loadSnapshot(), snapshot)
    }

    func testAPreparedSnapshotOvertakenByANewerOneIsDiscardedAndAnUnpublishedOneIsTakenAfterReopening() throws {
        let path = temp.child("node")
        do {
            let (store, _) = try openStore(path)
            try store.append(makeEntries(1...40, term: 1), hardState: nil)
            let stale = try store.snapshotPreparer.prepare(Snapshot(metadata: SnapshotMetadata(index: 10, term: 1), data: [1]))
            // Meanwhile a newer snapshot (say, one from the leader) was saved.
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 20, term: 1), data: [2]))
            assertStorageError(.staleSnapshot) { try store.publishSnapshot(stale) }
            XCTAssertEqual(try Files.names(path + "/snap"), [SnapshotFormat.fileName(index: 20)], "its file was removed")
            XCTAssertEqual(store.latestSnapshot?.index, 20)
            // Prepared but never published (the node stopped first): complete and in place.
            _ = try store.snapshotPreparer.prepare(Snapshot(metadata: SnapshotMetadata(index: 30, term: 1), data: [3]))
            XCTAssertEqual(try Files.names(path + "/snap"), [20, 30].map { SnapshotFormat.fileName(index: $0) })
            XCTAssertEqual(store.latestSnapshot?.index, 20, "not used before it is published")
        }
        do {
            // Reopening takes it as the latest (its entries were applied, so committed) and writes
            // its marker, as after a crash between publishing and the marker.
            let (store, recovered) = try openStore(path)
            XCTAssertEqual(recovered.snapshot?.index, 30)
            XCTAssertEqual(recovered.entries, makeEntries(31...40, term: 1))
            XCTAssertEqual(try store.loadSnapshot()?.data, [3])
        }
        let (store, recovered) = try openStore(path)
        XCTAssertEqual(recovered.snapshot?.index, 30, "the marker written at the last open agrees")
        XCTAssertEqual(recovered.entries, makeEntries(31...40, term: 1))
        XCTAssertEqual(try store.loadSnapshot()?.data, [3])
        XCTAssertEqual(try Files.names(path + "/snap"), [20, 30].map { SnapshotFormat.fileName(index: $0) })
        // Over the size limit: refused before anything is written.
        let (small, _) = try openStore(temp.child("small"), StorageConfig(maxSnapshotBytes: 10))
        assertStorageError(.snapshotTooLarge) {
            _ = try small.snapshotPreparer.prepare(Snapshot(metadata: SnapshotMetadata(index: 1, term: 1), data: [UInt8](repeating: 0, count: 11)))
        }
    }

    /// The store saves a snapshot at the index a prepared one has (a leader's, while the node's
    /// own was being written): the prepared file never replaces the saved one, whichever named it
    /// first, and throwing the prepared one away leaves the saved one on disk.
    func testAPreparedSnapshotNeverReplacesOneSavedAtTheSameIndex() throws {
        let path = temp.child("node")
        let name = SnapshotFormat.fileName(index: 20)
        let (store, _) = try openStore(path)
        try store.append(makeEntries(1...40, term: 1), hardState: nil)
        // Saved first: the prepared file cannot take the name and stays temporary.
        try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 20, term: 1), data: [1]))
        let late = try store.snapshotPreparer.prepare(Snapshot(metadata: SnapshotMetadata(index: 20, term: 1), data: [2]))
        XCTAssertEqual(try Files.names(path + "/snap").count, 2, "the saved file and the prepared one's temporary file")
        assertStorageError(.staleSnapshot) { try store.publishSnapshot(late) }
        XCTAssertEqual(try Files.names(path + "/snap"), [name])
        XCTAssertEqual(try store.loadSnapshot()?.data, [1])
        // Prepared first (in place), then saved over it: the saved one is the catalog's and stays.
        let early = try store.snapshotPreparer.prepare(Snapshot(metadata: SnapshotMetadata(index: 30, term: 1), data: [3]))
        try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 30, term: 1), data: [4]))
        assertStorageError(.staleSnapshot) { try store.publishSnapshot(early) }
        XCTAssertEqual(try Files.names(path + "/snap"), [name, SnapshotFormat.fileName(index: 30)])
        XCTAssertEqual(try store.loadSnapshot()?.data, [4])
    }

    func testSnapshotSizeLimitOnSaveAndOnLoad() throws {
        let path = temp.child("node")
        do {
            let (store, _) = try openStore(path, StorageConfig(maxSnapshotBytes: 1000))
            assertStorageError(.snapshotTooLarge) {
                try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 1, term: 1), data: [UInt8](repeating: 1, count: 1001)))
            }
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 1, term: 1), data: [UInt8](repeating: 1, count: 1000)))
        }
        // A node opened with a smaller limit refuses to allocate what the file announces.
        let (store, _) = try openStore(path, StorageConfig(maxSnapshotBytes: 999))
        assertStorageError(.snapshotTooLarge) { try store.loadSnapshot() }
    }

    func testOnlyTheRetainedNumberOfSnapshotsIsKept() throws {
        let path = temp.child("node")
        let (store, _) = try openStore(path, StorageConfig(retainedSnapshotCount: 2))
        try store.append(makeEntries(1...40, term: 1), hardState: nil)
        for index in [10, 20, 30, 40] as [LogIndex] {
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: index, term: 1), data: [UInt8(index)]))
        }
        XCTAssertEqual(try Files.names(path + "/snap"), [30, 40].map { SnapshotFormat.fileName(index: $0) })
        assertStorageError(.staleSnapshot) { try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 40, term: 1))) }
        assertStorageError(.staleSnapshot) { try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 0, term: 0))) }
    }

    /// `publishSnapshot` leaves the deleting of the snapshots it replaces to its caller's other
    /// thread: they leave the catalog at once, stay on disk until `delete()`, and a store reopened
    /// before that (a crash) deletes them itself.
    func testPublishingReturnsTheReplacedSnapshotsForDeletionElsewhereAndReopeningPrunesThem() throws {
        let path = temp.child("node")
        let names = { [10, 20, 30].map { SnapshotFormat.fileName(index: $0) } }()
        do {
            let (store, _) = try openStore(path, StorageConfig(retainedSnapshotCount: 1))
            try store.append(makeEntries(1...40, term: 1), hardState: nil)
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 10, term: 1), data: [1]))
            let replaced = try store.publishSnapshot(try store.snapshotPreparer.prepare(Snapshot(metadata: SnapshotMetadata(index: 20, term: 1), data: [2])))
            XCTAssertEqual(replaced.count, 1)
            XCTAssertEqual(store.latestSnapshot?.index, 20)
            XCTAssertEqual(try Files.names(path + "/snap"), Array(names[0...1]), "the replaced file is still there")
            try DispatchQueue(label: "delete").sync { try replaced.delete() }
            XCTAssertEqual(try Files.names(path + "/snap"), [names[1]])
            // Replaced again, and this time the node stops before deleting it.
            _ = try store.publishSnapshot(try store.snapshotPreparer.prepare(Snapshot(metadata: SnapshotMetadata(index: 30, term: 1), data: [3])))
            XCTAssertEqual(try Files.names(path + "/snap"), Array(names[1...2]))
        }
        let (store, recovered) = try openStore(path, StorageConfig(retainedSnapshotCount: 1))
        XCTAssertEqual(recovered.snapshot?.index, 30)
        XCTAssertEqual(try Files.names(path + "/snap"), [names[2]], "reopening deleted what was left")
        XCTAssertEqual(try store.loadSnapshot()?.data, [3])
    }

    func testSnapshotFromTheLeaderReplacesADivergedLog() throws {
        let path = temp.child("node")
        var expected = ExpectedLog()
        do {
            let (store, _) = try openStore(path)
            try store.append(makeEntries(1...20, term: 1), hardState: HardState(term: 1, vote: 1, commit: 5))
            // The leader's snapshot at 15 has term 2: our entry 15 (term 1) disagrees, so the log goes.
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 15, term: 2), data: [1]))
            XCTAssertEqual(store.lastIndex, 15)
            assertStorageError(.invalidAppend) { try store.append(makeEntries(17...17, term: 2), hardState: nil) }
            try store.append(makeEntries(16...18, term: 2), hardState: HardState(term: 2, vote: 0, commit: 15))
            expected = ExpectedLog(
                snapshot: SnapshotMetadata(index: 15, term: 2), hardState: HardState(term: 2, vote: 0, commit: 15),
                entries: makeEntries(16...18, term: 2))
        }
        XCTAssertTrue(expected.matches(try openStore(path).recovered))
    }

    func testSnapshotAheadOfTheLogLeavesAnEmptyLogAfterIt() throws {
        let path = temp.child("node")
        do {
            let (store, _) = try openStore(path)
            try store.append(makeEntries(1...20, term: 1), hardState: nil)
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 100, term: 4), data: [1]))
            XCTAssertEqual(store.firstIndex, 101)
            assertStorageError(.invalidAppend) { try store.append(makeEntries(21...21, term: 4), hardState: nil) }
            try store.append(makeEntries(101...102, term: 4), hardState: nil)
        }
        let (_, recovered) = try openStore(path)
        XCTAssertEqual(recovered.entries, makeEntries(101...102, term: 4))
        XCTAssertEqual(recovered.firstIndex, 101)
    }

    func testCrashBetweenSnapshotFileAndWALMarkerIsCompletedOnOpen() throws {
        let path = temp.child("node")
        do {
            let (store, _) = try openStore(path)
            try store.append(makeEntries(1...20, term: 1), hardState: nil)
        }
        // The snapshot file was published but the marker never reached the WAL (leader snapshot
        // with a different term at 15: the log must be discarded).
        _ = try SnapshotFile.write(Snapshot(metadata: SnapshotMetadata(index: 15, term: 2), data: [7]), to: snapshotPath(path, index: 15))
        do {
            let (store, recovered) = try openStore(path)
            XCTAssertEqual(recovered.snapshot?.index, 15)
            XCTAssertEqual(recovered.entries, [])
            // Recovery wrote the missing marker, so what follows replays in order.
            try store.append(makeEntries(16...17, term: 2), hardState: nil)
        }
        let (_, recovered) = try openStore(path)
        XCTAssertEqual(recovered.entries, makeEntries(16...17, term: 2))
    }

    func testWALMarkerWithoutItsSnapshotFileIsRefused() throws {
        let path = temp.child("node")
        do {
            let (store, _) = try openStore(path)
            try store.append(makeEntries(1...20, term: 1), hardState: nil)
            try store.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 10, term: 1), data: [1]))
        }
        try FileManager.default.removeItem(atPath: snapshotPath(path, index: 10))
        assertStorageError(.missingSnapshot) { try RaftLogStore.open(directory: path) }
    }

    func testLeftoverTemporarySnapshotIsRemovedOnOpen() throws {
        let path = temp.child("node")
        do { _ = try openStore(path) }
        let stray = snapshotPath(path, index: 9) + SnapshotFormat.temporarySuffix
        try Files.write([1, 2, 3], to: stray)
        let (store, recovered) = try openStore(path)
        XCTAssertNil(recovered.snapshot)
        XCTAssertNil(try store.loadSnapshot())
        XCTAssertFalse(FileManager.default.fileExists(atPath: stray))
    }

    func testLZ4BlockRoundTripAndRejectsGarbage() {
        let raw = mixedData(70_000, seed: 5)
        let compressed = LZ4Block.compress(raw[...])!
        XCTAssertLessThan(compressed.count, raw.count)
        var output = [UInt8](repeating: 0, count: raw.count)
        XCTAssertTrue(output.withUnsafeMutableBytes { LZ4Block.decompress(compressed, into: $0) })
        XCTAssertEqual(output, raw)
        var short = [UInt8](repeating: 0, count: raw.count - 1)
        XCTAssertFalse(short.withUnsafeMutableBytes { LZ4Block.decompress(compressed, into: $0) })
        var garbageOutput = [UInt8](repeating: 0, count: 1000)
        XCTAssertFalse(garbageOutput.withUnsafeMutableBytes { LZ4Block.decompress([0xFF, 0xFF, 0xFF, 0xFF, 0x00], into: $0) })
    }
}
