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

    /// No free space after the records: these tests lay out the files byte by byte (the
    /// preallocated layout has its own tests, PreallocationTests).
    private let config = StorageConfig(segmentSizeBytes: 1024, preallocationBytes: 0)

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

    // MARK: - Bytes that no interrupted append leaves (docs/STORAGE.md, "Torn tail")

    /// Non-zero bytes that are not a record: deterministic pseudo-random bytes, never 0.
    private static func junk(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next() % 255 + 1) }
    }

    /// A record header `[length][crc][type]` with a checksum that matches nothing.
    private static func header(length: UInt32, type: UInt8) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * UInt32($0))) } + [0xDE, 0xAD, 0xBE, 0xEF, type]
    }

    /// Garbage of several sizes and shapes, among them some whose first bytes decode as a
    /// plausible record header (a small length, a known type, a valid batch flags byte).
    private static let garbage: [(name: String, bytes: [UInt8])] = [
        ("one byte", [0xA7]),
        ("eight bytes (less than a header)", junk(8, seed: 1)),
        ("text", Array("GARBAGE-GARBAGE!".utf8)),
        ("100 random bytes", junk(100, seed: 2)),
        ("4 KiB of random bytes", junk(4096, seed: 3)),
        ("plausible batch header, length 40", header(length: 40, type: 2) + [0] + junk(14, seed: 4)),
        ("plausible batch record, length 40, fully present", header(length: 40, type: 2) + [1] + junk(39, seed: 5)),
        ("plausible snapshot marker", header(length: 17, type: 3) + junk(17, seed: 6)),
        ("length of 1 MiB, unknown type", header(length: 1 << 20, type: 9) + junk(20, seed: 7)),
        ("length 8 (below any record an append writes)", header(length: 8, type: 2) + junk(8, seed: 8)),
        ("zeros", [UInt8](repeating: 0, count: 64)),
        ("zeros, then one non-zero byte", [UInt8](repeating: 0, count: 12) + [5]),
    ]

    /// Inserting bytes shifts every later record, so none validates where it now lies. Recovery
    /// must not take the rest of the segment for a torn tail: those records were acknowledged.
    func testGarbageInsertedInTheMiddleOfTheLastSegmentIsRefusedNotCut() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        let last = layout[layout.count - 1]
        let original = try Files.read(last.path)
        let records = last.records
        XCTAssertEqual(records.count, 3)
        // Record boundaries (the first right after the segment header, the last record's start)
        // and points inside a record header and inside payloads.
        let positions = [records[0], records[0] + 7, records[1], records[1] + 100, records[2], records[2] + 1, records[2] + 150]
        for position in positions {
            for (name, garbage) in Self.garbage {
                try Files.write(Array(original[..<position]) + garbage + Array(original[position...]), to: last.path)
                // The first record that no longer validates is the one the bytes went into.
                let damaged = records.last { $0 <= position }!
                try assertOpenRefused(path, .corruptRecord, file: last.path, offset: damaged)
                if damaged == position, let error = try? openError(path) {
                    XCTAssertTrue(error.message.contains("not the torn tail"), "\(name) at \(position): \(error)")
                }
            }
        }
        try Files.write(original, to: last.path)
        XCTAssertEqual(try openStore(path, config).recovered.lastIndex, LogIndex(layout.reduce(0) { $0 + $1.records.count } * 4))
    }

    /// A final record that validates, then bytes that are neither a torn record nor zeros: the
    /// last append did not write them, so they are not its torn tail either.
    func testValidFinalRecordFollowedByNonZeroJunkIsRefused() throws {
        let path = temp.child("node")
        let layout = try writeLog(at: path)
        let last = layout[layout.count - 1]
        let original = try Files.read(last.path)
        let cases: [(name: String, bytes: [UInt8])] = [
            ("text", Array("half-written batch\u{0}\u{0}\u{0}".utf8)),
            ("0xFF bytes", [UInt8](repeating: 0xFF, count: 20)),
            ("random bytes", Self.junk(300, seed: 9)),
            ("plausible record, then more bytes", Self.header(length: 40, type: 2) + [0] + Self.junk(39, seed: 10) + [1, 2, 3]),
            ("plausible batch header with batch flags 7", Self.header(length: 40, type: 2) + [7] + Self.junk(10, seed: 11)),
            ("segment header type", Self.header(length: 56, type: 1) + Self.junk(56, seed: 12)),
            ("zeros, then a non-zero byte", [UInt8](repeating: 0, count: 100) + [1]),
            ("half a header, zeros, then a non-zero byte", [40, 0, 0, 0] + [UInt8](repeating: 0, count: 30) + [1]),
        ]
        for (name, junk) in cases {
            try Files.write(original + junk, to: last.path)
            try assertOpenRefused(path, .corruptRecord, file: last.path, offset: original.count)
            let error = try openError(path)
            XCTAssertTrue(error?.message.contains("not the torn tail") ?? false, "\(name): \(String(describing: error))")
        }
    }

    /// The error `open` throws, if any (the store it returns otherwise is closed at once).
    private func openError(_ path: String) throws -> StorageError? {
        do {
            _ = try RaftLogStore.open(directory: path, config: config)
            return nil
        } catch {
            return error
        }
    }
}
