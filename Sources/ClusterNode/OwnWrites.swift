import IncidentCore
import RaftCore
import Synchronization

/// The answers to this node's own writes while they are in flight, kept here instead of in the
/// replicated state.
///
/// Writes without a client `Idempotency-Key` get an id the node makes up (`~<node>.<boot>.<n>`),
/// so that a retry after a leader change is applied at most once. Every replica remembers such an
/// id (for seconds), but only the node that made it can ever retry it, so only that node needs
/// the answer: it records the outcome when it applies the entry itself, and a retry that the
/// leader finds already applied (`NodeError.Code.appliedEarlier`) is answered from here. The
/// replicated table keeps just the id and index, which is what made per-node memory and snapshots
/// grow with the write rate before (about 560 bytes of answer per write, on every node).
///
/// Bounded by the writes in flight: a slot exists from `register` until `finish`.
final class OwnWrites: Sendable {
    private let slots = Mutex<[String: Submission?]>([:])

    func register(_ id: String) { slots.withLock { $0[id] = .some(nil) } }

    func finish(_ id: String) { _ = slots.withLock { $0.removeValue(forKey: id) } }

    /// Called by the consensus loop when an entry carrying a node-made id applies here; kept only
    /// while the write is in flight on this node.
    func applied(_ id: String, _ submission: Submission) {
        slots.withLock { slots in
            guard slots[id] != nil else { return }
            slots[id] = .some(submission)
        }
    }

    /// The answer this node recorded when it applied the write, marked as a duplicate.
    func earlierAnswer(for id: String) -> Submission? {
        guard case .some(.some(var submission)) = slots.withLock({ $0[id] }) else { return nil }
        submission.duplicate = true
        return submission
    }
}
