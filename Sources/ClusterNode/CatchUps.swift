import RaftCore

/// Writes this node forwarded whose answer came back from the leader before this node applied
/// their entry. Each waits here, up to a deadline, for this node to apply it, so that a client
/// that wrote through this node finds the write in this node's state (`local` reads included)
/// once it has its answer. The write is committed either way: past the deadline (this node lags,
/// or its disk is slow) it is answered all the same.
struct CatchUps {
    struct Waiting {
        var index: LogIndex
        var deadline: Int64
        /// Whether running out of time counts as a forwarded write answered before catching up.
        var counted: Bool
        var done: @Sendable () -> Void
    }

    private var waiting: [Waiting] = []

    var count: Int { waiting.count }

    mutating func add(index: LogIndex, deadline: Int64, counted: Bool = true, done: @escaping @Sendable () -> Void) {
        waiting.append(Waiting(index: index, deadline: deadline, counted: counted, done: done))
    }

    /// Answers every write this node has applied, in the order they were added.
    mutating func release(upTo applied: LogIndex) {
        release { $0.index <= applied }
    }

    /// Answers the writes whose deadline passed; returns how many of them are `counted`.
    @discardableResult
    mutating func releaseExpired(now: Int64) -> Int {
        release { $0.deadline <= now }.count(where: \.counted)
    }

    mutating func releaseAll() {
        release { _ in true }
    }

    /// Runs and removes the waits that are done; returns them.
    @discardableResult
    private mutating func release(where isDone: (Waiting) -> Bool) -> [Waiting] {
        // Called after every apply: no allocation unless something is done.
        guard waiting.contains(where: isDone) else { return [] }
        var kept: [Waiting] = []
        var released: [Waiting] = []
        for item in waiting {
            if isDone(item) { released.append(item) } else { kept.append(item) }
        }
        waiting = kept
        for item in released { item.done() }
        return released
    }
}
