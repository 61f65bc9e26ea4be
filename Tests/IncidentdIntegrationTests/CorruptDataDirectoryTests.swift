import Foundation
import IncidentdTesting
import XCTest

/// A damaged write-ahead log (docs/STORAGE.md, "Recovery"): damage in the middle refuses to
/// start, naming the file and the byte, and leaves the files as found; a torn tail — what a
/// crash during the last write leaves — is cut, and nothing that was acknowledged goes with it.
final class CorruptDataDirectoryTests: IncidentdTestCase {
    /// A node that answered `count` events and was stopped; returns the last WAL segment's path
    /// and the incident ids the events opened.
    private func stoppedNode(events count: Int) async throws -> (node: IncidentdNode, segment: String, incidents: [String]) {
        let node = try await startedNode()
        var incidents: [String] = []
        for i in 1...count {
            let answer = try await node.admin.post("/api/v1/events", #"{"source": "llm-sentinel", "title": "event \#(i)"}"#)
            XCTAssertEqual(answer.status, 202, "\(answer)")
            incidents.append(try XCTUnwrap(answer.json["incident_id"]?.string))
        }
        await node.stop()
        XCTAssertEqual(node.process?.exitStatus, 0, "a graceful stop exits 0\n\(node.logs.suffix(2_000))")
        let wal = node.dataDirectory + "/raft/wal"
        let segments = try FileManager.default.contentsOfDirectory(atPath: wal).filter { $0.hasSuffix(".seg") }.sorted()
        let segment = try XCTUnwrap(segments.last, "no WAL segment in \(wal)")
        return (node, "\(wal)/\(segment)", incidents)
    }

    /// Record start offsets of a WAL segment: `[length u32 LE][crc u32][type u8][payload]`. The
    /// records end where the free space begins (zeros: a type byte is never 0; docs/STORAGE.md,
    /// "Preallocation") or the file ends.
    private static func recordOffsets(_ bytes: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var offset = 0
        while offset + 9 <= bytes.count, bytes[offset + 8] != 0 {
            let length = (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
            guard offset + 9 + length <= bytes.count else { break }
            offsets.append(offset)
            offset += 9 + length
        }
        return offsets
    }

    /// Where the records of a segment end: the offset the next append writes at.
    private static func recordsEnd(_ bytes: [UInt8]) -> Int {
        guard let last = recordOffsets(bytes).last else { return 0 }
        return last + 9 + (0..<4).reduce(0) { $0 | Int(bytes[last + $1]) << (8 * $1) }
    }

    /// `bytes` with `written` put where the next append would write it: over the free space when
    /// there is some (the file keeps its size), else at the end.
    private static func writtenAtTheEnd(_ bytes: [UInt8], _ written: [UInt8]) -> [UInt8] {
        let end = recordsEnd(bytes)
        var result = Array(bytes[..<end]) + written
        if result.count < bytes.count { result += bytes[result.count...] }
        return result
    }

    private static func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    private static func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// Starts the node on the damaged directory and expects a clean refusal naming `path` and `offset`.
    private func assertRefusesToStart(_ node: IncidentdNode, naming path: String, offset: Int, file: StaticString = #filePath, line: UInt = #line)
        async throws
    {
        let damaged = try Self.read(path)
        let run = try node.launch()
        let exited = await run.waitForExit(seconds: 20)
        XCTAssertTrue(exited, "the node started on a corrupt log", file: file, line: line)
        XCTAssertNotEqual(run.exitStatus, 0, file: file, line: line)
        XCTAssertFalse(run.exitedBySignal, "it must refuse cleanly, not crash", file: file, line: line)
        let message = run.standardError
        XCTAssertTrue(message.contains(path), "the message does not name the file: \(message)", file: file, line: line)
        XCTAssertTrue(message.contains("at byte \(offset)"), "the message does not name offset \(offset): \(message)", file: file, line: line)
        XCTAssertTrue(message.contains("corrupt_record"), message, file: file, line: line)
        XCTAssertEqual(try Self.read(path), damaged, "a refused start must leave the log as it found it", file: file, line: line)
    }

    func testBytesOverwrittenInTheMiddleOfTheLogStopStartupNamingTheFileAndOffset() async throws {
        let (node, path, _) = try await stoppedNode(events: 6)
        var bytes = try Self.read(path)
        let records = Self.recordOffsets(bytes)
        XCTAssertGreaterThanOrEqual(records.count, 5, "expected a header and several batches in \(path)")
        // Flip bytes inside a record in the middle: valid records follow it, so it cannot be a torn write.
        let victim = records[records.count / 2]
        for i in 0..<4 { bytes[victim + 12 + i] ^= 0xA5 }
        try Self.write(bytes, path)
        try await assertRefusesToStart(node, naming: path, offset: victim)
    }

    /// What a crash during the last append leaves: the first part of the batch record it was
    /// writing, the file ending before the record does.
    func testHalfWrittenFinalBatchIsCutAsATornTailAndNothingAcknowledgedIsLost() async throws {
        let (node, path, incidents) = try await stoppedNode(events: 4)
        let intact = try Self.read(path)
        // The torn record: the first half of a batch record (the last one, as written after it).
        let last = try XCTUnwrap(Self.recordOffsets(intact).last)
        let length = (0..<4).reduce(0) { $0 | Int(intact[last + $1]) << (8 * $1) }
        try Self.write(Self.writtenAtTheEnd(intact, Array(intact[last..<last + 9 + length / 2])), path)

        try await node.start()
        XCTAssertTrue(node.logs.contains("discarded a torn tail"), "the cut is not reported:\n\(node.logs.suffix(2_000))")
        for incident in incidents {
            let answer = try await node.admin.get("/api/v1/incidents/\(incident)")
            XCTAssertEqual(answer.status, 200, "\(incident) was lost with the torn tail")
        }
        let more = try await node.admin.post("/api/v1/events", #"{"source": "llm-sentinel", "title": "after the cut"}"#)
        XCTAssertEqual(more.status, 202, "\(more)")
    }

    /// Bytes after the last record that are neither part of a record nor zeros were not written by
    /// the last append, so they are not its torn tail: startup stops instead of cutting them.
    func testGarbageAppendedAfterTheLastRecordStopsStartupNamingTheFileAndOffset() async throws {
        let (node, path, _) = try await stoppedNode(events: 4)
        let intact = try Self.read(path)
        try Self.write(Self.writtenAtTheEnd(intact, Array("half-written batch\u{0}\u{0}\u{0}".utf8)), path)
        try await assertRefusesToStart(node, naming: path, offset: Self.recordsEnd(intact))
    }

    /// Bytes inserted in the middle of a segment shift every later record; records checksum their
    /// own offset, so none of them validates where it now lies. That is not what a crash during
    /// the last append leaves, so startup stops, and the acknowledged records are still there.
    func testGarbageInsertedInTheMiddleOfTheLogStopsStartupNamingTheFileAndOffset() async throws {
        let (node, path, incidents) = try await stoppedNode(events: 6)
        let bytes = try Self.read(path)
        let records = Self.recordOffsets(bytes)
        let victim = records[records.count / 2]
        try Self.write(Array(bytes[..<victim]) + Array("GARBAGE-GARBAGE!".utf8) + Array(bytes[victim...]), path)
        try await assertRefusesToStart(node, naming: path, offset: victim)

        // Nothing was cut: with the garbage taken out again, every acknowledged incident is there.
        try Self.write(bytes, path)
        try await node.start()
        XCTAssertFalse(node.logs.contains("discarded a torn tail"), String(node.logs.suffix(2_000)))
        for incident in incidents {
            let answer = try await node.admin.get("/api/v1/incidents/\(incident)")
            XCTAssertEqual(answer.status, 200, "\(incident) was lost")
        }
    }
}
