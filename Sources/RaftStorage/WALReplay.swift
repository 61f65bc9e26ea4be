#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RaftCore

/// A segment file of the WAL as the store tracks it.
struct SegmentInfo: Equatable {
    var path: String
    var header: SegmentHeader
    /// Where the segment's records end: the offset of the next record.
    var bytes: Int
    /// The file's size: `bytes` plus the zero-filled free space after the records
    /// (`StorageConfig.preallocationBytes`; only the active segment has any).
    var fileBytes: Int
}

/// Reads every segment of a WAL directory in order and rebuilds the log, the hard state and the
/// latest snapshot marker. It checks what the checksums cannot: that segments form an unbroken
/// sequence, that each header agrees with what the records before it produced, and that every
/// batch continues the log. It writes nothing except removing `*.seg.tmp` leftovers; a torn tail
/// of the last segment (see `SegmentScanner`) is reported in `discardedTail` for the store to cut.
struct WALReplay {
    var segments: [SegmentInfo] = []
    var window = LogWindow(baseIndex: 0, baseTerm: 0, keepsEntries: true)
    var hardState = HardState.empty
    var lastMarker: SnapshotMarker?
    /// True while the base is the one the oldest retained segment's header gave: entries below it
    /// were compacted away, so a batch may legitimately rewrite from below it. False once a snapshot
    /// marker has set the base, which the running store then enforced as well.
    var baseIsProvisional = true
    var discardedTail: DiscardedTail?

    /// Replays `directory`; nil when it holds no segment yet. Leftover temporary files of a segment
    /// creation that never completed are deleted first. `maxRecordBytes` (the store's
    /// `maxBatchBytes`) bounds the record a torn final write can have been.
    static func run(directory: String, maxRecordBytes: Int) throws(StorageError) -> WALReplay? {
        let paths = try segmentPaths(in: directory)
        guard !paths.isEmpty else { return nil }
        var replay = WALReplay()
        for (position, path) in paths.enumerated() {
            try replay.replaySegment(path, isLast: position == paths.count - 1, maxRecordBytes: maxRecordBytes)
        }
        return replay
    }

    /// Segment paths in index order, after removing `*.seg.tmp` leftovers.
    private static func segmentPaths(in directory: String) throws(StorageError) -> [String] {
        var paths: [String] = []
        var removedTemporary = false
        for name in try PosixDirectory.names(in: directory) {
            if name.hasSuffix(SegmentName.suffix + SegmentName.temporarySuffix) {
                try PosixDirectory.remove(directory + "/" + name)
                removedTemporary = true
            } else if name.hasSuffix(SegmentName.suffix) {
                guard SegmentName.firstIndex(of: name) != nil else {
                    throw StorageError(.corruptSegment, "not a valid segment file name", path: directory + "/" + name)
                }
                paths.append(directory + "/" + name)
            }
        }
        if removedTemporary { try PosixDirectory.sync(directory) }
        return paths  // names are zero-padded hex, so sorted names are sorted indexes
    }

    private mutating func replaySegment(_ path: String, isLast: Bool, maxRecordBytes: Int) throws(StorageError) {
        let bytes = try PosixFile.open(path, flags: O_RDONLY).readAll()
        let scanner = SegmentScanner(path: path, bytes: bytes, isLast: isLast, maxRecordBytes: maxRecordBytes)
        let header = try scanner.readHeader()
        try begin(header, path: path)
        let (end, tail) = try scanner.scanRecords { (offset, record) throws(StorageError) in
            try apply(record, at: offset, path: path)
        }
        // The tail is only recorded here; the store cuts it once every other check has passed,
        // so a refused open leaves the files exactly as it found them.
        discardedTail = tail
        segments.append(SegmentInfo(path: path, header: header, bytes: end, fileBytes: tail == nil ? bytes.count : end))
    }

    /// Checks a segment header against the segments before it. The first segment (the oldest
    /// left by compaction) defines where the log starts.
    private mutating func begin(_ header: SegmentHeader, path: String) throws(StorageError) {
        guard SegmentName.make(firstIndex: header.firstIndex) == String(path.split(separator: "/").last ?? "") else {
            throw StorageError(
                .corruptSegment, "header says first index \(header.firstIndex), the file name disagrees", path: path, offset: 0)
        }
        guard let previous = segments.last else {
            window = LogWindow(baseIndex: header.firstIndex - 1, baseTerm: header.previousTerm, keepsEntries: true)
            hardState = header.hardState
            return
        }
        guard header.sequence == previous.header.sequence + 1 else {
            throw StorageError(
                .missingSegment,
                "segment sequence jumps from \(previous.header.sequence) to \(header.sequence): a segment before this one is missing",
                path: path, offset: 0)
        }
        guard window.accepts(first: header.firstIndex), window.term(at: header.firstIndex - 1) == header.previousTerm,
            header.hardState == hardState
        else {
            throw StorageError(
                .inconsistentLog,
                "header (first index \(header.firstIndex), previous term \(header.previousTerm)) does not continue the log "
                    + "replayed so far (last index \(window.lastIndex))",
                path: path, offset: 0)
        }
    }

    private mutating func apply(_ record: WALRecordBody, at offset: Int, path: String) throws(StorageError) {
        switch record {
        case .batch(let batch):
            if let first = batch.entries.first {
                if first.index <= window.baseIndex && baseIsProvisional {
                    window.rebase(before: first.index, previousTerm: batch.previousTerm)
                } else {
                    guard window.accepts(first: first.index) else {
                        throw StorageError(
                            .inconsistentLog,
                            "batch starts at index \(first.index) but the log covers \(window.baseIndex + 1)...\(window.lastIndex)",
                            path: path, offset: offset)
                    }
                    guard window.term(at: first.index - 1) == batch.previousTerm else {
                        throw StorageError(
                            .inconsistentLog,
                            "batch expects term \(batch.previousTerm) at index \(first.index - 1), the log has "
                                + "\(window.term(at: first.index - 1) ?? 0)",
                            path: path, offset: offset)
                    }
                }
                window.append(batch.entries)
            }
            if let state = batch.hardState { hardState = state }
        case .snapshotMarker(let marker):
            let movesBase = marker.discardsLog || marker.index >= window.baseIndex
            if !marker.discardsLog && marker.index >= window.baseIndex {
                guard window.term(at: marker.index) == marker.term else {
                    throw StorageError(
                        .inconsistentLog,
                        "snapshot marker keeps the log at (\(marker.index), \(marker.term)) but the log has no such entry",
                        path: path, offset: offset)
                }
            }
            window.applySnapshot(index: marker.index, term: marker.term, discardsLog: marker.discardsLog)
            if movesBase { baseIsProvisional = false }
            lastMarker = marker
        }
    }
}
