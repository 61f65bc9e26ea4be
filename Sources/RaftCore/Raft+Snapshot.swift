/// A snapshot being received in chunks.
struct IncomingSnapshot: Sendable {
    var metadata: SnapshotMetadata
    var totalBytes: Int
    var data: [UInt8]
}

extension Raft {
    // MARK: - Application side

    /// Gives Raft the application's newest snapshot (taken at `appliedIndex` or earlier), which
    /// it sends to followers that fall behind the compacted log.
    public mutating func setSnapshot(_ snapshot: Snapshot) {
        precondition(snapshot.metadata.index <= log.applied, "a snapshot cannot cover entries that were not applied")
        guard snapshot.metadata.index >= self.snapshot.metadata.index else { return }
        self.snapshot = snapshot
        snapshotDataReleased = false
        if snapshotDataWanted {
            // Handed back for a follower that needs it: start its transfer now, before the data
            // can be released again.
            snapshotDataWanted = false
            if role == .leader { broadcastAppend() }
        }
    }

    /// The snapshot Raft holds (its data may be released).
    public var snapshotMetadata: SnapshotMetadata { snapshot.metadata }

    /// Drops the snapshot's data from memory while no follower is being sent it: a driver that
    /// keeps the snapshot on disk need not also hold it in memory, where it is as large as the
    /// application's state. When a follower later needs it, `wantsSnapshotData` turns true and
    /// the driver hands the same snapshot back with `setSnapshot`; the transfer starts then.
    /// Returns whether the data was released.
    @discardableResult
    public mutating func releaseSnapshotData() -> Bool {
        guard !snapshot.isEmpty, !snapshotDataReleased, !snapshotDataWanted else { return false }
        for pr in progress.values {
            if case .snapshot = pr.state { return false }
        }
        snapshot.data = []
        snapshotDataReleased = true
        return true
    }

    /// A follower needs the snapshot whose data was released (see `releaseSnapshotData`).
    public var wantsSnapshotData: Bool { snapshotDataWanted }

    /// Whether the snapshot's data is in memory (false before the first snapshot and while released).
    public var holdsSnapshotData: Bool { !snapshot.isEmpty && !snapshotDataReleased }

    /// Metadata for a snapshot of the application state at the applied index.
    public var snapshotMetadataAtApplied: SnapshotMetadata {
        SnapshotMetadata(index: log.applied, term: log.term(at: log.applied) ?? 0, confState: confState)
    }

    /// Drops in-memory entries up to `index`, which the current snapshot must cover. The driver
    /// may keep a tail of entries before the snapshot index so slow followers catch up without a
    /// snapshot, and must compact its durable log the same way.
    ///
    /// Returns the log's former storage, compacted entries included: the memory is freed when
    /// the value is dropped, which a driver may do on another thread (a snapshot interval of
    /// 50,000 entries took 4–14 ms to free on the consensus loop).
    @discardableResult
    public mutating func compactLog(through index: LogIndex) -> [Entry] {
        precondition(index <= snapshot.metadata.index, "compacting past the snapshot would lose entries")
        return log.compact(through: index)
    }

    // MARK: - Leader: sending in chunks

    /// Returns whether the transfer started (not while the snapshot's data is released).
    @discardableResult
    mutating func startSnapshotTransfer(to member: NodeID) -> Bool {
        guard var pr = progress[member] else { return false }
        precondition(!snapshot.isEmpty, "entries were compacted without a snapshot")
        if snapshotDataReleased {
            snapshotDataWanted = true
            return false
        }
        pr.becomeSnapshot(SnapshotTransfer(metadata: snapshot.metadata, totalBytes: snapshot.data.count))
        progress[member] = pr
        sendSnapshotChunks(to: member)
        return true
    }

    /// Sends chunks while the transfer's window (`maxInflightBytes`, at least one chunk) allows.
    mutating func sendSnapshotChunks(to member: NodeID) {
        guard case .snapshot(var transfer)? = progress[member]?.state else { return }
        if transfer.metadata != snapshot.metadata {
            // A newer snapshot replaced the one in transfer: start over with it.
            transfer = SnapshotTransfer(metadata: snapshot.metadata, totalBytes: snapshot.data.count)
        }
        let window = max(config.maxInflightBytes, config.snapshotChunkBytes)
        while !transfer.lastChunkSent && transfer.sent - transfer.acknowledged < window {
            let end = min(transfer.sent + config.snapshotChunkBytes, transfer.totalBytes)
            let done = end == transfer.totalBytes
            let chunk = Array(snapshot.data[transfer.sent..<end])
            send(.snapshotChunk(metadata: transfer.metadata, totalBytes: transfer.totalBytes, offset: transfer.sent, data: chunk, done: done), to: member)
            transfer.sent = end
            transfer.lastChunkSent = done
        }
        progress[member]!.state = .snapshot(transfer)
    }

    mutating func handleSnapshotChunkResponse(from member: NodeID, index: LogIndex, received: Int, reject: Bool) {
        guard var pr = progress[member], case .snapshot(var transfer) = pr.state, transfer.metadata.index == index else { return }
        pr.recentActive = true
        if reject {
            pr.becomeProbe()
            progress[member] = pr
            return
        }
        transfer.idleTicks = 0
        // With a window of chunks in flight, most answers acknowledge a chunk while later ones
        // are still on the way: nothing to do. The follower misses something when it reports
        // the same offset again (it got a chunk past a gap) or a lower one (it restarted and
        // lost its partial copy): resend from there, once until that gap is filled, as it
        // repeats the report for every chunk that arrives after the gap.
        if received <= transfer.acknowledged && received < transfer.sent && transfer.resentFrom != received {
            transfer.acknowledged = received
            transfer.sent = received
            transfer.lastChunkSent = false
            transfer.resentFrom = received
        } else {
            transfer.acknowledged = max(transfer.acknowledged, min(received, transfer.totalBytes))
            if let from = transfer.resentFrom, transfer.acknowledged > from { transfer.resentFrom = nil }
        }
        pr.state = .snapshot(transfer)
        progress[member] = pr
        sendSnapshotChunks(to: member)
    }

    /// Resends from the last acknowledged byte when a transfer made no progress for an
    /// election timeout (a chunk or its answer was lost).
    mutating func tickSnapshotTransfers() {
        for member in progress.keys.sorted() {
            guard case .snapshot(var transfer)? = progress[member]?.state else { continue }
            transfer.idleTicks += 1
            if transfer.idleTicks >= config.electionTicks {
                transfer.idleTicks = 0
                transfer.sent = transfer.acknowledged
                transfer.lastChunkSent = false
                progress[member]!.state = .snapshot(transfer)
                sendSnapshotChunks(to: member)
            } else {
                progress[member]!.state = .snapshot(transfer)
            }
        }
    }

    // MARK: - Follower: receiving

    mutating func handleSnapshotChunk(from leader: NodeID, metadata: SnapshotMetadata, total: Int, offset: Int, data: [UInt8], done: Bool) {
        if metadata.index <= log.committed {
            // We already have everything it covers.
            incomingSnapshot = nil
            send(.appendResponse(index: log.committed, reject: false, hintIndex: 0, hintTerm: 0), to: leader)
            return
        }
        guard total >= 0, total <= config.maxSnapshotBytes, offset >= 0, offset + data.count <= total else {
            incomingSnapshot = nil
            send(.snapshotChunkResponse(index: metadata.index, received: 0, reject: true), to: leader)
            return
        }
        if offset == 0 {
            var buffer: [UInt8] = []
            buffer.reserveCapacity(total)
            incomingSnapshot = IncomingSnapshot(metadata: metadata, totalBytes: total, data: buffer)
        }
        guard var incoming = incomingSnapshot, incoming.metadata == metadata, incoming.totalBytes == total else {
            send(.snapshotChunkResponse(index: metadata.index, received: 0, reject: false), to: leader)
            return
        }
        guard offset == incoming.data.count else {
            // Out of order (a chunk was lost): ask for what we are missing.
            send(.snapshotChunkResponse(index: metadata.index, received: incoming.data.count, reject: false), to: leader)
            return
        }
        incoming.data.append(contentsOf: data)
        guard done, incoming.data.count == total else {
            incomingSnapshot = incoming
            send(.snapshotChunkResponse(index: metadata.index, received: incoming.data.count, reject: false), to: leader)
            return
        }
        incomingSnapshot = nil
        install(Snapshot(metadata: metadata, data: incoming.data))
        // Report only what is known to match the leader: the snapshot's last index (now our
        // commit index). When our log already held that entry, entries after it may still
        // conflict with the leader's and must not be claimed.
        send(.appendResponse(index: log.committed, reject: false, hintIndex: 0, hintTerm: 0), to: leader)
    }

    private mutating func install(_ received: Snapshot) {
        let meta = received.metadata
        if log.matches(index: meta.index, term: meta.term) {
            // Our log already contains the snapshot's last entry: just commit up to it.
            log.commit(to: meta.index)
            return
        }
        log.restore(received)
        snapshot = received
        confState = meta.confState
    }
}
