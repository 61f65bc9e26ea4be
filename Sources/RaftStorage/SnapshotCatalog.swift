import RaftCore

/// One snapshot file on disk.
struct SnapshotFileInfo: Equatable, Sendable {
    var index: LogIndex
    var path: String
    var bytes: Int
}

/// A snapshot written to its temporary file and fsync'd, not yet visible under its real name —
/// or, once `placed`, already under it (durably) but not yet in the catalog.
struct PendingSnapshot: Sendable {
    var temporaryPath: String
    var info: SnapshotFileInfo
    var header: SnapshotHeader
    /// `SnapshotPreparer` gave the file its real name and synced the directory: publishing only
    /// records it.
    var placed = false
}

/// The snapshot directory: which files exist, which one is the latest, and how a new one becomes
/// durable. A snapshot is written to `<name>.tmp`, fsync'd, renamed to `<name>`, and then the
/// directory is fsync'd, so a crash leaves either the complete new file or none at all (plus a
/// stray temporary file, deleted on the next open).
struct SnapshotCatalog {
    let directory: String
    /// Snapshot files, oldest first.
    private(set) var files: [SnapshotFileInfo] = []
    /// The header of the newest file, validated (header CRC) when the catalog was loaded.
    private(set) var latest: SnapshotHeader?

    var latestFile: SnapshotFileInfo? { files.last }
    var totalBytes: Int { files.reduce(0) { $0 + $1.bytes } }

    /// Lists `directory`, deletes stray temporary files, and validates the newest snapshot's header.
    static func load(directory: String) throws(StorageError) -> SnapshotCatalog {
        var catalog = SnapshotCatalog(directory: directory)
        var removedTemporary = false
        for name in try PosixDirectory.names(in: directory) {
            let path = directory + "/" + name
            if name.hasSuffix(SnapshotFormat.suffix + SnapshotFormat.temporarySuffix) {
                try PosixDirectory.remove(path)
                removedTemporary = true
            } else if name.hasSuffix(SnapshotFormat.suffix) {
                guard let index = SnapshotFormat.index(ofFileName: name) else {
                    throw StorageError(.corruptSnapshot, "not a valid snapshot file name", path: path)
                }
                catalog.files.append(SnapshotFileInfo(index: index, path: path, bytes: try PosixDirectory.fileSize(path)))
            }
        }
        if removedTemporary { try PosixDirectory.sync(directory) }
        catalog.files.sort { $0.index < $1.index }
        if let newest = catalog.files.last {
            let header = try SnapshotFile.readHeader(newest.path)
            guard header.metadata.index == newest.index else {
                throw StorageError(
                    .corruptSnapshot, "header says index \(header.metadata.index), the file name disagrees",
                    path: newest.path, offset: 12)
            }
            catalog.latest = header
        }
        return catalog
    }

    /// Step one of saving: the complete snapshot in a temporary file, fsync'd. Failing here
    /// changes nothing visible (the temporary file is removed).
    /// `prefix` keeps a snapshot prepared on another thread (`SnapshotPreparer`) from sharing its
    /// temporary file with one saved on the store's own thread at the same index.
    func writeTemporary(_ snapshot: Snapshot, prefix: String = "") throws(StorageError) -> PendingSnapshot {
        try Self.writeTemporary(snapshot, directory: directory, prefix: prefix)
    }

    static func writeTemporary(_ snapshot: Snapshot, directory: String, prefix: String) throws(StorageError) -> PendingSnapshot {
        let name = SnapshotFormat.fileName(index: snapshot.metadata.index)
        let temporary = directory + "/" + prefix + name + SnapshotFormat.temporarySuffix
        do throws(StorageError) {
            let bytes = try SnapshotFile.write(snapshot, to: temporary)
            let header = try SnapshotFile.readHeader(temporary)
            let info = SnapshotFileInfo(index: snapshot.metadata.index, path: directory + "/" + name, bytes: bytes)
            return PendingSnapshot(temporaryPath: temporary, info: info, header: header)
        } catch {
            try? PosixDirectory.remove(temporary)
            throw error
        }
    }

    /// Step two: rename into place and fsync the directory (unless `placed` did already). After
    /// this the snapshot is the latest.
    mutating func publish(_ pending: PendingSnapshot) throws(StorageError) {
        if !pending.placed {
            try PosixDirectory.rename(pending.temporaryPath, to: pending.info.path)
            try PosixDirectory.sync(directory)
        }
        files.append(pending.info)
        latest = pending.header
    }

    /// Step two off the store's thread (`SnapshotPreparer`): the file gets its real name through a
    /// hard link, which never replaces a file of that name (one the store saved at the same index
    /// meanwhile), the temporary name goes, and the directory is fsync'd. Not in the catalog yet:
    /// `publish` records it. Unchanged (still temporary) when the name exists or the file system
    /// cannot link; `publish` then renames as before.
    static func place(_ pending: PendingSnapshot, directory: String) throws(StorageError) -> PendingSnapshot {
        guard PosixDirectory.linkUnlessPresent(pending.temporaryPath, as: pending.info.path) else { return pending }
        do throws(StorageError) {
            try PosixDirectory.remove(pending.temporaryPath)
            try PosixDirectory.sync(directory)
        } catch {
            // Not known to be durable: take the real name back; a temporary name left behind is
            // deleted at the next open.
            try? PosixDirectory.remove(pending.info.path)
            throw error
        }
        var placed = pending
        placed.placed = true
        return placed
    }

    /// Deletes the oldest files until `count` remain.
    mutating func prune(retaining count: Int) throws(StorageError) {
        try detachOldest(retaining: count).delete()
    }

    /// Forgets the oldest files until `count` remain and returns them, still on disk, for
    /// `ObsoleteFiles.delete()` on any thread. (On a file system mounted with `discard`, deleting
    /// a snapshot of tens of megabytes and syncing the directory takes 9–10 ms when idle, and a
    /// loop turn that published a snapshot under load took 27 ms.) A crash before
    /// they are deleted leaves them to `prune` when the store is next opened.
    mutating func detachOldest(retaining count: Int) -> ObsoleteFiles {
        var paths: [String] = []
        while files.count > count {
            paths.append(files[0].path)
            files.removeFirst()
        }
        return ObsoleteFiles(paths: paths, directory: directory)
    }
}
