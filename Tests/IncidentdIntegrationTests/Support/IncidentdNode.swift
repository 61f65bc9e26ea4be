import AsyncHTTPClient
import Foundation
import Synchronization
import XCTest

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One `incidentd` node under test: a temporary directory (data directory, clock offset file,
/// logs), a loopback port kept across restarts, and the current process. Restarting reuses the
/// data directory, as an operator restarting the service would.
final class IncidentdNode {
    /// The admin key every node under test starts with (`INCIDENTD_BOOTSTRAP_ADMIN_KEY`).
    static let adminKey = "itest-admin-2f6b1c9e0a7d4e83b5f1"

    let root: String
    var dataDirectory: String { root + "/data" }
    var clockOffsetFile: String { root + "/clock-offset-ms" }
    private(set) var port: Int
    private(set) var process: IncidentdProcess?
    /// Every run so far, oldest first (their logs stay readable after they stopped).
    private(set) var runs: [IncidentdProcess] = []
    /// What the clock offset file holds now.
    private(set) var clockOffsetMilliseconds: Int64 = 0
    let extraArguments: [String]
    private let cleanup: TestCleanup

    /// The connection pool of the current run (see `APIClient.http`).
    private var http: HTTPClient

    /// A client with the admin key, and one per other key on demand.
    var admin: APIClient { client(key: Self.adminKey) }
    func client(key: String?) -> APIClient { APIClient(http: http, baseURL: baseURL, key: key) }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(cleanup: TestCleanup, extraArguments: [String] = []) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("incidentd-it-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        port = try IncidentdProcess.freeLoopbackPort()
        self.extraArguments = extraArguments
        self.cleanup = cleanup
        http = Self.makeHTTPClient(cleanup)
        cleanup.removeAfterwards(root)
    }

    private static func makeHTTPClient(_ cleanup: TestCleanup) -> HTTPClient {
        let http = APIClient.makeHTTPClient()
        cleanup.closeAfterwards { try? await http.shutdown() }
        return http
    }

    /// The arguments of every run: loopback port, temporary data directory, drill clock, quick ticks.
    var arguments: [String] {
        [
            "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDirectory, "--clock-offset-file", clockOffsetFile,
            "--tick-interval-ms", "20", "--delivery-timeout-ms", "3000",
        ] + extraArguments
    }

    /// Starts the process and waits until `/api/v1/health` answers. If it dies first (e.g. the
    /// port was taken in the meantime), tries again on another port, at most 3 times.
    func start(arguments override: [String]? = nil, environment: [String: String] = ["INCIDENTD_BOOTSTRAP_ADMIN_KEY": adminKey]) async throws {
        if process?.isRunning == true { throw HarnessError("the node is already running") }
        for attempt in 1...3 {
            let run = try launch(arguments: override, environment: environment)
            if try await waitUntilHealthy(run) { return }
            let log = run.standardError
            guard attempt < 3, log.contains("Address already in use") else {
                throw HarnessError("incidentd did not become healthy (exit \(run.exitStatus.map(String.init) ?? "none")):\n\(log.suffix(3_000))")
            }
            port = try IncidentdProcess.freeLoopbackPort()
        }
    }

    /// Starts the process without waiting for it (startup error tests).
    @discardableResult
    func launch(arguments override: [String]? = nil, environment: [String: String] = ["INCIDENTD_BOOTSTRAP_ADMIN_KEY": adminKey]) throws -> IncidentdProcess {
        let run = try IncidentdProcess(
            arguments: override ?? arguments, environment: environment, logDirectory: root, runName: "run\(runs.count + 1)")
        cleanup.stopAfterwards(run)
        runs.append(run)
        process = run
        if runs.count > 1 { http = Self.makeHTTPClient(cleanup) }
        return run
    }

    private func waitUntilHealthy(_ run: IncidentdProcess) async throws -> Bool {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !run.isRunning { return false }
            if let answer = try? await admin.send(.GET, "/api/v1/health", timeoutSeconds: 2), answer.status == 200 { return true }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        await run.signal(SIGKILL)
        throw HarnessError("incidentd was not healthy after 30 s:\n\(run.standardError.suffix(3_000))")
    }

    /// Graceful stop: SIGTERM, then wait for the exit.
    func stop() async {
        guard let process else { return }
        if !(await process.signal(SIGTERM)) { await process.signal(SIGKILL) }
    }

    /// A crash: SIGKILL, no chance to flush or close anything.
    func crash() async {
        guard let process else { return }
        await process.signal(SIGKILL)
    }

    /// Moves the node's clock forward by `milliseconds` (the file is replaced atomically; the
    /// node re-reads it within 50 ms).
    func advanceClock(byMilliseconds milliseconds: Int64) throws {
        clockOffsetMilliseconds += milliseconds
        try Data("\(clockOffsetMilliseconds)\n".utf8).write(to: URL(fileURLWithPath: clockOffsetFile), options: .atomic)
    }

    /// The node's time now: wall clock + the offset, in milliseconds since the epoch.
    var nodeTimeMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1_000) + clockOffsetMilliseconds }

    /// Every run's standard error, for failure messages.
    var logs: String { runs.map(\.standardError).joined(separator: "\n--- restart ---\n") }
}

/// What a test started and must stop: processes (by PID), receivers, temporary directories.
/// `IncidentdTestCase.tearDown` runs it even when the test failed or threw.
final class TestCleanup: Sendable {
    private let processes = Mutex<[IncidentdProcess]>([])
    private let closers = Mutex<[@Sendable () async -> Void]>([])
    private let directories = Mutex<[String]>([])

    func stopAfterwards(_ process: IncidentdProcess) { processes.withLock { $0.append(process) } }
    func closeAfterwards(_ close: @escaping @Sendable () async -> Void) { closers.withLock { $0.append(close) } }
    func removeAfterwards(_ directory: String) { directories.withLock { $0.append(directory) } }

    /// SIGTERM to every process still running (SIGKILL after 5 s), then closes receivers and
    /// removes directories. Only processes this test started are signalled, by their PID.
    func run() async {
        for process in processes.withLock({ list in defer { list = [] }; return list }) where process.isRunning {
            if !(await process.signal(SIGTERM, waitingUpTo: 5)) { await process.signal(SIGKILL) }
        }
        for close in closers.withLock({ list in defer { list = [] }; return list }) { await close() }
        for directory in directories.withLock({ list in defer { list = [] }; return list }) {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}

/// Base class of the integration tests: owns the cleanup and offers a node.
class IncidentdTestCase: XCTestCase {
    let cleanup = TestCleanup()

    override func tearDown() async throws {
        await cleanup.run()
        try await super.tearDown()
    }

    /// A started node (fresh data directory) plus anything else passed as flags.
    func startedNode(_ extraArguments: [String] = []) async throws -> IncidentdNode {
        let node = try IncidentdNode(cleanup: cleanup, extraArguments: extraArguments)
        try await node.start()
        return node
    }
}
