/// Why bytes received from a peer are not a valid frame. Decoders throw it for every malformed,
/// truncated, oversized or unknown input; the connection that carried the bytes is closed with
/// `description` in the log. Matched by `code`, never by message text.
public struct WireFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of violation.
    public enum Code: Sendable, Equatable {
        /// Fewer bytes than the structure needs (inside a frame: the frame lied about a length).
        case truncated
        /// A length or count over a configured limit, or a value out of its range.
        case oversized
        /// The frame's CRC32C does not match its header and payload.
        case checksumMismatch
        /// A frame kind, message tag, entry kind, flag bit or enum value this version does not know.
        case unknown
        /// Bytes left over after a structure that should have ended.
        case trailingBytes
        /// Well-formed bytes that break a rule (bad magic, zero node id, unsorted member ids,
        /// invalid UTF-8, a bool that is not 0 or 1, compressed data that does not decompress).
        case invalid
    }

    public var code: Code
    public var message: String
    /// Byte offset inside the structure being decoded where the problem was found.
    public var offset: Int

    public init(_ code: Code, _ message: String, offset: Int = 0) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) (at byte \(offset))" }
}
