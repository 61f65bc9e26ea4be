import Dispatch
import IncidentCore
import Locking
import RaftCore
import RaftStorage

/// The answer to a submitted command, once it is durable and applied.
public struct Submission: Sendable {
    public var outcome: Outcome
    /// Log index of the entry that carried the command.
    public var index: UInt64
    /// The leader's time stamp the command was applied at.
    public var appliedAt: Timestamp
    /// The request id was seen before: `outcome` is the first answer; nothing was applied now.
    public var duplicate: Bool
    /// Term of the entry at `index`; 0 when unknown (the answer of a leader that speaks only
    /// wire protocol version 1).
    public var term: UInt64 = 0
}

/// How fresh a read must be.
public enum ReadConsistency: String, Sendable {
    /// Sees every write acknowledged before the read started, on any node: the leader confirms
    /// its commit index with a quorum (ReadIndex) and the read runs once this node applied it.
    case linearizable
    /// This node's applied state as it is: no round trip, possibly behind the leader.
    case local
}

/// Work handed to the consensus loop from any thread. The loop sleeps on `wakeUp` when idle (or,
/// on a `LoopHost`, is woken through `wakeHook`).
final class Inbox: Sendable {
    struct Proposal: Sendable {
        var command: Command
        var requestID: String
        /// Nil for the node's own proposals (timer fires, delivery reports).
        var reply: (@Sendable (Result<Submission, NodeError>) -> Void)?
        /// `command`'s encoding when the node already has it (a forwarded write's bytes, which
        /// `command` was decoded from): logged as it is instead of encoding `command` again.
        var encodedCommand: ArraySlice<UInt8>? = nil
    }

    /// A closure to run against the applied state on the loop thread; it answers its caller
    /// itself. `fail` is called instead when the read cannot be served (no leader, timeout).
    struct Read: Sendable {
        var consistency: ReadConsistency
        var run: @Sendable (borrowing LoopContext) -> Void
        var fail: @Sendable (NodeError) -> Void
    }

    /// Operations on the cluster itself, answered with the log index that carried them (or, for
    /// a transfer, at once).
    enum ClusterOperation: Sendable, Equatable {
        case setMember(MemberInfo)
        case forgetMember(NodeID)
        case changeMembership(ConfChange)
        case transferLeadership(to: NodeID)
        case archive(ArchiveCommand)
    }

    struct ClusterRequest: Sendable {
        var operation: ClusterOperation
        var reply: @Sendable (Result<LogIndex, NodeError>) -> Void
    }

    /// A wait until this node applied `index` (`CatchUps`), then `done` runs: for a write this
    /// node forwarded, which the leader answered as applied at `index` of `term` (0 when the
    /// leader did not say; this node commits it from that when its log holds the entry), or for
    /// an earlier answer (term 0).
    struct CatchUp: Sendable {
        var index: LogIndex
        var term: Term
        /// nil: a forwarded write the leader answered, which waits
        /// `ConsensusLoop.catchUpWaitMilliseconds` and is counted in `answersBeforeCatchingUp`
        /// when that runs out; else a wait of its own length, not counted (a retry that found
        /// its write applied earlier, waiting for this node to reach it).
        var waitMilliseconds: Int? = nil
        var done: @Sendable () -> Void
    }

    struct Contents: Sendable {
        var proposals: [Proposal] = []
        var reads: [Read] = []
        /// Raft messages from peers.
        var messages: [Message] = []
        var clusterRequests: [ClusterRequest] = []
        var catchUps: [CatchUp] = []
        var deliveryReports: [(id: UInt64, report: DeliveryReport)] = []
        var deliveriesFinished: [UInt64] = []
        /// Snapshots encoded and written off the loop thread, to be published by the loop.
        var encodedSnapshots: [EncodedSnapshot] = []
        /// The latest snapshot read back from disk for Raft (see `ConsensusLoop.manageSnapshotData`).
        var loadedSnapshots: [Result<Snapshot, StorageError>] = []
        /// The log write in flight was synced (`ConsensusLoop.finishLogSync`).
        var logSynced = false
        /// A held-back log sync may start (`ConsensusLoop.syncIsHeldBack`).
        var syncHoldEnded = false
        var stopping = false
        var sleeping = false

        var isEmpty: Bool {
            proposals.isEmpty && reads.isEmpty && messages.isEmpty && clusterRequests.isEmpty && catchUps.isEmpty && deliveryReports.isEmpty
                && encodedSnapshots.isEmpty && loadedSnapshots.isEmpty && !logSynced && !syncHoldEnded && !stopping
        }
    }

    private let contents = Lock(Contents())
    private let wakeUp = DispatchSemaphore(value: 0)
    /// Wakes a loop that runs on a `LoopHost` (instead of `wakeUp`). Boxed: a closure kept
    /// directly as a Mutex's (generic) value gains a reabstraction thunk on every `withLock`
    /// write-back, and calling it went through thousands of them within seconds.
    private let wakeHook = Lock<WakeHook?>(nil)
    private final class WakeHook: Sendable {
        let wake: @Sendable () -> Void
        init(_ wake: @escaping @Sendable () -> Void) { self.wake = wake }
    }
    let proposalLimit: Int
    let messageLimit: Int

    init(proposalLimit: Int, messageLimit: Int = 100_000) {
        self.proposalLimit = proposalLimit
        self.messageLimit = messageLimit
    }

    /// Queues proposals (one lock, at most one wake-up); returns how many of them, from the
    /// front, were accepted before the queue filled (none while the loop is stopping).
    func submit(contentsOf proposals: [Proposal]) -> Int {
        var accepted = 0
        _ = enqueue { c in
            accepted = max(0, min(proposals.count, proposalLimit - c.proposals.count))
            guard accepted > 0 else { return false }
            c.proposals.append(contentsOf: proposals.prefix(accepted))
            return true
        }
        return accepted
    }

    func read(_ read: Read) -> Bool {
        enqueue { c in
            c.reads.append(read)
            return true
        }
    }

    /// Raft messages from peers; past `messageLimit` queued ones they are dropped (Raft resends).
    func receive(_ messages: [Message]) {
        _ = enqueue { c in
            guard c.messages.count < messageLimit else { return false }
            c.messages.append(contentsOf: messages)
            return true
        }
    }

    func cluster(_ request: ClusterRequest) -> Bool {
        enqueue { c in
            c.clusterRequests.append(request)
            return true
        }
    }

    /// Queues a catch-up; false (and `done` is the caller's to run) while the loop is stopping.
    func catchUp(_ catchUp: CatchUp) -> Bool {
        enqueue { c in
            c.catchUps.append(catchUp)
            return true
        }
    }

    func report(delivery id: UInt64, _ report: DeliveryReport) {
        _ = enqueue(evenWhenStopping: true) { c in
            c.deliveryReports.append((id, report))
            c.deliveriesFinished.append(id)
            return true
        }
    }

    func snapshotLoaded(_ snapshot: Result<Snapshot, StorageError>) {
        _ = enqueue(evenWhenStopping: true) { c in
            c.loadedSnapshots.append(snapshot)
            return true
        }
    }

    func snapshotEncoded(_ snapshot: EncodedSnapshot) {
        _ = enqueue(evenWhenStopping: true) { c in
            c.encodedSnapshots.append(snapshot)
            return true
        }
    }

    func logSynced() {
        _ = enqueue(evenWhenStopping: true) { c in
            c.logSynced = true
            return true
        }
    }

    func endSyncHold() {
        _ = enqueue { c in
            c.syncHoldEnded = true
            return true
        }
    }

    func stop() {
        _ = enqueue(evenWhenStopping: true) { c in
            c.stopping = true
            return true
        }
    }

    /// Adds work under the lock and wakes the loop if it sleeps. `add` says whether it accepted.
    private func enqueue(evenWhenStopping: Bool = false, _ add: (inout Contents) -> Bool) -> Bool {
        let (accepted, wake) = contents.withLock { c -> (Bool, Bool) in
            guard evenWhenStopping || !c.stopping, add(&c) else { return (false, false) }
            return (true, c.takeSleeping())
        }
        if wake {
            if let hook = wakeHook.withLock({ $0 }) { hook.wake() } else { wakeUp.signal() }
        }
        return accepted
    }

    /// How to wake a loop that has no thread of its own; nil: signal `take`'s wait.
    func setWake(_ hook: (@Sendable () -> Void)?) {
        let boxed = hook.map(WakeHook.init)
        wakeHook.withLock { $0 = boxed }
    }

    /// Takes everything queued, or, when nothing is, marks the loop asleep (the next work wakes
    /// it) and returns nil. Never waits.
    func takeIfAny() -> Contents? {
        contents.withLock { c -> Contents? in
            if c.isEmpty {
                c.sleeping = true
                return nil
            }
            return c.takeAll()
        }
    }

    /// Takes everything queued; when nothing is, sleeps up to `timeoutMilliseconds` first.
    func take(waitingUpTo timeoutMilliseconds: Int) -> Contents {
        let idle = contents.withLock { c -> Bool in
            let empty = c.isEmpty
            if empty { c.sleeping = true }
            return empty
        }
        if idle {
            _ = wakeUp.wait(timeout: .now() + .milliseconds(max(0, timeoutMilliseconds)))
        }
        return contents.withLock { $0.takeAll() }
    }
}

extension Inbox.Contents {
    /// Everything queued; leaves an empty queue that keeps the stopping flag.
    fileprivate mutating func takeAll() -> Inbox.Contents {
        let taken = self
        self = Inbox.Contents()
        stopping = taken.stopping
        return taken
    }

    /// Whether the loop is asleep (and must be signalled); clears the flag.
    fileprivate mutating func takeSleeping() -> Bool {
        defer { sleeping = false }
        return sleeping
    }
}
