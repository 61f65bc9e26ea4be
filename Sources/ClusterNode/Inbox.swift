import Dispatch
import IncidentCore
import RaftCore
import Synchronization

/// The answer to a submitted command, once it is durable and applied.
public struct Submission: Sendable {
    public var outcome: Outcome
    /// Log index of the entry that carried the command.
    public var index: UInt64
    /// The leader's time stamp the command was applied at.
    public var appliedAt: Timestamp
    /// The request id was seen before: `outcome` is the first answer; nothing was applied now.
    public var duplicate: Bool
}

/// Work handed to the consensus loop from any thread. The loop sleeps on `wakeUp` when idle.
final class Inbox: Sendable {
    struct Proposal: Sendable {
        var command: Command
        var requestID: String
        /// Nil for the node's own proposals (timer fires, delivery reports).
        var reply: (@Sendable (Result<Submission, NodeError>) -> Void)?
    }

    /// Runs on the loop thread with the current state; the closure answers its caller itself.
    typealias Read = @Sendable (borrowing LoopContext) -> Void

    struct Contents: Sendable {
        var proposals: [Proposal] = []
        var reads: [Read] = []
        var deliveryReports: [(id: UInt64, report: DeliveryReport)] = []
        var deliveriesFinished: [UInt64] = []
        /// Snapshots encoded off the loop thread, to be saved by the loop.
        var encodedSnapshots: [Snapshot] = []
        var stopping = false
        var sleeping = false
    }

    private let contents = Mutex(Contents())
    private let wakeUp = DispatchSemaphore(value: 0)
    let proposalLimit: Int

    init(proposalLimit: Int) { self.proposalLimit = proposalLimit }

    /// Queues a proposal; false when the queue is full or the loop is stopping.
    func submit(_ proposal: Proposal) -> Bool {
        let (accepted, wake) = contents.withLock { c -> (Bool, Bool) in
            guard !c.stopping, c.proposals.count < proposalLimit else { return (false, false) }
            c.proposals.append(proposal)
            return (true, c.takeSleeping())
        }
        if wake { wakeUp.signal() }
        return accepted
    }

    func read(_ read: @escaping Read) -> Bool {
        let (accepted, wake) = contents.withLock { c -> (Bool, Bool) in
            guard !c.stopping else { return (false, false) }
            c.reads.append(read)
            return (true, c.takeSleeping())
        }
        if wake { wakeUp.signal() }
        return accepted
    }

    func report(delivery id: UInt64, _ report: DeliveryReport) {
        let wake = contents.withLock { c -> Bool in
            c.deliveryReports.append((id, report))
            c.deliveriesFinished.append(id)
            return c.takeSleeping()
        }
        if wake { wakeUp.signal() }
    }

    func snapshotEncoded(_ snapshot: Snapshot) {
        let wake = contents.withLock { c -> Bool in
            c.encodedSnapshots.append(snapshot)
            return c.takeSleeping()
        }
        if wake { wakeUp.signal() }
    }

    func stop() {
        let wake = contents.withLock { c -> Bool in
            c.stopping = true
            return c.takeSleeping()
        }
        if wake { wakeUp.signal() }
    }

    /// Takes everything queued; when nothing is, sleeps up to `timeoutMilliseconds` first.
    func take(waitingUpTo timeoutMilliseconds: Int) -> Contents {
        let idle = contents.withLock { c -> Bool in
            let empty = c.proposals.isEmpty && c.reads.isEmpty && c.deliveryReports.isEmpty && c.encodedSnapshots.isEmpty && !c.stopping
            if empty { c.sleeping = true }
            return empty
        }
        if idle {
            _ = wakeUp.wait(timeout: .now() + .milliseconds(max(0, timeoutMilliseconds)))
        }
        return contents.withLock { c in
            let taken = c
            c = Contents()
            c.stopping = taken.stopping
            return taken
        }
    }
}

extension Inbox.Contents {
    /// Whether the loop is asleep (and must be signalled); clears the flag.
    fileprivate mutating func takeSleeping() -> Bool {
        defer { sleeping = false }
        return sleeping
    }
}
