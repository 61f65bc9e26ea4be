/// A membership change proposed through the log (`Raft.proposeConfChange`).
///
/// One change is applied directly ("one server at a time", Raft thesis §4.1, with the fix that a
/// leader only proposes one after it has committed an entry of its own term). Several changes at
/// once go through a joint configuration (thesis §4.3) which is left automatically once it has
/// committed, or by proposing an empty `ConfChange` (`leaveJoint`).
public struct ConfChange: Sendable, Equatable {
    /// One step of a change.
    public enum Step: Sendable, Equatable {
        case addVoter(NodeID)
        /// Adds a non-voting member, or demotes a voter to one.
        case addLearner(NodeID)
        case remove(NodeID)

        public var node: NodeID {
            switch self {
            case .addVoter(let id), .addLearner(let id), .remove(let id): return id
            }
        }
    }

    public var steps: [Step]

    public init(_ steps: [Step]) { self.steps = steps }

    /// The empty change: leave the current joint configuration.
    public static let leaveJoint = ConfChange([])

    public var isLeaveJoint: Bool { steps.isEmpty }

    /// Whether applying it needs joint consensus: more than one voter-set change.
    public var needsJoint: Bool { steps.count > 1 }

    // MARK: - Encoding (entry data of `EntryKind.confChange`)

    /// `[count: UInt32 LE] ([kind: UInt8] [node: UInt64 LE])*`.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 + steps.count * 9)
        appendLittleEndian(UInt32(steps.count), to: &bytes)
        for step in steps {
            switch step {
            case .addVoter: bytes.append(0)
            case .addLearner: bytes.append(1)
            case .remove: bytes.append(2)
            }
            appendLittleEndian(step.node, to: &bytes)
        }
        return bytes
    }

    /// Decodes `encoded()` bytes; nil when they are malformed.
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 4 else { return nil }
        let count = Int(readLittleEndian(UInt32.self, bytes, at: 0))
        guard count <= 1_024, bytes.count == 4 + count * 9 else { return nil }
        var steps: [Step] = []
        for i in 0..<count {
            let at = 4 + i * 9
            let node = readLittleEndian(UInt64.self, bytes, at: at + 1)
            guard node != 0 else { return nil }
            switch bytes[at] {
            case 0: steps.append(.addVoter(node))
            case 1: steps.append(.addLearner(node))
            case 2: steps.append(.remove(node))
            default: return nil
            }
        }
        self.steps = steps
    }
}

/// Why a configuration change cannot be applied to a configuration.
public struct ConfChangeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

extension ConfState {
    /// The configuration after `change`, or an error when the change is not allowed here.
    public func applying(_ change: ConfChange) -> Result<ConfState, ConfChangeError> {
        if change.isLeaveJoint {
            guard isJoint else { return .failure(ConfChangeError(description: "not in a joint configuration")) }
            var next = self
            next.outgoingVoters = []
            next.learners.formUnion(learnersNext)
            next.learnersNext = []
            next.autoLeave = false
            return .success(next)
        }
        if voters.isEmpty && !isJoint {
            // Bootstrap: the first configuration of a new cluster (log index 1) is set directly.
            return bootstrapping(change)
        }
        guard !isJoint else {
            return .failure(ConfChangeError(description: "a joint configuration must be left before the next change"))
        }
        var next = self
        if change.needsJoint {
            next.outgoingVoters = voters
            next.autoLeave = true
        }
        for step in change.steps {
            switch step {
            case .addVoter(let id):
                next.voters.insert(id)
                next.learners.remove(id)
                next.learnersNext.remove(id)
            case .addLearner(let id):
                next.voters.remove(id)
                // A voter of the outgoing half stays a voter there until the joint phase ends.
                if next.outgoingVoters.contains(id) { next.learnersNext.insert(id) } else { next.learners.insert(id) }
            case .remove(let id):
                next.voters.remove(id)
                next.learners.remove(id)
                next.learnersNext.remove(id)
            }
        }
        guard !next.voters.isEmpty else { return .failure(ConfChangeError(description: "the change removes every voter")) }
        if !change.needsJoint {
            // One-at-a-time: the voter sets may differ by at most one member.
            let changedVoters = voters.symmetricDifference(next.voters).count
            guard changedVoters <= 1 else {
                return .failure(ConfChangeError(description: "a simple change may alter at most one voter; use a joint change"))
            }
        }
        return .success(next)
    }
}

extension ConfState {
    fileprivate func bootstrapping(_ change: ConfChange) -> Result<ConfState, ConfChangeError> {
        var next = self
        for step in change.steps {
            switch step {
            case .addVoter(let id): next.voters.insert(id)
            case .addLearner(let id): next.learners.insert(id)
            case .remove: return .failure(ConfChangeError(description: "the first configuration cannot remove members"))
            }
        }
        guard !next.voters.isEmpty else { return .failure(ConfChangeError(description: "the first configuration needs a voter")) }
        guard next.voters.isDisjoint(with: next.learners) else {
            return .failure(ConfChangeError(description: "a member cannot be voter and learner"))
        }
        return .success(next)
    }
}

func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    var v = value.littleEndian
    withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
}

func readLittleEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
    var value: T = 0
    for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
    return value
}
