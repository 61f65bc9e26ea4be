import Foundation
import Locking
import NIOCore
import NIOPosix

/// What the SMTP receiver saw in one session.
struct SMTPTranscript: Sendable {
    var commands: [String] = []
    /// `(authorization identity, user, password)` from `AUTH PLAIN`.
    var authPlain: (String, String, String)?
    var mailFrom: String?
    var recipients: [String] = []
    /// The DATA lines as sent (still dot-stuffed), without the final `.` line.
    var rawDataLines: [String] = []
    var messages: [String] = []

    /// The message as the receiver delivers it: stuffing undone, CRLF line ends.
    var message: String? { messages.last }
}

/// How the receiver behaves.
struct SMTPBehaviour: Sendable {
    var advertiseAuth = true
    var advertiseStartTLS = false
    var sizeLimit: Int?
    var authReply = "235 2.7.0 Authentication successful"
    var mailFromReply = "250 2.1.0 OK"
    /// Recipients answered with this reply instead of 250.
    var rejectedRecipients: [String: String] = [:]
    var dataEndReply = "250 2.0.0 queued"
    /// Stop answering after this command verb (tests timeouts), e.g. "DATA".
    var silentAfter: String?
}

/// A small SMTP server on 127.0.0.1 (ephemeral port) speaking enough RFC 5321 for the client:
/// multi-line EHLO, AUTH PLAIN, MAIL/RCPT/DATA with dot-unstuffing, QUIT. No TLS.
final class SMTPReceiver: Sendable {
    private let channel: any Channel
    private let state = Lock(SMTPTranscript())
    let port: Int

    static func start(_ behaviour: SMTPBehaviour = SMTPBehaviour()) async throws -> SMTPReceiver {
        let box = Lock<SMTPReceiver?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder()))
                    try channel.pipeline.syncOperations.addHandler(SMTPServerHandler(behaviour: behaviour) { update in
                        box.withLock { $0 }!.state.withLock { update(&$0) }
                    })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let receiver = SMTPReceiver(channel: channel)
        box.withLock { $0 = receiver }
        return receiver
    }

    private init(channel: any Channel) {
        self.channel = channel
        self.port = channel.localAddress!.port!
    }

    var url: String { "smtp://127.0.0.1:\(port)" }
    var transcript: SMTPTranscript { state.withLock { $0 } }

    func close() async throws { try await channel.close() }

    /// The client reports success on the message's 250 and sends QUIT after; wait for it.
    func waitForQuit() async throws {
        for _ in 0..<100 where !transcript.commands.contains("QUIT") { try await Task.sleep(for: .milliseconds(10)) }
        guard transcript.commands.contains("QUIT") else { throw QuitMissing() }
    }

    struct QuitMissing: Error {}
}

/// Lines without their CRLF.
private struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: 0x0A) else { return .needMoreData }
        var line = buffer.readBytes(length: newline - buffer.readerIndex)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.last == 0x0D { line.removeLast() }
        context.fireChannelRead(wrapInboundOut(String(decoding: line, as: UTF8.self)))
        return .continue
    }
}

private final class SMTPServerHandler: ChannelInboundHandler {
    typealias InboundIn = String
    typealias OutboundOut = ByteBuffer

    private let behaviour: SMTPBehaviour
    private let update: @Sendable (@Sendable (inout SMTPTranscript) -> Void) -> Void
    private var inData = false
    private var dataLines: [String] = []
    private var silent = false

    init(behaviour: SMTPBehaviour, update: @escaping @Sendable (@Sendable (inout SMTPTranscript) -> Void) -> Void) {
        self.behaviour = behaviour
        self.update = update
    }

    func channelActive(context: ChannelHandlerContext) {
        reply("220 test.local ESMTP ready", context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        if inData { return dataLine(line, context) }
        update { $0.commands.append(line) }
        guard !silent else { return }
        let verb = line.split(separator: " ").first.map { $0.uppercased() } ?? ""
        if let silentAfter = behaviour.silentAfter, line.uppercased().hasPrefix(silentAfter) {
            silent = true
            return
        }
        switch verb {
        case "EHLO": reply(ehloReply(line), context)
        case "AUTH": auth(line, context)
        case "MAIL":
            let address = Self.angleAddress(line)
            update { $0.mailFrom = address }
            reply(behaviour.mailFromReply, context)
        case "RCPT":
            let address = Self.angleAddress(line)
            if let rejection = behaviour.rejectedRecipients[address] { return reply(rejection, context) }
            update { $0.recipients.append(address) }
            reply("250 2.1.5 OK", context)
        case "DATA":
            inData = true
            dataLines = []
            reply("354 End data with <CR><LF>.<CR><LF>", context)
        case "QUIT":
            reply("221 2.0.0 Bye", context)
            context.close(promise: nil)
        default: reply("502 5.5.2 command not recognised", context)
        }
    }

    private func ehloReply(_ line: String) -> String {
        var lines = ["test.local greets \(line.dropFirst(5))", "PIPELINING", "8BITMIME"]
        if let size = behaviour.sizeLimit { lines.append("SIZE \(size)") }
        if behaviour.advertiseStartTLS { lines.append("STARTTLS") }
        if behaviour.advertiseAuth { lines.append("AUTH LOGIN PLAIN") }
        return lines.enumerated().map { "250\($0.offset == lines.count - 1 ? " " : "-")\($0.element)" }.joined(separator: "\r\n")
    }

    private func auth(_ line: String, _ context: ChannelHandlerContext) {
        let parts = line.split(separator: " ")
        guard parts.count == 3, parts[1].uppercased() == "PLAIN", let decoded = Data(base64Encoded: String(parts[2])) else {
            return reply("501 5.5.4 malformed AUTH", context)
        }
        let fields = decoded.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if fields.count == 3 { update { $0.authPlain = (fields[0], fields[1], fields[2]) } }
        reply(behaviour.authReply, context)
    }

    private func dataLine(_ line: String, _ context: ChannelHandlerContext) {
        if line == "." {
            inData = false
            let raw = dataLines
            let message = raw.map { $0.hasPrefix(".") ? String($0.dropFirst()) : $0 }.joined(separator: "\r\n")
            update {
                $0.rawDataLines = raw
                $0.messages.append(message)
            }
            if behaviour.silentAfter == "." {
                silent = true
                return
            }
            return reply(behaviour.dataEndReply, context)
        }
        dataLines.append(line)
    }

    private func reply(_ text: String, _ context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
    }

    private static func angleAddress(_ line: String) -> String {
        guard let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">"), open < close else { return "" }
        return String(line[line.index(after: open)..<close])
    }
}
