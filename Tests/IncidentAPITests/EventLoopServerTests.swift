import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import XCTest

@testable import IncidentAPI

/// `http1OnEventLoops` runs handlers on the NIO event loop that read their request, also after
/// they awaited something resumed on another thread (as the consensus loop resumes a write).
final class EventLoopServerTests: XCTestCase {
    func testHandlersRunOnTheirChannelsEventLoopAcrossAwaits() async throws {
        try await XCTAssertEqualAsync(try await whereHandlersRun(server: .http1OnEventLoops()), "on a loop: true, after the await: true, same loop: true")
    }

    /// The control: Hummingbird's default server runs them on Swift's global pool.
    func testDefaultServerRunsHandlersOffTheEventLoops() async throws {
        try await XCTAssertEqualAsync(try await whereHandlersRun(server: .http1()), "on a loop: false, after the await: false, same loop: true")
    }

    private func whereHandlersRun(server: HTTPServerBuilder) async throws -> String {
        let router = Router()
        router.get("/where") { _, _ -> String in
            let before = MultiThreadedEventLoopGroup.currentEventLoop
            await withCheckedContinuation { (resumed: CheckedContinuation<Void, Never>) in
                Thread { resumed.resume() }.start()
            }
            let after = MultiThreadedEventLoopGroup.currentEventLoop
            return "on a loop: \(before != nil), after the await: \(after != nil), same loop: \(before === after)"
        }
        let app = Application(router: router, server: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            try await client.execute(uri: "/where", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                return String(buffer: response.body)
            }
        }
    }

    private func XCTAssertEqualAsync(_ value: @autoclosure () async throws -> String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let actual = try await value()
        XCTAssertEqual(actual, expected, file: file, line: line)
    }
}

/// `ReadWhileAnswering` keeps a connection reading while one request waits for its answer (so
/// NIO does not take it out of the poller's read set and put it back for every request), and
/// stops once a second, pipelined request waits.
final class ReadWhileAnsweringTests: XCTestCase {
    /// Counts the reads that reach the channel.
    private final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = NIOAny
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    func testReadsOnWhileOneRequestWaitsAndStopsForASecond() throws {
        let counter = ReadCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([counter, ReadWhileAnswering(), HTTPServerPipelineHandler()])
        defer { _ = try? channel.finish() }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/api/v1/events")
        // What NIO does after a batch of reads: read complete, then a read from the tail.
        func batchRead(_ parts: HTTPServerRequestPart...) throws {
            for part in parts { channel.pipeline.syncOperations.fireChannelRead(NIOAny(part)) }
            channel.pipeline.syncOperations.fireChannelReadComplete()
            channel.read()
        }

        try batchRead(.head(head), .end(nil))
        XCTAssertEqual(counter.reads, 1, "the pipelining handler holds the tail's read back; this one reads on")
        try batchRead(.head(head), .end(nil))
        XCTAssertEqual(counter.reads, 1, "a second request waits: no more reading")
        func answer() throws {
            try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .accepted)))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        }
        try answer()
        XCTAssertEqual(counter.reads, 1, "the second request, handed on now, waits for its answer")
        try answer()
        XCTAssertEqual(counter.reads, 2, "both answered: the pipelining handler reads again")
        try batchRead(.head(head), .end(nil))
        XCTAssertEqual(counter.reads, 3, "one request waiting: reading on again")
    }
}
