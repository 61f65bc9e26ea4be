import Foundation
import IncidentCore
import Locking
import RaftCore
import RaftStorage

extension ConsensusLoop {
    /// Persists, sends, applies and acknowledges every pending `Ready` (Raft's driver contract:
    /// nothing is sent or answered before what it depends on is durable).
    ///
    /// A Ready's log write is synced off the loop (`config.deferLogSyncs`): the record is
    /// written here and its fdatasync runs on `logSyncQueue`, while this thread goes on stepping
    /// messages, proposing, relaying and answering; the rest of the Ready (the messages that
    /// depend on the write, `advance`) follows in the turn after the sync (`finishLogSync`), and
    /// the next Ready only then. Meanwhile entries that commit and are durable here are applied
    /// at once (`applyWhileSyncing`). Blocking on the sync instead held up every peer frame and
    /// forwarded write on this thread for its length (~0.5 ms under load; at 10,000 events/s the
    /// leader's loop was busy 90 % of the wall time and in log appends 62 %).
    func processReady() {
        if syncing != nil {
            applyWhileSyncing()
            return
        }
        if syncIsHeldBack() {
            applyWhileHeld()
            return
        }
        while raft.hasReady {
            let ready = raft.ready()
            // A leader's appends and heartbeats leave first: the followers write their copies
            // while this node writes its own (thesis §10.2.1; its own copy counts toward
            // commitment only after `advance`).
            if !ready.earlyMessages.isEmpty { transport?.send(ready.earlyMessages) }
            let pending = persist(ready)
            // Committed entries this node held durably before this Ready's write do not depend
            // on it: they are applied, and their writers answered, while its sync runs. Entries
            // in the write itself (a follower may learn an entry and its commit together) wait
            // for it.
            let firstUnstable = ready.entries.first?.index ?? LogIndex.max
            let durable = ready.committedEntries.prefix { $0.index < firstUnstable }.count
            var membershipChanged = ready.snapshot != nil
            if applyCommitted(ready.committedEntries[..<durable]) { membershipChanged = true }
            if let pending {
                syncing = SyncingReady(ready: ready, sync: pending.sync, outcome: pending.outcome, applied: durable, membershipChanged: membershipChanged)
                applyWhileSyncing()
                return
            }
            finish(ready, applied: durable, membershipChanged: membershipChanged)
        }
    }

    /// Whether the next Ready waits: the last sync was a busy one (`config.busySyncEntries`) and
    /// started less than `config.minBusySyncIntervalMicroseconds` ago. Then a turn is armed for
    /// when the interval ends, and whatever queues meanwhile goes into that one write and fsync.
    private func syncIsHeldBack() -> Bool {
        guard let host, config.deferLogSyncs, config.minBusySyncIntervalMicroseconds > 0, lastSync.entries >= config.busySyncEntries,
            raft.hasReady
        else { return false }
        let due = lastSync.started + UInt64(config.minBusySyncIntervalMicroseconds) * 1_000
        let now = DispatchTime.now().uptimeNanoseconds
        guard now < due else { return false }
        if !syncHoldArmed {
            syncHoldArmed = true
            let inbox = self.inbox
            _ = host.schedule(afterMicroseconds: Int64((due - now) / 1_000) + 1) {
                self.syncHoldArmed = false
                inbox.endSyncHold()
            }
        }
        return true
    }

    /// Tells followers a commit index no append has carried to them yet, once
    /// `config.commitAnnouncementDelayMicroseconds` have passed since it advanced
    /// (`RaftConfig.deferCommitAnnouncements`). Under load the next entries carry it well before
    /// then, which saves an empty append and its answer per follower and commit; a lone write
    /// reaches the followers' state machines that much later (the leader answers it as before).
    /// Runs at the end of every leader's turn.
    func announceCommitWhenDue() {
        guard raft.config.deferCommitAnnouncements, raft.hasUnannouncedCommit else {
            commitAnnouncementDue = nil
            return
        }
        let now = DispatchTime.now().uptimeNanoseconds
        guard let due = commitAnnouncementDue else {
            // `millisecondsUntilDeadline` wakes the loop for it.
            commitAnnouncementDue = now + UInt64(config.commitAnnouncementDelayMicroseconds) * 1_000
            return
        }
        guard now >= due else { return }
        commitAnnouncementDue = nil
        commitAnnouncements += 1
        raft.announceCommit()
        processReady()
    }

    /// Writes what `ready` asks to persist: durably here, or (returned) with its sync started on
    /// `logSyncQueue`.
    private func persist(_ ready: Ready) -> (sync: PendingSync, outcome: LogSyncOutcome)? {
        do {
            if let snapshot = ready.snapshot {
                try store.saveSnapshot(snapshot)
                try state.restore(snapshot.data)
                snapshotThresholds = config.snapshotThresholds(lastSnapshotBytes: snapshot.data.count)
                publishedAccessRevision.store(state.accessRevision, ordering: .releasing)
                scheduler.rebuild(from: state.machine)
                deliveries.rebuild(from: state.machine)
                logger.info("installed a snapshot from the leader", metadata: ["index": "\(snapshot.metadata.index)"])
            }
            guard ready.mustSync || !ready.entries.isEmpty else { return nil }
            let started = DispatchTime.now().uptimeNanoseconds
            let hardState = ready.hardState ?? raft.hardState
            if config.deferLogSyncs, ready.snapshot == nil {
                // Nil when the batch opened a new segment, which is written durably.
                if let sync = try store.appendDeferringSync(ready.entries, hardState: hardState) {
                    let wrote = DispatchTime.now().uptimeNanoseconds - started
                    turnWork.appendNanoseconds += wrote
                    let outcome = LogSyncOutcome(entries: ready.entries.count, writeNanoseconds: wrote)
                    lastSync = (started, ready.entries.count)
                    let inbox = self.inbox
                    logSyncQueue.async {
                        outcome.record(sync.run())
                        inbox.logSynced()
                    }
                    return (sync, outcome)
                }
            } else {
                try store.append(ready.entries, hardState: hardState)
            }
            logAppends += 1
            let took = DispatchTime.now().uptimeNanoseconds - started
            metrics.appended(entries: ready.entries.count, nanoseconds: took)
            turnWork.appendNanoseconds += took
            return nil
        } catch {
            logWriteFailed(error)
        }
    }

    /// The log cannot be trusted any more: stop serving rather than acknowledge writes that may
    /// not be durable.
    private func logWriteFailed(_ error: any Error) -> Never {
        logger.critical("Raft log write failed; stopping the node", metadata: ["error": "\(error)"])
        fatalError("Raft log write failed: \(error)")
    }

    /// The rest of a Ready once its write is durable: the messages that depended on it, the
    /// committed entries not applied yet, `advance`, and what follows from them.
    private func finish(_ ready: Ready, applied: Int, membershipChanged: Bool) {
        if !ready.messages.isEmpty { transport?.send(ready.messages) }
        if let soft = ready.softState { publishedLeader.store(soft.leader, ordering: .releasing) }
        var membershipChanged = membershipChanged
        if applyCommitted(ready.committedEntries[applied...]) { membershipChanged = true }
        raft.advance(ready)
        for read in ready.readStates { pendingReads.indexKnown(context: read.context, index: read.index) }
        for context in ready.failedReads {
            pendingReads.fail(context: context, NodeError(.notLeader, "no leader could confirm the read; retry", leaderHint: raft.leader))
        }
        publishApplied()
        if let soft = ready.softState { leadershipChanged(soft) }
        if membershipChanged { announceMembers() }
    }

    /// While a Ready's write syncs: applies (and answers) what committed meanwhile and is
    /// durable here — on a leader, writes its followers acknowledged during its own sync.
    private func applyWhileSyncing() {
        guard let current = syncing, current.applied == current.ready.committedEntries.count else { return }
        let entries = raft.committedEntriesWhilePersisting(current.ready)
        guard !entries.isEmpty else { return }
        if applyCommitted(entries[...]) { announceMembers() }
        publishApplied()
    }

    /// While the next Ready is held back (`syncIsHeldBack`): applies (and answers) what committed
    /// since the last one and is durable here, which need not wait for the next write. On a
    /// leader: the writes of its last sync, once a follower acknowledges them. On a follower: the
    /// writes of its last sync whose commit it learnt meanwhile — the leader's answers to its own
    /// forwarded writes among them (`catchUp`). Holding these until the hold ended added up to
    /// `minBusySyncIntervalMicroseconds` to a write's answer on every node it passed through.
    private func applyWhileHeld() {
        let entries = raft.durableCommittedEntries()
        guard !entries.isEmpty else { return }
        if applyCommitted(entries[...]) { announceMembers() }
        publishApplied()
    }

    /// Publishes the applied index and runs the reads waiting for it.
    private func publishApplied() {
        publishedApplied.store(raft.appliedIndex, ordering: .releasing)
        catchUps.release(upTo: raft.appliedIndex)
        pendingReads.serveApplied(upTo: raft.appliedIndex, context: { LoopContext(state: state, status: status, appliedTerm: raft.term(at: raft.appliedIndex) ?? 0) })
    }

    /// The sync of the Ready in `syncing` finished (`Inbox.logSynced`): finishes that Ready.
    /// The caller then runs `processReady` for the next one.
    func finishLogSync() {
        guard let current = syncing, let result = current.outcome.result else { return }
        syncing = nil
        do {
            try store.finishSync(current.sync, result.sync)
        } catch {
            logWriteFailed(error)
        }
        logAppends += 1
        metrics.appended(entries: current.outcome.entries, nanoseconds: current.outcome.writeNanoseconds + result.nanoseconds)
        finish(current.ready, applied: current.applied, membershipChanged: current.membershipChanged)
    }

    /// Applies committed entries in order; returns whether one changed the membership.
    private func applyCommitted(_ entries: ArraySlice<Entry>) -> Bool {
        guard !entries.isEmpty else { return false }
        var membershipChanged = false
        let started = DispatchTime.now().uptimeNanoseconds
        for entry in entries {
            apply(entry)
            if entry.kind == .confChange { membershipChanged = true }
        }
        turnWork.applied += entries.count
        turnWork.applyNanoseconds += DispatchTime.now().uptimeNanoseconds - started
        return membershipChanged
    }

    private func apply(_ entry: Entry) {
        appliedSinceSnapshot.entries += 1
        appliedSinceSnapshot.bytes += entry.data.count
        let waiter = waiting.removeValue(forKey: entry.index)
        if entry.kind == .confChange {
            // RaftCore applies the change itself (in `advance`); the proposer learns it committed.
            if let waiter, waiter.term == entry.term, case .index(let reply) = waiter.reply {
                reply(.success(entry.index))
            } else {
                waiter?.fail(NodeError(.uncertain, "the membership change was superseded by a leader change; check and retry"))
            }
            return
        }
        guard !entry.data.isEmpty else {
            waiter?.fail(NodeError(.uncertain, "the write was superseded by a leader change; retry"))
            return
        }
        // Same index and term as proposed: the same entry, so its envelope need not be decoded;
        // nor need the command of a write this node forwarded (`OwnWrites.envelope(decoding:)`).
        // An entry that fails to decode is left to `state.apply`, which reports it.
        let proposed = waiter.flatMap { $0.term == entry.term ? $0.envelope : nil } ?? (try? ownWrites.envelope(decoding: entry.data))
        switch state.apply(entry, proposed: proposed) {
        case .success(let applied):
            publishedAccessRevision.store(state.accessRevision, ordering: .releasing)
            if let outcome = applied.outcome {
                if !applied.duplicate, RequestIDs.isTransient(applied.requestID) {
                    ownWrites.applied(applied.requestID, Submission(outcome: outcome, index: entry.index, appliedAt: applied.stamp, duplicate: false, term: entry.term))
                }
                if case .success(let done) = outcome, !applied.duplicate {
                    scheduler.update(with: done.effects)
                    deliveries.update(with: done.effects)
                }
                metrics.applied(outcome)
            }
            guard let waiter else { return }
            guard waiter.term == entry.term else {
                waiter.fail(NodeError(.uncertain, "leadership changed before the write committed; retry with the same request id"))
                return
            }
            switch waiter.reply {
            case .submission(let reply):
                if applied.duplicate, applied.outcome == nil {
                    // A node-made id applied before: its answer is with the node that made it.
                    if let earlier = ownWrites.earlierAnswer(for: applied.requestID) { return reply(.success(earlier)) }
                    return reply(.failure(NodeError(
                        .appliedEarlier, "the write was applied earlier, at index \(applied.earlierIndex)", earlierIndex: applied.earlierIndex)))
                }
                guard let outcome = applied.outcome else { return reply(.failure(NodeError(.uncertain, "the entry was not a command"))) }
                reply(.success(Submission(outcome: outcome, index: entry.index, appliedAt: applied.stamp, duplicate: applied.duplicate, term: entry.term)))
            case .index(let reply):
                reply(.success(entry.index))
            }
        case .failure(let error):
            logger.error("skipped an undecodable log entry", metadata: ["index": "\(entry.index)", "error": "\(error)"])
            waiter?.fail(NodeError(.uncertain, "the log entry could not be decoded"))
        }
    }

    private func leadershipChanged(_ soft: SoftState) {
        let isLeader = soft.role == .leader
        defer { wasLeader = isLeader }
        guard isLeader != wasLeader else { return }
        if isLeader {
            // A new leader owns the timers: rebuild them from replicated state and fire whatever
            // became due while nobody led. (The outbox is rebuilt when a dispatch lease is gained.)
            scheduler.rebuild(from: state.machine)
            logger.info("became leader", metadata: ["term": "\(raft.term)", "timers": "\(scheduler.pendingCount)", "outbox": "\(deliveries.depth)"])
        } else {
            for (_, waiter) in waiting { waiter.fail(NodeError(.uncertain, "leadership was lost; retry", leaderHint: soft.leader)) }
            waiting = [:]
            // Deliveries in flight finish and report; nothing new starts on a follower.
            logger.info("lost leadership", metadata: ["term": "\(raft.term)", "leader": "\(soft.leader)"])
        }
    }

    // MARK: - Reads

    /// Forwarded writes the leader answered: their commit is learnt from the answer (when this
    /// node holds the entry, it commits it now instead of waiting for the leader to say so), and
    /// each is answered once applied here, or after `catchUpWaitMilliseconds`.
    func catchUp(_ writes: [Inbox.CatchUp]) {
        guard !writes.isEmpty else { return }
        let now = Self.monotonicMilliseconds()
        for write in writes {
            if raft.learnCommitted(index: write.index, term: write.term) {
                commitsLearnedFromAnswers += 1
                metrics.commitsLearnedFromAnswers.increment()
            }
            let wait = write.waitMilliseconds ?? catchUpWaitMilliseconds
            catchUps.add(index: write.index, deadline: now + Int64(wait), counted: write.waitMilliseconds == nil, done: write.done)
        }
        catchUps.release(upTo: raft.appliedIndex)
    }

    /// How long an answered forwarded write waits for this node to apply it: two heartbeat
    /// intervals, by which the leader has resent whatever append was lost.
    var catchUpWaitMilliseconds: Int { 2 * config.heartbeatTicks * config.tickIntervalMilliseconds }

    /// Local reads run now; linearizable ones on a single voter too (every acknowledged write is
    /// applied here). With more members a linearizable read asks Raft for a read index and runs
    /// once this node has applied up to it.
    func serve(_ reads: [Inbox.Read]) {
        guard !reads.isEmpty else { return }
        let alone = raft.confState.voters == [config.nodeID] && loneLeaderIsCurrent
        var now: [Inbox.Read] = []
        for read in reads {
            if read.consistency == .local || alone {
                now.append(read)
            } else {
                let context = pendingReads.add(read, deadline: Self.monotonicMilliseconds() + Int64(config.readIndexTimeoutMilliseconds))
                raft.readIndex(context: context)
            }
        }
        guard !now.isEmpty else { return }
        let context = LoopContext(state: state, status: status, appliedTerm: raft.term(at: raft.appliedIndex) ?? 0)
        for read in now { read.run(context) }
    }

    /// A lone voter's state as it is holds every acknowledged write once everything committed is
    /// applied and its own term has committed an entry: after a restart, the log's acknowledged
    /// tail commits only with the new term's first entry, whose write may still be syncing. Until
    /// then it serves linearizable reads through Raft's read index and starts no delivery.
    var loneLeaderIsCurrent: Bool {
        raft.isLeader && raft.appliedIndex >= raft.commitIndex && raft.term(at: raft.commitIndex) == raft.term
    }

    func failExpiredReads() {
        pendingReads.failExpired(now: Self.monotonicMilliseconds(), NodeError(.unavailable, "the read index was not confirmed in time; retry", leaderHint: raft.leader))
    }

    var status: NodeStatus {
        NodeStatus(
            nodeID: config.nodeID, role: raft.role, leader: raft.leader, term: raft.term, commitIndex: raft.commitIndex,
            appliedIndex: raft.appliedIndex, firstIndex: raft.firstIndex, lastIndex: raft.lastIndex,
            voters: raft.confState.voters.sorted(), learners: raft.confState.learners.sorted(), logAppends: logAppends, logBytes: store.logBytes,
            snapshotBytes: store.snapshotBytes, snapshotIndex: store.latestSnapshot?.index ?? 0,
            pendingTimers: scheduler.pendingCount, outboxDepth: state.machine.outboxCount, rememberedRequests: state.requests.count,
            region: config.region, zone: config.zone, followers: raft.isLeader ? raft.followerStatus : [:],
            connectedPeers: transport?.connectedPeers() ?? [], holdsArchiveLease: holdsArchiveLease,
            archiveEnabled: state.archive.isEnabled,
            archiveLagEntries: state.archive.isEnabled ? raft.appliedIndex - min(raft.appliedIndex, state.archive.watermark) : 0,
            archiveLagMilliseconds: state.archive.records.first.map { max(0, clock() - $0.at.millisecondsSinceEpoch) } ?? 0,
            commitAnnouncements: commitAnnouncements, commitsLearnedFromAnswers: commitsLearnedFromAnswers,
            answersBeforeCatchingUp: answersBeforeCatchingUp, writesCatchingUp: catchUps.count,
            forwardedCommandsReused: ownWrites.forwardedCommandsReused, loopTurns: loopTurns,
            leaderBookkeepingRuns: leaderBookkeepingRuns, forwardedCommandsProposedAsSent: forwardedCommandsProposedAsSent)
    }

    // MARK: - Deliveries

    /// Starts the deliveries this node's dispatch leases cover (see `ConsensusLoop+Dispatch`).
    func startDeliveries() {
        guard let delivery else { return }
        let held = heldDispatchScopes()
        noteLeaseChanges(held)
        guard !held.isEmpty else {
            deliveries.dropQueued()
            return
        }
        // Ids whose intent is gone or finished are taken too, and dropped below.
        let startable = deliveries.takeStartable(now: Self.monotonicMilliseconds(), limit: config.maxConcurrentDeliveries) { id in
            guard let intent = state.machine.notification(id), !intent.state.isTerminal else { return true }
            return held.contains(dispatchScope(ofNotification: id))
        }
        for id in startable {
            guard let intent = state.machine.notification(id), !intent.state.isTerminal,
                let channel = state.machine.config.channels[intent.channel], let incident = state.machine.incident(intent.incident)
            else {
                deliveries.finished(id)
                continue
            }
            var attempt = intent
            if intent.state == .pending {
                proposeInternal(.recordDelivery(notification: id, report: .dispatched, actor: .system))
                // The receiver sees the attempt being made, which the `.dispatched` record just
                // proposed counts (else a first retry would be announced as attempt 1 again).
                attempt.state = .dispatched
                attempt.attempts += 1
            }
            let request = DeliveryRequest(intent: attempt, channel: channel, incident: incident)
            let inbox = self.inbox
            Task {
                let report = await delivery.deliver(request)
                inbox.report(delivery: id, report)
            }
        }
    }

    func scheduleRetryIfNeeded(_ id: UInt64, _ report: DeliveryReport) {
        guard case .failed(_, true) = report, let intent = state.machine.notification(id) else { return }
        let attempt = max(1, Int64(intent.attempts))
        let delay = min(config.maxRedeliveryDelayMilliseconds, config.redeliveryDelayMilliseconds << min(attempt - 1, 16))
        deliveries.retry(id, at: Self.monotonicMilliseconds() + delay)
    }

    // MARK: - Snapshots and shutdown

    /// Starts a snapshot when enough was applied since the last one: the state as of the applied
    /// index is encoded on `snapshotThread` while the loop goes on, and its file compressed,
    /// written and fsync'd there too; then `saveEncodedSnapshot` publishes it. Encoding takes
    /// tens of milliseconds per 10,000 incidents and writing the file as much again; the loop,
    /// which answers every write, stalls for neither.
    func maybeSnapshot() {
        guard !snapshotEncoding else { return }
        guard appliedSinceSnapshot.entries >= snapshotThresholds.entries || appliedSinceSnapshot.bytes >= snapshotThresholds.bytes else { return }
        let metadata = raft.snapshotMetadataAtApplied
        let copy = state
        let inbox = self.inbox
        let preparer = store.snapshotPreparer
        let budget = config.snapshotReuseBytes
        snapshotEncoding = true
        appliedSinceSnapshot = (0, 0)
        let handedOver = DispatchTime.now().uptimeNanoseconds
        snapshotThread.async {
            var timing = SnapshotTiming(handedOver: handedOver)
            // This thread is the only one that passes a budget (`snapshot(reusingEncodingsUpTo:)`).
            var stats = SnapshotEncodingStats()
            let snapshot = Snapshot(metadata: metadata, data: copy.snapshot(reusingEncodingsUpTo: budget, stats: &stats))
            timing.encoded()
            timing.encoding = stats
            let prepared = Result { () throws(StorageError) in try preparer.prepare(snapshot) }
            timing.written()
            inbox.snapshotEncoded(EncodedSnapshot(snapshot: snapshot, prepared: prepared, timing: timing))
        }
    }

    /// Publishes a snapshot encoded and written off the loop and compacts the log behind it.
    func saveEncodedSnapshot(_ encoded: EncodedSnapshot) {
        snapshotEncoding = false
        // The log's compacted entries, its segment files and the snapshot files this one
        // replaces, freed and deleted on the cleanup queue rather than here: they took 4–14 ms
        // and up to 35 ms of a turn.
        var compacted: [Entry] = []
        var obsolete: [ObsoleteFiles] = []
        var publishMicroseconds: UInt64 = 0
        let snapshot = encoded.snapshot
        let metadata = snapshot.metadata
        do {
            let prepared = try encoded.prepared.get()
            // A newer snapshot (one received from a leader) may have been installed meanwhile.
            guard metadata.index > store.latestSnapshot?.index ?? 0 else {
                store.discard(prepared)
                return
            }
            let publishing = DispatchTime.now().uptimeNanoseconds
            obsolete.append(try store.publishSnapshot(prepared))
            publishMicroseconds = (DispatchTime.now().uptimeNanoseconds - publishing) / 1_000
            raft.setSnapshot(snapshot)
            snapshotThresholds = config.snapshotThresholds(lastSnapshotBytes: snapshot.data.count)
            let through = compactionPoint(below: metadata.index)
            if through >= raft.firstIndex {
                compacted = raft.compactLog(through: through)
                obsolete.append(try store.detachSegments(upTo: through))
            }
            logger.info(
                "snapshot taken",
                metadata: [
                    "index": "\(metadata.index)", "bytes": "\(snapshot.data.count)",
                    "next_after_entries": "\(snapshotThresholds.entries)", "next_after_bytes": "\(snapshotThresholds.bytes)",
                    "publish_us": "\(publishMicroseconds)", "encode_ms": "\(encoded.timing.encodeMilliseconds)",
                    "write_ms": "\(encoded.timing.writeMilliseconds)", "cpu_ms": "\(encoded.timing.cpuMilliseconds)",
                    "encode_cpu_ms": "\(encoded.timing.encodeCPUMilliseconds)",
                    "since_start_ms": "\(encoded.timing.millisecondsSinceHandOver)",
                    "incidents_reused": "\(encoded.timing.encoding.reusedIncidents)",
                    "incidents_encoded": "\(encoded.timing.encoding.encodedIncidents)",
                    "kept_bytes": "\(encoded.timing.encoding.keptEncodingBytes)",
                ])
        } catch {
            logger.error("snapshot failed; will retry", metadata: ["error": "\(error)"])
            // Try again after half the usual interval.
            appliedSinceSnapshot.entries += config.snapshotEveryEntries / 2
        }
        // Compaction freed the log's entries and the old snapshot, often hundreds of megabytes
        // in allocations of a few kilobytes. jemalloc returns the pages within about a second
        // (`CAllocator`'s decay settings), from its own background thread.
        let logger = self.logger
        let dropped = Dropped(compacted)
        compacted = []  // the queue holds the only reference now
        let files = obsolete
        cleanupQueue.async {
            dropped.release()
            for obsolete in files {
                do { try obsolete.delete() } catch {
                    logger.error("could not delete replaced snapshot or compacted log files; they are deleted after a restart", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// The index to compact the log through after a snapshot at `index`: keeps
    /// `retainedEntriesAfterSnapshot` entries below it, but at most `retainedBytesAfterSnapshot`.
    func compactionPoint(below index: LogIndex) -> LogIndex {
        let keep = config.retainedEntriesAfterSnapshot
        var through = index > keep ? index - keep : 0
        let first = max(through + 1, raft.firstIndex)
        guard first <= index, let kept = raft.entries(from: first, through: index) else { return through }
        var bytes = 0
        for entry in kept.reversed() {
            bytes += entry.data.count
            if bytes > config.retainedBytesAfterSnapshot {
                through = entry.index
                break
            }
        }
        return through
    }

    /// Raft holds the latest snapshot's data, as large as the state, only while a follower is
    /// being sent it: otherwise it is released, and read back from the snapshot file (off the
    /// loop) when Raft asks for it. Runs at the end of every loop turn.
    func manageSnapshotData() {
        if raft.wantsSnapshotData {
            guard !snapshotLoading, let reader = store.latestSnapshotReader else { return }
            snapshotLoading = true
            let inbox = self.inbox
            snapshotThread.async { inbox.snapshotLoaded(Result { () throws(StorageError) in try reader.read() }) }
        } else {
            raft.releaseSnapshotData()
        }
    }

    func snapshotDataLoaded(_ loaded: Result<Snapshot, StorageError>) {
        snapshotLoading = false
        switch loaded {
        case .success(let snapshot) where snapshot.metadata == raft.snapshotMetadata:
            raft.setSnapshot(snapshot)
        case .success:
            break  // a newer snapshot replaced it meanwhile; asked for again while still wanted
        case .failure(let error):
            logger.warning("could not read the snapshot back for a follower; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// Stops the loop. `last` is the batch that carried the stop: whatever else came with it
    /// (requests queued in the same instant) is answered like everything still waiting.
    func shutDown(answering last: Inbox.Contents) {
        // A write whose sync is in flight finishes first: its writers get their answers.
        if syncing != nil {
            logSyncQueue.sync {}
            finishLogSync()
        }
        var drained = inbox.take(waitingUpTo: 0)
        drained.proposals = last.proposals + drained.proposals
        drained.clusterRequests = last.clusterRequests + drained.clusterRequests
        drained.reads = last.reads + drained.reads
        drained.catchUps = last.catchUps + drained.catchUps
        for proposal in drained.proposals { proposal.reply?(.failure(NodeError(.unavailable, "the node is shutting down"))) }
        for request in drained.clusterRequests + parkedConfChanges.map(\.request) {
            request.reply(.failure(NodeError(.unavailable, "the node is shutting down")))
        }
        parkedConfChanges = []
        for (_, waiter) in waiting { waiter.fail(NodeError(.unavailable, "the node is shutting down")) }
        waiting = [:]
        pendingReads.failAll(NodeError(.unavailable, "the node is shutting down"))
        for read in drained.reads { read.fail(NodeError(.unavailable, "the node is shutting down")) }
        // Forwarded writes the leader applied are answered as such, caught up here or not.
        catchUps.releaseAll()
        for write in drained.catchUps { write.done() }
        // Whatever the snapshot thread and the cleanup queue still have to do with this store's
        // files (a snapshot being written, compacted segments being deleted) finishes before the
        // store is released, so a node reopened on the same directory in this process never
        // races it.
        snapshotThread.sync()
        cleanupQueue.sync {}
        store.close()
        logger.info("consensus loop stopped")
    }
}

/// A snapshot encoded off the loop, with its file written (or the error that stopped that).
struct EncodedSnapshot: Sendable {
    var snapshot: Snapshot
    var prepared: Result<PreparedSnapshot, StorageError>
    var timing: SnapshotTiming
}

/// Where a snapshot's time went, for its "snapshot taken" log line: from the loop's hand-off to
/// the snapshot thread, encoding the state, then compressing, writing and syncing the file, and
/// the snapshot thread's own CPU time for both (less than the wall time when serving threads
/// had the cores: the thread runs at `snapshot_nice`).
struct SnapshotTiming: Sendable {
    let handedOver: UInt64
    /// How many incidents were encoded afresh and how many reused an earlier snapshot's bytes.
    var encoding = SnapshotEncodingStats()
    private let started: UInt64
    private var encodedAt: UInt64
    private var writtenAt: UInt64
    private let cpuAtStart: UInt64
    private var cpuAtEncoded: UInt64
    private var cpuAtEnd: UInt64

    init(handedOver: UInt64) {
        self.handedOver = handedOver
        started = DispatchTime.now().uptimeNanoseconds
        encodedAt = started
        writtenAt = started
        cpuAtStart = Self.threadCPUNanoseconds()
        cpuAtEncoded = cpuAtStart
        cpuAtEnd = cpuAtStart
    }

    mutating func encoded() {
        encodedAt = DispatchTime.now().uptimeNanoseconds
        cpuAtEncoded = Self.threadCPUNanoseconds()
    }

    mutating func written() {
        writtenAt = DispatchTime.now().uptimeNanoseconds
        cpuAtEnd = Self.threadCPUNanoseconds()
    }

    var encodeMilliseconds: UInt64 { (encodedAt - started) / 1_000_000 }
    var writeMilliseconds: UInt64 { (writtenAt - encodedAt) / 1_000_000 }
    var cpuMilliseconds: UInt64 { (cpuAtEnd - cpuAtStart) / 1_000_000 }
    /// The encoding's share of `cpuMilliseconds` (the rest compressed, wrote and synced the file).
    var encodeCPUMilliseconds: UInt64 { (cpuAtEncoded - cpuAtStart) / 1_000_000 }
    var millisecondsSinceHandOver: UInt64 { (DispatchTime.now().uptimeNanoseconds - handedOver) / 1_000_000 }

    private static func threadCPUNanoseconds() -> UInt64 {
        var spec = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec) == 0 else { return 0 }
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

/// Memory to free on another thread: holds the last reference until `release`.
private final class Dropped<T: Sendable>: Sendable {
    private let value: Lock<T?>
    init(_ value: consuming T) { self.value = Lock(value) }
    func release() { _ = value.withLock { $0.take() } }
}

/// A Ready whose log write is being synced on `logSyncQueue`, and how much of it is done.
struct SyncingReady {
    var ready: Ready
    var sync: PendingSync
    var outcome: LogSyncOutcome
    /// How many of `ready.committedEntries` were applied (those durable before its write).
    var applied: Int
    var membershipChanged: Bool
}

/// How a log sync run on `logSyncQueue` ended, for the loop to pick up.
final class LogSyncOutcome: Sendable {
    let entries: Int
    let writeNanoseconds: UInt64
    private let ended = Lock<(sync: Result<Void, StorageError>, nanoseconds: UInt64)?>(nil)
    private let started = DispatchTime.now().uptimeNanoseconds

    init(entries: Int, writeNanoseconds: UInt64) {
        self.entries = entries
        self.writeNanoseconds = writeNanoseconds
    }

    func record(_ sync: Result<Void, StorageError>) {
        let took = DispatchTime.now().uptimeNanoseconds - started
        ended.withLock { $0 = (sync, took) }
    }

    var result: (sync: Result<Void, StorageError>, nanoseconds: UInt64)? { ended.withLock { $0 } }
}
