import Archive
import Foundation
import Locking

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a fresh temporary
/// directory, `postgres` on a free loopback port, with controls to stop, crash (SIGKILL),
/// pause (SIGSTOP), resume and restart it on the same directory and port.
///
/// initdb and postgres refuse to run as root; when this process is root (CI), they run as the
/// `postgres` system user through `setpriv`, which execs in place, so the PID we started is the
/// postmaster's (checked against `postmaster.pid`). Only processes this server started are
/// signalled, by their PID. Deinit (or `cleanup()`) stops the server and removes the directory.
public final class PostgresServer: Sendable {
    public struct Options: Sendable {
        /// Keep `fsync` and `full_page_writes` on. Default false: a test that kills the server
        /// process loses nothing either way (committed WAL is in the OS page cache); only an
        /// OS crash would, and tests do not crash the OS.
        public var durable = false
        /// When set, TCP connections as `postgres` need this password (scram-sha-256). Default
        /// nil: trust authentication.
        public var superuserPassword: String?
        /// How long startup may take before `start` gives up. Default 60 s.
        public var startTimeoutSeconds: Double = 60
        /// Extra `-c name=value` server settings.
        public var settings: [String: String] = [:]

        public init() {}
    }

    public let root: String
    public let binDirectory: String
    public let options: Options
    public var dataDirectory: String { root + "/data" }
    public var logPath: String { root + "/postgres.log" }
    public var port: Int { state.withLock { $0.port } }

    private struct State {
        var port: Int
        var process: Process?
        var postmasterPID: pid_t?
        var paused: [pid_t] = []
        var removed = false
    }
    private let state: Lock<State>
    private let runner: Runner

    /// Creates the cluster and starts the server; returns once it accepts connections.
    public static func start(options: Options = Options()) throws -> PostgresServer {
        let server = try PostgresServer(options: options)
        do {
            try server.initialize()
            try server.launchWithPortRetries()
        } catch {
            server.cleanup()
            throw error
        }
        return server
    }

    private init(options: Options) throws {
        self.options = options
        binDirectory = try Self.findBinaries()
        runner = try Runner.forCurrentUser()
        var template = Array((FileManager.default.temporaryDirectory.path + "/pgtest-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw PostgresServerError("mkdtemp failed: errno \(errno)") }
        root = String(cString: made)
        state = Lock(State(port: try Self.freeLoopbackPort()))
        try runner.handOver(root)
    }

    deinit { cleanup() }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    public func url(database: String = "postgres") -> String { "postgres://postgres@127.0.0.1:\(port)/\(database)" }

    /// The password option matching `options.superuserPassword`.
    public var password: PostgresPassword? { options.superuserPassword.map { .literal($0) } }

    /// Creates a database (name: lower-case letters, digits, underscores) and returns its URL.
    public func createDatabase(_ name: String) throws -> String {
        guard !name.isEmpty, name.count <= 63, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
            throw PostgresServerError("invalid database name \(name)")
        }
        let connection = try PostgresConnection(url: url(), password: password)
        try connection.exec("CREATE DATABASE \(name)")
        return url(database: name)
    }

    /// The postmaster's PID while it runs.
    public var postmasterPID: pid_t? { state.withLock { $0.postmasterPID } }

    public var isRunning: Bool { state.withLock { $0.process?.isRunning ?? false } }

    /// The server's log so far (every run appends to it).
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    // MARK: - Lifecycle controls

    /// Fast shutdown (SIGINT: sessions are ended, the server checkpoints and exits); waits up
    /// to 30 s, then kills it.
    public func stop() {
        guard let pid = postmasterPID, isRunning else { return }
        resume()
        kill(pid, SIGINT)
        if !waitForExit(seconds: 30) { kill9() }
        state.withLock { $0.postmasterPID = nil }
    }

    /// A crash: the postmaster and every backend get SIGKILL, nothing is flushed or checkpointed.
    /// The postmaster is stopped first so that it cannot fork while its children are listed.
    public func kill9() {
        guard let pid = postmasterPID, isRunning else { return }
        kill(pid, SIGSTOP)
        let children = ProcessTable.children(of: pid)
        for child in children { kill(child, SIGKILL) }
        kill(pid, SIGKILL)
        _ = waitForExit(seconds: 10)
        ProcessTable.waitUntilGone(children, seconds: 10)
        state.withLock {
            $0.postmasterPID = nil
            $0.paused = []
        }
    }

    /// Freezes the postmaster and every backend (SIGSTOP): sockets stay open, nothing answers.
    public func pause() {
        guard let pid = postmasterPID, isRunning else { return }
        kill(pid, SIGSTOP)
        let children = ProcessTable.children(of: pid)
        for child in children { kill(child, SIGSTOP) }
        state.withLock { $0.paused = [pid] + children }
    }

    /// Undoes `pause()`.
    public func resume() {
        let paused = state.withLock { state in
            defer { state.paused = [] }
            return state.paused
        }
        for pid in paused.reversed() { kill(pid, SIGCONT) }
    }

    /// Starts the server again on the same directory and port (after `stop()` or `kill9()`;
    /// a running server is stopped first). After a crash, PostgreSQL replays its WAL.
    public func restart() throws {
        stop()
        try launch()
    }

    /// Stops the server and removes its directory. Idempotent.
    public func cleanup() {
        if isRunning { kill9() }
        let remove = state.withLock { state in
            defer { state.removed = true }
            return !state.removed
        }
        if remove { try? FileManager.default.removeItem(atPath: root) }
    }

    // MARK: - Starting

    private func initialize() throws {
        var arguments = [
            "-D", dataDirectory, "-U", "postgres", "--no-sync", "--encoding=UTF8", "--locale=C", "--no-instructions",
        ]
        if let password = options.superuserPassword {
            let passwordFile = root + "/superuser-password"
            try Data(password.utf8).write(to: URL(fileURLWithPath: passwordFile))
            try runner.handOver(passwordFile)
            arguments += ["--pwfile=\(passwordFile)", "--auth-local=trust", "--auth-host=scram-sha-256"]
        } else {
            arguments += ["--auth=trust"]
        }
        let initdb = try runner.process(binDirectory + "/initdb", arguments, home: root, output: root + "/initdb.log")
        try initdb.run()
        initdb.waitUntilExit()
        guard initdb.terminationStatus == 0 else {
            let output = (try? String(contentsOfFile: root + "/initdb.log", encoding: .utf8)) ?? ""
            throw PostgresServerError("initdb failed (exit \(initdb.terminationStatus)):\n\(output.suffix(3_000))")
        }
    }

    /// Another process may take the chosen port between choosing and binding it: then a new
    /// port, at most 3 attempts.
    private func launchWithPortRetries() throws {
        for attempt in 1...3 {
            do {
                return try launch()
            } catch let error as PostgresServerError where attempt < 3 && error.description.contains("Address already in use") {
                let port = try Self.freeLoopbackPort()
                state.withLock { $0.port = port }
            }
        }
    }

    private func launch() throws {
        var arguments = ["-D", dataDirectory, "-p", String(port), "-k", root, "-c", "listen_addresses=127.0.0.1"]
        if !options.durable { arguments += ["-c", "fsync=off", "-c", "full_page_writes=off"] }
        for (name, value) in options.settings.sorted(by: { $0.key < $1.key }) { arguments += ["-c", "\(name)=\(value)"] }
        let logStart = ((try? FileManager.default.attributesOfItem(atPath: logPath))?[.size] as? Int) ?? 0
        let process = try runner.process(binDirectory + "/postgres", arguments, home: root, output: logPath)
        try process.run()
        state.withLock {
            $0.process = process
            $0.postmasterPID = process.processIdentifier
        }
        try waitUntilReady(process, logStart: logStart)
        if let recorded = readPostmasterPID() {
            // setpriv execs in place, so these agree; if a wrapper forked, trust the file.
            state.withLock { $0.postmasterPID = recorded }
        }
    }

    private func waitUntilReady(_ process: Process, logStart: Int) throws {
        let deadline = Date().addingTimeInterval(options.startTimeoutSeconds)
        var lastError = ""
        while Date() < deadline {
            guard process.isRunning else {
                throw PostgresServerError("postgres exited (status \(process.terminationStatus)):\n\(logTail(from: logStart))")
            }
            var quick = PostgresConnection.Options()
            quick.connectTimeoutSeconds = 2
            do {
                _ = try PostgresConnection(url: url(), password: password, options: quick)
                return
            } catch {
                lastError = "\(error)"
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill9()
        throw PostgresServerError("postgres did not accept connections within \(options.startTimeoutSeconds) s (\(lastError)):\n\(logTail(from: logStart))")
    }

    private func logTail(from offset: Int) -> String {
        let text = log
        let utf8 = text.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: min(offset, utf8.count))
        return String(text[start...].suffix(3_000))
    }

    private func readPostmasterPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let first = text.split(separator: "\n").first
        else { return nil }
        return pid_t(first.trimmingCharacters(in: .whitespaces))
    }

    private func waitForExit(seconds: Double) -> Bool {
        guard let process = state.withLock({ $0.process }) else { return true }
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return !process.isRunning
    }

    // MARK: - Environment

    /// The directory holding `initdb` and `postgres`: `$POSTGRES_BIN_DIR`, else the newest
    /// `/usr/lib/postgresql/<version>/bin` (Debian), else the `PATH`.
    public static func findBinaries() throws -> String {
        let fm = FileManager.default
        func hasBinaries(_ directory: String) -> Bool {
            fm.isExecutableFile(atPath: directory + "/initdb") && fm.isExecutableFile(atPath: directory + "/postgres")
        }
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["POSTGRES_BIN_DIR"], !explicit.isEmpty { candidates.append(explicit) }
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap { Int($0) }.sorted(by: >)
        candidates += versions.map { "/usr/lib/postgresql/\($0)/bin" }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) {
            let initdb = URL(fileURLWithPath: directory + "/initdb").resolvingSymlinksInPath()
            candidates.append(initdb.deletingLastPathComponent().path)
        }
        guard let found = candidates.first(where: hasBinaries) else {
            throw PostgresServerError(
                "PostgreSQL server binaries (initdb, postgres) not found: install the postgresql package "
                    + "(scripts/install-deps.sh) or set POSTGRES_BIN_DIR; looked in \(candidates)",
                binariesMissing: true)
        }
        return found
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
    static func freeLoopbackPort() throws -> Int {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw PostgresServerError("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard named else { throw PostgresServerError("could not bind a loopback port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A problem starting or controlling the test server. `binariesMissing` tells a test harness
/// to fail (in CI) or skip (elsewhere) rather than report a bug.
public struct PostgresServerError: Error, CustomStringConvertible {
    public var description: String
    public var binariesMissing: Bool

    public init(_ description: String, binariesMissing: Bool = false) {
        self.description = description
        self.binariesMissing = binariesMissing
    }
}
