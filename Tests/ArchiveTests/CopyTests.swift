@testable import Archive
import PostgresTesting
import XCTest

/// COPY text format: what the encoder writes, and that a real server reads back exactly what
/// went in, however hostile the strings.
final class CopyTests: XCTestCase {
    static let postgres = SharedPostgres()
    override class func tearDown() {
        postgres.stop()
        super.tearDown()
    }

    static let nastyStrings = [
        "", " ", "plain", "tab\there", "new\nline", "carriage\rreturn", "crlf\r\n", "back\\slash", "\\N", "\\\\N", "\\",
        "trailing backslash \\", "'single' \"double\" `back`", "unicode: é 漢字 🚨 \u{200B}", "\u{1}\u{7}\u{1B}[31m", "a\tb\nc\\d\re",
        String(repeating: "x", count: 70_000),
    ]

    func testEncodingEscapesOnlyWhatTheFormatRequires() {
        var buffer = CopyBuffer()
        buffer.append("a\tb")
        buffer.append(nil as String?)
        buffer.append("\\N")
        buffer.append(Int64(-42))
        buffer.append(true)
        buffer.endRow()
        buffer.append("x\ny\rz\\")
        buffer.endRow()
        XCTAssertEqual(String(decoding: buffer.bytes, as: UTF8.self), "a\\tb\t\\N\t\\\\N\t-42\tt\nx\\ny\\rz\\\\\n")
        XCTAssertEqual(buffer.rowCount, 2)
    }

    func testTimestampsAreExactUTCLiterals() {
        func literal(_ milliseconds: Int64?) -> String {
            var buffer = CopyBuffer()
            buffer.appendTimestamp(milliseconds)
            return String(decoding: buffer.bytes, as: UTF8.self)
        }
        XCTAssertEqual(literal(0), "1970-01-01 00:00:00.000+00")
        XCTAssertEqual(literal(-1), "1969-12-31 23:59:59.999+00")
        XCTAssertEqual(literal(Fixture.t0 + 45_296_789), "2025-03-01 12:34:56.789+00")
        XCTAssertEqual(literal(951_782_400_000), "2000-02-29 00:00:00.000+00")  // a leap day of a leap century
        XCTAssertEqual(literal(4_107_542_399_999), "2100-02-28 23:59:59.999+00")  // 2100 is not a leap year
        XCTAssertEqual(literal(Int64.min), "0001-01-01 00:00:00.000+00")  // clamped
        XCTAssertEqual(literal(Int64.max), "9999-12-31 23:59:59.999+00")
        XCTAssertEqual(literal(nil), "\\N")
    }

    func testTimestampsRoundTripThroughARealServer() throws {
        let connection = try PostgresConnection(url: try Self.postgres.get().url())
        try connection.exec("CREATE TEMP TABLE times (ms bigint, at timestamptz)")
        var samples: [Int64] = [0, -1, 1, Fixture.t0, -62_135_596_800_000, 253_402_300_799_999]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { samples.append(Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &generator)) }
        var buffer = CopyBuffer()
        for sample in samples {
            buffer.append(sample)
            buffer.appendTimestamp(sample)
            buffer.endRow()
        }
        try connection.copyIn("COPY times FROM STDIN", data: buffer)
        let mismatches = try connection.exec("SELECT ms, at FROM times WHERE (extract(epoch FROM at) * 1000)::bigint <> ms").rows
        XCTAssertEqual(mismatches, [])
    }

    func testNULBecomesReplacementCharacter() {
        var buffer = CopyBuffer()
        buffer.append("a\u{0}b")
        XCTAssertEqual(String(decoding: buffer.bytes, as: UTF8.self), "a\u{FFFD}b")
        XCTAssertEqual(JSONText.replacingNULEscapes(#"{"a":"x\u0000y"}"#), #"{"a":"x\ufffdy"}"#)
        XCTAssertEqual(JSONText.replacingNULEscapes(#"{"a":"x\\u0000y"}"#), #"{"a":"x\\u0000y"}"#)  // an escaped backslash
        XCTAssertEqual(JSONText.replacingNULEscapes(#"{"a":"\\\u0000"}"#), #"{"a":"\\\ufffd"}"#)
        XCTAssertEqual(JSONText.replacingNULEscapes(#"{"a":"\u00001"}"#), #"{"a":"\ufffd1"}"#)
    }

    func testNastyStringsRoundTripThroughARealServer() throws {
        let connection = try PostgresConnection(url: try Self.postgres.get().url())
        try connection.exec("CREATE TEMP TABLE nasty (id int, value text, other text)")
        var rows: [[String?]] = Self.nastyStrings.enumerated().map { [String($0.offset), $0.element, nil] }
        rows.append([String(rows.count), nil, "\\N"])
        XCTAssertEqual(try connection.copyIn("COPY nasty (id, value, other) FROM STDIN", rows: rows), rows.count)
        let back = try connection.exec("SELECT id, value, other FROM nasty ORDER BY id").rows
        XCTAssertEqual(back, rows)
    }

    func testLargeCopySpansManyChunks() throws {
        var options = PostgresConnection.Options()
        options.copyChunkBytes = 4_096
        let connection = try PostgresConnection(url: try Self.postgres.get().url(), options: options)
        try connection.exec("CREATE TEMP TABLE big (id bigint, value text)")
        var buffer = CopyBuffer()
        for id in 0..<20_000 {
            buffer.append(Int64(id))
            buffer.append("row \(id)\twith a tab and a \\ backslash")
            buffer.endRow()
        }
        XCTAssertGreaterThan(buffer.bytes.count, 100 * options.copyChunkBytes)
        XCTAssertEqual(try connection.copyIn("COPY big FROM STDIN", data: buffer), 20_000)
        let summary = try connection.exec("SELECT count(*), sum(id), max(value) FROM big WHERE value LIKE '%\t%\\\\%'").rows
        XCTAssertEqual(summary, [["20000", "199990000", "row 9999\twith a tab and a \\ backslash"]])
    }

    func testRejectedRowFailsTheCopyAndKeepsTheConnection() throws {
        let connection = try PostgresConnection(url: try Self.postgres.get().url())
        try connection.exec("CREATE TEMP TABLE typed (id int, doc jsonb)")
        XCTAssertThrowsError(try connection.copyIn("COPY typed FROM STDIN", rows: [["1", "{}"], ["2", "{not json"]])) { error in
            let postgres = error as? PostgresError
            XCTAssertEqual(postgres?.sqlState, "22P02", "\(error)")  // invalid_text_representation
            XCTAssertEqual(postgres?.isConnectionBroken, false)
        }
        XCTAssertEqual(try connection.exec("SELECT count(*) FROM typed").firstValue, "0")
        XCTAssertThrowsError(try connection.copyIn("COPY no_such_table FROM STDIN", rows: [["1"]])) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "42P01")
        }
        XCTAssertThrowsError(try connection.exec("COPY typed FROM STDIN")) { error in
            XCTAssertEqual((error as? PostgresError)?.code, .unexpectedResponse)
        }
    }

    func testRedactedURLDropsEverySecret() {
        XCTAssertEqual(
            ConnectionString.redacted("postgres://archiver:hunter2@db.internal:5432/incidents?sslmode=verify-full&password=x"),
            "postgres://archiver@db.internal:5432/incidents?sslmode=verify-full")
        XCTAssertEqual(ConnectionString.redacted("postgresql://a:b@h/db"), "postgresql://a@h/db")
        XCTAssertEqual(ConnectionString.redacted("postgres://h"), "postgres://h")
        XCTAssertEqual(ConnectionString.redacted("postgres://u@h?password=p"), "postgres://u@h")
        XCTAssertEqual(ConnectionString.redacted("host=db user=archiver password=hunter2"), "user='archiver' host='db'")
        XCTAssertEqual(ConnectionString.redacted("garbage"), "<unparseable connection string>")
    }
}
