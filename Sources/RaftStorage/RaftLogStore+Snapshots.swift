import RaftCore

extension RaftLogStore {
    /// Durably saves `snapshot` and makes it the latest: the file is written to a temporary name,
    /// fsync'd, renamed and the directory fsync'd; then a snapshot marker is appended to the WAL.
    /// Entries up to the snapshot's index leave the log; if the log does not contain the
    /// snapshot's last entry (index and term), it is discarded whole (a snapshot received from
    /// the leader replaces a diverged log). Snapshot files beyond `retainedSnapshotCount` are
    /// deleted. WAL segments are not: call `compact(upTo:)` for that.
    ///
    /// Throws `staleSnapshot` unless the index is above the latest snapshot's, `snapshotTooLarge`
    /// over `maxSnapshotBytes`. A failure while writing the temporary file leaves everything as
    /// it was; a failure after that fails the store (reopening completes or ignores the save).
    public func saveSnapshot(_ snapshot: Snapshot) throws(StorageError) {
        try checkUsable()
        try checkSaveable(snapshot.metadata, dataBytes: snapshot.data.count)
        let obsolete = try finishSaving(try catalog.writeTemporary(snapshot))
        try durably { () throws(StorageError) in try obsolete.delete() }
    }

    /// Writes snapshot files on another thread than the one that owns the store: compressing,
    /// writing and fsyncing a large snapshot takes long enough to stall a loop that also appends
    /// to the log. `prepare` does that part and puts the file in place (hard link, directory
    /// fsync); `publishSnapshot(_:)`, on the store's thread, does the rest of `saveSnapshot(_:)`
    /// (catalog, WAL marker, pruning).
    public var snapshotPreparer: SnapshotPreparer {
        SnapshotPreparer(directory: catalog.directory, maxSnapshotBytes: config.maxSnapshotBytes)
    }

    /// Makes a snapshot from `SnapshotPreparer.prepare` the latest, as `saveSnapshot(_:)` does,
    /// except that the snapshot files it replaces are returned rather than deleted: the caller
    /// runs `delete()` on them off the store's thread (see `SnapshotCatalog.detachOldest`).
    /// A prepared snapshot that is no longer above the latest (one received from the leader was
    /// saved meanwhile) is thrown away with `staleSnapshot`, its file removed (`discard(_:)`).
    public func publishSnapshot(_ prepared: PreparedSnapshot) throws(StorageError) -> ObsoleteFiles {
        do throws(StorageError) {
            try checkUsable()
            try checkSaveable(prepared.metadata, dataBytes: prepared.pending.header.dataBytes)
        } catch {
            discard(prepared)
            throw error
        }
        return try finishSaving(prepared.pending)
    }

    /// Reads the latest snapshot on another thread (see `SnapshotReader`); nil when there is none.
    public var latestSnapshotReader: SnapshotReader? {
        catalog.latestFile.map { SnapshotReader(path: $0.path, maxDataBytes: config.maxSnapshotBytes) }
    }

    /// Removes a prepared snapshot's file without publishing it — under its real name only when
    /// that name is not the catalog's (a snapshot saved at the same index took it).
    public func discard(_ prepared: PreparedSnapshot) {
        let pending = prepared.pending
        if !pending.placed {
            try? PosixDirectory.remove(pending.temporaryPath)
        } else if !catalog.files.contains(where: { $0.path == pending.info.path }) {
            try? PosixDirectory.remove(pending.info.path)
        }
    }

    private func checkSaveable(_ metadata: SnapshotMetadata, dataBytes: Int) throws(StorageError) {
        let latestIndex = catalog.latest?.metadata.index ?? 0
        guard metadata.index > latestIndex else {
            throw StorageError(.staleSnapshot, "snapshot index \(metadata.index) is not above the latest, \(latestIndex)")
        }
        guard dataBytes <= config.maxSnapshotBytes else {
            throw StorageError(.snapshotTooLarge, "snapshot data is \(dataBytes) bytes, over maxSnapshotBytes \(config.maxSnapshotBytes)")
        }
    }

    /// Publishes `pending` and writes its WAL marker; returns the snapshot files now beyond
    /// `retainedSnapshotCount`, no longer in the catalog but still on disk.
    private func finishSaving(_ pending: PendingSnapshot) throws(StorageError) -> ObsoleteFiles {
        let metadata = pending.header.metadata
        try durably { () throws(StorageError) in try catalog.publish(pending) }
        let discards = window.snapshotDiscardsLog(index: metadata.index, term: metadata.term)
        let marker = SnapshotMarker(index: metadata.index, term: metadata.term, discardsLog: discards)
        try writeRecord(.snapshotMarker) { marker.encode(into: &$0) }
        window.applySnapshot(index: metadata.index, term: metadata.term, discardsLog: discards)
        return catalog.detachOldest(retaining: config.retainedSnapshotCount)
    }

    /// Reads the latest snapshot, checking its data against the CRC in its header and refusing
    /// to allocate more than `maxSnapshotBytes`; nil when none has been saved.
    public func loadSnapshot() throws(StorageError) -> Snapshot? {
        guard lock != nil else { throw StorageError(.storeFailed, "the store is closed", path: directory) }
        guard let file = catalog.latestFile else { return nil }
        return try SnapshotFile.read(file.path, maxDataBytes: config.maxSnapshotBytes)
    }

    /// Deletes the WAL segments that hold nothing the log still needs once everything up to
    /// `index` is covered by the latest snapshot: a segment goes when the next segment starts at
    /// or below `index + 1` (whole segments only, oldest first; the active segment always stays).
    /// Returns how many segments were deleted.
    ///
    /// The driver passes the index it no longer needs entries for, e.g. the minimum of the latest
    /// snapshot's index and what the archiver has copied. Throws `compactBeyondSnapshot` when
    /// `index` is above the latest snapshot's index: those entries exist nowhere else.
    @discardableResult
    public func compact(upTo index: LogIndex) throws(StorageError) -> Int {
        let obsolete = try detachSegments(upTo: index)
        try obsolete.delete()
        return obsolete.count
    }

    /// `compact(upTo:)` in two steps, for a driver whose store thread must not wait for the file
    /// system: the segments leave the log now, and the returned value deletes their files when
    /// `delete()` runs, on any thread, after this call. (Deleting a segment of tens of megabytes
    /// and syncing the directory took up to 35 ms on the consensus loop.) Until then they are
    /// files the log no longer refers to: a crash before leaves them to be replayed as a prefix
    /// of the log and compacted again after reopening.
    public func detachSegments(upTo index: LogIndex) throws(StorageError) -> ObsoleteFiles {
        try checkUsable()
        let covered = catalog.latest?.metadata.index ?? 0
        guard index <= covered else {
            throw StorageError(.compactBeyondSnapshot, "cannot compact up to \(index): the latest snapshot covers up to \(covered)")
        }
        var paths: [String] = []
        while segments.count > 1, segments[1].header.firstIndex - 1 <= index {
            paths.append(segments[0].path)
            segments.removeFirst()
        }
        return ObsoleteFiles(paths: paths, directory: walDirectory)
    }
}

/// Files the store no longer refers to — WAL segments (`RaftLogStore.detachSegments(upTo:)`) or
/// replaced snapshots (`RaftLogStore.publishSnapshot(_:)`) — oldest first, still on disk until
/// `delete()`.
public struct ObsoleteFiles: Sendable {
    let paths: [String]
    let directory: String

    public var count: Int { paths.count }

    /// Deletes the files oldest first, so a crash part-way leaves a suffix of the sequence (which
    /// replays), then syncs the directory.
    public func delete() throws(StorageError) {
        guard !paths.isEmpty else { return }
        for path in paths { try PosixDirectory.remove(path) }
        try PosixDirectory.sync(directory)
    }
}

/// Writes a snapshot file (compressed, fsync'd) off the store's thread and gives it its real
/// name (a hard link, then a directory fsync: `SnapshotCatalog.place`), so that the store's
/// thread, which may be a loop answering writes, does neither (renaming and syncing the
/// directory took 0.2–5 ms of a consensus loop's turn at 10,000 events/s); see
/// `RaftLogStore.snapshotPreparer`. The store does not use it until `publishSnapshot(_:)`. A crash
/// before that leaves a complete snapshot of applied (so committed) entries under its real
/// name: the next `open` takes it as the latest if it is, and writes its WAL marker, as after a
/// crash between publishing and the marker. When the name exists already (the store saved a
/// snapshot at that index meanwhile) or the file system cannot link, the file keeps its
/// temporary name, and `publishSnapshot(_:)` renames it as before; a temporary file left by a
/// crash is deleted at the next open.
public struct SnapshotPreparer: Sendable {
    let directory: String
    let maxSnapshotBytes: Int

    /// Its own prefix, so it never shares a temporary file with `saveSnapshot(_:)`.
    static let temporaryPrefix = "prepared-"

    public func prepare(_ snapshot: Snapshot) throws(StorageError) -> PreparedSnapshot {
        guard snapshot.data.count <= maxSnapshotBytes else {
            throw StorageError(
                .snapshotTooLarge, "snapshot data is \(snapshot.data.count) bytes, over maxSnapshotBytes \(maxSnapshotBytes)")
        }
        let pending = try SnapshotCatalog.writeTemporary(snapshot, directory: directory, prefix: Self.temporaryPrefix)
        do throws(StorageError) {
            return PreparedSnapshot(metadata: snapshot.metadata, pending: try SnapshotCatalog.place(pending, directory: directory))
        } catch {
            try? PosixDirectory.remove(pending.temporaryPath)
            throw error
        }
    }
}

/// A snapshot in its fsync'd file (normally under its real name already), ready for
/// `RaftLogStore.publishSnapshot(_:)`.
public struct PreparedSnapshot: Sendable {
    public let metadata: SnapshotMetadata
    let pending: PendingSnapshot
}

/// Reads one snapshot file off the store's thread, as `loadSnapshot()` does. The file can be
/// pruned meanwhile (a newer snapshot was saved); then `read` fails and the caller asks again.
public struct SnapshotReader: Sendable {
    let path: String
    let maxDataBytes: Int

    public func read() throws(StorageError) -> Snapshot {
        try SnapshotFile.read(path, maxDataBytes: maxDataBytes)
    }
}
