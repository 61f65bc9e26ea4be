/// Why a storage operation failed. Match on `code`, never on `message`.
///
/// Errors about on-disk data name the file (`path`) and, where it applies, the byte `offset`
/// inside it, so an operator can look at exactly what recovery refused.
public struct StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A system call failed (`errorNumber` holds the `errno`). After a failed write or sync
        /// the store refuses all further work (`storeFailed`): the kernel may have dropped the
        /// dirty pages, so the only safe continuation is to reopen and recover from what is
        /// really on disk.
        case ioFailure = "io_failure"
        /// An earlier write or sync failed, or the store was closed; reopen it.
        case storeFailed = "store_failed"
        /// Another process (or another open store in this process) holds the directory's lock.
        case directoryLocked = "directory_locked"
        /// A WAL record fails its checksum or framing somewhere other than a torn tail: in a
        /// segment that is not the last, or in the last one when the bytes from it to the end of
        /// the file are not what an interrupted append leaves (docs/STORAGE.md, "Torn tail") —
        /// non-zero bytes after the record its header declares, an implausible header, a valid
        /// record after it.
        case corruptRecord = "corrupt_record"
        /// A segment header is damaged or names the wrong index, or a segment file name is malformed.
        case corruptSegment = "corrupt_segment"
        /// A segment of the sequence is missing (gap in sequence numbers, or the first segment
        /// starts after the snapshot), so entries in between are gone.
        case missingSegment = "missing_segment"
        /// Records pass their checksums but contradict each other (a batch that leaves a gap,
        /// a hard state that differs from the next segment's header, an unknown field value).
        case inconsistentLog = "inconsistent_log"
        /// The WAL refers to a snapshot that is not on disk.
        case missingSnapshot = "missing_snapshot"
        /// A snapshot file fails its checksum, is truncated or is malformed.
        case corruptSnapshot = "corrupt_snapshot"
        /// A file was written by a newer format version.
        case unsupportedVersion = "unsupported_version"
        /// A snapshot's data exceeds `StorageConfig.maxSnapshotBytes`.
        case snapshotTooLarge = "snapshot_too_large"
        /// One `append` exceeds `StorageConfig.maxBatchBytes` once encoded.
        case batchTooLarge = "batch_too_large"
        /// `append` was given entries that do not continue the log (gap, not contiguous, or at or
        /// below the snapshot index).
        case invalidAppend = "invalid_append"
        /// `saveSnapshot` was given a snapshot that is not newer than the latest one.
        case staleSnapshot = "stale_snapshot"
        /// `compact(upTo:)` was asked to drop entries no snapshot covers.
        case compactBeyondSnapshot = "compact_beyond_snapshot"
        /// `StorageConfig.validate()` rejected a field (named in `message`).
        case invalidConfig = "invalid_config"
    }

    public var code: Code
    public var message: String
    /// The file or directory concerned, when there is one.
    public var path: String?
    /// The byte offset inside `path` where the problem starts, when it is about file contents.
    public var offset: Int?
    /// The `errno` of a failed system call.
    public var errorNumber: Int32?

    public init(_ code: Code, _ message: String, path: String? = nil, offset: Int? = nil, errorNumber: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.errorNumber = errorNumber
    }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let path { text += " (\(path)" + (offset.map { " at byte \($0)" } ?? "") + ")" }
        if let errorNumber { text += " [errno \(errorNumber)]" }
        return text
    }
}
