import Foundation
import IncidentdTesting
import XCTest

/// `wal_preallocation_bytes` reaches the log: by default the active WAL segment is zero-filled
/// ahead of its records; with 0 it ends at its last record; a value out of range stops startup.
final class WALPreallocationTests: IncidentdTestCase {
    private func activeSegmentBytes(_ node: IncidentdNode) throws -> Int {
        let wal = node.dataDirectory + "/raft/wal"
        let segment = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: wal).filter { $0.hasSuffix(".seg") }.sorted().last)
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(wal)/\(segment)")
        return try XCTUnwrap(attributes[.size] as? Int)
    }

    func testTheActiveSegmentIsPreallocatedUnlessTurnedOff() async throws {
        let preallocated = try await startedNode()
        XCTAssertGreaterThanOrEqual(try activeSegmentBytes(preallocated), 1 << 20)
        await preallocated.stop()

        let growing = try await startedNode(["--wal-preallocation-bytes", "0"])
        let answer = try await growing.admin.post("/api/v1/events", #"{"source": "llm-sentinel", "title": "one"}"#)
        XCTAssertEqual(answer.status, 202, "\(answer)")
        XCTAssertLessThan(try activeSegmentBytes(growing), 64 << 10, "with 0 the segment ends at its records")
        await growing.stop()
    }

    func testAnOutOfRangeValueStopsStartup() async throws {
        let node = try IncidentdNode(cleanup: cleanup, extraArguments: ["--wal-preallocation-bytes", "134217728"])
        let run = try node.launch()
        let exited = await run.waitForExit(seconds: 20)
        XCTAssertTrue(exited)
        XCTAssertNotEqual(run.exitStatus, 0)
        XCTAssertTrue(run.standardError.contains("wal_preallocation_bytes"), run.standardError)
    }
}
