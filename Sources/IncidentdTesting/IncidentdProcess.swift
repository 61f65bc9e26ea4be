import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One run of a real executable of this package (`incidentd`, or `incidentctl` in its tests):
/// started with `Process`, its standard output and error captured in files, stopped by PID
/// (SIGTERM, or SIGKILL to simulate a crash).
public final class IncidentdProcess: Sendable {
    public let process: Process
    public let stdoutPath: String
    public let stderrPath: String

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    /// The exit status (or the signal number, for a signal), once it has exited.
    public var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }
    public var exitedBySignal: Bool { !process.isRunning && process.terminationReason == .uncaughtSignal }

    public var standardOutput: String { Self.read(stdoutPath) }
    public var standardError: String { Self.read(stderrPath) }

    /// Starts the binary `executable` (found by `binaryPath(named:)`) with `arguments`. The
    /// environment is this process's minus every `INCIDENTD_*` and `INCIDENTCTL_*` variable (a
    /// developer's settings must not leak in), plus `environment`.
    public init(
        executable: String = "incidentd", arguments: [String], environment: [String: String], logDirectory: String, runName: String
    ) throws {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("INCIDENTD_") && !$0.key.hasPrefix("INCIDENTCTL_") }
        env.merge(environment) { $1 }
        stdoutPath = "\(logDirectory)/\(runName).stdout"
        stderrPath = "\(logDirectory)/\(runName).stderr"
        let fm = FileManager.default
        guard fm.createFile(atPath: stdoutPath, contents: nil), fm.createFile(atPath: stderrPath, contents: nil),
            let out = FileHandle(forWritingAtPath: stdoutPath), let err = FileHandle(forWritingAtPath: stderrPath)
        else {
            throw HarnessError("cannot create the log files in \(logDirectory)")
        }
        defer {
            try? out.close()
            try? err.close()
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binaryPath(named: executable))
        process.arguments = arguments
        process.environment = env
        process.currentDirectoryURL = URL(fileURLWithPath: logDirectory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }

    /// Sends `signal` (only to this process, by its PID) and waits up to `seconds` for it to exit.
    /// Returns whether it exited.
    @discardableResult
    public func signal(_ signal: Int32, waitingUpTo seconds: Double = 10) async -> Bool {
        if process.isRunning { kill(pid, signal) }
        return await waitForExit(seconds: seconds)
    }

    /// Waits for the process to exit on its own; returns whether it did within `seconds`.
    public func waitForExit(seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 10_000_000) }
        return !process.isRunning
    }

    private static func read(_ path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    // MARK: - Finding the binary

    /// For `incidentd`, `$INCIDENTD_TEST_BINARY` first; then `name` next to the running test
    /// binary (SwiftPM puts every product of one build in the same directory); else
    /// `<package root>/.build/debug/<name>`.
    public static func binaryPath(named name: String = "incidentd", file: StaticString = #filePath) throws -> String {
        let fm = FileManager.default
        var candidates: [String] = []
        if name == "incidentd", let explicit = ProcessInfo.processInfo.environment["INCIDENTD_TEST_BINARY"], !explicit.isEmpty {
            candidates.append(explicit)
        }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        for _ in 0..<4 {  // on Darwin the test binary sits inside <dir>/X.xctest/Contents/MacOS
            candidates.append(directory.appendingPathComponent(name).path)
            directory = directory.deletingLastPathComponent()
        }
        // Sources/IncidentdTesting/IncidentdProcess.swift → package root.
        let root = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/\(name)").path)
        guard let found = candidates.first(where: { fm.isExecutableFile(atPath: $0) }) else {
            throw HarnessError("\(name) binary not found (run `swift build --build-tests` first); looked at \(candidates)")
        }
        return found
    }

    // MARK: - Ports

    /// A TCP port on 127.0.0.1 that nothing listened on a moment ago (bind to port 0, read it,
    /// close). Another process could take it in between; `IncidentdNode.start` retries then.
    public static func freeLoopbackPort() throws -> Int {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw HarnessError("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw HarnessError("bind() failed: errno \(errno)") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw HarnessError("getsockname() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A problem of the test harness itself (not of the node under test).
public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
