import Foundation
import HTTPTypes
import Hummingbird
import IncidentCore
import Locking
import MetricsTestKit
import XCTest

@testable import IncidentAPI

#if canImport(Glibc)
import Glibc
#endif

/// `IngestFastPath` answers ingestion in the channel pipeline: with the same answers as the
/// route, only for requests it can answer completely, in order with everything passed on.
final class IngestFastPathTests: XCTestCase {
    /// One step of the comparison: a request and whether the fast path should answer it.
    private struct Step {
        var name: String
        var path = "/api/v1/events"
        var role: Role? = .ingest
        var body: String
        var headers: HTTPFields = [:]
        var answeredHere: Bool
        var shutDownFirst = false
    }

    private static let event = #"{"source":"llm-sentinel","title":"latency","severity":"high","dedup_key":"d1","resource":{"id":"chat"}}"#

    private static let steps: [Step] = [
        Step(name: "first request of a key (not cached yet)", body: event, answeredHere: false),
        Step(name: "a repeat", body: event, answeredHere: true),
        Step(name: "a batch", body: "[\(event),\(event.replacingOccurrences(of: "d1", with: "d2"))]", answeredHere: true),
        Step(name: "idempotent", body: event, headers: [.idempotencyKey: "k-1"], answeredHere: true),
        Step(name: "idempotent replay", body: event, headers: [.idempotencyKey: "k-1"], answeredHere: true),
        Step(name: "sentinel", path: "/api/v1/events/sentinel", body: #"{"title":"drift detected","severity":"low"}"#, answeredHere: true),
        Step(
            name: "shield", path: "/api/v1/events/shield",
            body: #"{"title":"Prompt injection attempt","severity":"critical","violation_type":"prompt_injection"}"#, answeredHere: true),
        Step(name: "malformed JSON", body: #"{"source":"#, answeredHere: false),
        Step(name: "a field of the wrong type", body: #"[{"source":"s","title":"ok"},{"source":7,"title":"x"}]"#, answeredHere: false),
        Step(name: "an element without a title", body: #"[{"source":"s","title":"t"},{"source":"s"}]"#, answeredHere: false),
        Step(name: "an empty idempotency key", body: event, headers: [.idempotencyKey: " "], answeredHere: false),
        Step(name: "a viewer key", role: .viewer, body: event, answeredHere: false),
        Step(name: "no key", role: nil, body: event, answeredHere: false),
        Step(name: "a wrong key", role: nil, body: event, headers: [.apiKey: "imk_nope"], answeredHere: false),
        Step(name: "a query string", path: "/api/v1/events?consistency=local", body: event, answeredHere: false),
        Step(name: "a bad query string", path: "/api/v1/events?consistency=sometimes", body: event, answeredHere: false),
        Step(name: "an idempotency key sent twice", body: event, headers: [.idempotencyKey: "k-2", .idempotencyKey: "k-3"], answeredHere: false),
        Step(
            name: "an API key sent twice", role: nil, body: event,
            headers: [.apiKey: APIHarness.secrets[.ingest]!, .apiKey: APIHarness.secrets[.ingest]!], answeredHere: false),
        Step(
            name: "an API key under an upper-case header name", role: nil, body: event,
            headers: [HTTPField.Name("X-API-KEY")!: APIHarness.secrets[.ingest]!], answeredHere: true),
        Step(name: "another key on the same connection (not cached yet)", role: .admin, body: event, answeredHere: false),
        Step(name: "that key again", role: .admin, body: event, answeredHere: true),
        Step(name: "a wrong key after a good one on the same connection", role: nil, body: event, headers: [.apiKey: "imk_test_ingest_secreT"], answeredHere: false),
        Step(name: "after all that, a plain event", body: event, answeredHere: true),
        // The node refuses the submission (503 with Retry-After): the fast path answers the refusal.
        Step(name: "a node shutting down", body: event, answeredHere: true, shutDownFirst: true),
    ]

    /// Status, headers (but `Date`'s value) and body (but the random event ids) of every step are
    /// the same on the fast path as through the router on the same server without it; and the
    /// fast path answered exactly the steps it should have.
    func testTheFastPathAnswersAsTheRouteDoes() async throws {
        let plain = try await answers(serving: .live)
        let fast = try await answers(serving: .fastPath)
        for (step, (expected, actual)) in zip(Self.steps, zip(plain.answers, fast.answers)) {
            XCTAssertEqual(actual, expected, step.name)
        }
        XCTAssertEqual(fast.counts?.answered, Self.steps.filter(\.answeredHere).count)
        // Ingest requests collected and then passed on (not the ones refused at the head).
        XCTAssertEqual(fast.counts?.passedOn, Self.steps.filter { !$0.answeredHere && !$0.path.contains("?") }.count)
        XCTAssertTrue(fast.answers.contains { $0.contains("idempotent-replayed: true") }, "the replay is marked")
    }

    private func answers(serving: APIHarness.Serving) async throws -> (answers: [String], counts: (answered: Int, passedOn: Int)?) {
        let collected = CollectedAnswers()
        try await withAPI(serving: serving) { client, harness in
            for step in Self.steps {
                if step.shutDownFirst { await harness.node.shutdown() }
                let response = try await client.send(.post, step.path, as: step.role, body: step.body, headers: step.headers)
                collected.append(Self.describe(response))
            }
            if let made = harness.fastPath { collected.setFastPath(made) }
        }
        let counts = collected.fastPath.map { ($0.counts.answered.load(ordering: .relaxed), $0.counts.passedOn.load(ordering: .relaxed)) }
        return (collected.answers, counts)
    }

    /// An answer as comparable text: status, every header (but the values of Date and of the
    /// local-read headers, which move with time and background entries), the body with the
    /// random event ids blanked.
    private static func describe(_ response: APIResponse) -> String {
        var lines = ["\(response.status.code)"]
        for field in response.headers {
            let name = field.name.canonicalName
            switch name {
            case "date": lines.append("date: <\(field.value.hasSuffix(" GMT") ? "GMT" : field.value)>")
            case "x-incidentd-staleness-ms", "x-incidentd-applied-index": lines.append("\(name): <\(Int(field.value) != nil ? "a number" : field.value)>")
            default: lines.append("\(name): \(field.value)")
            }
        }
        let body = response.text.replacingOccurrences(of: #""evt_[0-9a-f]+""#, with: "\"evt\"", options: .regularExpression)
        lines.append(body)
        return lines.joined(separator: "\n")
    }

    /// Requests pipelined on one connection are answered in order, whether the fast path or the
    /// router answers each.
    func testPipelinedRequestsAreAnsweredInOrder() async throws {
        try await withAPI(serving: .fastPath) { client, harness in
            // The key's first request caches it.
            let first = try await client.post("/api/v1/events", as: .ingest, Self.event)
            XCTAssertEqual(first.status, .accepted)
            let port = try XCTUnwrap(client.client.port)
            let secret = APIHarness.secrets[.ingest]!
            func post(_ body: String) -> String {
                "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(secret)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            }
            let requests = [
                post(Self.event), "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n", post(Self.event), post(#"{"source":"#),
                post(Self.event.replacingOccurrences(of: "d1", with: "d9")),
            ]
            let before = harness.fastPath!.counts.answered.load(ordering: .relaxed)
            let answers = try await Task.detached { try RawConnection.exchange(port: port, sending: requests.joined(), answers: requests.count) }.value
            XCTAssertEqual(answers.map(\.status), [202, 200, 202, 400, 202])
            XCTAssertEqual(harness.fastPath!.counts.answered.load(ordering: .relaxed) - before, 3)
            XCTAssertTrue(answers[4].body.contains("\"outcome\":\"created\""), answers[4].body)
        }
    }

    /// A body sent in several chunks is gathered; one past the limit goes to the route (413).
    func testChunkedBodiesAreGatheredAndOversizedOnesPassedOn() async throws {
        try await withAPI(serving: .fastPath, { $0.maxBodyBytes = 4_096 }) { client, harness in
            _ = try await client.post("/api/v1/events", as: .ingest, Self.event)
            let port = try XCTUnwrap(client.client.port)
            let secret = APIHarness.secrets[.ingest]!
            func chunked(_ body: String, pieces: Int) -> String {
                let bytes = Array(body.utf8)
                let size = (bytes.count + pieces - 1) / pieces
                var text = "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(secret)\r\nTransfer-Encoding: chunked\r\n\r\n"
                for start in stride(from: 0, to: bytes.count, by: size) {
                    let piece = bytes[start..<min(bytes.count, start + size)]
                    text += String(piece.count, radix: 16) + "\r\n" + String(decoding: piece, as: UTF8.self) + "\r\n"
                }
                return text + "0\r\n\r\n"
            }
            let big = #"{"source":"s","title":"t","description":""# + String(repeating: "x", count: 5_000) + #""}"#
            let before = harness.fastPath!.counts.answered.load(ordering: .relaxed)
            let answers = try await Task.detached {
                try RawConnection.exchange(port: port, sending: chunked(Self.event, pieces: 4) + chunked(big, pieces: 3), answers: 2)
            }.value
            XCTAssertEqual(answers.map(\.status), [202, 413])
            XCTAssertEqual(harness.fastPath!.counts.answered.load(ordering: .relaxed) - before, 1)
        }
    }

    /// The fast path records the route's request metrics, under the route's name.
    func testTheFastPathRecordsTheRoutesMetrics() async throws {
        let metrics = TestMetrics()
        let harness = try await APIHarness.start(serving: .fastPath, fastPathMetrics: metrics)
        try await harness.run { client in
            for _ in 0..<4 {
                let response = try await client.post("/api/v1/events", as: .ingest, Self.event)
                XCTAssertEqual(response.status, .accepted)
            }
        }
        await harness.shutdown()
        XCTAssertEqual(harness.fastPath?.counts.answered.load(ordering: .relaxed), 3, "the first went through the router")
        let accepted = [("http.route", "/api/v1/events"), ("http.request.method", "POST"), ("http.response.status_code", "202")]
        XCTAssertEqual(try metrics.expectCounter("hb.requests", accepted).totalValue, 3)
        XCTAssertEqual(try metrics.expectTimer("http.server.request.duration", accepted).values.count, 3)
        XCTAssertEqual(try metrics.expectMeter("http.server.active_requests", [("http.request.method", "POST")]).lastValue, 0)
    }

    func testTheDateHeaderIsIMFFixdate() {
        XCTAssertEqual(HTTPDateCache.format(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDateCache.format(1_795_651_200), "Thu, 26 Nov 2026 00:00:00 GMT")
        let cache = HTTPDateCache()
        XCTAssertEqual(cache.date(atSecond: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(cache.date(atSecond: 784_111_778), "Sun, 06 Nov 1994 08:49:38 GMT")
    }
}

private final class CollectedAnswers: Sendable {
    private let state = Lock<(answers: [String], fastPath: IngestFastPath?)>(([], nil))
    var answers: [String] { state.withLock { $0.answers } }
    var fastPath: IngestFastPath? { state.withLock { $0.fastPath } }
    func append(_ answer: String) { state.withLock { $0.answers.append(answer) } }
    func setFastPath(_ fastPath: IngestFastPath) { state.withLock { $0.fastPath = fastPath } }
}

/// A blocking HTTP/1.1 connection on loopback that writes bytes as given and reads answers with
/// a `Content-Length` (enough for pipelining tests).
enum RawConnection {
    struct Answer {
        var status: Int
        var body: String
    }

    static func exchange(port: Int, sending text: String, answers count: Int) throws -> [Answer] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            sent += n
        }
        var received: [UInt8] = []
        var answers: [Answer] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while answers.count < count {
            if let (answer, used) = parse(received) {
                answers.append(answer)
                received.removeFirst(used)
                continue
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw POSIXError(.ETIMEDOUT) }
            received += buffer[0..<n]
        }
        return answers
    }

    /// The first complete answer in `bytes` and how many bytes it took.
    private static func parse(_ bytes: [UInt8]) -> (Answer, Int)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4, let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else { return nil }
        let head = String(decoding: bytes[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        let length = head.dropFirst().compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            return parts.count == 2 && parts[0].lowercased() == "content-length" ? Int(parts[1].trimmingCharacters(in: .whitespaces)) : nil
        }.first ?? 0
        let total = end + 4 + length
        guard bytes.count >= total else { return nil }
        return (Answer(status: status, body: String(decoding: bytes[(end + 4)..<total], as: UTF8.self)), total)
    }
}
