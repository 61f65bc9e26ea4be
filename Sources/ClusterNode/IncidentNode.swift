import Foundation
import IncidentCore
import Logging
import RaftCore

/// One `incidentd` node: a Raft member whose replicated state is the incident state machine.
/// `submit` is answered after the command is durable and applied (RPO 0 for acknowledged
/// writes); `read` runs a closure against the applied state on the consensus loop.
public final class IncidentNode: Sendable {
    private let loop: ConsensusLoop
    public let config: NodeConfig
    private let finished = DispatchSemaphore(value: 0)

    /// Opens (or founds) the node in `config.dataDirectory` and starts its consensus loop.
    /// Throws `NodeError` naming the file and offset when the data directory is corrupt.
    public init(
        config: NodeConfig, logger: Logger, delivery: (any NotificationDelivery)? = nil,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000) }
    ) throws(NodeError) {
        try config.validate()
        self.config = config
        let loop = try ConsensusLoop(config: config, logger: logger, clock: clock, delivery: delivery)
        self.loop = loop
        let finished = self.finished
        let thread = Thread {
            loop.run()
            finished.signal()
        }
        thread.name = "incidentd-consensus"
        thread.start()
    }

    /// Proposes `command` and waits until it is applied. `requestID` (e.g. an API key's
    /// `Idempotency-Key`) makes retries return the first answer without applying twice.
    public func submit(_ command: Command, requestID: String = "") async throws(NodeError) -> Submission {
        let result: Result<Submission, NodeError> = await withCheckedContinuation { continuation in
            let proposal = Inbox.Proposal(command: command, requestID: requestID) { continuation.resume(returning: $0) }
            if !loop.inbox.submit(proposal) {
                continuation.resume(returning: .failure(NodeError(.overloaded, "the node has \(config.proposalQueueDepth) writes queued; retry")))
            }
        }
        return try result.get()
    }

    /// Runs `body` against the applied state (linearizable on a single voter: it sees every
    /// write answered before the read was queued).
    public func read<T: Sendable>(_ body: @escaping @Sendable (borrowing LoopContext) -> T) async throws(NodeError) -> T {
        let result: Result<T, NodeError> = await withCheckedContinuation { continuation in
            let accepted = loop.inbox.read { context in continuation.resume(returning: .success(body(context))) }
            if !accepted { continuation.resume(returning: .failure(NodeError(.unavailable, "the node is shutting down"))) }
        }
        return try result.get()
    }

    /// Moves whenever an applied change may alter API access (see `ReplicatedState.accessRevision`);
    /// readable from any thread without a trip to the consensus loop.
    public var accessRevision: UInt64 { loop.publishedAccessRevision.load(ordering: .acquiring) }

    public func status() async throws(NodeError) -> NodeStatus {
        try await read { $0.status }
    }

    /// Stops the consensus loop (pending requests fail with `unavailable`) and closes the log.
    public func shutdown() async {
        loop.inbox.stop()
        let finished = self.finished
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                finished.wait()
                finished.signal()
                continuation.resume()
            }
        }
    }
}
