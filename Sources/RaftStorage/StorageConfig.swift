/// Limits and sizes of a `RaftLogStore`. Every field has a unit in its name; `default` suits a
/// production node, tests shrink `segmentSizeBytes` to exercise rolling.
///
/// None of these values is part of the on-disk format: a store written with one configuration
/// opens with any other valid one (reading the WAL uses the format's own hard limits), so changing
/// them between restarts is safe, except that a `maxSnapshotBytes` below the latest snapshot's
/// size makes `loadSnapshot` refuse that snapshot, and a `maxBatchBytes` below the size of a batch
/// whose append a crash interrupted makes `open` refuse that torn tail as corruption (reopen with
/// the old value).
public struct StorageConfig: Sendable, Equatable {
    /// A segment is closed and a new one started once it holds at least this many bytes.
    ///
    /// Default 64 MiB. Compaction deletes whole segments, so smaller segments free disk sooner
    /// after a snapshot but mean more files and more segment headers; larger ones make recovery
    /// read more bytes per file. A segment ends at most one batch past it, plus records that never
    /// start a segment (hard-state-only batches, snapshot markers; docs/STORAGE.md, "Segments").
    /// Range 1 KiB ... 1 GiB.
    public var segmentSizeBytes: Int

    /// The largest encoded batch one `append` may write (entries + hard state + framing).
    ///
    /// Default 16 MiB. The driver must split bigger batches; a larger value only raises the memory
    /// one append (and recovery of that record) needs. Recovery also uses it to judge a damaged
    /// final record: a torn write declares at most this many bytes (docs/STORAGE.md, "Torn tail").
    /// Range 1 KiB ... 256 MiB (the format's record limit).
    public var maxBatchBytes: Int

    /// The largest uncompressed snapshot `saveSnapshot` accepts and `loadSnapshot` will allocate.
    ///
    /// Default 1 GiB. It guards recovery against a damaged or hostile length field; set it above
    /// the largest state machine image the node can produce, or snapshots will fail to save.
    /// Range 1 byte ... 64 GiB.
    public var maxSnapshotBytes: Int

    /// How many snapshot files are kept: the latest plus `retainedSnapshotCount - 1` older ones.
    ///
    /// Default 2. Only the latest is used by recovery; older ones are kept for operators
    /// (inspection, manual rollback). Range 1 ... 16.
    public var retainedSnapshotCount: Int

    /// How far ahead of the last record the active segment's file is zero-filled.
    ///
    /// Default 1 MiB; 0 turns it off. Overwriting blocks that were written (and synced) before
    /// needs no block allocation and no size change, so each append's `fdatasync` has no metadata
    /// to commit: on this project's ext4 test disk about a third less time and CPU per sync
    /// (docs/STORAGE.md, "Preallocation"). A segment's file is never extended past
    /// `segmentSizeBytes` this way, and the zeros are cut off when the segment is rolled.
    /// Range 0 ... 64 MiB.
    public var preallocationBytes: Int

    public init(
        segmentSizeBytes: Int = 64 << 20,
        maxBatchBytes: Int = 16 << 20,
        maxSnapshotBytes: Int = 1 << 30,
        retainedSnapshotCount: Int = 2,
        preallocationBytes: Int = 1 << 20
    ) {
        self.segmentSizeBytes = segmentSizeBytes
        self.maxBatchBytes = maxBatchBytes
        self.maxSnapshotBytes = maxSnapshotBytes
        self.retainedSnapshotCount = retainedSnapshotCount
        self.preallocationBytes = preallocationBytes
    }

    public static let `default` = StorageConfig()

    /// Throws `invalidConfig` naming the first field out of range.
    public func validate() throws(StorageError) {
        try check("segmentSizeBytes", segmentSizeBytes, 1 << 10, 1 << 30)
        try check("maxBatchBytes", maxBatchBytes, 1 << 10, WALFormat.maxRecordPayloadBytes)
        try check("maxSnapshotBytes", maxSnapshotBytes, 1, 64 << 30)
        try check("retainedSnapshotCount", retainedSnapshotCount, 1, 16)
        try check("preallocationBytes", preallocationBytes, 0, 64 << 20)
    }

    private func check(_ field: String, _ value: Int, _ low: Int, _ high: Int) throws(StorageError) {
        guard (low...high).contains(value) else {
            throw StorageError(.invalidConfig, "\(field) is \(value), must be in \(low)...\(high)")
        }
    }
}
