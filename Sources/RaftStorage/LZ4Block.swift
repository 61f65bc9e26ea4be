import CLZ4

/// liblz4's block API for one snapshot chunk at a time. Chunks are at most
/// `SnapshotFormat.chunkRawBytes`, far below `LZ4_MAX_INPUT_SIZE`, so every size fits an `Int32`.
enum LZ4Block {
    /// The compressed form of `raw`, or nil when compression would not make it smaller (random or
    /// already compressed data), in which case the chunk is stored as is.
    static func compress(_ raw: ArraySlice<UInt8>) -> [UInt8]? {
        var written: Int?
        let output = [UInt8](unsafeUninitializedCapacity: compressBound(raw.count)) { buffer, initialized in
            written = raw.withUnsafeBytes { compress($0, into: UnsafeMutableRawBufferPointer(buffer)) }
            initialized = written ?? 0
        }
        return written == nil ? nil : output
    }

    /// The most bytes `compress` can produce from `rawBytes` bytes (at least `rawBytes`).
    static func compressBound(_ rawBytes: Int) -> Int { Int(LZ4_compressBound(Int32(rawBytes))) }

    /// Compresses `raw` into `destination` (at least `compressBound(raw.count)` bytes) and
    /// returns the compressed size, or nil when compression would not make it smaller.
    static func compress(_ raw: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int? {
        precondition(raw.count <= SnapshotFormat.chunkRawBytes, "chunk larger than the format allows")
        precondition(destination.count >= compressBound(raw.count), "destination below LZ4_compressBound")
        guard let source = raw.baseAddress, let target = destination.baseAddress, !raw.isEmpty else { return nil }
        let written = LZ4_compress_default(
            source.assumingMemoryBound(to: CChar.self), target.assumingMemoryBound(to: CChar.self),
            Int32(raw.count), Int32(destination.count))
        guard written > 0, Int(written) < raw.count else { return nil }
        return Int(written)
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
