/// Cuts whole frames out of a byte stream (docs/PROTOCOL.md §2.2). Pure: the NIO decoder calls
/// it on its accumulated bytes, the fuzzer on arbitrary input.
///
/// As soon as 12 bytes are there the header is validated — kind, flags, reserved bits and the
/// payload length against `maxFrameBytes` — so an oversized frame is refused before its payload
/// is buffered. Then the checksum is verified before the payload is decompressed or decoded.
public struct FrameParser: Sendable {
    /// Largest payload accepted, compressed or raw.
    public var maxFrameBytes: Int

    public init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// A frame parsed from the front of a buffer.
    public struct Parsed: Sendable {
        public var frame: WireFrame
        public var header: FrameHeader
        /// Bytes of the buffer the frame occupied (header plus payload).
        public var consumed: Int
    }

    /// Validates the header as soon as `bytes` holds one, even when its payload is still missing.
    /// Nil when fewer than 12 bytes are there.
    public func peekHeader(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> FrameHeader? {
        guard bytes.count >= FrameHeader.byteCount else { return nil }
        return try FrameHeader.decode(bytes, maxFrameBytes: maxFrameBytes)
    }

    /// The first frame of `bytes`, or nil when it is not complete yet.
    public func parse(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> Parsed? {
        guard let header = try peekHeader(bytes) else { return nil }
        let total = FrameHeader.byteCount + header.payloadLength
        guard bytes.count >= total else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[FrameHeader.byteCount..<total])
        let computed = FrameHeader.checksum(kind: header.kind, flags: header.flags, payload: payload)
        guard computed == header.checksum else {
            throw WireFormatError(
                .checksumMismatch,
                "CRC32C 0x\(String(computed, radix: 16)) ≠ header's 0x\(String(header.checksum, radix: 16)) on a \(header.kind) frame",
                offset: 8)
        }
        let frame = try WireFrame.decode(header: header, payload: payload, maxFrameBytes: maxFrameBytes)
        return Parsed(frame: frame, header: header, consumed: total)
    }
}
