import Foundation
import RaftCore
import XCTest

@testable import RaftStorage

/// `StorageConfig.preallocationBytes`: the active segment's file is zero-filled ahead of its
/// records, recovery takes those zeros for free space, a roll cuts them off the full segment, and
/// a crash inside the free space recovers exactly like one at the end of the file
/// (docs/STORAGE.md, "Preallocation").
final class PreallocationTests: XCTestCase {
    private var temp: TemporaryDirectory!

    override func setUpWithError() throws { temp = try TemporaryDirectory(inMemory: true) }
    override func tearDown() { temp = nil }

    private let config = StorageConfig(segmentSizeBytes: 8192, preallocationBytes: 3000)

    private func fileSize(_ path: String) throws -> Int { try Files.read(path).count }

    /// Opens `path` again and checks it recovers exactly `expected`, with nothing cut.
    private func assertRecovers(
        _ expected: ExpectedLog, at path: String, _ config: StorageConfig, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let (_, recovered) = try openStore(path, config)
        XCTAssertTrue(expected.matches(recovered), "\(recovered)", file: file, line: line)
        XCTAssertNil(recovered.discardedTail, file: file, line: line)
    }

    func testFileIsExtendedAheadOfTheRecordsAndOnlyWhenTheyReachTheEnd() throws {
        let (store, _) = try openStore(temp.child("node"), config)
        let path = store.segments[0].path
        let headerEnd = WALFormat.recordHeaderBytes + SegmentHeader.payloadBytes
        XCTAssertEqual(try fileSize(path), headerEnd + 3000, "a new segment is created with its free space")
        try store.append(makeEntries(1...2, term: 1, bytes: 100))
        XCTAssertEqual(try fileSize(path), headerEnd + 3000, "the record went into the free space")
        var next: LogIndex = 3
        while store.segments[0].bytes <= headerEnd + 3000 {
            try store.append(makeEntries(next...next, term: 1, bytes: 300))
            next += 1
        }
        let records = store.segments[0].bytes
        XCTAssertEqual(try fileSize(path), records + 3000, "extended by preallocationBytes past the record that did not fit")
        XCTAssertEqual(store.segments[0].fileBytes, records + 3000)
        XCTAssertEqual(Array(try Files.read(path)[records...]), [UInt8](repeating: 0, count: 3000))
    }

    func testFileIsNeverExtendedPastTheSegmentSize() throws {
        let (store, _) = try openStore(temp.child("node"), config)
        var next: LogIndex = 1
        while store.segmentCount == 1 {
            try store.append(makeEntries(next...next, term: 1, bytes: 500))
            next += 1
            if store.segmentCount == 1 {
                XCTAssertLessThanOrEqual(
                    store.segments[0].fileBytes, max(config.segmentSizeBytes, store.segments[0].bytes),
                    "free space is not added past segmentSizeBytes")
            }
        }
    }

    /// Free space never reaches past `segmentSizeBytes`, so a segment full under the same
    /// configuration has none left. One full under a smaller `segmentSizeBytes` than it was
    /// preallocated with still has some, and the roll cuts it off before the next segment appears.
    func testRollCutsTheFreeSpaceOffTheFullSegment() throws {
        let path = temp.child("node")
        var expected = ExpectedLog()
        var next: LogIndex = 1
        func append(_ store: RaftLogStore) throws {
            let batch = makeEntries(next...next + 2, term: 1, bytes: 200)
            try store.append(batch, hardState: HardState(term: 1, vote: 1, commit: next))
            expected.append(batch, hardState: HardState(term: 1, vote: 1, commit: next))
            next += 3
        }
        do {
            let (store, _) = try openStore(path, config)
            try append(store)
            try append(store)
            XCTAssertEqual(store.segmentCount, 1)
            XCTAssertGreaterThan(store.segments[0].fileBytes, store.segments[0].bytes + 1024)
        }
        let smaller = StorageConfig(segmentSizeBytes: 1024, preallocationBytes: 3000)
        let (store, _) = try openStore(path, smaller)
        XCTAssertGreaterThan(store.segments[0].fileBytes, store.segments[0].bytes, "reopened with its free space")
        while store.segmentCount < 4 { try append(store) }
        for segment in store.segments.dropLast() {
            XCTAssertEqual(try fileSize(segment.path), segment.bytes, "\(segment.path) keeps no free space")
        }
        let active = store.segments.last!
        XCTAssertGreaterThan(try fileSize(active.path), active.bytes, "the new segment has its free space")
        store.close()
        try assertRecovers(expected, at: path, smaller)
    }

    func testReopenKeepsTheFreeSpaceAndAppendsOverIt() throws {
        let path = temp.child("node")
        var expected = ExpectedLog()
        let fileBytes: Int
        do {
            let (store, _) = try openStore(path, config)
            let batch = makeEntries(1...5, term: 1, bytes: 100)
            try store.append(batch, hardState: HardState(term: 1, vote: 1, commit: 2))
            expected.append(batch, hardState: HardState(term: 1, vote: 1, commit: 2))
            fileBytes = store.segments[0].fileBytes
            XCTAssertGreaterThan(fileBytes, store.segments[0].bytes)
        }
        let (store, recovered) = try openStore(path, config)
        XCTAssertTrue(expected.matches(recovered))
        XCTAssertNil(recovered.discardedTail, "free space is not a torn tail")
        XCTAssertEqual(store.segments[0].fileBytes, fileBytes)
        XCTAssertEqual(try fileSize(store.segments[0].path), fileBytes, "open leaves the free space in place")
        try store.append(makeEntries(6...6, term: 1), hardState: nil)
        expected.append(makeEntries(6...6, term: 1), hardState: nil)
        XCTAssertEqual(try fileSize(store.segments[0].path), fileBytes)
        store.close()
        try assertRecovers(expected, at: path, config)
    }

    /// Stores written without preallocation (or by an older version) open, and gain free space
    /// with their next append; with preallocation off, files end at their last record.
    func testLayoutsWithAndWithoutFreeSpaceOpenEitherWay() throws {
        let path = temp.child("node")
        var expected = ExpectedLog()
        let off = StorageConfig(segmentSizeBytes: 8192, preallocationBytes: 0)
        do {
            let (store, _) = try openStore(path, off)
            try store.append(makeEntries(1...3, term: 1), hardState: HardState(term: 1, vote: 1, commit: 1))
            expected.append(makeEntries(1...3, term: 1), hardState: HardState(term: 1, vote: 1, commit: 1))
            XCTAssertEqual(try fileSize(store.segments[0].path), store.segments[0].bytes)
        }
        do {
            let (store, recovered) = try openStore(path, config)
            XCTAssertTrue(expected.matches(recovered))
            try store.append(makeEntries(4...4, term: 1), hardState: nil)
            expected.append(makeEntries(4...4, term: 1), hardState: nil)
            XCTAssertEqual(try fileSize(store.segments[0].path), store.segments[0].bytes + 3000)
        }
        try assertRecovers(expected, at: path, off)
    }

    /// The deferred path extends the file in the same write, and the one sync makes both durable.
    func testDeferredAppendThatExtendsTheFile() throws {
        let path = temp.child("node")
        var expected = ExpectedLog()
        do {
            let (store, _) = try openStore(path, config)
            var next: LogIndex = 1
            var extended = false
            while !extended && next < 100 {
                let before = store.segments[0].fileBytes
                let batch = makeEntries(next...next + 1, term: 1, bytes: 400)
                let pending = try XCTUnwrap(try store.appendDeferringSync(batch, hardState: nil))
                try store.finishSync(pending, pending.run())
                expected.append(batch, hardState: nil)
                extended = store.segments[0].fileBytes > before
                next += 2
            }
            XCTAssertTrue(extended, "no deferred append extended the file")
        }
        try assertRecovers(expected, at: path, config)
    }

    /// A crash during the last append, into free space: its record written up to any byte (the
    /// rest of the file zeros, as preallocated) recovers the appends before it; the tail is cut,
    /// and the store goes on over it.
    func testCrashInsideTheFreeSpaceRecoversTheCompletedAppends() throws {
        let original = temp.child("node")
        var before = ExpectedLog()
        let start: Int
        let end: Int
        let segmentPath: String
        do {
            let (store, _) = try openStore(original, config)
            let first = makeEntries(1...4, term: 1, bytes: 60)
            try store.append(first, hardState: HardState(term: 1, vote: 1, commit: 2))
            before.append(first, hardState: HardState(term: 1, vote: 1, commit: 2))
            start = store.segments[0].bytes
            try store.append(makeEntries(5...6, term: 1, bytes: 60), hardState: HardState(term: 1, vote: 1, commit: 4))
            end = store.segments[0].bytes
            segmentPath = store.segments[0].path
            XCTAssertGreaterThan(store.segments[0].fileBytes, end + 1000, "the last record lies inside free space")
        }
        for written in 0..<(end - start) {
            let copy = temp.child("crash")
            try Files.copyDirectory(original, to: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            let segment = copy + "/wal/" + (segmentPath as NSString).lastPathComponent
            var bytes = try Files.read(segment)
            for i in (start + written)..<bytes.count { bytes[i] = 0 }
            try Files.write(bytes, to: segment)
            let (store, recovered) = try openStore(copy, config)
            XCTAssertTrue(before.matches(recovered), "\(written) bytes written")
            XCTAssertEqual(recovered.discardedTail?.offset, written == 0 ? nil : start, "\(written) bytes written")
            XCTAssertEqual(store.segments[0].bytes, start)
            let next = makeEntries(5...5, term: 2)
            try store.append(next, hardState: nil)
            store.close()
            var afterwards = before
            afterwards.append(next, hardState: nil)
            XCTAssertTrue(afterwards.matches(try openStore(copy, config).recovered), "\(written) bytes written, then an append")
        }
    }

    /// Only the last segment may end in zeros: a roll cuts them off the full one first, so zeros
    /// at the end of an earlier segment mean lost records there.
    func testZerosAtTheEndOfAnEarlierSegmentAreRefused() throws {
        let path = temp.child("node")
        let (store, _) = try openStore(path, config)
        var next: LogIndex = 1
        while store.segmentCount < 2 {
            try store.append(makeEntries(next...next + 2, term: 1, bytes: 200))
            next += 3
        }
        let first = store.segments[0]
        store.close()
        try Files.write(try Files.read(first.path) + [UInt8](repeating: 0, count: 512), to: first.path)
        let error = assertStorageError(.corruptRecord) { try RaftLogStore.open(directory: path, config: config) }
        XCTAssertEqual(error?.offset, first.bytes)
    }

    /// Non-zero bytes after the free space's start are not free space; the torn-tail rule judges
    /// them as before, and refuses what an interrupted append cannot leave.
    func testJunkInTheFreeSpaceIsRefused() throws {
        let path = temp.child("node")
        let (store, _) = try openStore(path, config)
        try store.append(makeEntries(1...3, term: 1, bytes: 60))
        let segment = store.segments[0]
        store.close()
        var bytes = try Files.read(segment.path)
        bytes[segment.bytes + 700] = 0x5A
        try Files.write(bytes, to: segment.path)
        let error = assertStorageError(.corruptRecord) { try RaftLogStore.open(directory: path, config: config) }
        XCTAssertEqual(error?.offset, segment.bytes)
        XCTAssertEqual(try Files.read(segment.path), bytes, "a refused open changes nothing")
    }

    func testPreallocationBytesIsValidated() {
        assertStorageError(.invalidConfig) { try StorageConfig(preallocationBytes: -1).validate() }
        assertStorageError(.invalidConfig) { try StorageConfig(preallocationBytes: (64 << 20) + 1).validate() }
        XCTAssertNoThrow(try StorageConfig(preallocationBytes: 0).validate())
        XCTAssertEqual(StorageConfig.default.preallocationBytes, 1 << 20)
    }
}
