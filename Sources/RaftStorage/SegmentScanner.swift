import RaftCore

/// Segment file names: `<first index as 16 lowercase hex digits>.seg`, so that lexical order is
/// index order. A segment being created is written as `<name>.tmp` and renamed into place once its
/// header (and first batch) are durable; leftovers are deleted on open.
enum SegmentName {
    static let suffix = ".seg"
    static let temporarySuffix = ".tmp"

    static func make(firstIndex: LogIndex) -> String {
        let digits = String(firstIndex, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits + suffix
    }

    /// The first index a segment name stands for; nil when `name` is not a segment name at all.
    static func firstIndex(of name: String) -> LogIndex? {
        guard name.hasSuffix(suffix) else { return nil }
        let digits = name.dropLast(suffix.count)
        guard digits.count == 16, digits.allSatisfy(\.isHexDigit), digits.lowercased() == digits else { return nil }
        return LogIndex(digits, radix: 16)
    }
}

/// A decoded record that follows the segment header.
enum WALRecordBody: Equatable {
    case batch(Batch)
    case snapshotMarker(SnapshotMarker)
}

/// Reads one segment image: the header, then records in order, then decides what a failure
/// means. In any segment but the last, every byte must belong to a valid record. In the last one,
/// a damaged record is a torn write (reported for the store to cut off) only if the bytes from it
/// to the end of the file are what an interrupted append can leave (`tornWrite(at:)`) and no valid
/// record follows it; otherwise it is corruption and recovery stops.
struct SegmentScanner {
    let path: String
    let bytes: [UInt8]
    let isLast: Bool
    /// The largest record an append can have written, header included: `StorageConfig.maxBatchBytes`.
    let maxRecordBytes: Int

    /// The segment header, which must be the first record and intact: segments are renamed into
    /// place only after their header is durable, so a damaged header is never a torn write.
    func readHeader() throws(StorageError) -> SegmentHeader {
        guard case .intact(let typeByte, let payload, _) = FramedRecord.read(bytes, at: 0),
            typeByte == WALRecordType.segmentHeader.rawValue, payload.count == SegmentHeader.payloadBytes
        else { throw StorageError(.corruptSegment, "segment header missing or damaged", path: path, offset: 0) }
        do throws(FormatViolation) {
            return try SegmentHeader(decoding: payload)
        } catch {
            throw StorageError(
                error.isVersionMismatch ? .unsupportedVersion : .corruptSegment, "segment header: \(error.reason)",
                path: path, offset: WALFormat.recordHeaderBytes + error.offset)
        }
    }

    /// Passes every record after the header to `visit` in order. Returns where the records end
    /// and the torn tail to cut, if the segment ends in one (last segment only).
    ///
    /// In the last segment, zeros from a record boundary to the end of the file are free space
    /// (`StorageConfig.preallocationBytes`): the records end there and nothing is cut. A record
    /// never starts with a zero type byte, so that test costs one byte per segment on the way.
    func scanRecords(
        visit: (_ offset: Int, _ record: WALRecordBody) throws(StorageError) -> Void
    ) throws(StorageError) -> (end: Int, tail: DiscardedTail?) {
        var offset = WALFormat.recordHeaderBytes + SegmentHeader.payloadBytes
        while offset < bytes.count {
            if isLast, isFreeSpace(from: offset) { return (offset, nil) }
            switch FramedRecord.read(bytes, at: offset) {
            case .intact(let typeByte, let payload, let end):
                try visit(offset, try decode(typeByte: typeByte, payload: payload, at: offset))
                offset = end
            case .damaged(let reason):
                return (offset, try tornTail(at: offset, reason: reason))
            }
        }
        return (offset, nil)
    }

    /// Whether every byte from `start` to the end of the file is zero. Checks the type byte first
    /// (never zero in a record), so a record boundary inside the log costs one comparison.
    private func isFreeSpace(from start: Int) -> Bool {
        let typeOffset = start + 8
        if typeOffset < bytes.count, bytes[typeOffset] != 0 { return false }
        return bytes[start...].allSatisfy { $0 == 0 }
    }

    private func decode(typeByte: UInt8, payload: ArraySlice<UInt8>, at offset: Int) throws(StorageError) -> WALRecordBody {
        do throws(FormatViolation) {
            switch WALRecordType(rawValue: typeByte) {
            case .batch: return .batch(try Batch(decoding: payload))
            case .snapshotMarker: return .snapshotMarker(try SnapshotMarker(decoding: payload))
            case .segmentHeader, nil:
                // The checksum holds, so this is not a torn write: a newer format or a bug.
                throw FormatViolation(reason: "unexpected record type \(typeByte)", offset: 0)
            }
        } catch {
            throw StorageError(
                .inconsistentLog, "record passes its checksum but does not decode: \(error.reason)",
                path: path, offset: offset)
        }
    }

    /// The damaged record at `offset` ends the segment. It is cut off as the torn tail of the last
    /// append only if it is in the last segment, the bytes from `offset` to the end of the file
    /// have a shape an interrupted append can leave (`tornWrite(at:)`), and no valid record starts
    /// after it. Anything else is corruption: open refuses, naming the file and `offset`.
    private func tornTail(at offset: Int, reason: String) throws(StorageError) -> DiscardedTail {
        guard isLast else {
            throw StorageError(.corruptRecord, "damaged record in a segment that is not the last: \(reason)", path: path, offset: offset)
        }
        switch tornWrite(at: offset) {
        case .notTorn(let why):
            // Only for the message: a valid record further on tells the operator the log goes on.
            let next = try? firstValidRecord(after: offset)
            throw StorageError(
                .corruptRecord,
                "damaged record (\(reason)) is not the torn tail of the last write: \(why)"
                    + (next.map { "; a valid record follows at byte \($0)" } ?? ""),
                path: path, offset: offset)
        case .torn(let shape):
            if let next = try firstValidRecord(after: offset) {
                throw StorageError(
                    .corruptRecord, "damaged record followed by a valid record at byte \(next): \(reason)",
                    path: path, offset: offset)
            }
            return DiscardedTail(path: path, offset: offset, bytes: bytes.count - offset, reason: "\(reason); \(shape)")
        }
    }

    /// What the bytes from a damaged record to the end of the last segment can be.
    enum TailShape: Equatable {
        /// The damage of one interrupted append; the text says which case (for `DiscardedTail.reason`).
        case torn(String)
        /// Not something an interrupted append leaves; the text says why.
        case notTorn(String)
    }

    /// Decides whether the bytes from `start` (the first record of the last segment that does not
    /// validate) to the end of the file can be the damage of the last append and nothing else.
    ///
    /// That append wrote one record `[length][crc][type][payload]` at `start` with one `pwrite`
    /// and one `fdatasync`, and nothing after it. Interrupted, it leaves a prefix of the record's
    /// bytes, then either the end of the file (a short write) or zeros (the file size was extended
    /// but those sectors never reached the disk). So, with `zeroFrom` the start of the run of zero
    /// bytes that ends the file (the file's size when its last byte is not zero), the tail is torn
    /// exactly when one of these holds (docs/STORAGE.md, "Torn tail"):
    ///
    /// - (a) fewer than `recordHeaderBytes` bytes remain: a write cut inside the header;
    /// - (b) the header is complete and plausible, and the file ends before the record would;
    /// - (c) the header is complete and plausible, the record fits in the file (its checksum
    ///   fails, or it would not be damaged) and every byte after its declared end is zero;
    /// - (d) every byte from `start` on is zero;
    /// - (e) only part of the header was written before the zeros (`zeroFrom` is inside it) and
    ///   that part is consistent with a plausible header.
    ///
    /// In (b) and (c), and in (e) as far as it was written, everything that is not zero lies inside
    /// the extent the header declares, which is at most one batch. Plausible means what an append
    /// can write: a `batch` of `Batch.minimumPayloadBytes` ... `maxRecordBytes − recordHeaderBytes`
    /// payload bytes whose flags byte, if in the file, is 0 or 1 (zero when never written), or a
    /// `snapshotMarker` of exactly its payload size.
    ///
    /// Anything else — in particular bytes inserted into the log, which shift the acknowledged
    /// records after them so that none validates where it now lies — is not a torn write.
    func tornWrite(at start: Int) -> TailShape {
        let headerBytes = WALFormat.recordHeaderBytes
        let remaining = bytes.count - start
        if remaining < headerBytes {
            return .torn("torn write (a): the file ends inside the record header")
        }
        var zeroFrom = bytes.count
        while zeroFrom > start && bytes[zeroFrom - 1] == 0 { zeroFrom -= 1 }
        if zeroFrom == start {
            return .torn("torn write (d): only zeros from here on (\(remaining) bytes)")
        }
        let maxPayload = maxRecordBytes - headerBytes
        let written = zeroFrom - start
        if written < headerBytes {
            // Only the first `written` header bytes were written; the rest of the file is zeros.
            // With all four length bytes written the length is known; with fewer, only its low
            // bytes are, and the unknown high bytes can only make it larger.
            var knownLength = 0
            for i in 0..<min(written, 4) { knownLength |= Int(bytes[start + i]) << (8 * i) }
            let possible =
                written < 4
                ? knownLength <= maxPayload
                : plausible(.batch, length: knownLength) || plausible(.snapshotMarker, length: knownLength)
            guard possible else {
                return .notTorn(
                    "only \(written) header bytes precede the zeros that end the file, and no record an append "
                        + "writes has that length (\(knownLength)\(written < 4 ? " or more" : "") payload bytes, "
                        + "maxBatchBytes \(maxRecordBytes))")
            }
            return .torn("torn write (e): only the first \(written) header bytes were written, zeros follow")
        }
        let length = Int(littleEndianUInt32(bytes, at: start))
        let typeByte = bytes[start + 8]
        switch WALRecordType(rawValue: typeByte) {
        case .batch:
            guard plausible(.batch, length: length) else {
                return .notTorn(
                    "its header declares a batch of \(length) payload bytes, an append writes "
                        + "\(Batch.minimumPayloadBytes) ... \(maxPayload) (maxBatchBytes \(maxRecordBytes))")
            }
            if remaining > headerBytes, bytes[start + headerBytes] > 1 {
                return .notTorn("its header declares a batch, but the batch flags byte is \(bytes[start + headerBytes])")
            }
        case .snapshotMarker:
            guard plausible(.snapshotMarker, length: length) else {
                return .notTorn(
                    "its header declares a snapshot marker of \(length) payload bytes instead of \(SnapshotMarker.payloadBytes)")
            }
        case .segmentHeader, nil:
            return .notTorn("its type byte \(typeByte) is not one an append writes")
        }
        let end = start + headerBytes + length
        if end > bytes.count {
            return .torn("torn write (b): the file ends \(end - bytes.count) bytes before the record's declared end")
        }
        guard zeroFrom <= end else {
            return .notTorn(
                "\(zeroFrom - end) bytes after its declared end (byte \(end)) are not all zero, "
                    + "so it is not the last thing written")
        }
        return .torn(
            end == bytes.count
                ? "torn write (c): the record ends the file"
                : "torn write (c): only zeros follow the record (\(bytes.count - end) bytes)")
    }

    /// Whether an append can have written a record of `type` with `length` payload bytes.
    private func plausible(_ type: WALRecordType, length: Int) -> Bool {
        switch type {
        case .batch: length >= Batch.minimumPayloadBytes && length <= maxRecordBytes - WALFormat.recordHeaderBytes
        case .snapshotMarker: length == SnapshotMarker.payloadBytes
        case .segmentHeader: false
        }
    }

    /// The first offset after `start` where a batch or marker record validates. Cheap checks
    /// (type byte, plausible length) come before the checksum so that garbage and zero-filled
    /// tails cost little; the total checksummed volume is bounded by `tailScanBudgetBytes`.
    private func firstValidRecord(after start: Int) throws(StorageError) -> Int? {
        var budget = WALFormat.tailScanBudgetBytes
        var offset = start + 1
        while offset + WALFormat.recordHeaderBytes <= bytes.count {
            defer { offset += 1 }
            let length = Int(littleEndianUInt32(bytes, at: offset))
            guard length <= bytes.count - offset - WALFormat.recordHeaderBytes else { continue }
            switch WALRecordType(rawValue: bytes[offset + 8]) {
            case .batch: guard length >= 5 else { continue }
            case .snapshotMarker: guard length == SnapshotMarker.payloadBytes else { continue }
            case .segmentHeader, nil: continue
            }
            budget -= length + 13
            guard budget > 0 else {
                throw StorageError(
                    .corruptRecord, "damaged record; the bytes after it could not be proven to be a torn write",
                    path: path, offset: start)
            }
            if case .intact = FramedRecord.read(bytes, at: offset) { return offset }
        }
        return nil
    }
}
