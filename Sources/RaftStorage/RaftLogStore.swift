#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RaftCore

/// The durable half of a Raft node: a segmented write-ahead log of entries and hard state, plus
/// LZ4-compressed snapshot files, in one directory (`wal/`, `snap/`, `LOCK`; docs/STORAGE.md).
///
/// The driver's loop, per RaftCore `Ready`: `append(entries, hardState:)` (one write, one fsync:
/// group commit), then send messages, then apply committed entries; `saveSnapshot` when it has
/// taken or received one; `compact(upTo:)` once a snapshot (and the archiver) cover a prefix.
/// Every mutating call is durable when it returns.
///
/// Ownership: a class with a single owner, deliberately not `Sendable`. It holds open file
/// descriptors and an in-memory mirror of the log that must change in step with the files, so
/// exactly one thread or actor (the driver's persistence loop) may use it; `open` returns it as a
/// `sending` value so that owner can take it over. A second `open` of the same directory, in this
/// process or another, fails with `directoryLocked`.
///
/// After any failed write or fsync the store refuses further work (`storeFailed`): once fsync has
/// failed, the page cache may no longer match the disk, so the only safe way on is to reopen and
/// recover from what is durable.
public final class RaftLogStore {
    public let directory: String
    public let config: StorageConfig
    let walDirectory: String
    var lock: PosixFile?
    /// WAL segments, oldest first; the last one is `active`.
    var segments: [SegmentInfo]
    var active: PosixFile
    /// Terms of the log after the latest snapshot (or after the oldest segment's start).
    var window: LogWindow
    var catalog: SnapshotCatalog
    /// The first write or sync failure; set, it makes every further mutation throw.
    var failure: StorageError?
    /// The record `appendDeferringSync` wrote whose sync has not finished yet.
    var syncInFlight: PendingSync?

    /// The latest hard state made durable.
    public internal(set) var hardState: HardState

    private init(
        directory: String, config: StorageConfig, lock: PosixFile, segments: [SegmentInfo], active: PosixFile,
        window: LogWindow, catalog: SnapshotCatalog, hardState: HardState
    ) {
        self.directory = directory
        self.config = config
        self.walDirectory = directory + "/wal"
        self.lock = lock
        self.segments = segments
        self.active = active
        self.window = window
        self.catalog = catalog
        self.hardState = hardState
    }

    deinit { close() }

    /// Opens (creating if needed) the store in `directory`, whose parent must exist, and recovers
    /// it: the latest snapshot's metadata, the hard state and the entries after the snapshot.
    ///
    /// A torn final record of the last segment — the damage an append interrupted by a crash
    /// leaves, and nothing more (docs/STORAGE.md, "Torn tail") — is cut off (reported in
    /// `RecoveredState.discardedTail`); any other damage throws with the file and byte offset
    /// (`corruptRecord`, `corruptSegment`, `missingSegment`, `inconsistentLog`, `corruptSnapshot`,
    /// `missingSnapshot`). A refused open changes nothing on disk beyond creating missing
    /// directories and deleting `*.tmp` leftovers of interrupted file creations.
    public static func open(
        directory: String, config: StorageConfig = .default
    ) throws(StorageError) -> sending (store: RaftLogStore, recovered: RecoveredState) {
        try config.validate()
        let walDirectory = directory + "/wal"
        let snapshotDirectory = directory + "/snap"
        try createLayout(directory: directory, walDirectory: walDirectory, snapshotDirectory: snapshotDirectory)
        let lock = try PosixFile.open(directory + "/LOCK", flags: O_RDWR | O_CREAT)
        guard try lock.tryLock() else {
            throw StorageError(.directoryLocked, "the store is already open elsewhere", path: directory)
        }
        var catalog = try SnapshotCatalog.load(directory: snapshotDirectory)
        var replay: WALReplay
        if let existing = try WALReplay.run(directory: walDirectory, maxRecordBytes: config.maxBatchBytes) {
            replay = existing
        } else {
            guard catalog.files.isEmpty else {
                throw StorageError(.missingSegment, "snapshots exist but the WAL has no segment", path: walDirectory)
            }
            replay = WALReplay()
            let header = SegmentHeader(sequence: 1, firstIndex: 1, previousTerm: 0, hardState: .empty)
            replay.segments = [try createSegment(in: walDirectory, header: header, firstRecord: nil, config: config)]
        }
        let needsMarker = try reconcile(&replay, with: catalog)
        let recovered = RecoveredState(
            snapshot: catalog.latest?.metadata, hardState: replay.hardState, entries: replay.window.entries,
            discardedTail: replay.discardedTail)
        replay.window.discardEntries()
        let active = try PosixFile.open(replay.segments[replay.segments.count - 1].path, flags: O_RDWR)
        if let tail = replay.discardedTail {
            try active.truncate(to: tail.offset)
            try active.sync()
        }
        try catalog.prune(retaining: config.retainedSnapshotCount)
        let store = RaftLogStore(
            directory: directory, config: config, lock: lock, segments: replay.segments, active: active,
            window: replay.window, catalog: catalog, hardState: replay.hardState)
        if let marker = needsMarker {
            // A crash hit saveSnapshot between publishing the file and writing its marker: finish it.
            try store.writeRecord(.snapshotMarker) { marker.encode(into: &$0) }
        }
        return (store, recovered)
    }

    /// Checks the replayed WAL against the snapshot files and moves the log's base to the latest
    /// snapshot. Returns the marker to write when the WAL does not record that snapshot yet.
    private static func reconcile(_ replay: inout WALReplay, with catalog: SnapshotCatalog) throws(StorageError) -> SnapshotMarker? {
        let latest = catalog.latest?.metadata
        if let marker = replay.lastMarker {
            guard let latest, latest.index >= marker.index else {
                throw StorageError(
                    .missingSnapshot, "the WAL records a snapshot at index \(marker.index) but no snapshot file that recent exists",
                    path: catalog.directory)
            }
            guard latest.index > marker.index || latest.term == marker.term else {
                throw StorageError(
                    .inconsistentLog, "snapshot at index \(latest.index) has term \(latest.term), the WAL says \(marker.term)",
                    path: catalog.latestFile?.path)
            }
        }
        guard let latest else {
            guard replay.window.baseIndex == 0 else {
                throw StorageError(
                    .missingSegment, "the oldest segment starts at index \(replay.window.baseIndex + 1) and there is no snapshot",
                    path: replay.segments[0].path, offset: 0)
            }
            return nil
        }
        guard replay.window.baseIndex <= latest.index else {
            throw StorageError(
                .missingSegment,
                "the oldest segment starts at index \(replay.window.baseIndex + 1) but the snapshot covers only up to \(latest.index)",
                path: replay.segments[0].path, offset: 0)
        }
        let recorded = replay.lastMarker.map { $0.index == latest.index && $0.term == latest.term } ?? false
            || (replay.window.baseIndex == latest.index && replay.window.baseTerm == latest.term)
        if recorded {
            guard replay.window.baseIndex == latest.index else {
                throw StorageError(
                    .inconsistentLog, "the WAL records snapshot \(latest.index) but the log's base ended at \(replay.window.baseIndex)",
                    path: replay.segments[replay.segments.count - 1].path)
            }
            return nil
        }
        let discards = replay.window.snapshotDiscardsLog(index: latest.index, term: latest.term)
        replay.window.applySnapshot(index: latest.index, term: latest.term, discardsLog: discards)
        return SnapshotMarker(index: latest.index, term: latest.term, discardsLog: discards)
    }

    /// Creates `directory` and its `wal/` and `snap/` subdirectories, durably: each directory that
    /// gained an entry is synced.
    private static func createLayout(directory: String, walDirectory: String, snapshotDirectory: String) throws(StorageError) {
        if try PosixDirectory.create(directory) {
            let parent = directory.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            try PosixDirectory.sync(parent.isEmpty ? (directory.hasPrefix("/") ? "/" : ".") : parent)
        }
        let createdWAL = try PosixDirectory.create(walDirectory)
        let createdSnapshots = try PosixDirectory.create(snapshotDirectory)
        if createdWAL || createdSnapshots { try PosixDirectory.sync(directory) }
    }

    // MARK: - State for the driver and for metrics

    /// The first index still in the log (one after the latest snapshot).
    public var firstIndex: LogIndex { window.baseIndex + 1 }

    /// The last index in the log, or the snapshot's index when the log after it is empty.
    public var lastIndex: LogIndex { window.lastIndex }

    /// The latest snapshot's metadata; nil before the first `saveSnapshot`.
    public var latestSnapshot: SnapshotMetadata? { catalog.latest?.metadata }

    /// Bytes in all WAL segments.
    public var logBytes: Int { segments.reduce(0) { $0 + $1.bytes } }

    /// Bytes in all retained snapshot files (compressed, as on disk).
    public var snapshotBytes: Int { catalog.totalBytes }

    /// Number of WAL segment files.
    public var segmentCount: Int { segments.count }

    /// Closes the files and releases the directory lock. Further calls throw `storeFailed`.
    /// Nothing needs flushing: every call was durable when it returned.
    public func close() {
        if failure == nil { failure = StorageError(.storeFailed, "the store is closed", path: directory) }
        active.close()
        lock?.close()
        lock = nil
    }

    // MARK: - Failure discipline

    /// Throws when the store must not be used any more.
    func checkUsable() throws(StorageError) {
        if let failure {
            if failure.code == .storeFailed { throw failure }
            throw StorageError(.storeFailed, "an earlier write or sync failed, reopen the store: \(failure)", path: directory)
        }
    }

    /// Runs `body`; if it throws, the store is failed from then on.
    func durably<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        do throws(StorageError) {
            return try body()
        } catch {
            failure = error
            throw error
        }
    }
}
