import Archive
import PostgresTesting
import XCTest

/// The libpq layer against a real server: parameters, errors and what they say about the
/// connection, transactions, timeouts, refused connections.
final class PostgresConnectionTests: XCTestCase {
    static let postgres = SharedPostgres()
    override class func tearDown() {
        postgres.stop()
        super.tearDown()
    }

    private func connect(_ options: PostgresConnection.Options = .default) throws -> PostgresConnection {
        try PostgresConnection(url: try Self.postgres.get().url(), options: options)
    }

    func testParametersTravelAsValuesIncludingNullsAndQuotes() throws {
        let connection = try connect()
        let result = try connection.exec(
            "SELECT $1::text AS a, $2::text AS b, $3::int + 1 AS c", params: ["it's a \"quote\"; DROP TABLE x;", nil, "41"])
        XCTAssertEqual(result.columns, ["a", "b", "c"])
        XCTAssertEqual(result.rows, [["it's a \"quote\"; DROP TABLE x;", nil, "42"]])
        XCTAssertEqual(try connection.exec("SELECT 1").commandTag, "SELECT 1")
    }

    func testServerErrorCarriesSQLStateAndKeepsTheConnection() throws {
        let connection = try connect()
        XCTAssertThrowsError(try connection.exec("SELECT 1 / 0")) { error in
            let postgres = error as? PostgresError
            XCTAssertEqual(postgres?.code, .serverError)
            XCTAssertEqual(postgres?.sqlState, "22012")  // division_by_zero
            XCTAssertEqual(postgres?.isConnectionBroken, false)
        }
        XCTAssertEqual(try connection.exec("SELECT 2").firstValue, "2")
    }

    func testSessionRunsInUTCWithTheStatementTimeout() throws {
        var options = PostgresConnection.Options()
        options.statementTimeoutMilliseconds = 200
        options.operationTimeoutMilliseconds = 5_000
        let connection = try connect(options)
        XCTAssertEqual(try connection.exec("SHOW TIME ZONE").firstValue, "UTC")
        XCTAssertThrowsError(try connection.exec("SELECT pg_sleep(2)")) { error in
            XCTAssertEqual((error as? PostgresError)?.isStatementTimeout, true, "\(error)")
            XCTAssertEqual((error as? PostgresError)?.isConnectionBroken, false)
        }
        XCTAssertEqual(try connection.exec("SELECT 3").firstValue, "3")
    }

    func testTransactionCommitsOrRollsBack() throws {
        let connection = try connect()
        try connection.exec("CREATE TEMP TABLE t (v int PRIMARY KEY)")
        try connection.transaction { try connection.exec("INSERT INTO t VALUES (1)") }
        struct Abort: Error {}
        XCTAssertThrowsError(
            try connection.transaction {
                try connection.exec("INSERT INTO t VALUES (2)")
                throw Abort()
            })
        // A failed statement whose error the body swallowed: COMMIT would silently roll back.
        XCTAssertThrowsError(
            try connection.transaction {
                try connection.exec("INSERT INTO t VALUES (3)")
                _ = try? connection.exec("INSERT INTO t VALUES (1)")
            })
        XCTAssertFalse(connection.isInTransaction)
        XCTAssertEqual(try connection.exec("SELECT v FROM t ORDER BY v").rows, [["1"]])
    }

    func testRefusedConnectionsAreErrorsNotCrashes() throws {
        let port = try Self.postgres.get().port
        var quick = PostgresConnection.Options()
        quick.connectTimeoutSeconds = 2
        let urls = [
            "postgres://postgres@127.0.0.1:1/postgres",  // nothing listens on port 1
            "postgres://postgres@127.0.0.1:\(port)/no_such_database",
            "postgres://postgres@127.0.0.1:notaport/postgres",
            "this is not a connection string",
            "postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=require",  // the test server has no TLS
        ]
        for url in urls {
            XCTAssertThrowsError(try PostgresConnection(url: url, options: quick), url) { error in
                let postgres = error as? PostgresError
                XCTAssertEqual(postgres?.code, .connectionFailed, "\(url): \(error)")
                XCTAssertEqual(postgres?.isConnectionBroken, true)
                XCTAssertFalse(postgres?.message.isEmpty ?? true)
            }
        }
    }

    func testUnreadablePasswordSourcesAreReported() throws {
        let url = try Self.postgres.get().url()
        for password in [PostgresPassword.file(path: "/nonexistent/pw"), .environmentVariable(name: "ARCHIVE_TEST_UNSET_VARIABLE")] {
            XCTAssertThrowsError(try PostgresConnection(url: url, password: password)) { error in
                XCTAssertEqual((error as? PostgresError)?.code, .passwordUnavailable)
            }
        }
    }

    func testStoppedServerHitsTheClientDeadline() throws {
        var options = PostgresConnection.Options()
        options.statementTimeoutMilliseconds = 0
        options.operationTimeoutMilliseconds = 500
        let connection = try connect(options)
        let server = try Self.postgres.get()
        server.pause()
        defer { server.resume() }
        let started = ContinuousClock.now
        XCTAssertThrowsError(try connection.exec("SELECT 1")) { error in
            XCTAssertEqual((error as? PostgresError)?.code, .timeout, "\(error)")
            XCTAssertEqual((error as? PostgresError)?.isConnectionBroken, true)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
        XCTAssertFalse(connection.isConnected)
        server.resume()
        XCTAssertEqual(try connect().exec("SELECT 4").firstValue, "4")
    }

    func testInvalidOptionsAreRefused() {
        var options = PostgresConnection.Options()
        options.operationTimeoutMilliseconds = 1_000
        options.statementTimeoutMilliseconds = 2_000
        XCTAssertThrowsError(try options.validate())
        options = PostgresConnection.Options()
        options.connectTimeoutSeconds = 0
        XCTAssertThrowsError(try options.validate())
    }
}

/// A server that requires a password over TCP: the password reaches libpq from a file or an
/// environment variable, and never shows in the redacted URL.
final class PostgresPasswordTests: XCTestCase {
    static let secret = "s3cr3t-\u{e9}-pass"
    static let postgres: SharedPostgres = {
        var options = PostgresServer.Options()
        options.superuserPassword = secret
        return SharedPostgres(options: options)
    }()
    override class func tearDown() {
        postgres.stop()
        super.tearDown()
    }

    func testPasswordFromFileOrEnvironmentOrLiteral() throws {
        let url = try Self.postgres.get().url()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)").path
        try Data((Self.secret + "\n").utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        XCTAssertEqual(try PostgresConnection(url: url, password: .file(path: file)).exec("SELECT 1").firstValue, "1")
        setenv("ARCHIVE_TEST_PASSWORD", Self.secret, 1)
        defer { unsetenv("ARCHIVE_TEST_PASSWORD") }
        XCTAssertEqual(try PostgresConnection(url: url, password: .environmentVariable(name: "ARCHIVE_TEST_PASSWORD")).exec("SELECT 1").firstValue, "1")
        XCTAssertEqual(try PostgresConnection(url: url, password: .literal(Self.secret)).exec("SELECT 1").firstValue, "1")
    }

    func testWrongOrMissingPasswordIsAConnectionError() throws {
        let url = try Self.postgres.get().url()
        for password in [nil, PostgresPassword.literal("wrong")] {
            XCTAssertThrowsError(try PostgresConnection(url: url, password: password)) { error in
                XCTAssertEqual((error as? PostgresError)?.code, .connectionFailed)
                XCTAssertFalse("\(error)".contains(Self.secret))
            }
        }
    }

    func testPasswordInTheURLNeverShowsInLogsOrErrors() throws {
        let port = try Self.postgres.get().port
        let url = "postgres://postgres:\(Self.secret)@127.0.0.1:\(port)/postgres?password=\(Self.secret)&sslmode=disable"
        let connection = try PostgresConnection(url: url)
        XCTAssertEqual(connection.redactedURL, "postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=disable")
        let wrong = "postgres://postgres:wrong-one@127.0.0.1:\(port)/postgres"
        XCTAssertThrowsError(try PostgresConnection(url: wrong)) { error in
            XCTAssertFalse("\(error)".contains("wrong-one"), "\(error)")
        }
    }
}
