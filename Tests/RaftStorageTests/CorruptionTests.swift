import Foundation
import RaftCore
import XCTest

@testable import RaftStorage

/// Damage that no crash can produce: recovery must refuse to start, name the file and the byte
/// offset, and leave the files as they were, rather than drop data silently.
final class CorruptionTests: XCTestCase {
    private var temp: TemporaryDirectory!

    override func setUpWithError() throws { temp = try TemporaryDirectory() }
    override func tearDown() { temp = nil }

    private let config = StorageConfig(segmentSizeBytes: 1024)

    /// Three or more segments of 4-entry batches; returns each segment's record start offsets.
    private func writeLog(at path: String) throws -> [(path: String, records: [Int])] {
        let (store, _) = try openStore(path, config)
        var layout: [(path: String, records: [Int])] = []
        var start: LogIndex = 1
        while layout.count < 4 || layout[layout.count - 1].records.count < 3 {
            let segmentsBefore = store.segmentCount
            let offset = store.segments.last!.bytes
            try store.append(makeEntries(start...start + 3, term: 1, bytes: 50), hardState: HardState(term: 1, vote: 1, commit: start))
            start += 4
            if store.segmentCount > segmentsBefore || layout.isEmpty {
                let headerEnd = WALFormat.recordHeaderBytes + SegmentHeader.payloadBytes
                layout.append((store.segments.last!.path, [store.segmentCount > segmentsBefore ? headerEnd : offset]))
            } else {
                layout[layout.count - 1].records.append(offset)
            }
        }
        store.close()
        XCTAssertGreaterThanOrEqual(layout.count, 3)
        return layout
    }

    /// Opens, expecting `code` about `file` at `offset`, and checks nothing on disk changed.
    private func assertOpenRefused(
        _ path: String, _ code: StorageError.Code, file: String, offset: Int?, line: UInt = #line
    ) throws {
        let before = try snapshotOfFiles(path + "/wal")
        let error = assertStorageError(code, line: line) { try RaftLogStore.open(directory: path, config: config) }
        XCTAssertEqual(error?.path, file, line: line)
        if let offset { XCTAssertEqual(error?.offset, offset, "\(String(describing: error))", line: line) }
        XCTAssertTrue(try snapshotOfFiles(path + "/wal") == before, "a refused open must not modify the WAL", line: line)
    }

    private func snapshotOfFiles(_ directory: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for name in try Files.names(directory) { files[name] = try Files.read(directory + "/" + name) }
        return files
    }

    func testBadChecksumFollowedByValidRecordsNamesFileAndOffset() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        let last = layout[layout.count - 1]
        XCTAssertGreaterThanOrEqual(last.records.count, 2)
        let damaged = last.records[0]
        try Files.flipByte(at: damaged + 20, in: last.path)
        try assertOpenRefused(path, .corruptRecord, file: last.path, offset: damaged)
    }

    func testDamagedLengthFieldInTheMiddleIsNotMistakenForATornTail() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        let last = layout[layout.count - 1]
        let damaged = last.records[0]
        // A length running past the end of the file looks like a torn write, but valid records follow.
        var bytes = try Files.read(last.path)
        bytes[damaged + 3] = 0x0F
        try Files.write(bytes, to: last.path)
        try assertOpenRefused(path, .corruptRecord, file: last.path, offset: damaged)
    }

    func testDamageInASegmentThatIsNotTheLastIsCorruptionEvenAtItsEnd() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        let first = layout[0]
        let lastRecord = first.records[first.records.count - 1]
        try Files.flipByte(at: lastRecord + 12, in: first.path)
        try assertOpenRefused(path, .corruptRecord, file: first.path, offset: lastRecord)
    }

    func testTruncatedSegmentThatIsNotTheLastIsCorruption() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        let middle = layout[1]
        let lastRecord = middle.records[middle.records.count - 1]
        try Files.write(Array(try Files.read(middle.path).prefix(lastRecord + 5)), to: middle.path)
        try assertOpenRefused(path, .corruptRecord, file: middle.path, offset: lastRecord)
    }

    func testMissingMiddleSegmentIsDetected() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        try FileManager.default.removeItem(atPath: layout[1].path)
        try assertOpenRefused(path, .missingSegment, file: layout[2].path, offset: 0)
    }

    func testMissingFirstSegmentIsDetected() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        try FileManager.default.removeItem(atPath: layout[0].path)
        try assertOpenRefused(path, .missingSegment, file: layout[1].path, offset: 0)
    }

    func testDamagedSegmentHeaderIsCorruptionEvenInTheLastSegment() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        let last = layout[layout.count - 1]
        try Files.flipByte(at: 30, in: last.path)
        try assertOpenRefused(path, .corruptSegment, file: last.path, offset: 0)
    }

    func testSegmentRenamedToTheWrongIndexIsDetected() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        let last = layout[layout.count - 1]
        let renamed = path + "/wal/" + SegmentName.make(firstIndex: 999)
        try FileManager.default.moveItem(atPath: last.path, toPath: renamed)
        try assertOpenRefused(path, .corruptSegment, file: renamed, offset: 0)
    }

    func testMalformedSegmentNameIsRefused() throws {
        let path = temp.child("node")
        _ = try writeLog(at: path)
        try Files.write([], to: path + "/wal/12.seg")
        try assertOpenRefused(path, .corruptSegment, file: path + "/wal/12.seg", offset: nil)
    }

    func testRecordWithValidChecksumButInvalidContentIsRefusedEvenAtTheTail() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        let last = layout[layout.count - 1]
        var bytes = try Files.read(last.path)
        // Append a well-framed batch whose flags byte is unknown: not a torn write.
        let offset = bytes.count
        bytes += WALFormat.frame(.batch, at: offset) { writer in
            writer.write(UInt8(0x80))
            writer.write(UInt32(0))
        }
        try Files.write(bytes, to: last.path)
        try assertOpenRefused(path, .inconsistentLog, file: last.path, offset: offset)
    }

    func testBatchThatLeavesAGapIsRefused() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        let last = layout[layout.count - 1]
        var bytes = try Files.read(last.path)
        let offset = bytes.count
        bytes += WALFormat.frame(.batch, at: offset) { writer in
            Batch.encode(entries: makeEntries(500...500, term: 1), previousTerm: 1, hardState: nil, into: &writer)
        }
        try Files.write(bytes, to: last.path)
        try assertOpenRefused(path, .inconsistentLog, file: last.path, offset: offset)
    }
}
