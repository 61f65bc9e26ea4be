import NIOCore
import XCTest

@testable import incident_bench

final class ResponseReaderTests: XCTestCase {
    private let accepted = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 21\r\nX-Incidentd-Node: 1\r\n\r\n{\"status\":\"accepted\"}"

    private func read(_ text: String, marker: String = "accepted", pieces: Int? = nil) throws -> [ResponseReader.Answer] {
        var reader = ResponseReader(marker: Array(marker.utf8))
        let bytes = Array(text.utf8)
        var answers: [ResponseReader.Answer] = []
        let size = pieces.map { max(1, bytes.count / $0) } ?? bytes.count
        var start = 0
        while start < bytes.count {
            var buffer = ByteBuffer(bytes: bytes[start..<min(bytes.count, start + size)])
            answers += try reader.read(&buffer)
            start += size
        }
        XCTAssertFalse(reader.isMidAnswer, "every byte belongs to a finished answer")
        return answers
    }

    private func assertMalformed(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        var reader = ResponseReader(marker: Array("accepted".utf8))
        var buffer = ByteBuffer(string: text)
        XCTAssertThrowsError(try reader.read(&buffer), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line)
        }
    }

    func testAFramedAnswerInOneRead() throws {
        XCTAssertEqual(try read(accepted), [.init(status: 202, hasMarker: true, closes: false)])
    }

    func testTheSameAnswerByteByByte() throws {
        XCTAssertEqual(try read(accepted, pieces: accepted.utf8.count), [.init(status: 202, hasMarker: true, closes: false)])
        XCTAssertEqual(try read(accepted, pieces: 3), [.init(status: 202, hasMarker: true, closes: false)])
    }

    func testABodyWithoutTheMarker() throws {
        let text = "HTTP/1.1 202 Accepted\r\nContent-Length: 13\r\n\r\n{\"status\":1}\n"
        XCTAssertEqual(try read(text), [.init(status: 202, hasMarker: false, closes: false)])
        // The marker in a header does not count.
        let inHeader = "HTTP/1.1 202 accepted\r\nX-Note: accepted\r\nContent-Length: 2\r\n\r\n{}"
        XCTAssertEqual(try read(inHeader), [.init(status: 202, hasMarker: false, closes: false)])
    }

    func testAnErrorStatusIsReported() throws {
        let text = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\ncontent-LENGTH: 9\r\n\r\nslow down"
        XCTAssertEqual(try read(text), [.init(status: 429, hasMarker: false, closes: false)])
    }

    func testChunkedBodiesWithExtensionsAndTrailers() throws {
        // The marker is split between two chunks.
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "7;name=value\r\n{\"heade\r\n" + "C\r\nr\":{\"id\":1}}\r\n" + "0\r\nX-Trailer: yes\r\n\r\n"
        for pieces in [nil, 5, text.utf8.count] {
            XCTAssertEqual(try read(text, marker: "\"header\"", pieces: pieces), [.init(status: 200, hasMarker: true, closes: false)])
        }
        // Chunked wins over a stray Content-Length.
        let both = "HTTP/1.1 200 OK\r\nContent-Length: 999\r\nTransfer-Encoding: chunked\r\n\r\n8\r\naccepted\r\n0\r\n\r\n"
        XCTAssertEqual(try read(both), [.init(status: 200, hasMarker: true, closes: false)])
    }

    func testAnswersBackToBackInOneRead() throws {
        let second = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
        XCTAssertEqual(
            try read(accepted + second + accepted),
            [.init(status: 202, hasMarker: true, closes: false), .init(status: 503, hasMarker: false, closes: false), .init(status: 202, hasMarker: true, closes: false)])
    }

    func testInterimAnswersAndAnswersWithoutABody() throws {
        XCTAssertEqual(try read("HTTP/1.1 100 Continue\r\n\r\n" + accepted), [.init(status: 202, hasMarker: true, closes: false)])
        XCTAssertEqual(try read("HTTP/1.1 204 No Content\r\n\r\n"), [.init(status: 204, hasMarker: false, closes: false)])
    }

    func testWhetherTheServerCloses() throws {
        XCTAssertEqual(try read("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").first?.closes, true)
        XCTAssertEqual(try read("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").first?.closes, true)
        XCTAssertEqual(try read("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").first?.closes, false)
    }

    func testOnlyTheBodysStartIsSearched() throws {
        let body = String(repeating: "x", count: ResponseReader.maxInspectedBodyBytes) + "accepted"
        let text = "HTTP/1.1 202 Accepted\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        XCTAssertEqual(try read(text).first?.hasMarker, false)
        XCTAssertEqual(try read(text, pieces: 7).first?.hasMarker, false)
        // …and a partial answer is noticed.
        var reader = ResponseReader(marker: Array("accepted".utf8))
        var part = ByteBuffer(string: "HTTP/1.1 202 Accepted\r\nContent-Le")
        XCTAssertEqual(try reader.read(&part), [])
        XCTAssertTrue(reader.isMidAnswer)
    }

    func testMalformedAnswersAreRefused() {
        assertMalformed("HTTP/2 200 OK\r\n\r\n", "bad status line")
        assertMalformed("HTTP/1.1 2x0 OK\r\n\r\n", "bad status line")
        assertMalformed("HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n", "bad status code")
        assertMalformed("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "without a name and colon")
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", "conflicting Content-Length")
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", "bad Content-Length")
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close", "without Content-Length or chunked")
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding")
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size")
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", "not followed by CRLF")
        assertMalformed("HTTP/1.1 200 OK\r\n" + String(repeating: "X-Pad: 0123456789\r\n", count: 4_000), "header block over")
    }
}
