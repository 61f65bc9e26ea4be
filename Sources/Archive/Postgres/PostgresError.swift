/// A failure talking to PostgreSQL: refused or lost connection, a statement the server
/// rejected (with its SQLSTATE), a client-side deadline.
///
/// `isConnectionBroken` tells the caller whether the connection can still be used: when it is
/// true, drop the connection and open a new one (ArchiveStore does that by itself); when false,
/// the server rejected one statement and the session is fine (after a ROLLBACK if a transaction
/// was open).
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; match on it, never on `message`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The connection could not be established (bad URL, refused, authentication, timeout).
        public static let connectionFailed = Code("connection_failed")
        /// The server reported an error for a statement; `sqlState` says which.
        public static let serverError = Code("server_error")
        /// The connection broke while a statement was running (server gone, socket closed).
        public static let connectionLost = Code("connection_lost")
        /// The operation did not finish within `PostgresConnection.Options.operationTimeoutMilliseconds`;
        /// the connection is closed because its protocol state is unknown.
        public static let timeout = Code("timeout")
        /// The configured password file or environment variable could not be read.
        public static let passwordUnavailable = Code("password_unavailable")
        /// The server answered something the client did not expect (e.g. no COPY mode after COPY).
        public static let unexpectedResponse = Code("unexpected_response")
        /// A caller's argument was refused before anything was sent (e.g. invalid options).
        public static let invalidArgument = Code("invalid_argument")
    }

    public var code: Code
    /// The five-character SQLSTATE of a server error (`23505` unique violation, `57014` query
    /// canceled by statement_timeout, `22P02` invalid input syntax, ...); nil for client errors.
    public var sqlState: String?
    /// libpq's primary message (never contains the password).
    public var message: String
    /// The server's DETAIL line, when it sent one.
    public var detail: String?
    /// True when the connection is unusable after this error and must be replaced.
    public var isConnectionBroken: Bool

    public init(code: Code, message: String, sqlState: String? = nil, detail: String? = nil, isConnectionBroken: Bool) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.isConnectionBroken = isConnectionBroken
    }

    /// The statement ran longer than the server-side `statement_timeout`.
    public var isStatementTimeout: Bool { sqlState == "57014" }

    public var description: String {
        var text = "PostgreSQL \(code)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let detail { text += " (\(detail))" }
        if isConnectionBroken { text += " (connection broken)" }
        return text
    }
}
