import RaftCore

/// Checks Raft's safety properties (§5.2 Figure 3) as a cluster runs:
/// - election safety: at most one leader per term;
/// - state machine safety / log matching: every member applies the same entry at each index;
/// - leader completeness is implied: an entry applied anywhere is never replaced.
public struct InvariantChecker: Sendable {
    /// Leader seen for each term.
    public private(set) var leaderByTerm: [Term: NodeID] = [:]
    /// The entry first applied at each index, anywhere.
    public private(set) var appliedEntries: [LogIndex: Entry] = [:]
    /// Every violation found, in order. Empty means the run was safe.
    public private(set) var violations: [String] = []

    public init() {}

    public var highestAppliedIndex: LogIndex { appliedEntries.keys.max() ?? 0 }

    mutating func observe(_ raft: Raft) {
        guard raft.role == .leader else { return }
        if let existing = leaderByTerm[raft.term], existing != raft.id {
            violations.append("two leaders in term \(raft.term): \(existing) and \(raft.id)")
        } else {
            leaderByTerm[raft.term] = raft.id
        }
    }

    mutating func applied(_ entry: Entry, on node: NodeID) {
        if let first = appliedEntries[entry.index] {
            if first != entry {
                violations.append(
                    "member \(node) applied \(entry.kind) entry of term \(entry.term) at index \(entry.index); another member applied term \(first.term) there")
            }
        } else {
            appliedEntries[entry.index] = entry
        }
    }

    /// Whether `value` was applied anywhere, and at which index.
    public func indexOfApplied(_ value: UInt64) -> LogIndex? {
        let bytes = value.proposalBytes
        return appliedEntries.first { $0.value.kind == .normal && $0.value.data == bytes }?.key
    }
}
