import Foundation

/// Where the password comes from. It is handed to libpq as the `password` keyword, so it never
/// appears in a URL, a log line or an error message.
public enum PostgresPassword: Sendable, Equatable {
    /// The file's contents, one trailing newline removed (a Kubernetes/Docker secret file).
    case file(path: String)
    /// The value of an environment variable of this process.
    case environmentVariable(name: String)
    /// A value the caller already holds (tests, or a secret manager client).
    case literal(String)

    /// The password, or a `passwordUnavailable` error naming the source (not the value).
    func resolve() throws -> String {
        switch self {
        case .literal(let value):
            return value
        case .environmentVariable(let name):
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw PostgresError(
                    code: .passwordUnavailable, message: "environment variable \(name) is not set or empty", isConnectionBroken: true)
            }
            return value
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PostgresError(code: .passwordUnavailable, message: "cannot read the password file \(path)", isConnectionBroken: true)
            }
            var value = String(decoding: data, as: UTF8.self)
            if value.hasSuffix("\n") { value.removeLast() }  // "\r\n" is one Character
            guard !value.isEmpty else {
                throw PostgresError(code: .passwordUnavailable, message: "the password file \(path) is empty", isConnectionBroken: true)
            }
            return value
        }
    }
}

extension PostgresConnection {
    /// How a connection is opened and how long its operations may take.
    ///
    /// TLS is libpq's: put `sslmode=verify-full` (and `sslrootcert=/path/ca.pem`, optionally
    /// `sslcert`/`sslkey` for client certificates) in the URL; `require` encrypts without
    /// checking the server's certificate. See docs/ARCHIVE.md.
    public struct Options: Sendable, Equatable {
        /// libpq `connect_timeout`: seconds allowed for establishing a connection (TCP, TLS,
        /// authentication), per host. Default 10. Too low fails over slow WAN links; 0 waits
        /// forever, so it is refused. A `connect_timeout` in the URL overrides it.
        public var connectTimeoutSeconds: Int = 10
        /// Server-side `statement_timeout` set on every new session, in milliseconds. Default
        /// 60 000. The server cancels a longer statement (SQLSTATE 57014) and the connection
        /// stays usable. 0 disables it (a runaway analytics query then holds its connection).
        public var statementTimeoutMilliseconds: Int = 60_000
        /// Client-side bound on one operation (a statement, or a whole COPY with its result),
        /// in milliseconds. Default 120 000. It catches what the server cannot: a server that is
        /// stopped or unreachable while the socket stays open. When it expires the connection is
        /// closed (`timeout`, broken). Must exceed `statementTimeoutMilliseconds`, so that the
        /// server's cleaner cancellation normally comes first.
        public var operationTimeoutMilliseconds: Int = 120_000
        /// Bytes handed to PQputCopyData at a time. Default 256 KiB. Smaller costs more calls;
        /// larger only grows libpq's output buffer.
        public var copyChunkBytes: Int = 256 * 1024
        /// `application_name`, shown in pg_stat_activity. A value in the URL overrides it.
        public var applicationName: String = "incidentd-archive"

        public init() {}

        public static let `default` = Options()

        public func validate() throws {
            func refuse(_ message: String) -> PostgresError {
                PostgresError(code: .invalidArgument, message: message, isConnectionBroken: true)
            }
            guard (1...3_600).contains(connectTimeoutSeconds) else { throw refuse("connectTimeoutSeconds must be in 1...3600") }
            guard statementTimeoutMilliseconds >= 0 else { throw refuse("statementTimeoutMilliseconds must be >= 0") }
            guard operationTimeoutMilliseconds >= 100 else { throw refuse("operationTimeoutMilliseconds must be >= 100") }
            guard statementTimeoutMilliseconds == 0 || operationTimeoutMilliseconds > statementTimeoutMilliseconds else {
                throw refuse("operationTimeoutMilliseconds must exceed statementTimeoutMilliseconds")
            }
            guard (4_096...(64 << 20)).contains(copyChunkBytes) else { throw refuse("copyChunkBytes must be in 4 KiB...64 MiB") }
        }
    }
}
