import CLibPQ
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One libpq connection: statements with text parameters, COPY FROM STDIN, transactions.
///
/// libpq is blocking by nature; this class drives it in non-blocking mode only to enforce
/// `Options.operationTimeoutMilliseconds` (a stopped server keeps its socket open and would
/// otherwise block the caller forever). It is not Sendable: use it from one thread or task at
/// a time (the archiver owns its connection on a dedicated thread).
///
/// Once an error reports `isConnectionBroken`, the connection is closed and every later call
/// throws `connectionLost`; open a new one.
public final class PostgresConnection {
    /// The URL with any password removed: safe for logs.
    public let redactedURL: String
    public let options: Options
    private var handle: OpaquePointer?
    private let notices: NoticeSink

    /// Connects (blocking, bounded by `connectTimeoutSeconds`), then sets the session's time
    /// zone to UTC and its `statement_timeout`.
    ///
    /// - Parameters:
    ///   - url: a libpq URI (`postgres://archiver@db.internal:5432/incidents?sslmode=verify-full`)
    ///     or keyword/value string; a password in it works but prefer `password`.
    ///   - password: handed to libpq separately (it overrides one in the URL).
    public init(url: String, password: PostgresPassword? = nil, options: Options = .default, logger: Logger? = nil) throws {
        try options.validate()
        self.options = options
        redactedURL = ConnectionString.redacted(url)
        notices = NoticeSink(logger: logger ?? Logger(label: "archive.postgres"), url: redactedURL)
        // Keywords are applied in order: the defaults before `dbname` can be overridden by the
        // URL's own parameters; the encoding and password after it cannot.
        var parameters = [
            ("connect_timeout", String(options.connectTimeoutSeconds)), ("application_name", options.applicationName),
            ("dbname", url), ("client_encoding", "UTF8"),
        ]
        if let password { parameters.append(("password", try password.resolve())) }
        let connection = withCStringArrays(parameters) { PQconnectdbParams($0, $1, 1) }
        guard let connection else {
            throw PostgresError(code: .connectionFailed, message: "\(redactedURL): libpq could not allocate a connection", isConnectionBroken: true)
        }
        guard PQstatus(connection) == CONNECTION_OK, PQsetnonblocking(connection, 1) == 0 else {
            let message = Self.errorMessage(connection)
            PQfinish(connection)
            throw PostgresError(code: .connectionFailed, message: "\(redactedURL): \(message)", isConnectionBroken: true)
        }
        handle = connection
        notices.install(on: connection)
        var settings = "SET TIME ZONE 'UTC'"
        if options.statementTimeoutMilliseconds > 0 { settings += "; SET statement_timeout = \(options.statementTimeoutMilliseconds)" }
        try exec(settings)
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Closes the connection; later calls throw `connectionLost`.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// Whether the connection is open and healthy as far as libpq knows (no round trip).
    public var isConnected: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// Whether a transaction is open (including one that failed and awaits ROLLBACK).
    public var isInTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// The server's version as a number (150018 for 15.18), 0 when closed.
    public var serverVersion: Int { handle.map { Int(PQserverVersion($0)) } ?? 0 }

    /// Runs one or more `;`-separated statements without parameters (simple query protocol).
    /// Returns the last statement's result; throws the first error.
    @discardableResult
    public func exec(_ sql: String) throws -> PostgresResult {
        try run { PQsendQuery($0, sql) }
    }

    /// Runs one statement with `$1`, `$2`, ... bound to `params` in text format (nil is NULL).
    /// Values never become part of the SQL text, so they need no quoting.
    @discardableResult
    public func exec(_ sql: String, params: [String?]) throws -> PostgresResult {
        try withCStringArray(params) { values in
            try run { PQsendQueryParams($0, sql, Int32(params.count), nil, values, nil, nil, 0) }
        }
    }

    /// Runs `body` between BEGIN and COMMIT. When `body` throws, the transaction is rolled back
    /// (if the connection still works) and the error rethrown. When the server turns the COMMIT
    /// into a ROLLBACK (a statement failed and `body` swallowed its error), this throws.
    ///
    /// A broken connection during COMMIT leaves the outcome unknown: the transaction may or may
    /// not have committed. Callers make that safe with a compare-and-set inside the transaction
    /// (as ArchiveStore's watermark does).
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try exec("BEGIN")
        let value: T
        do {
            value = try body()
        } catch {
            rollbackIfPossible()
            throw error
        }
        if let handle, PQtransactionStatus(handle) == PQTRANS_INERROR {
            rollbackIfPossible()
            throw PostgresError(
                code: .unexpectedResponse, message: "a statement of the transaction failed; it was rolled back", isConnectionBroken: false)
        }
        let commit = try exec("COMMIT")
        guard commit.commandTag == "COMMIT" else {
            throw PostgresError(code: .unexpectedResponse, message: "the server rolled the transaction back at COMMIT", isConnectionBroken: false)
        }
        return value
    }

    private func rollbackIfPossible() {
        guard isConnected, isInTransaction else { return }
        _ = try? exec("ROLLBACK")
    }

    // MARK: - The non-blocking protocol loop

    /// The open handle, or `connectionLost` when it was closed.
    func openHandle() throws -> OpaquePointer {
        guard let handle else {
            throw PostgresError(code: .connectionLost, message: "\(redactedURL): the connection is closed", isConnectionBroken: true)
        }
        return handle
    }

    func makeDeadline() -> ContinuousClock.Instant {
        .now.advanced(by: .milliseconds(options.operationTimeoutMilliseconds))
    }

    /// Sends a query with `send`, then collects every result until libpq has none left.
    private func run(_ send: (OpaquePointer) -> Int32) throws -> PostgresResult {
        let handle = try openHandle()
        let deadline = makeDeadline()
        guard send(handle) == 1 else { throw failure(.unexpectedResponse) }
        try flush(handle, deadline: deadline)
        var last = PostgresResult()
        var firstError: PostgresError?
        while let result = try nextResult(handle, deadline: deadline) {
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
                if firstError == nil { last = PostgresResult(copying: result) }
            } else if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                // exec() cannot serve COPY: the protocol is now mid-copy, so give the connection up.
                close()
                throw PostgresError(
                    code: .unexpectedResponse, message: "COPY must go through copyIn(_:data:)", isConnectionBroken: true)
            } else if firstError == nil {
                firstError = serverError(result)
            }
        }
        if var firstError {
            firstError.isConnectionBroken = closeIfBroken()
            throw firstError
        }
        return last
    }

    /// Writes out libpq's output buffer, waiting for the socket as needed.
    func flush(_ handle: OpaquePointer, deadline: ContinuousClock.Instant) throws {
        while true {
            switch PQflush(handle) {
            case 0: return
            case 1:
                try waitForSocket(handle, writing: true, deadline: deadline)
                guard PQconsumeInput(handle) == 1 else { throw failure(.connectionLost) }
            default: throw failure(.connectionLost)
            }
        }
    }

    /// The next result of the running query (nil when there are no more), waiting for input.
    func nextResult(_ handle: OpaquePointer, deadline: ContinuousClock.Instant) throws -> OpaquePointer? {
        while PQisBusy(handle) == 1 {
            try waitForSocket(handle, writing: false, deadline: deadline)
            guard PQconsumeInput(handle) == 1 else { throw failure(.connectionLost) }
        }
        return PQgetResult(handle)
    }

    /// Waits until the socket is readable (or writable too, when `writing`), at most until
    /// `deadline`; then closes the connection and throws `timeout`.
    func waitForSocket(_ handle: OpaquePointer, writing: Bool, deadline: ContinuousClock.Instant) throws {
        let socket = PQsocket(handle)
        guard socket >= 0 else { throw failure(.connectionLost) }
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                close()
                throw PostgresError(
                    code: .timeout, message: "\(redactedURL): no answer within \(options.operationTimeoutMilliseconds) ms",
                    isConnectionBroken: true)
            }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = min(Int64(Int32.max), seconds * 1_000 + attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN) | (writing ? Int16(POLLOUT) : 0), revents: 0)
            let ready = poll(&descriptor, 1, Int32(milliseconds))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw failure(.connectionLost) }
        }
    }

    // MARK: - Errors

    /// An error from libpq's connection-level message; closes the connection when it is broken.
    func failure(_ code: PostgresError.Code) -> PostgresError {
        let message = handle.map(Self.errorMessage) ?? "the connection is closed"
        let broken = closeIfBroken()
        return PostgresError(code: broken ? .connectionLost : code, message: "\(redactedURL): \(message)", isConnectionBroken: broken)
    }

    /// The server's error in `result`, with SQLSTATE and DETAIL (`isConnectionBroken` is set
    /// by the caller once the remaining results are drained).
    func serverError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? { PQresultErrorField(result, code).map { String(cString: $0) } }
        let primary = field(Int32(UInt8(ascii: "M"))) ?? Self.trimmed(String(cString: PQresultErrorMessage(result)))
        return PostgresError(
            code: .serverError, message: primary.isEmpty ? "unknown server error" : primary,
            sqlState: field(Int32(UInt8(ascii: "C"))), detail: field(Int32(UInt8(ascii: "D"))), isConnectionBroken: false)
    }

    /// Whether the connection is unusable; if so it is closed now.
    @discardableResult
    func closeIfBroken() -> Bool {
        guard let handle else { return true }
        guard PQstatus(handle) != CONNECTION_OK else { return false }
        close()
        return true
    }

    /// libpq's message on one line (it spreads some over several, with tabs).
    static func errorMessage(_ connection: OpaquePointer) -> String {
        trimmed(String(cString: PQerrorMessage(connection))).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    private static func trimmed(_ text: String) -> String {
        var text = text
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}

// MARK: - C strings

/// Runs `body` with NULL-terminated keyword and value arrays for PQconnectdbParams.
private func withCStringArrays<R>(
    _ pairs: [(String, String)],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> R
) -> R {
    withCStringArray(pairs.map(\.0) + [nil]) { keywords in
        withCStringArray(pairs.map(\.1) + [nil]) { values in body(keywords, values) }
    }
}

/// Runs `body` with C copies of `strings` (nil stays a null pointer), freed afterwards. The
/// array pointer is nil when `strings` is empty.
private func withCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) throws -> R) rethrows -> R {
    let copies = strings.map { $0.map { strdup($0) } ?? nil }
    defer { for copy in copies { free(copy) } }
    let pointers = copies.map { $0.map { UnsafePointer($0) } }
    return try pointers.withUnsafeBufferPointer { try body($0.baseAddress) }
}
