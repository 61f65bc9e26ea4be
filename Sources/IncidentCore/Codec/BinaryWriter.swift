/// Appends values in the project's compact binary encoding.
///
/// Integers are LEB128 varints (signed ones zig-zag encoded first), strings and byte blobs are
/// length-prefixed, collections are count-prefixed. The encoding of a value is a pure function of
/// the value: collections with no inherent order are written sorted, so equal states produce
/// byte-identical snapshots.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The bytes written, in an allocation no larger than they need. The array behind a writer
    /// grows by doubling, so up to half of it can be unused; values kept for long (log entries,
    /// remembered answers) are copied once into an exact-size array instead of carrying that
    /// slack for as long as they live.
    public var compactBytes: [UInt8] {
        let count = bytes.count
        guard bytes.capacity - count > count / 8 else { return bytes }
        return bytes.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: count) { target, initialized in
                if let from = source.baseAddress, let to = target.baseAddress { to.initialize(from: from, count: count) }
                initialized = count
            }
        }
    }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(varint value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func write(zigzag value: Int64) {
        write(varint: UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// A fixed-width little-endian 32-bit value (magic numbers, checksums).
    public mutating func write(fixed32 value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(bool value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func write(string value: String) {
        var value = value
        value.withUTF8 { utf8 in
            write(varint: UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func write(blob value: [UInt8]) {
        write(varint: UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Room for a length not known yet, filled in by `fill(paddedVarint:at:)`: five bytes.
    public mutating func reservePaddedVarint() -> Int {
        let offset = bytes.count
        bytes.append(contentsOf: [0x80, 0x80, 0x80, 0x80, 0x00])
        return offset
    }

    /// Writes `value` (below 2^35) into the five bytes `reservePaddedVarint` left at `offset`, as
    /// a varint padded to that width with continuation bits (readers take any LEB128 varint).
    public mutating func fill(paddedVarint value: UInt64, at offset: Int) {
        precondition(value < 1 << 35, "a padded varint holds 35 bits")
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (7 * UInt64(i))) & 0x7F | 0x80 }
        bytes[offset + 4] = UInt8(truncatingIfNeeded: value >> 28)
    }

    /// Bytes that are already an encoding, appended as they are (no length prefix).
    public mutating func write(raw: ArraySlice<UInt8>) { bytes.append(contentsOf: raw) }

    public mutating func write<T: BinaryCodable>(_ value: T) { value.encode(to: &self) }
}
