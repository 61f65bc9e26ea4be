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
/// a damaged record is a torn write (reported for the store to cut off) only if no valid record
/// follows it anywhere; otherwise it is corruption and recovery stops.
struct SegmentScanner {
    let path: String
    let bytes: [UInt8]
    let isLast: Bool

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

    /// Passes every record after the header to `visit` in order; returns the torn tail to cut,
    /// if the segment ends in one (last segment only).
    func scanRecords(
        visit: (_ offset: Int, _ record: WALRecordBody) throws(StorageError) -> Void
    ) throws(StorageError) -> DiscardedTail? {
        var offset = WALFormat.recordHeaderBytes + SegmentHeader.payloadBytes
        while offset < bytes.count {
            switch FramedRecord.read(bytes, at: offset) {
            case .intact(let typeByte, let payload, let end):
                try visit(offset, try decode(typeByte: typeByte, payload: payload, at: offset))
                offset = end
            case .damaged(let reason):
                return try tornTail(at: offset, reason: reason)
            }
        }
        return nil
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

    /// The damaged record at `offset` ends the segment. Outside the last segment, or with a valid
    /// record anywhere after it, that is corruption; otherwise it is the torn tail of the last write.
    private func tornTail(at offset: Int, reason: String) throws(StorageError) -> DiscardedTail {
        guard isLast else {
            throw StorageError(.corruptRecord, "damaged record in a segment that is not the last: \(reason)", path: path, offset: offset)
        }
        if let next = try firstValidRecord(after: offset) {
            throw StorageError(
                .corruptRecord, "damaged record followed by a valid record at byte \(next): \(reason)",
                path: path, offset: offset)
        }
        return DiscardedTail(path: path, offset: offset, bytes: bytes.count - offset, reason: reason)
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
