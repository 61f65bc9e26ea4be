import Checksums
import RaftCore

/// The snapshot file format (`snap/<index as 16 hex digits>.snap`). All integers little-endian.
///
///     offset  size  field
///     0       4     magic "RSNP"
///     4       2     version u16 (1)
///     6       2     reserved u16 (0)
///     8       4     headerBytes u32: length of the whole header, through headerCRC
///     12      8     index u64
///     20      8     term u64
///     28      var   confState: voters, learners, outgoingVoters, learnersNext, each
///                   `count u32 ‖ count × node u64` in ascending order; then autoLeave u8 (0/1)
///     ..      8     dataBytes u64: uncompressed length of the snapshot data
///     ..      4     dataCRC u32: CRC-32C of the uncompressed data
///     ..      4     headerCRC u32: CRC-32C of every header byte before this field
///
/// then chunks until the end of the file, each
///
///     rawBytes u32 (1 ... 4 MiB) ‖ storedBytes u32 (1 ... rawBytes) ‖ stored bytes
///
/// where `storedBytes == rawBytes` means the chunk is stored uncompressed and `storedBytes <
/// rawBytes` means it is one LZ4 block. Chunking bounds the memory a reader needs besides the
/// output and keeps every LZ4 call far below the block API's 2 GB limit.
enum SnapshotFormat {
    static let magic: [UInt8] = [0x52, 0x53, 0x4E, 0x50]
    static let version: UInt16 = 1
    /// Uncompressed size of every chunk but the last.
    static let chunkRawBytes = 4 << 20
    /// Hard limit on the header (it holds the membership: 4 sets of node ids).
    static let maxHeaderBytes = 1 << 20
    static let fixedPrefixBytes = 12
    static let suffix = ".snap"
    static let temporarySuffix = ".tmp"

    static func fileName(index: LogIndex) -> String {
        let digits = String(index, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits + suffix
    }

    static func index(ofFileName name: String) -> LogIndex? {
        guard name.hasSuffix(suffix) else { return nil }
        let digits = name.dropLast(suffix.count)
        guard digits.count == 16, digits.allSatisfy(\.isHexDigit), digits.lowercased() == digits else { return nil }
        return LogIndex(digits, radix: 16)
    }
}

/// The decoded header of a snapshot file.
struct SnapshotHeader: Equatable, Sendable {
    var metadata: SnapshotMetadata
    var dataBytes: Int
    var dataCRC: UInt32
    /// Where the first chunk starts.
    var headerBytes: Int

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 128)
        writer.write(SnapshotFormat.magic)
        writer.write(SnapshotFormat.version)
        writer.write(UInt16(0))
        writer.write(UInt32(0))  // headerBytes, patched below
        writer.write(metadata.index)
        writer.write(metadata.term)
        let conf = metadata.confState
        for set in [conf.voters, conf.learners, conf.outgoingVoters, conf.learnersNext] {
            writer.write(UInt32(set.count))
            for node in set.sorted() { writer.write(node) }
        }
        writer.write(UInt8(conf.autoLeave ? 1 : 0))
        writer.write(UInt64(dataBytes))
        writer.write(dataCRC)
        writer.patch(UInt32(writer.bytes.count + 4), at: 8)
        writer.write(CRC32C.checksum(writer.bytes))
        return writer.bytes
    }

    /// Validates the 12-byte prefix and returns the full header length it announces.
    static func headerLength(fromPrefix prefix: [UInt8]) throws(FormatViolation) -> Int {
        var reader = ByteReader(prefix)
        guard try reader.readBytes(4) == SnapshotFormat.magic else { throw FormatViolation(reason: "bad magic", offset: 0) }
        let version = try reader.read(UInt16.self)
        guard version == SnapshotFormat.version else {
            throw FormatViolation(reason: "unsupported snapshot version \(version)", offset: 4, isVersionMismatch: true)
        }
        _ = try reader.read(UInt16.self)
        let length = Int(try reader.read(UInt32.self))
        guard length >= SnapshotFormat.fixedPrefixBytes + 16 + 16 + 1 + 16, length <= SnapshotFormat.maxHeaderBytes else {
            throw FormatViolation(reason: "header length \(length) out of range", offset: 8)
        }
        return length
    }

    /// Decodes a whole header (`bytes.count` as announced by its prefix), checking its CRC first.
    init(decoding bytes: [UInt8]) throws(FormatViolation) {
        let stored = littleEndianUInt32(bytes, at: bytes.count - 4)
        let computed = CRC32C.checksum(bytes[..<(bytes.count - 4)])
        guard stored == computed else {
            throw FormatViolation(
                reason: "header checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))", offset: bytes.count - 4)
        }
        var reader = ByteReader(bytes[SnapshotFormat.fixedPrefixBytes..<(bytes.count - 4)])
        let index = try reader.read(LogIndex.self)
        let term = try reader.read(Term.self)
        var sets: [Set<NodeID>] = []
        for _ in 0..<4 {
            let count = Int(try reader.read(UInt32.self))
            guard count <= reader.remaining / 8 else {
                throw FormatViolation(reason: "member count \(count) too large", offset: reader.consumed)
            }
            var set = Set<NodeID>(minimumCapacity: count)
            for _ in 0..<count { set.insert(try reader.read(NodeID.self)) }
            sets.append(set)
        }
        let autoLeave = try reader.read(UInt8.self)
        guard autoLeave <= 1 else { throw FormatViolation(reason: "autoLeave \(autoLeave)", offset: reader.consumed - 1) }
        let dataBytes = try reader.read(UInt64.self)
        guard dataBytes <= UInt64(Int.max) else { throw FormatViolation(reason: "data length \(dataBytes)", offset: reader.consumed - 8) }
        dataCRC = try reader.read(UInt32.self)
        try reader.expectEnd()
        let conf = ConfState(
            voters: sets[0], learners: sets[1], outgoingVoters: sets[2], learnersNext: sets[3], autoLeave: autoLeave == 1)
        metadata = SnapshotMetadata(index: index, term: term, confState: conf)
        self.dataBytes = Int(dataBytes)
        headerBytes = bytes.count
    }

    init(metadata: SnapshotMetadata, dataBytes: Int, dataCRC: UInt32) {
        self.metadata = metadata
        self.dataBytes = dataBytes
        self.dataCRC = dataCRC
        headerBytes = 0
    }
}
