/// Appends fixed-width little-endian integers and raw bytes: the only encoding the on-disk formats use.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    mutating func write(_ raw: ArraySlice<UInt8>) { bytes.append(contentsOf: raw) }

    /// Overwrites four bytes at `offset` (a length or checksum filled in once known).
    mutating func patch(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
}

/// A malformed payload: what was wrong and where inside the payload.
struct FormatViolation: Error, Equatable {
    var reason: String
    var offset: Int
    /// The data is well-formed but written by a format version this code does not know.
    var isVersionMismatch = false
}

/// Reads what `ByteWriter` wrote from a slice of a larger buffer. Every read is bounds-checked;
/// lengths are compared with the remaining bytes before anything is allocated.
struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    /// Bytes consumed so far.
    var consumed: Int { position - bytes.startIndex }
    var remaining: Int { bytes.endIndex - position }
    var isAtEnd: Bool { position == bytes.endIndex }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(FormatViolation) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw FormatViolation(reason: "truncated \(T.self)", offset: consumed) }
        var value: T = 0
        for i in 0..<size { value |= T(bytes[position + i]) << (8 * i) }
        position += size
        return value
    }

    mutating func readBytes(_ count: Int) throws(FormatViolation) -> [UInt8] {
        guard count >= 0, remaining >= count else {
            throw FormatViolation(reason: "length \(count) exceeds the \(remaining) bytes left", offset: consumed)
        }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// Throws unless every byte was consumed: trailing bytes mean the reader and writer disagree.
    func expectEnd() throws(FormatViolation) {
        guard isAtEnd else { throw FormatViolation(reason: "\(remaining) unexpected trailing bytes", offset: consumed) }
    }
}
