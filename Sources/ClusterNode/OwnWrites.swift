import Foundation
import IncidentCore
import Locking
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
/// It also keeps the command of each such write the node forwards to its leader, so that the
/// entry carrying it is applied here without being decoded (`envelope(decoding:)`).
///
/// Bounded by the writes in flight: an answer slot and a kept command exist from `register`
/// until `finish` at most.
final class OwnWrites: Sendable {
    private struct State {
        var answers: [String: Submission?] = [:]
        /// The commands of writes this node forwarded to its leader, with their bytes in the
        /// request, until the entry carrying each applies here (`envelope(decoding:)`).
        var forwarded: [String: (command: Command, bytes: ArraySlice<UInt8>)] = [:]
    }

    private let state = Lock(State())
    /// What every id this node makes starts with: `~<node>.<boot>.` (`IncidentNode.retryID`),
    /// the boot part random, so that a restarted node never makes an id its predecessor made.
    let idPrefix: String
    private let reused = Atomic<UInt64>(0)

    init(nodeID: NodeID) {
        idPrefix = "~\(nodeID).\(String(UInt32.random(in: 0...UInt32.max), radix: 36))."
    }

    /// Entries applied from a command this node kept when it forwarded the write.
    var forwardedCommandsReused: UInt64 { reused.load(ordering: .relaxed) }

    func register(_ id: String) { state.withLock { $0.answers[id] = .some(nil) } }

    func finish(_ id: String) {
        state.withLock { state in
            state.answers.removeValue(forKey: id)
            state.forwarded.removeValue(forKey: id)
        }
    }

    /// Called by the consensus loop when an entry carrying a node-made id applies here; kept only
    /// while the write is in flight on this node.
    func applied(_ id: String, _ submission: Submission) {
        state.withLock { state in
            guard state.answers[id] != nil else { return }
            state.answers[id] = .some(submission)
        }
    }

    /// The answer this node recorded when it applied the write, marked as a duplicate.
    func earlierAnswer(for id: String) -> Submission? {
        guard case .some(.some(var submission)) = state.withLock({ $0.answers[id] }) else { return nil }
        submission.duplicate = true
        return submission
    }

    /// Records the command of a write this node forwards to its leader and its encoding in the
    /// forwarded bytes, so that applying the entry here need not decode it again.
    func forwarding(_ id: String, _ command: Command, encoded bytes: ArraySlice<UInt8>) {
        state.withLock { state in
            guard state.answers[id] != nil else { return }
            state.forwarded[id] = (command, bytes)
        }
    }

    /// `Envelope(decoding: entry)`, but for an entry that carries a write this node forwarded,
    /// with exactly the command bytes it sent, the command it kept instead of a decoded copy
    /// (taken: a later entry with the same id is decoded). A follower applies a third of the
    /// writes from commands it forwarded itself; decoding them was about 4 % of its consensus loop
    /// at 10,000 events/s.
    func envelope(decoding entry: [UInt8]) throws(DecodingError) -> Envelope {
        var reader = BinaryReader(entry)
        let head = try Envelope.Head(reading: &reader)
        // Only ids this node made can be kept: the others, two thirds of a follower's entries
        // under load over all nodes, are not looked up.
        if let start = head.incidentCommandOffset, head.requestID.utf8.starts(with: idPrefix.utf8),
            let command = takeForwarded(head.requestID, sentAs: entry[start...])
        {
            reused.add(1, ordering: .relaxed)
            return Envelope(stamp: head.stamp, requestID: head.requestID, body: .incident(command))
        }
        return try Envelope(head: head, decodingBodyFrom: &reader)
    }

    /// How many forwarded commands are kept (tests).
    var keptCommands: Int { state.withLock { $0.forwarded.count } }

    private func takeForwarded(_ id: String, sentAs bytes: ArraySlice<UInt8>) -> Command? {
        guard let kept = state.withLock({ $0.forwarded.removeValue(forKey: id) }),
            kept.bytes.count == bytes.count,
            kept.bytes.withUnsafeBytes({ a in bytes.withUnsafeBytes { b in a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } })
        else { return nil }
        return kept.command
    }
}
