import Checksums

/// What a frame carries. The values are part of the protocol (docs/PROTOCOL.md §2.3).
public enum FrameKind: UInt8, Sendable, CaseIterable {
    /// Dialer → acceptor, first frame of every connection.
    case handshake = 1
    /// Acceptor → dialer: accept with the chosen version, or refuse with a reason.
    case handshakeAnswer = 2
    /// A batch of Raft messages (everything except snapshot chunks).
    case raftMessages = 3
    /// One Raft `snapshotChunk` message.
    case snapshotChunk = 4
    /// A request (a proposal forwarded to the leader).
    case forward = 5
    /// The answer to a `forward`.
    case forwardResult = 6
    case ping = 7
    case pong = 8

    /// Whether the payload may carry the compressed flag.
    public var allowsCompression: Bool { self == .raftMessages || self == .snapshotChunk }
}

/// The fixed 12-byte header in front of every payload:
///
///     [kind u8][flags u8][reserved u16 = 0][payloadLength u32][crc32c u32]
///
/// `crc32c` is CRC-32C over the header's first 8 bytes followed by the payload, so a damaged
/// kind, flag or length is caught as well as damaged payload bytes.
public struct FrameHeader: Sendable, Equatable {
    public static let byteCount = 12
    /// Flag bit 0: the payload is `[rawLength u32][LZ4 block]` (only for kinds that allow it).
    public static let compressedFlag: UInt8 = 0x01

    public var kind: FrameKind
    public var flags: UInt8
    public var payloadLength: Int
    public var checksum: UInt32

    public init(kind: FrameKind, flags: UInt8, payloadLength: Int, checksum: UInt32) {
        self.kind = kind
        self.flags = flags
        self.payloadLength = payloadLength
        self.checksum = checksum
    }

    public var isCompressed: Bool { flags & Self.compressedFlag != 0 }

    /// Parses and validates the first 12 bytes of `bytes`: known kind, known flags (and the
    /// compressed flag only where allowed), zero reserved bits, length within `maxFrameBytes`.
    /// Called before any payload byte is buffered, so an oversized length is refused up front.
    public static func decode(_ bytes: UnsafeRawBufferPointer, maxFrameBytes: Int) throws(WireFormatError) -> FrameHeader {
        var reader = WireReader(UnsafeRawBufferPointer(rebasing: bytes.prefix(byteCount)))
        let rawKind = try reader.read(UInt8.self)
        guard let kind = FrameKind(rawValue: rawKind) else { throw WireFormatError(.unknown, "frame kind \(rawKind)", offset: 0) }
        let flags = try reader.read(UInt8.self)
        let known = kind.allowsCompression ? compressedFlag : 0
        guard flags & ~known == 0 else {
            throw WireFormatError(.unknown, "flags 0x\(String(flags, radix: 16)) on a \(kind) frame", offset: 1)
        }
        let reserved = try reader.read(UInt16.self)
        guard reserved == 0 else { throw WireFormatError(.unknown, "reserved header bits \(reserved)", offset: 2) }
        let length = try reader.read(UInt32.self)
        guard UInt64(length) <= UInt64(maxFrameBytes) else {
            throw WireFormatError(.oversized, "payload of \(length) bytes over the \(maxFrameBytes)-byte limit", offset: 4)
        }
        let checksum = try reader.read(UInt32.self)
        return FrameHeader(kind: kind, flags: flags, payloadLength: Int(length), checksum: checksum)
    }

    /// The checksum a header with these fields and this payload must carry.
    public static func checksum(kind: FrameKind, flags: UInt8, payload: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(littleEndian: kind.rawValue)
        crc.update(littleEndian: flags)
        crc.update(littleEndian: UInt16(0))
        crc.update(littleEndian: UInt32(payload.count))
        crc.update(payload)
        return crc.value
    }
}
