/// Everything the driver must do after feeding inputs, in order:
/// 0. send `earlyMessages` (they do not depend on step 1; see there);
/// 1. persist `snapshot` (if any), then `entries` (replacing any stored suffix from
///    `entries.first.index` on) and `hardState` — with an fsync when `mustSync`;
/// 2. send `messages` (they may depend on what step 1 made durable);
/// 3. apply `committedEntries` in order and serve `readStates` once applied;
/// 4. call `Raft.advance(_:)` with this value.
public struct Ready: Sendable {
    /// Set when term, vote or commit changed.
    public var hardState: HardState?
    /// Set when leader or role changed.
    public var softState: SoftState?
    /// A snapshot from the leader to install in place of the application state.
    public var snapshot: Snapshot?
    public var entries: [Entry]
    /// A leader's appends, heartbeats and snapshot chunks (the leading run of them, so that
    /// messages keep their order), when this `Ready` changes neither term nor vote: they may
    /// leave before `entries` are durable, so that the leader writes
    /// its own log while its followers write theirs (thesis §10.2.1). Safe because the leader's
    /// own copy counts toward commitment only from `advance` on, and the term they carry is
    /// already durable.
    public var earlyMessages: [Message]
    /// Messages that may leave only once step 1 is durable (votes, acknowledgements, …).
    public var messages: [Message]
    public var committedEntries: [Entry]
    public var readStates: [ReadState]
    /// Contexts of read-index requests that cannot be served (no leader, leadership lost).
    public var failedReads: [[UInt8]]
    /// Whether step 1 needs an fsync: new entries, or a new term or vote.
    public var mustSync: Bool

    public var isEmpty: Bool {
        hardState == nil && softState == nil && snapshot == nil && entries.isEmpty && messages.isEmpty && earlyMessages.isEmpty
            && committedEntries.isEmpty && readStates.isEmpty && failedReads.isEmpty
    }
}

extension Raft {
    /// Whether `ready()` has anything to hand out.
    public var hasReady: Bool {
        guard !readyOutstanding else { return false }
        return !outbox.isEmpty || hardState != lastHardState || softState != lastSoftState || log.pendingSnapshot != nil
            || log.stableIndex < log.lastIndex || log.hasNextCommittedEntries || !readStates.isEmpty || !failedReads.isEmpty
    }

    /// Takes the pending work. Must be followed by `advance(_:)` before the next `ready()`.
    public mutating func ready() -> Ready {
        precondition(!readyOutstanding, "ready() called twice without advance()")
        readyOutstanding = true
        let hard = hardState
        let soft = softState
        let entries = log.unstableEntries
        // The longest prefix of the outbox that may leave early, so that messages still leave in
        // the order Raft produced them.
        var early: [Message] = []
        var late = outbox
        if role == .leader, hard.term == lastHardState.term, hard.vote == lastHardState.vote {
            let cut = outbox.firstIndex { $0.term != hard.term || !$0.sendsBeforePersisting } ?? outbox.count
            if cut > 0 {
                early = Array(outbox[..<cut])
                late = Array(outbox[cut...])
            }
        }
        let ready = Ready(
            hardState: hard != lastHardState ? hard : nil,
            softState: soft != lastSoftState ? soft : nil,
            snapshot: log.pendingSnapshot,
            entries: entries,
            earlyMessages: early,
            messages: late,
            committedEntries: log.nextCommittedEntries,
            readStates: readStates,
            failedReads: failedReads,
            mustSync: !entries.isEmpty || hard.term != lastHardState.term || hard.vote != lastHardState.vote
                || log.pendingSnapshot != nil)
        outbox = []
        readStates = []
        failedReads = []
        lastHardState = hard
        lastSoftState = soft
        return ready
    }

    /// Acknowledges that `ready` was persisted, sent and applied.
    public mutating func advance(_ ready: Ready) {
        precondition(readyOutstanding, "advance() without ready()")
        readyOutstanding = false
        if let installed = ready.snapshot, log.pendingSnapshot?.metadata == installed.metadata {
            log.pendingSnapshot = nil
        }
        if let last = ready.entries.last {
            log.stable(to: last.index, term: last.term)
            if role == .leader, progress[id] != nil, progress[id]!.maybeUpdate(log.stableIndex), maybeCommit(),
                !config.deferCommitAnnouncements
            {
                broadcastAppend()
            }
        }
        markApplied(ready.committedEntries)
        if role == .leader { leaveJointIfDue() }
    }

    /// For a driver that syncs `ready`'s log write off its thread (`RaftLogStore.appendDeferringSync`)
    /// and keeps stepping messages meanwhile: the entries that committed since `ready` was taken
    /// and that this node already holds durably (up to its stable index, which excludes
    /// `ready.entries`), to apply now instead of after the sync. Call it only once every entry of
    /// `ready.committedEntries` was applied, and apply what it returns in order; both count as
    /// applied from here on (`advance` skips them), as do the membership changes among them.
    ///
    /// On a leader this is every entry that committed meanwhile (commitment needs its own durable
    /// copy), so acknowledgements that arrive during the leader's sync are answered at once.
    public mutating func committedEntriesWhilePersisting(_ ready: Ready) -> [Entry] {
        precondition(readyOutstanding, "committedEntriesWhilePersisting() outside ready()/advance()")
        markApplied(ready.committedEntries)
        guard ready.snapshot == nil else { return [] }
        return takeDurableCommitted()
    }

    /// For a driver that holds its next `ready()` back for a while (to put more writes into one
    /// log sync) and keeps stepping messages meanwhile: the entries that committed and that this
    /// node holds durably, to apply now instead of when the held Ready is taken. Only between
    /// `advance(_:)` and the next `ready()`; apply what it returns in order, and it counts as
    /// applied from here on (the next Ready's `committedEntries` start after it), as do the
    /// membership changes among it. Entries not durable here yet (a follower may learn the
    /// commit of entries it has not written) wait for the Ready that writes them.
    public mutating func durableCommittedEntries() -> [Entry] {
        precondition(!readyOutstanding, "durableCommittedEntries() between ready() and advance()")
        return takeDurableCommitted()
    }

    /// The committed, durable, unapplied entries, counted as applied.
    private mutating func takeDurableCommitted() -> [Entry] {
        guard log.pendingSnapshot == nil else { return [] }
        let through = min(log.committed, log.stableIndex)
        guard log.applied < through, let entries = log.slice(from: log.applied + 1, through: through, maxBytes: .max) else { return [] }
        markApplied(entries)
        if role == .leader { leaveJointIfDue() }
        return entries
    }

    /// Counts `entries` (committed, in order) as applied; skips those already counted.
    private mutating func markApplied(_ entries: [Entry]) {
        var appliedBytes = 0
        for entry in entries where entry.index > log.applied {
            precondition(entry.index == log.applied + 1, "committed entries must be applied in order")
            log.applied = entry.index
            appliedBytes += entry.payloadBytes
            if entry.kind == .confChange { applyConfChange(entry) }
        }
        if role == .leader { uncommittedBytes = max(0, uncommittedBytes - appliedBytes) }
    }
}

extension Message {
    /// What a leader may send before its own log write is durable: these carry only its term
    /// (durable before it led) and entries or a commit index that do not depend on that write.
    var sendsBeforePersisting: Bool {
        switch body {
        case .append, .heartbeat, .snapshotChunk: return true
        default: return false
        }
    }
}
