/// A thread that runs the consensus loop's turns in place of a thread of its own: in
/// `incidentd`, the peer transport's event loop. Raft messages are then stepped on the thread
/// that read them and sent from the thread that writes them: no hand-off between the network
/// thread and the loop in either direction (two thread wake-ups per turn on every node).
///
/// A host runs its work serially and in order. The loop blocks it for its log appends (an
/// `fdatasync`, typically a fraction of a millisecond) and, on a follower, while it installs a
/// snapshot from the leader; frames from peers wait in the socket meanwhile.
public protocol LoopHost: Sendable {
    /// Runs `work` on the host's thread soon; callable from any thread, the host's included.
    func execute(_ work: @escaping @Sendable () -> Void)
    /// Runs `work` on the host's thread after `microseconds`, unless cancelled first.
    func schedule(afterMicroseconds microseconds: Int64, _ work: @escaping @Sendable () -> Void) -> any LoopHostTimer
}

/// A scheduled piece of host work.
public protocol LoopHostTimer: Sendable {
    func cancel()
}
