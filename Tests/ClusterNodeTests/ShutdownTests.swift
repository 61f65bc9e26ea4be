import ClusterNode
import Dispatch
import Foundation
import IncidentCore
import Locking
import Logging
import RaftCore
import XCTest

/// Whatever a node accepted is answered when it stops, even requests that reached the loop in
/// the same instant as the stop.
final class ShutdownTests: XCTestCase {
    func testRequestsQueuedWithTheStopAreAnsweredNotDropped() async throws {
        let directory = TemporaryDirectory()
        let host = QueueHost(queue: DispatchQueue(label: "shutdown-test-consensus"))
        var config = NodeConfig(dataDirectory: directory.path)
        config.tickIntervalMilliseconds = 20
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let node = try IncidentNode(config: config, logger: logger, transport: LoneTransport(loopHost: host))
        _ = try await node.submit(.ingest(events: [event("before the stop")], actor: .user("test")))

        // Hold the loop's thread, so that the requests below and the stop all wait in the
        // inbox and the loop takes them in one batch.
        let gate = DispatchSemaphore(value: 0)
        host.queue.async { gate.wait() }
        let answers = Answers()
        Task {
            do { _ = try await node.submit(.ingest(events: [event("with the stop")], actor: .user("test"))) } catch {}
            answers.add("write")
        }
        Task {
            do { _ = try await node.read(.linearizable) { $0.status.appliedIndex } } catch {}
            answers.add("read")
        }
        Task {
            do { _ = try await node.status() } catch {}
            answers.add("local read")
        }
        Task {
            do { try await node.transferLeadership(to: 1) } catch {}
            answers.add("cluster operation")
        }
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(answers.names, [], "the loop is held: nothing is answered yet")
        let stopping = Task { await node.shutdown() }
        try await Task.sleep(for: .milliseconds(100))
        gate.signal()
        await stopping.value

        var all = false
        for _ in 0..<200 where !all {
            all = answers.names.count == 4
            if !all { try await Task.sleep(for: .milliseconds(25)) }
        }
        XCTAssertEqual(answers.names.sorted(), ["cluster operation", "local read", "read", "write"])
    }
}

private final class Answers: Sendable {
    private let answered = Lock<[String]>([])
    func add(_ name: String) { answered.withLock { $0.append(name) } }
    var names: [String] { answered.withLock { $0 } }
}

/// A transport for a node without peers whose loop runs on a queue the test can hold.
private struct LoneTransport: ClusterTransport {
    let loopHost: (any LoopHost)?
    func send(_ messages: [Message]) {}
    func forward(_ payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int) async throws(NodeError) -> [UInt8] {
        throw NodeError(.unavailable, "no peers")
    }
    func membersChanged(_ members: [MemberInfo]) {}
    func connectedPeers() -> Set<NodeID> { [] }
}
