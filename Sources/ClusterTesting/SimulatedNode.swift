import RaftCore

/// One simulated member: a real `Raft`, its simulated disk and its application state, driven
/// exactly as ClusterNode drives it (persist → send → apply → advance).
public struct SimulatedNode: Sendable {
    public let id: NodeID
    public internal(set) var raft: Raft
    public internal(set) var storage: SimulatedStorage
    public internal(set) var app: ReplicatedSet
    public internal(set) var isUp = true
    /// Read-index answers received so far (consumed by tests).
    public var readStates: [ReadState] = []
    public var failedReads: [[UInt8]] = []
    var config: RaftConfig
    /// Take a snapshot every this many applied entries (0: never).
    var snapshotInterval: LogIndex
    /// Entries kept below a snapshot for slow followers.
    var retainedEntries: LogIndex
    var snapshotPadding: Int
    /// Drive Raft as ClusterNode does: release the snapshot's data whenever Raft allows, and hand
    /// it back from storage when Raft wants it for a follower.
    var releasesSnapshotData = false
    /// A broken driver (test-only): every message leaves before the write it depends on.
    var sendsEverythingBeforeWriting = false
    /// Sync each Ready's write later, as ClusterNode does (`NodeConfig.deferLogSyncs`): the
    /// write is durable only at the next `processReady` (one message or tick later); meanwhile
    /// the member steps messages and applies what `Raft.committedEntriesWhilePersisting` hands
    /// out, and a crash loses the write (or keeps a torn prefix of it).
    var defersSyncs = false
    /// With `defersSyncs`: after each sync the next Ready waits two `processReady` calls, as
    /// ClusterNode's does under load (`NodeConfig.minBusySyncIntervalMicroseconds`), and those
    /// calls apply what `Raft.durableCommittedEntries` hands out — entries of the write just
    /// synced whose commit was learnt during it, and whatever commits during the hold.
    var holdsReadies = false
    /// The Ready whose write is not durable yet, and how many of its committed entries were
    /// applied (those durable before it).
    private var syncing: (ready: Ready, applied: Int)?
    /// How many more `processReady` calls the next Ready waits (`holdsReadies`).
    private var heldCalls = 0
    /// A write waits for its sync, or the next Ready for the end of a hold (the next
    /// `processReady` calls complete them).
    public var hasPendingSync: Bool { syncing != nil || heldCalls > 0 }
    var restarts: UInt64 = 0

    init(config: RaftConfig, storage: SimulatedStorage, snapshotInterval: LogIndex, retainedEntries: LogIndex, snapshotPadding: Int, seed: UInt64) {
        id = config.id
        self.config = config
        self.storage = storage
        self.snapshotInterval = snapshotInterval
        self.retainedEntries = retainedEntries
        self.snapshotPadding = snapshotPadding
        app = ReplicatedSet(decoding: storage.snapshot.data)
        // The configuration is validated by the cluster before nodes are built.
        raft = Self.restore(config: config, storage: storage, seed: seed)
    }

    private static func restore(config: RaftConfig, storage: SimulatedStorage, seed: UInt64) -> Raft {
        do {
            return try Raft(config: config, hardState: storage.hardState, snapshot: storage.snapshot, entries: storage.entriesAfterSnapshot, randomSeed: seed)
        } catch {
            preconditionFailure("simulator config invalid: \(error)")
        }
    }

    /// Processes every pending `Ready`. Returns the messages to put on the network and calls
    /// `onApply` for each applied entry (for the invariant checker).
    mutating func processReady(onApply: (NodeID, Entry) -> Void) -> [Message] {
        guard isUp else { return [] }
        var out: [Message] = []
        while true {
            out += processReadyOnce(onApply: onApply)
            guard releasesSnapshotData else { break }
            if raft.wantsSnapshotData {
                raft.setSnapshot(storage.snapshot)
                continue
            }
            raft.releaseSnapshotData()
            break
        }
        return out
    }

    private mutating func processReadyOnce(onApply: (NodeID, Entry) -> Void) -> [Message] {
        var out: [Message] = []
        if let pending = syncing {
            // What committed (and is durable here) since the write, then the sync completes.
            applyWhileSyncing(onApply: onApply)
            storage.persist(pending.ready)
            syncing = nil
            out += finish(pending.ready, applied: pending.applied, onApply: onApply)
            if holdsReadies { heldCalls = 2 }
        }
        if heldCalls > 0 {
            heldCalls -= 1
            for entry in raft.durableCommittedEntries() {
                app.apply(entry)
                onApply(id, entry)
            }
            return out
        }
        while raft.hasReady {
            let ready = raft.ready()
            out.append(contentsOf: ready.earlyMessages)
            if sendsEverythingBeforeWriting { out.append(contentsOf: ready.messages) }
            if defersSyncs, ready.snapshot == nil, ready.mustSync || !ready.entries.isEmpty {
                let firstUnstable = ready.entries.first?.index ?? LogIndex.max
                let durable = ready.committedEntries.prefix { $0.index < firstUnstable }
                for entry in durable {
                    app.apply(entry)
                    onApply(id, entry)
                }
                syncing = (ready, durable.count)
                applyWhileSyncing(onApply: onApply)
                return out
            }
            storage.persist(ready)
            if let snap = ready.snapshot {
                app = ReplicatedSet(decoding: snap.data)
            }
            out += finish(ready, applied: 0, onApply: onApply)
        }
        return out
    }

    /// The rest of a durable Ready: its messages, its committed entries from `applied` on,
    /// `advance`.
    private mutating func finish(_ ready: Ready, applied: Int, onApply: (NodeID, Entry) -> Void) -> [Message] {
        readStates.append(contentsOf: ready.readStates)
        failedReads.append(contentsOf: ready.failedReads)
        for entry in ready.committedEntries[applied...] {
            app.apply(entry)
            onApply(id, entry)
        }
        raft.advance(ready)
        maybeSnapshot()
        return sendsEverythingBeforeWriting ? [] : ready.messages
    }

    private mutating func applyWhileSyncing(onApply: (NodeID, Entry) -> Void) {
        guard let pending = syncing, pending.applied == pending.ready.committedEntries.count else { return }
        for entry in raft.committedEntriesWhilePersisting(pending.ready) {
            app.apply(entry)
            onApply(id, entry)
        }
    }

    private mutating func maybeSnapshot() {
        guard snapshotInterval > 0, raft.appliedIndex >= storage.snapshot.metadata.index + snapshotInterval else { return }
        let snap = Snapshot(metadata: raft.snapshotMetadataAtApplied, data: app.encoded(padding: snapshotPadding))
        raft.setSnapshot(snap)
        let compactTo = snap.metadata.index > retainedEntries ? snap.metadata.index - retainedEntries : 0
        let through = max(compactTo, raft.firstIndex - 1)
        raft.compactLog(through: through)
        storage.saveSnapshot(snap, compactThrough: through)
    }

    /// Stops the member. With `tornEntries`, the Ready being written when the power went out
    /// left only that many of its entries on disk (and none of its hard state); what it may send
    /// before writing (a leader's appends) had already left and is returned.
    mutating func crash(tornEntries: Int? = nil) -> [Message] {
        var sent: [Message] = []
        if let pending = syncing {
            // The write was not synced: lost, or torn like any write the power cut.
            if let keep = tornEntries { storage.persist(pending.ready, keepingEntries: min(keep, pending.ready.entries.count)) }
            syncing = nil
        } else if let keep = tornEntries, raft.hasReady {
            let ready = raft.ready()
            sent = ready.earlyMessages + (sendsEverythingBeforeWriting ? ready.messages : [])
            storage.persist(ready, keepingEntries: min(keep, ready.entries.count))
        }
        heldCalls = 0
        isUp = false
        return sent
    }

    /// Restarts from disk: the application state comes from the snapshot and the log is
    /// replayed from there.
    mutating func restart(seed: UInt64) {
        restarts += 1
        readStates = []
        failedReads = []
        app = ReplicatedSet(decoding: storage.snapshot.data)
        raft = Self.restore(config: config, storage: storage, seed: seed &+ restarts)
        isUp = true
    }
}
