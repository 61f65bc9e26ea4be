import RaftCore

/// Linearizable reads between asking Raft for a read index and running: first waiting for the
/// index (by the context bytes that identify the request), then for this node to apply it.
/// Every read has a deadline; one that passes it fails instead of waiting forever for an answer
/// lost with a leader.
struct PendingReads {
    private struct Waiting {
        var read: Inbox.Read
        var deadline: Int64
        var index: LogIndex?
    }

    private var reads: [UInt64: Waiting] = [:]
    private var nextID: UInt64 = 1

    var count: Int { reads.count }

    /// Registers `read` and returns the context to hand to `Raft.readIndex`.
    mutating func add(_ read: Inbox.Read, deadline: Int64) -> [UInt8] {
        let id = nextID
        nextID &+= 1
        reads[id] = Waiting(read: read, deadline: deadline)
        return Self.context(id)
    }

    mutating func indexKnown(context: [UInt8], index: LogIndex) {
        guard let id = Self.id(context), reads[id] != nil else { return }
        reads[id]!.index = index
    }

    mutating func fail(context: [UInt8], _ error: NodeError) {
        guard let id = Self.id(context), let waiting = reads.removeValue(forKey: id) else { return }
        waiting.read.fail(error)
    }

    /// Runs every read whose index this node has applied.
    mutating func serveApplied(upTo applied: LogIndex, context: () -> LoopContext) {
        let ready = reads.filter { $0.value.index.map { $0 <= applied } ?? false }
        guard !ready.isEmpty else { return }
        let loopContext = context()
        for (id, waiting) in ready.sorted(by: { $0.key < $1.key }) {
            reads[id] = nil
            waiting.read.run(loopContext)
        }
    }

    mutating func failExpired(now: Int64, _ error: NodeError) {
        for (id, waiting) in reads where waiting.deadline <= now {
            reads[id] = nil
            waiting.read.fail(error)
        }
    }

    mutating func failAll(_ error: NodeError) {
        for waiting in reads.values { waiting.read.fail(error) }
        reads = [:]
    }

    private static func context(_ id: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: id >> (8 * UInt64($0))) } }

    private static func id(_ context: [UInt8]) -> UInt64? {
        guard context.count == 8 else { return nil }
        return context.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
}
