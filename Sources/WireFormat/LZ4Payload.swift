import CLZ4

/// LZ4 block compression of frame payloads (docs/PROTOCOL.md §2.3): a compressed payload is
/// `[rawLength u32][LZ4 block]`. liblz4's block API bounds every size by `LZ4_MAX_INPUT_SIZE`
/// (about 2 GiB), far above any frame limit, so every length here fits an `Int32`.
public enum LZ4Payload {
    /// The compressed form of `raw`, or nil when it would not be smaller (random or already
    /// compressed bytes) and the frame should go as is.
    public static func compress(_ raw: [UInt8]) -> [UInt8]? {
        guard !raw.isEmpty, raw.count <= Int(LZ4_MAX_INPUT_SIZE) else { return nil }
        let bound = Int(LZ4_compressBound(Int32(raw.count)))
        var output = [UInt8](repeating: 0, count: 4 + bound)
        let written = raw.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                LZ4_compress_default(
                    source.baseAddress!.assumingMemoryBound(to: CChar.self),
                    destination.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                    Int32(source.count), Int32(bound))
            }
        }
        guard written > 0, 4 + Int(written) < raw.count else { return nil }
        output.removeLast(bound - Int(written))
        let rawLength = UInt32(raw.count)
        for i in 0..<4 { output[i] = UInt8(truncatingIfNeeded: rawLength >> (8 * UInt32(i))) }
        return output
    }

    /// The raw bytes of a compressed payload. The declared raw length is checked against
    /// `maxRawBytes` before anything is allocated; `LZ4_decompress_safe` never writes outside its
    /// destination and rejects malformed blocks; the result must have exactly the declared length.
    public static func decompress(_ payload: UnsafeRawBufferPointer, maxRawBytes: Int) throws(WireFormatError) -> [UInt8] {
        var reader = WireReader(payload)
        let rawLength = Int(try reader.read(UInt32.self))
        guard rawLength > 0 else { throw WireFormatError(.invalid, "compressed payload of raw length 0", offset: 0) }
        guard rawLength <= maxRawBytes, rawLength <= Int(LZ4_MAX_INPUT_SIZE) else {
            throw WireFormatError(.oversized, "raw length \(rawLength) over the \(maxRawBytes)-byte limit", offset: 0)
        }
        let block = UnsafeRawBufferPointer(rebasing: payload[4...])
        guard !block.isEmpty else { throw WireFormatError(.truncated, "empty LZ4 block", offset: 4) }
        let output = [UInt8](unsafeUninitializedCapacity: rawLength) { buffer, initialized in
            let produced = LZ4_decompress_safe(
                block.baseAddress!.assumingMemoryBound(to: CChar.self),
                UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self),
                Int32(block.count), Int32(rawLength))
            initialized = produced == Int32(rawLength) ? rawLength : 0
        }
        guard output.count == rawLength else {
            throw WireFormatError(.invalid, "LZ4 block does not decompress to \(rawLength) bytes", offset: 4)
        }
        return output
    }
}
