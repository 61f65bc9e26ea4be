import NIOCore

/// One SMTP reply: a three-digit code and its text lines (`250-a`, `250-b`, `250 c` → three lines).
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]

    var isPositive: Bool { code >= 200 && code < 400 }
    /// 4yz: the server asks to try again later.
    var isTransient: Bool { code >= 400 && code < 500 }
    var text: String { lines.joined(separator: " / ") }

    /// The EHLO keywords after the greeting line, upper-cased: `["AUTH PLAIN LOGIN", "STARTTLS"]`.
    var extensions: [String] { lines.dropFirst().map { $0.uppercased() } }

    func advertises(_ keyword: String) -> Bool {
        extensions.contains { $0 == keyword || $0.hasPrefix(keyword + " ") }
    }

    /// Whether an EHLO reply lists `AUTH` with `mechanism`.
    func advertisesAuth(_ mechanism: String) -> Bool {
        extensions.contains { line in
            let words = line.split(separator: " ")
            return words.first == "AUTH" && words.dropFirst().contains(Substring(mechanism))
        }
    }

    /// The `SIZE` limit from an EHLO reply, if advertised with a value.
    var sizeLimit: Int? {
        for line in extensions where line.hasPrefix("SIZE ") {
            if let value = Int(line.dropFirst(5)), value > 0 { return value }
        }
        return nil
    }
}

/// Decodes reply lines into `SMTPReply`s, joining `xyz-` continuation lines (RFC 5321 §4.2).
///
/// Accepts CRLF or bare LF. Limits: `maxLineBytes` per line and `maxLines` per reply; beyond
/// them, or on a line that is not `xyz[ -]text`, decoding fails with `smtpProtocol`.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    static let maxLineBytes = 2_048
    static let maxLines = 128

    private var code: Int?
    private var lines: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: 0x0A) else {
            if buffer.readableBytes > Self.maxLineBytes { throw DeliveryError(.smtpProtocol, "reply line too long", retryable: true) }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        guard length <= Self.maxLineBytes else { throw DeliveryError(.smtpProtocol, "reply line too long", retryable: true) }
        var line = buffer.readBytes(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.last == 0x0D { line.removeLast() }
        if let reply = try consume(line) { context.fireChannelRead(wrapInboundOut(reply)) }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    /// Adds one line; returns the reply when the line was its last.
    mutating func consume(_ line: [UInt8]) throws -> SMTPReply? {
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        guard line.count >= 3, isDigit(line[0]), isDigit(line[1]), isDigit(line[2]) else {
            throw DeliveryError(.smtpProtocol, "malformed reply line", retryable: true)
        }
        let lineCode = Int(line[0] - 0x30) * 100 + Int(line[1] - 0x30) * 10 + Int(line[2] - 0x30)
        let separator = line.count > 3 ? line[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw DeliveryError(.smtpProtocol, "malformed reply line", retryable: true)
        }
        if let code, code != lineCode { throw DeliveryError(.smtpProtocol, "reply code changed within a reply", retryable: true) }
        code = lineCode
        lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
        guard lines.count <= Self.maxLines else { throw DeliveryError(.smtpProtocol, "reply has too many lines", retryable: true) }
        guard separator == UInt8(ascii: " ") else { return nil }
        defer {
            code = nil
            lines = []
        }
        return SMTPReply(code: lineCode, lines: lines)
    }
}
