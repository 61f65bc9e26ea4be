import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import NIOCore
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
