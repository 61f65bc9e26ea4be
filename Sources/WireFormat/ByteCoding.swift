/// Appends little-endian integers, bools and length-prefixed byte strings: the only primitives
/// of the wire format (docs/PROTOCOL.md §2.1).
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ flag: Bool) { bytes.append(flag ? 1 : 0) }

    /// Raw bytes with no length prefix.
    public mutating func writeRaw(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    /// `[length: u32][bytes]`.
    public mutating func writeBytes(_ raw: [UInt8]) {
        precondition(raw.count <= Int(UInt32.max), "byte string longer than a u32 length")
        write(UInt32(raw.count))
        bytes.append(contentsOf: raw)
    }

    /// `[length: u8][UTF-8]`; callers validate the 255-byte bound before (WireIdentity.validate).
    public mutating func writeShortString(_ text: String) {
        let utf8 = Array(text.utf8)
        precondition(utf8.count <= Int(UInt8.max), "short string longer than 255 bytes")
        bytes.append(UInt8(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// A non-negative `Int` as u64.
    public mutating func writeCount(_ value: Int) {
        precondition(value >= 0, "negative size on the wire")
        write(UInt64(value))
    }

    /// Drops everything after the first `count` bytes.
    public mutating func truncate(to count: Int) {
        bytes.removeLast(bytes.count - count)
    }

    /// Overwrites four bytes at `offset` with `value` (little-endian).
    public mutating func patch(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
}

/// Reads what `WireWriter` wrote, from a raw buffer it does not own. Every read is bounds-checked
/// and every length is compared with the bytes that are left BEFORE anything is allocated, so a
/// hostile length costs nothing.
public struct WireReader {
    private let base: UnsafeRawBufferPointer
    public private(set) var position: Int

    public init(_ base: UnsafeRawBufferPointer) {
        self.base = base
        self.position = 0
    }

    public var remaining: Int { base.count - position }
    public var isAtEnd: Bool { position == base.count }

    public mutating func read<T: FixedWidthInteger>(_: T.Type) throws(WireFormatError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw WireFormatError(.truncated, "truncated \(T.self)", offset: position) }
        var value: T = 0
        for i in 0..<size { value |= T(base[position + i]) << (8 * i) }
        position += size
        return value
    }

    public mutating func readBool() throws(WireFormatError) -> Bool {
        let at = position
        switch try read(UInt8.self) {
        case 0: return false
        case 1: return true
        case let other: throw WireFormatError(.invalid, "bool byte \(other) is neither 0 nor 1", offset: at)
        }
    }

    /// A u64 that must fit a non-negative `Int`.
    public mutating func readCount() throws(WireFormatError) -> Int {
        let at = position
        let value = try read(UInt64.self)
        guard value <= UInt64(Int.max) else { throw WireFormatError(.oversized, "size \(value) does not fit Int", offset: at) }
        return Int(value)
    }

    /// A non-zero node id.
    public mutating func readNodeID() throws(WireFormatError) -> UInt64 {
        let at = position
        let id = try read(UInt64.self)
        guard id != 0 else { throw WireFormatError(.invalid, "node id 0", offset: at) }
        return id
    }

    public mutating func readRaw(_ count: Int) throws(WireFormatError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw WireFormatError(.truncated, "length \(count) exceeds the \(remaining) bytes left", offset: position)
        }
        defer { position += count }
        return Array(UnsafeRawBufferPointer(rebasing: base[position..<position + count]))
    }

    /// `[length: u32][bytes]`, at most `limit` bytes.
    public mutating func readBytes(limit: Int) throws(WireFormatError) -> [UInt8] {
        let at = position
        let length = Int(try read(UInt32.self))
        guard length <= limit else { throw WireFormatError(.oversized, "byte string of \(length) bytes over \(limit)", offset: at) }
        return try readRaw(length)
    }

    /// `[length: u8][UTF-8]`; invalid UTF-8 is rejected.
    public mutating func readShortString() throws(WireFormatError) -> String {
        let at = position
        let length = Int(try read(UInt8.self))
        let raw = try readRaw(length)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw WireFormatError(.invalid, "string is not valid UTF-8", offset: at)
        }
        return text
    }

    /// All bytes that are left.
    public mutating func readRest() -> [UInt8] {
        defer { position = base.count }
        return Array(UnsafeRawBufferPointer(rebasing: base[position...]))
    }

    /// Throws unless every byte was consumed.
    public func expectEnd(_ what: String) throws(WireFormatError) {
        guard isAtEnd else { throw WireFormatError(.trailingBytes, "\(remaining) trailing bytes after \(what)", offset: position) }
    }
}
