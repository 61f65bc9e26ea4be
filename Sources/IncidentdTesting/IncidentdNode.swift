import AsyncHTTPClient
import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One `incidentd` node under test: a temporary directory (data directory, clock offset file,
/// logs), a loopback port kept across restarts, and the current process. Restarting reuses the
/// data directory, as an operator restarting the service would.
public final class IncidentdNode {
    /// The admin key every node under test starts with (`INCIDENTD_BOOTSTRAP_ADMIN_KEY`).
    public static let adminKey = "itest-admin-2f6b1c9e0a7d4e83b5f1"

    public let root: String
    public var dataDirectory: String { root + "/data" }
    public var clockOffsetFile: String { root + "/clock-offset-ms" }
    public private(set) var port: Int
    public private(set) var process: IncidentdProcess?
    /// Every run so far, oldest first (their logs stay readable after they stopped).
    public private(set) var runs: [IncidentdProcess] = []
    /// What the clock offset file holds now.
    public private(set) var clockOffsetMilliseconds: Int64 = 0
    public let extraArguments: [String]
    private let cleanup: TestCleanup

    /// The connection pool of the current run. Each run gets a fresh one: after a kill,
    /// AsyncHTTPClient backs off exponentially (up to a minute) before reconnecting to a host
    /// that refused connections, which would stall the requests after the restart.
    public private(set) var http: HTTPClient

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public init(cleanup: TestCleanup, extraArguments: [String] = []) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("incidentd-it-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        port = try IncidentdProcess.freeLoopbackPort()
        self.extraArguments = extraArguments
        self.cleanup = cleanup
        http = Self.makeHTTPClient(cleanup)
        cleanup.removeAfterwards(root)
    }

    /// A started node (fresh data directory) plus anything else passed as flags.
    public static func started(cleanup: TestCleanup, extraArguments: [String] = []) async throws -> IncidentdNode {
        let node = try IncidentdNode(cleanup: cleanup, extraArguments: extraArguments)
        try await node.start()
        return node
    }

    /// A pool closed by `cleanup`, with generous per-host limits: the crash test keeps many
    /// writes in flight at once.
    private static func makeHTTPClient(_ cleanup: TestCleanup) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        configuration.httpVersion = .http1Only
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        cleanup.closeAfterwards { try? await http.shutdown() }
        return http
    }

    /// The arguments of every run: loopback port, temporary data directory, drill clock, quick ticks.
    public var arguments: [String] {
        [
            "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDirectory, "--clock-offset-file", clockOffsetFile,
            "--tick-interval-ms", "20", "--delivery-timeout-ms", "3000",
        ] + extraArguments
    }

    /// Starts the process and waits until `/api/v1/health` answers. If it dies first (e.g. the
    /// port was taken in the meantime), tries again on another port, at most 3 times.
    public func start(arguments override: [String]? = nil, environment: [String: String] = ["INCIDENTD_BOOTSTRAP_ADMIN_KEY": adminKey]) async throws {
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
    public func launch(arguments override: [String]? = nil, environment: [String: String] = ["INCIDENTD_BOOTSTRAP_ADMIN_KEY": adminKey]) throws -> IncidentdProcess {
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
            if await isHealthy() { return true }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        await run.signal(SIGKILL)
        throw HarnessError("incidentd was not healthy after 30 s:\n\(run.standardError.suffix(3_000))")
    }

    /// Whether `GET /api/v1/health` answers 200 within 2 s.
    private func isHealthy() async -> Bool {
        let request = HTTPClientRequest(url: baseURL + "/api/v1/health")
        guard let response = try? await http.execute(request, timeout: .seconds(2)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 16)
        return response.status.code == 200
    }

    /// Graceful stop: SIGTERM, then wait for the exit.
    public func stop() async {
        guard let process else { return }
        if !(await process.signal(SIGTERM)) { await process.signal(SIGKILL) }
    }

    /// A crash: SIGKILL, no chance to flush or close anything.
    public func crash() async {
        guard let process else { return }
        await process.signal(SIGKILL)
    }

    /// Moves the node's clock forward by `milliseconds` (the file is replaced atomically; the
    /// node re-reads it within 50 ms).
    public func advanceClock(byMilliseconds milliseconds: Int64) throws {
        clockOffsetMilliseconds += milliseconds
        try Data("\(clockOffsetMilliseconds)\n".utf8).write(to: URL(fileURLWithPath: clockOffsetFile), options: .atomic)
    }

    /// The node's time now: wall clock + the offset, in milliseconds since the epoch.
    public var nodeTimeMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1_000) + clockOffsetMilliseconds }

    /// Every run's standard error, for failure messages.
    public var logs: String { runs.map(\.standardError).joined(separator: "\n--- restart ---\n") }
}
