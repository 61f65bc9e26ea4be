import Foundation
import Locking
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import incident_bench

/// The generator against a real HTTP server on loopback (NIO's server codec, which parses the
/// requests the generator writes as bytes): every request must arrive well-formed, and every
/// answer, however it is framed, must be read.
final class LoadDriverTests: XCTestCase {
    /// What the server saw and how it answers.
    final class Server: Sendable {
        struct Seen {
            var requests = 0
            var malformed: [String] = []
        }
        let seen = Lock(Seen())
        /// Answer number i (over all connections): how it is framed and what status it has.
        let answer: @Sendable (Int) -> (status: HTTPResponseStatus, chunked: Bool, body: String)
        /// Answers number i with `Connection: close`, and closes, when this says so.
        let closes: @Sendable (Int) -> Bool
        init(closes: @escaping @Sendable (Int) -> Bool = { _ in false }, answer: @escaping @Sendable (Int) -> (status: HTTPResponseStatus, chunked: Bool, body: String)) {
            self.answer = answer
            self.closes = closes
        }
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: Server
        var head: HTTPRequestHead?
        var body = ByteBuffer()
        init(server: Server) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                guard let head else { return }
                var problems: [String] = []
                if head.method != .POST || head.uri != "/api/v1/events" { problems.append("request line \(head.method) \(head.uri)") }
                if head.headers["X-API-Key"] != ["test-key"] { problems.append("api key \(head.headers["X-API-Key"])") }
                if head.headers["Content-Length"] != [String(body.readableBytes)] { problems.append("length \(head.headers["Content-Length"])") }
                if head.headers["Host"].first?.hasPrefix("127.0.0.1:") != true { problems.append("host \(head.headers["Host"])") }
                if (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) == nil { problems.append("body is not JSON") }
                let number = server.seen.withLock { seen in
                    seen.malformed += problems
                    seen.requests += 1
                    return seen.requests - 1
                }
                let (status, chunked, text) = server.answer(number)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                if !chunked { headers.add(name: "Content-Length", value: String(text.utf8.count)) }
                let closing = server.closes(number)
                if closing { headers.add(name: "Connection", value: "close") }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
                if chunked {
                    // Two writes, so the codec sends two chunks.
                    let half = text.utf8.count / 2
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: String(text.prefix(half)))))), promise: nil)
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: String(text.dropFirst(half)))))), promise: nil)
                } else {
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                }
                let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
                if closing { done.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
            }
        }
    }

    private func withServer(_ server: Server, _ body: (Int) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            try await body(channel.localAddress!.port!)
        } catch {
            try? await channel.close()
            try? await group.shutdownGracefully()
            throw error
        }
        try await channel.close()
        try await group.shutdownGracefully()
    }

    private func plan(_ arguments: [String]) throws -> BenchPlan {
        try IncidentBench.parse(arguments + ["--api-key", "test-key"]).makePlan()
    }

    func testEveryRequestArrivesWellFormedAndEveryAnswerIsRead() async throws {
        // Content-Length and chunked answers alternate; every seventh is a 429.
        let server = Server { number in
            number % 7 == 6 ? (.tooManyRequests, false, #"{"error":"slow down"}"#) : (.accepted, number % 2 == 1, #"{"status":"accepted","incident":"INC-1"}"#)
        }
        try await withServer(server) { port in
            let plan = try self.plan(["--endpoints", "http://127.0.0.1:\(port)", "--connections", "4", "--requests", "700"])
            let tally = try await IncidentBench.drive(plan)
            XCTAssertEqual(tally.sent, 700)
            XCTAssertEqual(tally.valid, 600)
            XCTAssertEqual(tally.wrongStatus, [429: 100])
            XCTAssertEqual(tally.missingMarker + tally.transportErrors + tally.timeouts + tally.unsent, 0)
        }
        XCTAssertEqual(server.seen.withLock { $0.requests }, 700)
        XCTAssertEqual(server.seen.withLock { $0.malformed }, [])
    }

    func testAServerThatClosesAfterAnAnswerIsReconnectedWithoutALostRequest() async throws {
        let server = Server(closes: { $0 % 5 == 4 }) { _ in (.accepted, false, #"{"status":"accepted"}"#) }
        try await withServer(server) { port in
            let plan = try self.plan(["--endpoints", "http://127.0.0.1:\(port)", "--connections", "2", "--requests", "40"])
            let tally = try await IncidentBench.drive(plan)
            XCTAssertEqual(tally.valid, 40)
            XCTAssertEqual(tally.transportErrors, 0)
            XCTAssertGreaterThanOrEqual(tally.reconnects, 6)
        }
        XCTAssertEqual(server.seen.withLock { $0.malformed }, [])
    }

    func testAnAnswerWithoutTheMarkerIsAFailure() async throws {
        let server = Server { _ in (.accepted, false, #"{"status":"queued"}"#) }
        try await withServer(server) { port in
            let plan = try self.plan(["--endpoints", "http://127.0.0.1:\(port)", "--connections", "2", "--requests", "10"])
            let tally = try await IncidentBench.drive(plan)
            XCTAssertEqual(tally.valid, 0)
            XCTAssertEqual(tally.missingMarker, 10)
        }
    }

    func testTheTimelinePlacesAnswersInWindows() async throws {
        let server = Server { _ in (.accepted, false, #"{"status":"accepted"}"#) }
        try await withServer(server) { port in
            let plan = try self.plan([
                "--endpoints", "http://127.0.0.1:\(port)", "--connections", "8", "--rate", "400", "--duration", "0.5",
                "--timeline-ms", "100", "--timeline-slow-ms", "0.001",
            ])
            let tally = try await IncidentBench.drive(plan)
            XCTAssertEqual(tally.valid, 200)
            // 0.5 s at 400/s in 100 ms windows: five windows of 40, every answer "slow" at 1 µs.
            XCTAssertEqual(tally.timeline.map(\.answers), [40, 40, 40, 40, 40])
            XCTAssertEqual(tally.timeline.map(\.slow), [40, 40, 40, 40, 40])
            XCTAssertTrue(tally.timeline.allSatisfy { $0.maxMicros > 0 })
            let report = BenchReport(plan: plan, tally: tally, clientCPUSeconds: 0)
            XCTAssertEqual(report.timeline?.windows.count, 5)
            XCTAssertGreaterThan(report.timeline?.startUnixMs ?? 0, 1_700_000_000_000)
        }
    }

    func testHeadersThatCouldBreakTheRequestAreRefused() throws {
        func refusal(_ arguments: [String]) throws -> String {
            do {
                _ = try IncidentBench.parse(arguments).makePlan()
                return "accepted"
            } catch { return String(describing: error) }
        }
        XCTAssertTrue(try refusal(["--api-key", "key\r\nX-Injected: 1"]).contains("--api-key must be visible ASCII"))
        XCTAssertTrue(try refusal(["--api-key", "k", "--path", "/api/v1/events HTTP/1.0"]).contains("--path must start with /"))
        XCTAssertTrue(try refusal(["--api-key", "k", "--timeline-ms", "0"]).contains("--timeline-ms must be"))
        XCTAssertTrue(try refusal(["--api-key", "k", "--timeline-ms", "100", "--timeline-slow-ms", "0"]).contains("--timeline-slow-ms must be"))
        XCTAssertTrue(try refusal(["--api-key", "k", "--timeline-ms", "1", "--duration", "3600"]).contains("at most 100000 windows"))
        XCTAssertEqual(try refusal(["--api-key", "k", "--timeline-ms", "100", "--duration", "3600"]), "accepted")
    }

    func testWindowsMergeAcrossDrivers() {
        var first = LoadTally()
        first.timelineWindowNanos = 100_000_000
        first.timelineSlowMicros = 20_000
        first.startNanos = 1_000
        first.recordValid(latencyNanos: 30_000_000, serviceNanos: 1, fromNanos: 1_000)
        var second = first
        second.timeline = []
        second.recordValid(latencyNanos: 1_000_000, serviceNanos: 1, fromNanos: 1_000 + 250_000_000)
        first.merge(second)
        XCTAssertEqual(first.timeline.map(\.answers), [1, 0, 1])
        XCTAssertEqual(first.timeline.map(\.slow), [1, 0, 0])
        XCTAssertEqual(first.timeline.map(\.maxMicros), [30_000, 0, 1_000])
    }
}
