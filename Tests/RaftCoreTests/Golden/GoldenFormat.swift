@testable import RaftCore

/// Deterministic one-line renderings of RaftCore values, modelled on etcd-raft's
/// `DescribeMessage`/`DescribeReady`. Positions are written `term/index` everywhere.
enum GoldenFormat {
    static func role(_ role: Raft.Role) -> String {
        switch role {
        case .follower: return "StateFollower"
        case .preCandidate: return "StatePreCandidate"
        case .candidate: return "StateCandidate"
        case .leader: return "StateLeader"
        }
    }

    /// `"text"` for printable ASCII, `0x…` otherwise.
    static func bytes(_ data: [UInt8]) -> String {
        if data.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != 0x22 && $0 != 0x5c }) {
            return "\"" + String(decoding: data, as: UTF8.self) + "\""
        }
        return "0x" + data.map { byte -> String in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    static func ids(_ set: Set<NodeID>) -> String {
        "(" + set.sorted().map(String.init).joined(separator: " ") + ")"
    }

    /// etcd's ConfState notation: `voters=(1 2 3)&&(1 2) learners=(4) learners_next=(5) autoleave`.
    static func conf(_ conf: ConfState) -> String {
        var s = "voters=" + ids(conf.voters)
        if conf.isJoint { s += "&&" + ids(conf.outgoingVoters) }
        if !conf.learners.isEmpty { s += " learners=" + ids(conf.learners) }
        if !conf.learnersNext.isEmpty { s += " learners_next=" + ids(conf.learnersNext) }
        if conf.autoLeave { s += " autoleave" }
        return s
    }

    /// The steps in `propose-conf-change` syntax: `v4 l5 r2`, or `leave-joint`.
    static func confChange(_ change: ConfChange) -> String {
        if change.isLeaveJoint { return "leave-joint" }
        return change.steps.map { step -> String in
            switch step {
            case .addVoter(let id): return "v\(id)"
            case .addLearner(let id): return "l\(id)"
            case .remove(let id): return "r\(id)"
            }
        }.joined(separator: " ")
    }

    static func entry(_ entry: Entry) -> String {
        let position = "\(entry.term)/\(entry.index)"
        switch entry.kind {
        case .normal:
            return "\(position) EntryNormal \(bytes(entry.data))"
        case .confChange:
            let body = ConfChange(decoding: entry.data).map(confChange) ?? "<malformed \(bytes(entry.data))>"
            return "\(position) EntryConfChange \(body)"
        }
    }

    static func snapshot(_ metadata: SnapshotMetadata) -> String {
        "\(metadata.term)/\(metadata.index) [\(conf(metadata.confState))]"
    }

    static func hardState(_ hard: HardState) -> String {
        var s = "HardState Term:\(hard.term)"
        if hard.vote != 0 { s += " Vote:\(hard.vote)" }
        return s + " Commit:\(hard.commit)"
    }

    static func message(_ m: Message) -> String {
        let head = "\(m.from)->\(m.to) "
        let term = "Term:\(m.term)"
        switch m.body {
        case .vote(let lastIndex, let lastTerm, let transfer):
            return head + "MsgVote \(term) Log:\(lastTerm)/\(lastIndex)" + (transfer ? " Transfer" : "")
        case .voteResponse(let reject):
            return head + "MsgVoteResp \(term)" + (reject ? " Rejected" : "")
        case .preVote(let lastIndex, let lastTerm):
            return head + "MsgPreVote \(term) Log:\(lastTerm)/\(lastIndex)"
        case .preVoteResponse(let reject):
            return head + "MsgPreVoteResp \(term)" + (reject ? " Rejected" : "")
        case .append(let prevIndex, let prevTerm, let entries, let commit):
            var s = head + "MsgApp \(term) Log:\(prevTerm)/\(prevIndex) Commit:\(commit)"
            if !entries.isEmpty { s += " Entries:[" + entries.map(entry).joined(separator: ", ") + "]" }
            return s
        case .appendResponse(let index, let reject, let hintIndex, let hintTerm):
            return head + "MsgAppResp \(term) Index:\(index)" + (reject ? " Rejected Hint:\(hintTerm)/\(hintIndex)" : "")
        case .heartbeat(let commit, let context):
            return head + "MsgHeartbeat \(term) Commit:\(commit)" + contextSuffix(context)
        case .heartbeatResponse(let context):
            return head + "MsgHeartbeatResp \(term)" + contextSuffix(context)
        case .snapshotChunk(let metadata, let totalBytes, let offset, let data, let done):
            return head + "MsgSnap \(term) Snapshot:\(snapshot(metadata)) Chunk:\(offset)..\(offset + data.count)/\(totalBytes) "
                + "Data:\(bytes(data))" + (done ? " Done" : "")
        case .snapshotChunkResponse(let index, let received, let reject):
            return head + "MsgSnapResp \(term) Index:\(index) Received:\(received)" + (reject ? " Rejected" : "")
        case .timeoutNow:
            return head + "MsgTimeoutNow \(term)"
        case .readIndex(let context):
            return head + "MsgReadIndex \(term) Context:\(bytes(context))"
        case .readIndexResponse(let context, let index):
            return head + "MsgReadIndexResp \(term) Context:\(bytes(context)) " + (index.map { "Index:\($0)" } ?? "Failed")
        case .transferLeader(let target):
            return head + "MsgTransferLeader \(term) Target:\(target)"
        }
    }

    private static func contextSuffix(_ context: [UInt8]) -> String {
        context.isEmpty ? "" : " Context:\(bytes(context))"
    }

    /// A Ready as etcd's `DescribeReady` prints it, one item per line.
    static func ready(_ rd: Ready) -> [String] {
        var lines = ["Ready MustSync=\(rd.mustSync):"]
        if let soft = rd.softState { lines.append("Lead:\(soft.leader) State:\(role(soft.role))") }
        if let hard = rd.hardState { lines.append(hardState(hard)) }
        if let snap = rd.snapshot { lines.append("Snapshot \(snapshot(snap.metadata)) Data:\(bytes(snap.data))") }
        if !rd.entries.isEmpty {
            lines.append("Entries:")
            lines.append(contentsOf: rd.entries.map(entry))
        }
        if !rd.committedEntries.isEmpty {
            lines.append("CommittedEntries:")
            lines.append(contentsOf: rd.committedEntries.map(entry))
        }
        // etcd lists one set of messages; a leader's early ones (sent before its write) first.
        let messages = rd.earlyMessages + rd.messages
        if !messages.isEmpty {
            lines.append("Messages:")
            lines.append(contentsOf: messages.map(message))
        }
        if !rd.readStates.isEmpty {
            lines.append("ReadStates:")
            lines.append(contentsOf: rd.readStates.map { "Index:\($0.index) Context:\(bytes($0.context))" })
        }
        if !rd.failedReads.isEmpty {
            lines.append("FailedReads:")
            lines.append(contentsOf: rd.failedReads.map(bytes))
        }
        if lines.count == 1 { lines.append("<empty Ready>") }
        return lines
    }
}
