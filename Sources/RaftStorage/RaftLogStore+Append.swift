#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RaftCore
import Synchronization

extension RaftLogStore {
    /// Durably appends `entries` and/or `hardState` as one WAL record with one fsync (group
    /// commit: the driver passes everything a `Ready` asks to persist in a single call). When it
    /// returns, both are on disk; a crash during the call leaves either all of it or none of it.
    ///
    /// `entries` must be contiguous and start after the snapshot, at most one past `lastIndex`.
    /// Starting at or below `lastIndex` replaces the log from there on (Raft's conflicting-suffix
    /// rule); a restart never brings the replaced entries back. An empty call does nothing.
    ///
    /// Throws `invalidAppend` or `batchTooLarge` without writing anything, or an I/O error after
    /// which the store is failed (see the type's documentation).
    public func append(_ entries: [Entry], hardState: HardState? = nil) throws(StorageError) {
        _ = try writeBatch(entries, hardState: hardState, deferringSync: false)
    }

    /// `append` without waiting for the fsync: writes the record and returns the sync still to
    /// run, or nil when nothing is left to make durable (an empty call, or a batch that opened a
    /// new segment, which is written durably). The caller runs `PendingSync.run()` on any thread
    /// — the driver's loop goes on meanwhile — and then, on the store's thread,
    /// `finishSync(_:_:)`; only then is the record durable.
    ///
    /// Until that `finishSync`, `append` and `appendDeferringSync` throw `invalidAppend`: at most
    /// one record is ever written and not yet durable, so a crash still leaves at most a torn
    /// final record (docs/STORAGE.md, "Torn tail"). Other writes of the log meanwhile (a
    /// snapshot marker) make the pending record durable first.
    public func appendDeferringSync(_ entries: [Entry], hardState: HardState? = nil) throws(StorageError) -> PendingSync? {
        let pending = try writeBatch(entries, hardState: hardState, deferringSync: true)
        syncInFlight = pending
        return pending
    }

    /// The batch record of `append` / `appendDeferringSync`; with `deferringSync`, the sync still
    /// to run (nil when a roll wrote it durably).
    private func writeBatch(_ entries: [Entry], hardState: HardState?, deferringSync: Bool) throws(StorageError) -> PendingSync? {
        try checkUsable()
        guard !entries.isEmpty || hardState != nil else { return nil }
        guard syncInFlight == nil else {
            throw StorageError(.invalidAppend, "the previous append's sync has not finished", path: syncInFlight!.path)
        }
        try validateAppend(entries)
        let recordBytes = WALFormat.recordHeaderBytes + Batch.payloadBytes(entries: entries, hardState: hardState)
        guard recordBytes <= config.maxBatchBytes else {
            throw StorageError(.batchTooLarge, "batch encodes to \(recordBytes) bytes, over maxBatchBytes \(config.maxBatchBytes)")
        }
        let previousTerm = entries.first.flatMap { window.term(at: $0.index - 1) } ?? 0
        let body = { (writer: inout ByteWriter) in
            Batch.encode(entries: entries, previousTerm: previousTerm, hardState: hardState, into: &writer)
        }
        var pending: PendingSync?
        if let first = entries.first, shouldRoll(before: first.index) {
            try roll(firstIndex: first.index, body: body)
        } else {
            pending = try writeRecord(.batch, deferringSync: deferringSync, body: body)
        }
        window.append(entries)
        if let hardState { self.hardState = hardState }
        return pending
    }

    /// Records how `pending` (from `appendDeferringSync`) ended; a failed sync fails the store
    /// (and is rethrown): the record may not be durable, and the page cache may no longer match
    /// the disk.
    public func finishSync(_ pending: PendingSync, _ result: Result<Void, StorageError>) throws(StorageError) {
        if syncInFlight === pending { syncInFlight = nil }
        if case .failure(let error) = result {
            if failure == nil { failure = error }
            throw error
        }
    }

    private func validateAppend(_ entries: [Entry]) throws(StorageError) {
        guard let first = entries.first else { return }
        for (offset, entry) in entries.enumerated() where entry.index != first.index + LogIndex(offset) {
            throw StorageError(
                .invalidAppend, "entries are not contiguous: index \(entry.index) at position \(offset) after \(first.index)")
        }
        guard window.accepts(first: first.index) else {
            throw StorageError(
                .invalidAppend,
                "entries start at \(first.index); the log accepts \(window.baseIndex + 1)...\(window.lastIndex + 1)")
        }
    }

    /// A new segment starts when the active one is full and the batch has entries whose first
    /// index is above the active segment's: names then strictly increase, and no segment is ever
    /// empty of entries except the very first. Hard-state-only batches, snapshot markers and
    /// batches that rewrite the active segment's whole range stay in the active segment.
    private func shouldRoll(before firstIndex: LogIndex) -> Bool {
        let current = segments[segments.count - 1]
        return current.bytes >= config.segmentSizeBytes && firstIndex > current.header.firstIndex
    }

    /// Appends one record to the active segment and fdatasyncs it; with `deferringSync`, returns
    /// the fdatasync to run instead. A record whose sync is still in flight is made durable
    /// first, so that two records are never written and not yet durable at once.
    @discardableResult
    func writeRecord(
        _ type: WALRecordType, deferringSync: Bool = false, body: (inout ByteWriter) -> Void
    ) throws(StorageError) -> PendingSync? {
        let last = segments.count - 1
        let offset = segments[last].bytes
        var record = WALFormat.frame(type, at: offset, body: body)
        let recordBytes = record.count
        let fileBytes = Self.preallocatedSize(
            from: segments[last].fileBytes, toHold: offset + recordBytes, config: config)
        // Past the zero-filled space: extend it in the same write, so the same sync makes the
        // record and the new free space durable and the next appends overwrite written blocks.
        if fileBytes > segments[last].fileBytes {
            record += repeatElement(0, count: fileBytes - offset - recordBytes)
        }
        let pending = try durably { () throws(StorageError) -> PendingSync? in
            if syncInFlight != nil { try active.syncData() }
            try active.write(record, at: offset)
            guard deferringSync else {
                try active.syncData()
                return nil
            }
            return PendingSync(descriptor: try active.duplicate(), path: active.path)
        }
        segments[last].bytes += recordBytes
        segments[last].fileBytes = fileBytes
        return pending
    }

    /// The size a segment file of `current` bytes must have to hold `needed` bytes of records:
    /// unchanged while they fit, else extended `preallocationBytes` past what it must hold — but
    /// not past `segmentSizeBytes`, where the segment rolls (a segment's last batches may still
    /// end past it; then the file ends with them).
    static func preallocatedSize(from current: Int, toHold needed: Int, config: StorageConfig) -> Int {
        guard needed > current else { return current }
        return max(needed, min(needed + config.preallocationBytes, config.segmentSizeBytes))
    }

    /// Starts a new segment whose first record after the header is this batch, so a segment
    /// appears on disk together with its first entries or not at all.
    private func roll(firstIndex: LogIndex, body: (inout ByteWriter) -> Void) throws(StorageError) {
        guard let previousTerm = window.term(at: firstIndex - 1) else {
            preconditionFailure("validated append at \(firstIndex) has no term before it")
        }
        let header = SegmentHeader(
            sequence: segments[segments.count - 1].header.sequence + 1, firstIndex: firstIndex,
            previousTerm: previousTerm, hardState: hardState)
        let firstRecord = WALFormat.frame(.batch, at: WALFormat.recordHeaderBytes + SegmentHeader.payloadBytes, body: body)
        let last = segments.count - 1
        let segment = try durably { () throws(StorageError) in
            // The full segment loses its free space first, durably: only the last segment may
            // end in zeros (recovery refuses them anywhere else), and it stops being the last
            // once the new one is renamed into place.
            if segments[last].fileBytes > segments[last].bytes {
                try active.truncate(to: segments[last].bytes)
                try active.sync()
                segments[last].fileBytes = segments[last].bytes
            }
            return try Self.createSegment(in: walDirectory, header: header, firstRecord: firstRecord, config: config)
        }
        let file = try durably { () throws(StorageError) in try PosixFile.open(segment.path, flags: O_RDWR) }
        active.close()
        active = file
        segments.append(segment)
    }

    /// Writes a segment (header, optional first record, zero-filled free space) to `<name>.tmp`,
    /// fsyncs it, renames it into place and fsyncs the directory.
    static func createSegment(
        in directory: String, header: SegmentHeader, firstRecord: [UInt8]?, config: StorageConfig
    ) throws(StorageError) -> SegmentInfo {
        let path = directory + "/" + SegmentName.make(firstIndex: header.firstIndex)
        let temporary = path + SegmentName.temporarySuffix
        var bytes = WALFormat.frame(.segmentHeader, at: 0) { header.encode(into: &$0) }
        if let firstRecord { bytes += firstRecord }
        let recordBytes = bytes.count
        let fileBytes = preallocatedSize(from: 0, toHold: recordBytes, config: config)
        bytes += repeatElement(0, count: fileBytes - recordBytes)
        let file = try PosixFile.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        try file.write(bytes, at: 0)
        try file.sync()
        file.close()
        try PosixDirectory.rename(temporary, to: path)
        try PosixDirectory.sync(directory)
        return SegmentInfo(path: path, header: header, bytes: recordBytes, fileBytes: fileBytes)
    }
}

/// The fdatasync of a record `RaftLogStore.appendDeferringSync` wrote: `run()` it once, on any
/// thread, then hand the result to `RaftLogStore.finishSync(_:_:)` on the store's thread. It
/// syncs through a descriptor of its own, so the store may roll to a new segment (closing the
/// old one's) meanwhile.
public final class PendingSync: Sendable {
    let path: String
    private let descriptor: Int32
    private let ran = Atomic<Bool>(false)

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { closeDescriptor(descriptor) }

    /// Makes the record durable. Only the first call syncs; later ones fail.
    public func run() -> Result<Void, StorageError> {
        guard !ran.exchange(true, ordering: .acquiringAndReleasing) else {
            return .failure(StorageError(.invalidAppend, "the sync already ran", path: path))
        }
        return Result { () throws(StorageError) in try syncData(descriptor: descriptor, path: path) }
    }
}
