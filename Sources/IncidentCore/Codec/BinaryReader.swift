/// Why decoding failed, with the byte offset where it noticed.
public struct DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case truncated, malformedVarint, invalidUTF8, invalidTag, tooLarge, invalidValue, badMagic
        case unsupportedVersion, trailingBytes
    }

    public var code: Code
    public var offset: Int
    public var context: String

    public init(_ code: Code, at offset: Int, _ context: String = "") {
        self.code = code
        self.offset = offset
        self.context = context
    }

    public var description: String {
        "decoding failed: \(code.rawValue) at byte \(offset)" + (context.isEmpty ? "" : " (\(context))")
    }
}

/// Reads values written by `BinaryWriter`. Every read is bounds-checked: truncated, random or
/// hostile input throws `DecodingError` and never traps or allocates more than the input could
/// justify (a count prefix larger than the remaining bytes is rejected before allocating).
public struct BinaryReader: Sendable {
    @usableFromInline let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func readByte() throws(DecodingError) -> UInt8 {
        guard offset < bytes.count else { throw DecodingError(.truncated, at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// The next byte without consuming it; nil at the end.
    public func peekByte() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

    public mutating func readVarint() throws(DecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            guard offset < bytes.count else { throw DecodingError(.truncated, at: offset) }
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 { throw DecodingError(.malformedVarint, at: start) }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw DecodingError(.malformedVarint, at: start) }
        }
    }

    public mutating func readZigzag() throws(DecodingError) -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    public mutating func readFixed32() throws(DecodingError) -> UInt32 {
        guard remaining >= 4 else { throw DecodingError(.truncated, at: offset) }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return value
    }

    public mutating func readBool() throws(DecodingError) -> Bool {
        let start = offset
        switch try readByte() {
        case 0: return false
        case 1: return true
        default: throw DecodingError(.invalidValue, at: start, "bool")
        }
    }

    /// A count prefix for a collection whose elements take at least `minimumElementSize` bytes.
    public mutating func readCount(minimumElementSize: Int = 1) throws(DecodingError) -> Int {
        let start = offset
        let raw = try readVarint()
        guard raw <= UInt64(remaining / max(1, minimumElementSize)) else {
            throw DecodingError(.tooLarge, at: start, "count \(raw) exceeds remaining input")
        }
        return Int(raw)
    }

    public mutating func readString() throws(DecodingError) -> String {
        let start = offset
        let count = try readCount()
        let text = bytes.withUnsafeBufferPointer { all -> String? in
            let slice = UnsafeBufferPointer(rebasing: all[offset..<(offset + count)])
            // ASCII, the common case, is valid UTF-8 as it is; `String(validating:as:)` is generic
            // and looks its metadata up at run time on every call (a profile's top runtime cost
            // on followers, which decode every entry).
            if slice.allSatisfy({ $0 < 0x80 }) { return String(decoding: slice, as: UTF8.self) }
            return String(validating: slice, as: UTF8.self)
        }
        guard let text else { throw DecodingError(.invalidUTF8, at: start) }
        offset += count
        return text
    }

    public mutating func readBlob() throws(DecodingError) -> [UInt8] {
        let count = try readCount()
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    public mutating func read<T: BinaryCodable>(_ type: T.Type = T.self) throws(DecodingError) -> T {
        try T(from: &self)
    }

    /// Fails unless every byte was consumed.
    public func expectEnd() throws(DecodingError) {
        guard isAtEnd else { throw DecodingError(.trailingBytes, at: offset) }
    }

    /// A checked conversion of a decoded integer into a narrower type.
    public func narrow<T: FixedWidthInteger>(_ value: UInt64, to: T.Type, at start: Int) throws(DecodingError) -> T {
        guard let narrowed = T(exactly: value) else { throw DecodingError(.invalidValue, at: start, "\(T.self) out of range") }
        return narrowed
    }
}
