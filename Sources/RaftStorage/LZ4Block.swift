import CLZ4

/// liblz4's block API for one snapshot chunk at a time. Chunks are at most
/// `SnapshotFormat.chunkRawBytes`, far below `LZ4_MAX_INPUT_SIZE`, so every size fits an `Int32`.
enum LZ4Block {
    /// The compressed form of `raw`, or nil when compression would not make it smaller (random or
    /// already compressed data), in which case the chunk is stored as is.
    static func compress(_ raw: ArraySlice<UInt8>) -> [UInt8]? {
        precondition(raw.count <= SnapshotFormat.chunkRawBytes, "chunk larger than the format allows")
        guard !raw.isEmpty else { return nil }
        let bound = Int(LZ4_compressBound(Int32(raw.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let written = raw.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                LZ4_compress_default(
                    source.baseAddress!.assumingMemoryBound(to: CChar.self),
                    destination.baseAddress!.assumingMemoryBound(to: CChar.self),
                    Int32(source.count), Int32(destination.count))
            }
        }
        guard written > 0, Int(written) < raw.count else { return nil }
        output.removeLast(output.count - Int(written))
        return output
    }

    /// Decompresses `compressed` into `destination`, which must be exactly the chunk's raw size.
    /// `LZ4_decompress_safe` never writes outside `destination` and rejects malformed input, so a
    /// damaged file cannot overrun memory; false when the input is malformed or decodes to a
    /// different length.
    static func decompress(_ compressed: [UInt8], into destination: UnsafeMutableRawBufferPointer) -> Bool {
        guard !compressed.isEmpty, compressed.count <= Int(Int32.max), destination.count <= Int(Int32.max) else {
            return false
        }
        let produced = compressed.withUnsafeBytes { source in
            LZ4_decompress_safe(
                source.baseAddress!.assumingMemoryBound(to: CChar.self),
                destination.baseAddress!.assumingMemoryBound(to: CChar.self),
                Int32(source.count), Int32(destination.count))
        }
        return Int(produced) == destination.count
    }
}
