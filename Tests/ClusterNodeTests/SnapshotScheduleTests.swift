import Foundation
import Locking
import XCTest

@testable import ClusterNode

/// When snapshots are taken (`NodeConfig.snapshotThresholds`) and where their work runs
/// (`BackgroundThread`).
final class SnapshotScheduleTests: XCTestCase {
    private func config(ratio: Double) -> NodeConfig {
        var config = NodeConfig(dataDirectory: "/unused")
        config.snapshotEveryEntries = 50_000
        config.snapshotEveryBytes = 32 << 20
        config.snapshotLogRatio = ratio
        config.maxLogBytesBetweenSnapshots = 256 << 20
        return config
    }

    func testASmallStateKeepsTheFixedInterval() {
        let config = config(ratio: 1)
        for bytes in [0, 1_000, 14 << 20, 32 << 20] {
            let thresholds = config.snapshotThresholds(lastSnapshotBytes: bytes)
            XCTAssertEqual(thresholds.entries, 50_000, "\(bytes)")
            XCTAssertEqual(thresholds.bytes, 32 << 20, "\(bytes)")
        }
    }

    func testALargeStateSpacesSnapshotsInProportionToItsSize() {
        let config = config(ratio: 1)
        // 107 MB, the snapshot of about 200,000 open incidents: both thresholds grow 3.2 times.
        let thresholds = config.snapshotThresholds(lastSnapshotBytes: 107 << 20)
        XCTAssertEqual(thresholds.bytes, 107 << 20)
        XCTAssertEqual(thresholds.entries, 167_187)
        let half = self.config(ratio: 0.5).snapshotThresholds(lastSnapshotBytes: 128 << 20)
        XCTAssertEqual(half.bytes, 64 << 20)
        XCTAssertEqual(half.entries, 100_000)
    }

    func testTheLogHeldInMemoryStaysCapped() {
        let config = config(ratio: 1)
        let thresholds = config.snapshotThresholds(lastSnapshotBytes: 2 << 30)
        XCTAssertEqual(thresholds.bytes, 256 << 20, "capped by maxLogBytesBetweenSnapshots")
        XCTAssertEqual(thresholds.entries, 400_000)
    }

    func testRatioZeroKeepsTheThresholdsFixed() {
        let thresholds = config(ratio: 0).snapshotThresholds(lastSnapshotBytes: 1 << 30)
        XCTAssertEqual(thresholds.entries, 50_000)
        XCTAssertEqual(thresholds.bytes, 32 << 20)
    }

    func testInvalidSnapshotSettingsAreRefused() {
        var config = config(ratio: 1)
        XCTAssertNoThrow(try config.validate(), "the base configuration is valid")
        config.snapshotLogRatio = -1
        XCTAssertThrowsError(try config.validate())
        config.snapshotLogRatio = 1
        config.maxLogBytesBetweenSnapshots = 1 << 20
        XCTAssertThrowsError(try config.validate(), "a cap below snapshotEveryBytes")
        config.maxLogBytesBetweenSnapshots = 256 << 20
        config.snapshotThreadNice = 20
        XCTAssertThrowsError(try config.validate())
    }

    /// `SnapshotTiming` (the "snapshot taken" line's fields) charges each phase its own time and
    /// the thread's CPU, not its wall time: a wait before the thread starts, a sleeping "encoding"
    /// and a spinning "write". Lower bounds only (a sleep or spin lasts at least as long).
    func testSnapshotTimingChargesEachPhaseAndTheThreadsCPU() {
        func threadCPUNanoseconds() -> UInt64 {
            var spec = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
            return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
        }
        let handedOver = DispatchTime.now().uptimeNanoseconds
        usleep(30_000)
        var timing = SnapshotTiming(handedOver: handedOver)
        usleep(40_000)
        let encodeSpinFrom = threadCPUNanoseconds()
        while threadCPUNanoseconds() - encodeSpinFrom < 15_000_000 {}
        timing.encoded()
        let spinFrom = threadCPUNanoseconds()
        while threadCPUNanoseconds() - spinFrom < 25_000_000 {}
        timing.written()
        XCTAssertGreaterThanOrEqual(timing.encodeMilliseconds, 55)
        XCTAssertGreaterThanOrEqual(timing.writeMilliseconds, 25)
        XCTAssertGreaterThanOrEqual(timing.cpuMilliseconds, 39, "both spins' CPU")
        XCTAssertGreaterThanOrEqual(timing.encodeCPUMilliseconds, 14, "the encoding's spin")
        XCTAssertLessThanOrEqual(timing.encodeCPUMilliseconds + 24, timing.cpuMilliseconds, "the writing's spin is not the encoding's")
        // CPU time, not wall time: the 40 ms sleep took (next to) none of it.
        XCTAssertLessThanOrEqual(timing.cpuMilliseconds + 30, timing.encodeMilliseconds + timing.writeMilliseconds)
        XCTAssertGreaterThanOrEqual(timing.millisecondsSinceHandOver, 30 + timing.encodeMilliseconds + timing.writeMilliseconds)
    }

    func testTheBackgroundThreadRunsJobsInOrderOnOneNamedThreadAtItsNiceValue() throws {
        let thread = BackgroundThread(name: "incidentd-test-thread", nice: 7)
        let seen = Recorder()
        for n in 0..<100 { thread.async { seen.add(n) } }
        thread.sync()
        XCTAssertEqual(seen.values, Array(0..<100), "in order, all before sync returns")
        #if os(Linux)
        let identity = Recorder()
        thread.async {
            // The thread's own view: its name (15 bytes kept) and its nice value.
            let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            let stat = (try? String(contentsOfFile: "/proc/thread-self/stat", encoding: .utf8)) ?? ""
            // Field 19 of stat is the nice value; fields after the parenthesised name are plain.
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            identity.add(comm.trimmingCharacters(in: .whitespacesAndNewlines) == "incidentd-test-" ? 1 : 0)
            identity.add(fields.count > 16 ? Int(fields[16]) ?? -1 : -1)
        }
        thread.sync()
        XCTAssertEqual(identity.values, [1, 7], "named and at nice 7")
        XCTAssertEqual(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0), 0, "the calling thread keeps its own priority")
        #endif
    }

    func testTheBackgroundThreadEndsOnceReleasedAfterItsJobs() {
        let ran = expectation(description: "the last job ran")
        do {
            let thread = BackgroundThread(name: "incidentd-end-t", nice: 0)
            thread.async { Thread.sleep(forTimeInterval: 0.05) }
            thread.async { ran.fulfill() }
        }
        wait(for: [ran], timeout: 10)
        #if os(Linux)
        // The jobs given before the release ran; then the thread itself is gone from the process.
        func running() -> Bool {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            return tasks.contains { task in
                let comm = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
                return comm.trimmingCharacters(in: .whitespacesAndNewlines) == "incidentd-end-t"
            }
        }
        let deadline = Date().addingTimeInterval(10)
        while running() && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertFalse(running(), "the thread ended")
        #endif
    }
}

private final class Recorder: Sendable {
    private let stored = Lock<[Int]>([])
    func add(_ value: Int) { stored.withLock { $0.append(value) } }
    var values: [Int] { stored.withLock { $0 } }
}
