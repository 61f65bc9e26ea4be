import NIOCore

/// Reads HTTP/1.1 answers off a connection's bytes: the status, whether the body holds the
/// target's marker, and whether the server will close. Only what the generator checks is kept.
///
/// The generator shares the machine with the nodes it measures, so its own cost per answer is
/// measurement error. NIO's HTTP/1 client codec built every header's name and value as strings
/// and validated the request headers on every write; at 10,000 requests/s over half of the
/// generator's profile samples had it on their stack (docs/BENCHMARKS.md, ninth pass). This
/// reader scans the header block once for the three headers that frame an answer and never
/// copies the others.
///
/// Bodies are framed by `Content-Length` or `chunked` transfer coding (with chunk extensions and
/// trailers); 1xx interim answers are skipped; 204 and 304 have no body. Anything else — a bad
/// status line, a header line without a colon, conflicting lengths, a body delimited only by the
/// connection closing, a header block over `maxHeaderBytes`, a bad chunk size — is an error, and
/// the connection is closed (its request counts as a transport error).
struct ResponseReader {
    struct Answer: Equatable {
        var status: UInt
        var hasMarker: Bool
        /// `Connection: close` (or HTTP/1.0 without keep-alive): the server closes after this answer.
        var closes: Bool
    }

    struct Malformed: Error, Equatable, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static let maxHeaderBytes = 64 * 1_024
    /// Only this many body bytes are searched for the marker; the native answer is ~300 bytes,
    /// etcd's put answer ~130.
    static let maxInspectedBodyBytes = 64 * 1_024
    /// Longest chunk-size line (with extensions) accepted.
    static let maxChunkLineBytes = 1_024

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
    }

    private let marker: [UInt8]
    private var state = State.head
    private var buffer: ByteBuffer
    /// How far the header block or line being looked for was already searched.
    private var scanned = 0
    private var current = Answer(status: 0, hasMarker: false, closes: false)
    /// The body's first `maxInspectedBodyBytes`, gathered only while it arrives in pieces.
    private var body: ByteBuffer?

    init(marker: [UInt8], allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.marker = marker
        buffer = allocator.buffer(capacity: 1_024)
    }

    /// True while part of an answer has been read (a closing connection then loses it).
    var isMidAnswer: Bool {
        if case .head = state { return buffer.readableBytes > 0 }
        return true
    }

    /// Adds the bytes read from the connection and returns the answers they completed, in order.
    mutating func read(_ bytes: inout ByteBuffer) throws(Malformed) -> [Answer] {
        if buffer.readableBytes == 0 { buffer.clear() } else if buffer.readerIndex > 4_096 { buffer.discardReadBytes() }
        buffer.writeBuffer(&bytes)
        var answers: [Answer] = []
        while let answer = try next() { answers.append(answer) }
        return answers
    }

    /// One step of the state machine that completed an answer, or nil when more bytes are needed.
    private mutating func next() throws(Malformed) -> Answer? {
        while true {
            switch state {
            case .head:
                guard let length = try headerBlockLength() else { return nil }
                try parseHead(length: length)
            case .fixedBody(let remaining):
                if remaining == 0 { return finish() }
                guard buffer.readableBytes > 0 else { return nil }
                let take = min(remaining, buffer.readableBytes)
                inspect(take)
                state = .fixedBody(remaining: remaining - take)
            case .chunkSize:
                guard let line = try line(limit: Self.maxChunkLineBytes, what: "chunk size line") else { return nil }
                let size = try Self.chunkSize(line)
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let take = min(remaining, buffer.readableBytes)
                inspect(take)
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw Malformed("chunk data not followed by CRLF") }
                state = .chunkSize
            case .trailers:
                guard let line = try line(limit: Self.maxHeaderBytes, what: "trailer") else { return nil }
                if line.isEmpty { return finish() }
            }
        }
    }

    private mutating func finish() -> Answer {
        if let body {
            current.hasMarker = BenchConnection.contains(body.readableBytesView, marker)
            self.body = nil
        }
        state = .head
        scanned = 0
        return current
    }

    /// Takes `count` body bytes off the buffer, keeping what the marker search needs.
    private mutating func inspect(_ count: Int) {
        let slice = buffer.readSlice(length: count)!
        guard !current.hasMarker else { return }
        if body == nil, case .fixedBody(let remaining) = state, remaining == count {
            // The whole body at once, the usual case: searched in place.
            current.hasMarker = BenchConnection.contains(slice.readableBytesView.prefix(Self.maxInspectedBodyBytes), marker)
            return
        }
        // Taken out first: appending while `body` still shared its storage would copy it.
        var kept = body ?? ByteBuffer()
        body = nil
        let room = Self.maxInspectedBodyBytes - kept.readableBytes
        if room > 0 {
            var part = slice
            kept.writeBuffer(&part)
            if kept.readableBytes > Self.maxInspectedBodyBytes { kept.moveWriterIndex(to: kept.readerIndex + Self.maxInspectedBodyBytes) }
        }
        body = kept
    }

    /// The length of the header block (through its empty line) once it is all in the buffer.
    private mutating func headerBlockLength() throws(Malformed) -> Int? {
        let view = buffer.readableBytesView
        var i = view.startIndex + max(0, scanned - 3)
        while i + 3 < view.endIndex {
            if view[i] == 0x0D, view[i + 1] == 0x0A, view[i + 2] == 0x0D, view[i + 3] == 0x0A {
                return i + 4 - view.startIndex
            }
            i += 1
        }
        scanned = view.count
        if scanned > Self.maxHeaderBytes { throw Malformed("header block over \(Self.maxHeaderBytes) bytes") }
        return nil
    }

    /// Reads the status line and the headers that frame the body; sets the state for the body.
    private mutating func parseHead(length: Int) throws(Malformed) {
        let head = buffer.readSlice(length: length)!
        scanned = 0
        current = Answer(status: 0, hasMarker: false, closes: false)
        body = nil
        let bytes = head.readableBytesView
        var lines = Self.lines(bytes)
        guard let statusLine = lines.next() else { throw Malformed("empty status line") }
        let (minor, status) = try Self.statusLine(statusLine)
        current.status = status
        current.closes = minor == 0
        var contentLength: Int?
        var chunked = false
        while let line = lines.next(), !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw Malformed("header line without a name and colon")
            }
            let name = line[line.startIndex..<colon]
            let value = Self.trimmed(line[(colon + 1)...])
            if Self.equalsLowercased(name, "content-length") {
                guard let parsed = Self.decimal(value) else { throw Malformed("bad Content-Length") }
                if let contentLength, contentLength != parsed { throw Malformed("conflicting Content-Length headers") }
                contentLength = parsed
            } else if Self.equalsLowercased(name, "transfer-encoding") {
                guard Self.endsWithLowercased(value, "chunked") else { throw Malformed("unsupported Transfer-Encoding") }
                chunked = true
            } else if Self.equalsLowercased(name, "connection") {
                if Self.containsLowercased(value, "close") { current.closes = true }
                if Self.containsLowercased(value, "keep-alive") { current.closes = false }
            }
        }
        switch status {
        case 100..<200:
            // Interim: the final answer follows.
            state = .head
        case 204, 304:
            state = .fixedBody(remaining: 0)
        default:
            if chunked {
                // RFC 9112 §6.3: chunked wins over a Content-Length, which a proxy could have kept.
                state = .chunkSize
            } else if let contentLength {
                state = .fixedBody(remaining: contentLength)
            } else {
                throw Malformed("answer \(status) without Content-Length or chunked coding (a body up to the close is not supported)")
            }
        }
    }

    /// The next CRLF-terminated line (without it), or nil when it has not all arrived.
    private mutating func line(limit: Int, what: String) throws(Malformed) -> ByteBufferView? {
        let view = buffer.readableBytesView
        var i = view.startIndex + max(0, scanned - 1)
        while i + 1 < view.endIndex {
            if view[i] == 0x0D, view[i + 1] == 0x0A {
                let line = view[view.startIndex..<i]
                buffer.moveReaderIndex(forwardBy: i + 2 - view.startIndex)
                scanned = 0
                return line
            }
            i += 1
        }
        scanned = view.count
        if scanned > limit { throw Malformed("\(what) over \(limit) bytes") }
        return nil
    }

    // MARK: - Pieces

    private struct Lines: IteratorProtocol {
        var rest: ByteBufferView
        mutating func next() -> ByteBufferView? {
            guard !rest.isEmpty else { return nil }
            var i = rest.startIndex
            while i + 1 < rest.endIndex, !(rest[i] == 0x0D && rest[i + 1] == 0x0A) { i += 1 }
            guard i + 1 < rest.endIndex else {
                defer { rest = rest[rest.endIndex...] }
                return rest
            }
            defer { rest = rest[(i + 2)...] }
            return rest[rest.startIndex..<i]
        }
    }

    private static func lines(_ bytes: ByteBufferView) -> Lines { Lines(rest: bytes[...]) }

    /// `HTTP/1.x SP 3DIGIT [SP reason]`: the minor version and the status.
    static func statusLine(_ line: ByteBufferView) throws(Malformed) -> (minor: Int, status: UInt) {
        let start = line.startIndex
        guard line.count >= 12, line.prefix(7).elementsEqual("HTTP/1.".utf8) else { throw Malformed("bad status line") }
        let minor = line[start + 7]
        guard minor == UInt8(ascii: "0") || minor == UInt8(ascii: "1"), line[start + 8] == UInt8(ascii: " "),
            line.count == 12 || line[start + 12] == UInt8(ascii: " ")
        else { throw Malformed("bad status line") }
        var status: UInt = 0
        for byte in line[(start + 9)..<(start + 12)] {
            guard (0x30...0x39).contains(byte) else { throw Malformed("bad status line") }
            status = status * 10 + UInt(byte - 0x30)
        }
        guard status >= 100 else { throw Malformed("bad status code \(status)") }
        return (Int(minor - 0x30), status)
    }

    /// A chunk-size line's size (hex, before any `;extension`).
    static func chunkSize(_ line: ByteBufferView) throws(Malformed) -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                guard digits > 0 else { throw Malformed("bad chunk size") }
                return size
            default: throw Malformed("bad chunk size")
            }
            digits += 1
            guard digits <= 15 else { throw Malformed("chunk size too large") }
            size = size * 16 + value
        }
        guard digits > 0 else { throw Malformed("bad chunk size") }
        return size
    }

    private static func trimmed(_ value: ByteBufferView) -> ByteBufferView {
        var value = value
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        return value
    }

    private static func decimal(_ value: ByteBufferView) -> Int? {
        guard !value.isEmpty, value.count <= 15 else { return nil }
        var result = 0
        for byte in value {
            guard (0x30...0x39).contains(byte) else { return nil }
            result = result * 10 + Int(byte - 0x30)
        }
        return result
    }

    private static func lowered(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }

    /// `bytes` equals the lower-case ASCII `name`, ignoring case.
    static func equalsLowercased(_ bytes: ByteBufferView, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { expected in zip(bytes, expected).allSatisfy { lowered($0) == $1 } }
    }

    private static func endsWithLowercased(_ bytes: ByteBufferView, _ token: StaticString) -> Bool {
        let count = token.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        return equalsLowercased(bytes.suffix(count), token)
    }

    private static func containsLowercased(_ bytes: ByteBufferView, _ token: StaticString) -> Bool {
        let count = token.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        var start = bytes.startIndex
        while start + count <= bytes.endIndex {
            if equalsLowercased(bytes[start..<(start + count)], token) { return true }
            start += 1
        }
        return false
    }
}
