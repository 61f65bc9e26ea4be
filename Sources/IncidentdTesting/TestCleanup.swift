import Foundation
import Locking

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a test started and must stop: processes (by PID), receivers, temporary directories.
/// A test case's `tearDown` runs it (`IncidentdTestCase` in the integration tests), even when
/// the test failed or threw.
public final class TestCleanup: Sendable {
    private let processes = Lock<[IncidentdProcess]>([])
    private let closers = Lock<[@Sendable () async -> Void]>([])
    private let directories = Lock<[String]>([])

    public init() {}

    public func stopAfterwards(_ process: IncidentdProcess) { processes.withLock { $0.append(process) } }
    public func closeAfterwards(_ close: @escaping @Sendable () async -> Void) { closers.withLock { $0.append(close) } }
    public func removeAfterwards(_ directory: String) { directories.withLock { $0.append(directory) } }

    /// SIGTERM to every process still running (SIGKILL after 5 s), then closes receivers and
    /// removes directories. Only processes this test started are signalled, by their PID.
    public func run() async {
        for process in processes.withLock({ list in defer { list = [] }; return list }) where process.isRunning {
            if !(await process.signal(SIGTERM, waitingUpTo: 5)) { await process.signal(SIGKILL) }
        }
        for close in closers.withLock({ list in defer { list = [] }; return list }) { await close() }
        for directory in directories.withLock({ list in defer { list = [] }; return list }) {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
