import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs the PostgreSQL binaries as a user they accept: this process's own, or, when this
/// process is root (initdb and postgres refuse root), the `postgres` system user via
/// `setpriv`, which changes user and execs in place (no extra process, same PID).
struct Runner: Sendable {
    /// The user to switch to, nil when running as ourselves.
    let account: (uid: uid_t, gid: gid_t)?
    let setpriv: String?

    static func forCurrentUser() throws -> Runner {
        guard getuid() == 0 else { return Runner(account: nil, setpriv: nil) }
        guard let entry = getpwnam("postgres") else {
            throw PostgresServerError(
                "running as root, and there is no `postgres` system user to run PostgreSQL as (the postgresql package creates it)",
                binariesMissing: true)
        }
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let setpriv else {
            throw PostgresServerError("running as root, and setpriv (util-linux) is missing to switch to the postgres user")
        }
        return Runner(account: (entry.pointee.pw_uid, entry.pointee.pw_gid), setpriv: setpriv)
    }

    /// Gives `path` to the user the binaries run as (no-op when that is us).
    func handOver(_ path: String) throws {
        guard let account else { return }
        guard chown(path, account.uid, account.gid) == 0 else {
            throw PostgresServerError("chown \(path) failed: errno \(errno)")
        }
    }

    /// A configured, not yet started process running `binary` with `arguments`; standard
    /// output and error are appended to `output`. The environment is minimal: no PG* variable
    /// of the caller's can redirect the server.
    func process(_ binary: String, _ arguments: [String], home: String, output: String) throws -> Process {
        let fm = FileManager.default
        if !fm.fileExists(atPath: output) {
            guard fm.createFile(atPath: output, contents: nil) else { throw PostgresServerError("cannot create \(output)") }
            try handOver(output)
        }
        guard let log = FileHandle(forWritingAtPath: output) else { throw PostgresServerError("cannot open \(output)") }
        log.seekToEndOfFile()
        let process = Process()
        if let account, let setpriv {
            process.executableURL = URL(fileURLWithPath: setpriv)
            process.arguments = ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--", binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": home, "LC_ALL": "C"]
        process.currentDirectoryURL = URL(fileURLWithPath: home)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        return process
    }
}

/// Reads /proc to find a process's children, so that a crash or a pause reaches the backends
/// of the postmaster we started (and nothing else).
enum ProcessTable {
    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { status(of: $0)?.parent == parent }.sorted()
    }

    /// Waits until each PID is gone or a zombie (a zombie holds no shared memory).
    static func waitUntilGone(_ pids: [pid_t], seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if pids.allSatisfy({ status(of: $0).map { $0.state == "Z" } ?? true }) { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// State letter and parent PID from /proc/<pid>/stat ("pid (comm) S ppid ..."; comm may
    /// contain spaces and parentheses, so parse after the last ')').
    static func status(of pid: pid_t) -> (state: Character, parent: pid_t)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count >= 2, let state = fields[0].first, let parent = pid_t(fields[1]) else { return nil }
        return (state, parent)
    }
}
