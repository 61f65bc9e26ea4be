import Checksums

/// The kinds of WAL record. The numeric values are part of the on-disk format.
enum WALRecordType: UInt8 {
    /// First record of every segment: format version, sequence number, first index, the term
    /// before it and the hard state at the time the segment was started.
    case segmentHeader = 1
    /// One `append`: optional hard state and zero or more contiguous entries. A batch is the unit
    /// of atomicity on disk because it is the unit of fsync (see docs/STORAGE.md, "Why one record
    /// per batch").
    case batch = 2
    /// A snapshot was saved at (index, term), and whether that discarded the whole log; replay
    /// applies it in log order.
    case snapshotMarker = 3
}

/// Constants and framing of the write-ahead log. All integers are little-endian.
///
/// A record is
///
///     offset  size  field
///     0       4     length   u32 LE, payload bytes (excludes this 9-byte header)
///     4       4     crc      u32 LE, CRC-32C of: the record's byte offset in its segment file
///                            (u64 LE) ‖ the 4 length bytes ‖ the type byte ‖ the payload
///     8       1     type     WALRecordType
///     9       len   payload
///
/// Mixing the record's own offset into its checksum means a copy of a valid record found at any
/// other position (inside an entry's data, say) does not validate, which keeps torn-tail
/// detection ("does any valid record follow?") free of false alarms. The same property means that
/// bytes inserted into a segment leave no record after them valid; recovery recognises a torn tail
/// by its shape instead (`SegmentScanner.tornWrite(at:)`), so that is refused, not cut.
enum WALFormat {
    static let recordHeaderBytes = 9
    /// Hard limit on one record's payload, independent of configuration so that a store opens the
    /// same way whatever limits it is opened with.
    static let maxRecordPayloadBytes = 256 << 20
    /// "RWAL", the first payload bytes of every segment header.
    static let segmentMagic: [UInt8] = [0x52, 0x57, 0x41, 0x4C]
    static let version: UInt16 = 1
    /// How many bytes a torn-tail check may feed through CRC before giving up and reporting
    /// corruption instead (only reachable with adversarial garbage; a real torn tail costs at most
    /// a few passes over one batch).
    static let tailScanBudgetBytes = 1 << 30

    /// A complete record that will be written at byte `offset` of its segment; `body` writes the payload.
    static func frame(_ type: WALRecordType, at offset: Int, body: (inout ByteWriter) -> Void) -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        writer.write(UInt32(0))
        writer.write(UInt32(0))
        writer.write(type.rawValue)
        body(&writer)
        var bytes = writer.bytes
        let length = UInt32(bytes.count - recordHeaderBytes)
        for i in 0..<4 { bytes[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(i))) }
        let crc = checksum(of: bytes, recordAt: 0, fileOffset: offset, payloadLength: Int(length))
        for i in 0..<4 { bytes[4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        return bytes
    }

    /// CRC of the record whose header starts at `start` in `bytes`, as if it lived at `fileOffset`.
    static func checksum(of bytes: [UInt8], recordAt start: Int, fileOffset: Int, payloadLength: Int) -> UInt32 {
        var crc = CRC32C()
        crc.update(littleEndian: UInt64(fileOffset))
        crc.update(bytes[start..<start + 4])
        crc.update(bytes[start + 8..<start + recordHeaderBytes + payloadLength])
        return crc.value
    }
}

/// What sits at one offset of a segment image.
enum FramedRecord {
    /// A record whose framing and checksum are intact. `typeByte` is not validated yet: an unknown
    /// type with a good checksum is a format problem, not a torn write.
    case intact(typeByte: UInt8, payload: ArraySlice<UInt8>, end: Int)
    /// Framing or checksum failure: a torn write or corruption, depending on what follows.
    case damaged(reason: String)

    /// Reads the record starting at `offset` of `bytes` (a whole segment file).
    static func read(_ bytes: [UInt8], at offset: Int) -> FramedRecord {
        let available = bytes.count - offset
        guard available >= WALFormat.recordHeaderBytes else {
            return .damaged(reason: "incomplete record header (\(available) of \(WALFormat.recordHeaderBytes) bytes)")
        }
        let length = Int(littleEndianUInt32(bytes, at: offset))
        guard length <= WALFormat.maxRecordPayloadBytes else {
            return .damaged(reason: "record length \(length) exceeds the format limit")
        }
        guard length <= available - WALFormat.recordHeaderBytes else {
            return .damaged(reason: "record of \(length) payload bytes runs past the end of the file")
        }
        let stored = littleEndianUInt32(bytes, at: offset + 4)
        let computed = WALFormat.checksum(of: bytes, recordAt: offset, fileOffset: offset, payloadLength: length)
        guard stored == computed else {
            return .damaged(reason: "checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))")
        }
        let start = offset + WALFormat.recordHeaderBytes
        return .intact(typeByte: bytes[offset + 8], payload: bytes[start..<start + length], end: start + length)
    }
}

func littleEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
}

func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
