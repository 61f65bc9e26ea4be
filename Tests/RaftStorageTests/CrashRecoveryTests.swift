import Foundation
import RaftCore
import XCTest

@testable import RaftStorage

/// Crashes simulated by damaging the unsynced tail the way a power cut can: the file cut short at
/// any byte, or extended with zeros, or the last record's bytes never reaching the disk.
/// Recovery must return exactly the batches whose append had returned, nothing partial.
final class CrashRecoveryTests: XCTestCase {
    private var temp: TemporaryDirectory!

    override func setUpWithError() throws { temp = try TemporaryDirectory(inMemory: true) }
    override func tearDown() { temp = nil }

    /// No free space after the records: these tests lay out the files byte by byte (the
    /// preallocated layout has its own tests, PreallocationTests).
    private let config = StorageConfig(segmentSizeBytes: 2048, preallocationBytes: 0)

    /// One append and what it left behind.
    private struct Checkpoint {
        var segment: String
        var end: Int
        var state: ExpectedLog
    }

    /// A store with history over several segments, then a mix of batches in the last segment
    /// (entries with and without hard state, hard state alone, a suffix replacement).
    private func writeHistory(at path: String) throws -> [Checkpoint] {
        let (store, _) = try openStore(path, config)
        var expected = ExpectedLog()
        var checkpoints: [Checkpoint] = []
        func append(_ entries: [Entry], _ state: HardState?) throws {
            try store.append(entries, hardState: state)
            expected.append(entries, hardState: state)
            checkpoints.append(Checkpoint(segment: store.segments.last!.path, end: store.segments.last!.bytes, state: expected))
        }
        var next: LogIndex = 1
        while store.segmentCount < 3 {
            try append(makeEntries(next...next + 5, term: 1, bytes: 40), HardState(term: 1, vote: 1, commit: next))
            next += 6
        }
        let last = next - 1
        try append(makeEntries(last + 1...last + 3, term: 1), HardState(term: 1, vote: 1, commit: last - 2))
        try append([], HardState(term: 2, vote: 2, commit: last - 2))
        try append(makeEntries(last - 1...last + 2, term: 2), nil)
        try append(makeEntries(last + 3...last + 3, term: 2, bytes: 300), HardState(term: 2, vote: 2, commit: last))
        try append(makeEntries(last + 4...last + 6, term: 2), nil)
        store.close()
        XCTAssertGreaterThan(Set(checkpoints.map(\.segment)).count, 2, "history should span several segments")
        return checkpoints
    }

    func testCutAtEveryByteOfTheLastSegmentRecoversExactlyTheCompletedBatches() throws {
        let original = temp.child("node")
        let checkpoints = try writeHistory(at: original)
        let lastSegment = checkpoints.last!.segment
        let inLast = checkpoints.filter { $0.segment == lastSegment }
        let before = checkpoints[checkpoints.count - inLast.count - 1]
        let headerEnd = WALFormat.recordHeaderBytes + SegmentHeader.payloadBytes
        let boundaries = [headerEnd] + inLast.map(\.end)
        XCTAssertGreaterThanOrEqual(inLast.count, 5, "the last segment should hold several batches")
        XCTAssertGreaterThan(inLast.last!.end - headerEnd, 1000, "every one of these bytes is a cut point")

        for cut in headerEnd...inLast.last!.end {
            let copy = temp.child("cut")
            try Files.copyDirectory(original, to: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            let segment = copy + "/wal/" + (lastSegment as NSString).lastPathComponent
            try Files.write(Array(try Files.read(segment).prefix(cut)), to: segment)

            let (store, recovered) = try openStore(copy, config)
            let survivor = inLast.last { $0.end <= cut } ?? before
            XCTAssertTrue(survivor.state.matches(recovered), "cut at \(cut): recovered \(recovered.entries.map { ($0.index, $0.term) })")
            let boundary = boundaries.last { $0 <= cut }!
            if boundary == cut {
                XCTAssertNil(recovered.discardedTail, "cut at \(cut) is a record boundary")
            } else {
                XCTAssertEqual(recovered.discardedTail?.offset, boundary, "cut at \(cut)")
                XCTAssertEqual(recovered.discardedTail?.bytes, cut - boundary, "cut at \(cut)")
            }
            XCTAssertEqual(try Files.read(segment).count, boundary, "the torn tail is cut off on disk")

            // The store goes on from there, and what it writes next survives the next restart.
            let next = makeEntries(store.lastIndex + 1...store.lastIndex + 1, term: 3)
            try store.append(next, hardState: nil)
            store.close()
            var afterwards = survivor.state
            afterwards.append(next, hardState: nil)
            XCTAssertTrue(afterwards.matches(try openStore(copy, config).recovered), "cut at \(cut), after one more append")
        }
    }

    func testLastRecordThatNeverReachedTheDiskIsDiscarded() throws {
        let original = temp.child("node")
        let checkpoints = try writeHistory(at: original)
        let last = checkpoints[checkpoints.count - 1]
        let start = checkpoints[checkpoints.count - 2].end
        // Zeros from any point of the last record to its end: unwritten sectors in a file whose
        // size was already extended.
        for zeroFrom in stride(from: start, to: last.end, by: 5) {
            let copy = temp.child("zeros")
            try Files.copyDirectory(original, to: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            let segment = copy + "/wal/" + (last.segment as NSString).lastPathComponent
            var bytes = try Files.read(segment)
            for i in zeroFrom..<bytes.count { bytes[i] = 0 }
            try Files.write(bytes, to: segment)
            let (_, recovered) = try openStore(copy, config)
            XCTAssertTrue(checkpoints[checkpoints.count - 2].state.matches(recovered), "zeros from \(zeroFrom)")
            // Zeros from the record's start on are free space: nothing of it is there to cut.
            XCTAssertEqual(recovered.discardedTail?.offset, zeroFrom == start ? nil : start, "zeros from \(zeroFrom)")
        }
    }

    /// Zeros after the last record are free space (what preallocation leaves, or a size extended
    /// whose sectors never reached the disk): nothing is cut, and the next append lands over them.
    func testZerosAfterTheLastRecordAreFreeSpace() throws {
        let path = temp.child("node")
        let checkpoints = try writeHistory(at: path)
        let last = checkpoints[checkpoints.count - 1]
        let extended = try Files.read(last.segment) + [UInt8](repeating: 0, count: 4096)
        try Files.write(extended, to: last.segment)
        let (store, recovered) = try openStore(path, config)
        XCTAssertTrue(last.state.matches(recovered))
        XCTAssertNil(recovered.discardedTail)
        XCTAssertEqual(try Files.read(last.segment), extended)
        XCTAssertEqual(store.segments.last!.bytes, last.end)
        let next = makeEntries(store.lastIndex + 1...store.lastIndex + 1, term: 3)
        try store.append(next, hardState: nil)
        store.close()
        XCTAssertEqual(try Files.read(last.segment).count, extended.count, "the append overwrote free space")
        var afterwards = last.state
        afterwards.append(next, hardState: nil)
        XCTAssertTrue(afterwards.matches(try openStore(path, config).recovered))
    }

    func testBadChecksumInTheFinalRecordIsATornWrite() throws {
        let path = temp.child("node")
        let checkpoints = try writeHistory(at: path)
        let last = checkpoints[checkpoints.count - 1]
        try Files.flipByte(at: last.end - 3, in: last.segment)
        let (_, recovered) = try openStore(path, config)
        XCTAssertTrue(checkpoints[checkpoints.count - 2].state.matches(recovered))
        let reason = recovered.discardedTail?.reason ?? ""
        XCTAssertTrue(reason.contains("checksum mismatch"), reason)
    }

    func testRefusedOpenLeavesATornTailInPlace() throws {
        let path = temp.child("node")
        let checkpoints = try writeHistory(at: path)
        let last = checkpoints[checkpoints.count - 1]
        let torn = try Files.read(last.segment) + [0x20, 0x00, 0x00]
        try Files.write(torn, to: last.segment)
        // Damage elsewhere makes recovery refuse; it must not have cut the tail on its way.
        try FileManager.default.removeItem(atPath: checkpoints[0].segment)
        assertStorageError(.missingSegment) { try RaftLogStore.open(directory: path, config: config) }
        XCTAssertEqual(try Files.read(last.segment), torn)
    }

    func testInterruptedSegmentCreationLeavesNoTrace() throws {
        let path = temp.child("node")
        let checkpoints = try writeHistory(at: path)
        // A crash between writing a new segment's temporary file and renaming it.
        let stray = path + "/wal/" + SegmentName.make(firstIndex: 67) + SegmentName.temporarySuffix
        try Files.write([1, 2, 3], to: stray)
        let (_, recovered) = try openStore(path, config)
        XCTAssertTrue(checkpoints.last!.state.matches(recovered))
        XCTAssertFalse(FileManager.default.fileExists(atPath: stray))
        XCTAssertNil(recovered.discardedTail)
    }

    /// The last record written only up to some byte, the rest of its extent zeros (sectors never
    /// written), with the file possibly extended further by zeros: at every byte of the record,
    /// including inside its header (rules (c) and (e) of "Torn tail" in docs/STORAGE.md; nothing of
    /// it written is free space).
    func testFinalRecordWrittenUpToAnyByteThenZerosIsDiscarded() throws {
        let original = temp.child("node")
        let checkpoints = try writeHistory(at: original)
        let last = checkpoints[checkpoints.count - 1]
        let previous = checkpoints[checkpoints.count - 2]
        let start = previous.end
        XCTAssertEqual(last.segment, previous.segment)
        for written in 0...(last.end - start) {
            for extra in [0, 512] {
                let copy = temp.child("zeros")
                try Files.copyDirectory(original, to: copy)
                defer { try? FileManager.default.removeItem(atPath: copy) }
                let segment = copy + "/wal/" + (last.segment as NSString).lastPathComponent
                var bytes = try Files.read(segment)
                for i in (start + written)..<bytes.count { bytes[i] = 0 }
                try Files.write(bytes + [UInt8](repeating: 0, count: extra), to: segment)
                let context = "\(written) of \(last.end - start) bytes written, \(extra) zeros after"
                let (_, recovered) = try openStore(copy, config)
                if written == last.end - start {
                    // Whole, and only zeros (free space) after it.
                    XCTAssertTrue(last.state.matches(recovered), context)
                    XCTAssertNil(recovered.discardedTail, context)
                } else if written == 0 {
                    // None of it: only zeros from its start on, which are free space.
                    XCTAssertTrue(previous.state.matches(recovered), context)
                    XCTAssertNil(recovered.discardedTail, context)
                    XCTAssertEqual(try Files.read(segment).count, bytes.count + extra, context)
                } else {
                    XCTAssertTrue(previous.state.matches(recovered), context)
                    XCTAssertEqual(recovered.discardedTail?.offset, start, context)
                    XCTAssertEqual(try Files.read(segment).count, start, context)
                }
            }
        }
    }

    /// A torn snapshot marker (the last record `saveSnapshot` writes) is cut like a torn batch, and
    /// open completes the save by writing the marker again.
    func testTornSnapshotMarkerIsDiscardedAndTheSaveCompleted() throws {
        let original = temp.child("node")
        var state = try writeHistory(at: original).last!.state
        let (store, _) = try openStore(original, config)
        let markerStart = store.segments.last!.bytes
        let segmentPath = store.segments.last!.path
        let metadata = SnapshotMetadata(index: state.lastIndex - 2, term: state.term(at: state.lastIndex - 2)!)
        try store.saveSnapshot(Snapshot(metadata: metadata, data: Array("state".utf8)))
        let markerEnd = store.segments.last!.bytes
        store.close()
        state.save(metadata)
        XCTAssertEqual(markerEnd - markerStart, WALFormat.recordHeaderBytes + SnapshotMarker.payloadBytes)
        for written in markerStart..<markerEnd {
            for zeroFilled in [false, true] {
                let copy = temp.child("marker")
                try Files.copyDirectory(original, to: copy)
                defer { try? FileManager.default.removeItem(atPath: copy) }
                let segment = copy + "/wal/" + (segmentPath as NSString).lastPathComponent
                let intact = try Files.read(segment)
                var bytes = intact
                if zeroFilled {
                    for i in written..<bytes.count { bytes[i] = 0 }
                } else {
                    bytes = Array(bytes.prefix(written))
                }
                try Files.write(bytes, to: segment)
                let context = "marker written up to byte \(written)\(zeroFilled ? ", zeros after" : "")"
                let (_, recovered) = try openStore(copy, config)
                XCTAssertTrue(state.matches(recovered), context)
                if bytes == intact || bytes.count == markerStart || (zeroFilled && written == markerStart) {
                    // The marker's last bytes are zeros anyway, or the cut is at the record
                    // boundary, or only zeros follow it (free space, docs/STORAGE.md "Preallocation").
                    XCTAssertNil(recovered.discardedTail, context)
                } else {
                    XCTAssertEqual(recovered.discardedTail?.offset, markerStart, context)
                }
                XCTAssertEqual(try Files.read(segment).count, markerEnd, "\(context): open writes the marker again")
            }
        }
    }

    /// `maxBatchBytes` bounds the record a torn write can have been. Lowered below the size of the
    /// batch a crash interrupted, it makes open refuse that tail (nothing is cut); with the old
    /// value back, the tail recovers as the torn write it is.
    func testLoweredMaxBatchBytesRefusesALargerTornBatchUntilTheLimitIsBack() throws {
        let path = temp.child("node")
        let checkpoints = try writeHistory(at: path)
        let (store, _) = try openStore(path, config)
        let entries = makeEntries(store.lastIndex + 1...store.lastIndex + 1, term: 2, bytes: 3000)
        try store.append(entries, hardState: nil)
        // The batch may have started a new segment; either way it is the last record of the last one.
        let segment = store.segments.last!.path
        let end = store.segments.last!.bytes
        let start = end - WALFormat.recordHeaderBytes - Batch.payloadBytes(entries: entries, hardState: nil)
        store.close()
        XCTAssertGreaterThan(end - start, 3000)
        let torn = Array(try Files.read(segment).prefix(start + 2000))
        try Files.write(torn, to: segment)

        var lowered = config
        lowered.maxBatchBytes = 1024
        let error = assertStorageError(.corruptRecord) { try RaftLogStore.open(directory: path, config: lowered) }
        XCTAssertEqual(error?.path, segment)
        XCTAssertEqual(error?.offset, start)
        XCTAssertTrue(error?.message.contains("maxBatchBytes 1024") ?? false, String(describing: error))
        XCTAssertEqual(try Files.read(segment), torn, "a refused open must not cut anything")

        let (_, recovered) = try openStore(path, config)
        XCTAssertTrue(checkpoints.last!.state.matches(recovered))
        XCTAssertEqual(recovered.discardedTail?.offset, start)
    }
}
