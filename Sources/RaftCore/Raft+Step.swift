extension Raft {
    /// Feeds a message from another member. Messages for another member, from a non-member
    /// or malformed in a way a correct peer never produces are ignored (never trusted).
    public mutating func step(_ message: Message) {
        guard message.to == id, message.from != id, message.from != 0 else { return }
        guard handleTerm(of: message) else { return }
        switch message.body {
        case .vote, .preVote:
            handleVoteRequest(message)
            return
        default:
            break
        }
        switch role {
        case .leader: stepLeader(message)
        case .candidate, .preCandidate: stepCandidate(message)
        case .follower: stepFollower(message)
        }
    }

    /// Compares the message's term with ours (Raft §5.1 plus pre-vote and check-quorum rules).
    /// Returns whether the message should be processed further.
    private mutating func handleTerm(of message: Message) -> Bool {
        if message.term > term {
            switch message.body {
            case .vote(_, _, let transfer):
                // Leader stickiness: while we hear from a leader, a higher-term vote request is
                // ignored unless it comes from a leadership transfer.
                if !transfer && inLeaderLease { return false }
                becomeFollower(term: message.term, leader: 0)
            case .preVote:
                // Answered without changing our term (thesis §9.6).
                return !inLeaderLease
            case .preVoteResponse(reject: false):
                // The term we asked for; we become candidate only with a quorum of these.
                return true
            case .append, .heartbeat, .snapshotChunk:
                becomeFollower(term: message.term, leader: message.from)
            default:
                becomeFollower(term: message.term, leader: 0)
            }
            return true
        }
        if message.term < term {
            switch message.body {
            case .append, .heartbeat:
                // A stale leader (e.g. after a partition) learns the newer term from the reply
                // and steps down; without this, check-quorum could leave it stranded.
                if config.checkQuorum || config.preVote {
                    send(.appendResponse(index: 0, reject: false, hintIndex: 0, hintTerm: 0), to: message.from)
                }
            case .preVote:
                send(.preVoteResponse(reject: true), to: message.from)
            default:
                break
            }
            return false
        }
        return true
    }

    /// Whether we heard from a leader within the election timeout (check-quorum leases).
    var inLeaderLease: Bool {
        config.checkQuorum && leader != 0 && electionElapsed < config.electionTicks
    }

    private mutating func handleVoteRequest(_ message: Message) {
        let isPreVote: Bool
        let lastIndex: LogIndex
        let lastTerm: Term
        switch message.body {
        case .vote(let index, let term, _): (isPreVote, lastIndex, lastTerm) = (false, index, term)
        case .preVote(let index, let term): (isPreVote, lastIndex, lastTerm) = (true, index, term)
        default: preconditionFailure("not a vote request")
        }
        // We may vote for the same candidate again (a retried request), for anyone if we have
        // not voted and know no leader, and in pre-vote for any future term.
        let canVote = vote == message.from || (vote == 0 && leader == 0) || (isPreVote && message.term > term)
        let grant = canVote && log.isUpToDate(lastIndex: lastIndex, lastTerm: lastTerm)
        if isPreVote {
            send(.preVoteResponse(reject: !grant), to: message.from, term: grant ? message.term : term)
        } else {
            if grant {
                electionElapsed = 0
                vote = message.from
            }
            send(.voteResponse(reject: !grant), to: message.from)
        }
    }

    private mutating func stepFollower(_ message: Message) {
        switch message.body {
        case .append(let prevIndex, let prevTerm, let entries, let commit):
            heardFromLeader(message.from)
            handleAppend(from: message.from, prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit)
        case .heartbeat(let commit, let context):
            heardFromLeader(message.from)
            log.commit(to: min(commit, log.lastIndex))
            send(.heartbeatResponse(context: context), to: message.from)
        case .snapshotChunk(let metadata, let total, let offset, let data, let done):
            heardFromLeader(message.from)
            handleSnapshotChunk(from: message.from, metadata: metadata, total: total, offset: offset, data: data, done: done)
        case .timeoutNow:
            // The leader hands over: campaign at once, skipping pre-vote (thesis §3.10).
            campaign(transfer: true)
        case .readIndexResponse(let context, let index):
            if let index { readStates.append(ReadState(index: index, context: context)) } else { failedReads.append(context) }
        case .transferLeader(let target):
            if leader != 0 { send(.transferLeader(target: target), to: leader) }
        case .readIndex(let context):
            // Only leaders serve read indexes; tell the asker so it can retry elsewhere.
            send(.readIndexResponse(context: context, index: nil), to: message.from)
        default:
            break
        }
    }

    private mutating func stepCandidate(_ message: Message) {
        switch message.body {
        case .append, .heartbeat, .snapshotChunk:
            // A leader of our term exists (§5.2): follow it.
            becomeFollower(term: message.term, leader: message.from)
            stepFollower(message)
        case .preVoteResponse(let reject) where role == .preCandidate:
            recordVote(from: message.from, granted: !reject)
        case .voteResponse(let reject) where role == .candidate:
            recordVote(from: message.from, granted: !reject)
        case .readIndex(let context):
            send(.readIndexResponse(context: context, index: nil), to: message.from)
        default:
            break
        }
    }

    private mutating func heardFromLeader(_ from: NodeID) {
        electionElapsed = 0
        leader = from
    }
}
