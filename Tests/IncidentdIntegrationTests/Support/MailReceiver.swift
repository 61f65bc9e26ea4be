import Foundation
import IncidentdTesting
import Locking
import NIOCore
import NIOPosix

/// One message the mail receiver accepted.
struct ReceivedMail: Sendable {
    var from: String
    var recipients: [String]
    /// The message as delivered (dot-stuffing undone), CRLF line ends.
    var data: String

    /// A header's value (unfolded), nil when absent.
    func header(_ name: String) -> String? {
        let headerBlock = data.components(separatedBy: "\r\n\r\n").first ?? ""
        var unfolded: [String] = []
        for line in headerBlock.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), !unfolded.isEmpty { unfolded[unfolded.count - 1] += line } else { unfolded.append(line) }
        }
        let prefix = name.lowercased() + ":"
        return unfolded.first { $0.lowercased().hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
    }

    var subject: String { header("Subject") ?? "" }
}

/// A small SMTP server on 127.0.0.1 (ephemeral port) standing in for the mail relay: EHLO
/// (no STARTTLS, no AUTH), MAIL, RCPT, DATA with dot-unstuffing, QUIT. It accepts everything.
final class MailReceiver: Sendable {
    private let channel: any Channel
    private let received = Lock<[ReceivedMail]>([])
    let port: Int

    static func start(cleanup: TestCleanup) async throws -> MailReceiver {
        let box = Lock<MailReceiver?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        SMTPSessionHandler { mail in box.withLock { $0 }!.received.withLock { $0.append(mail) } })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let receiver = MailReceiver(channel: channel)
        box.withLock { $0 = receiver }
        cleanup.closeAfterwards { try? await receiver.channel.close() }
        return receiver
    }

    private init(channel: any Channel) {
        self.channel = channel
        self.port = channel.localAddress!.port!
    }

    var url: String { "smtp://127.0.0.1:\(port)" }
    var mails: [ReceivedMail] { received.withLock { $0 } }
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

private final class SMTPSessionHandler: ChannelInboundHandler {
    typealias InboundIn = String
    typealias OutboundOut = ByteBuffer

    private let deliver: @Sendable (ReceivedMail) -> Void
    private var from = ""
    private var recipients: [String] = []
    private var dataLines: [String]?

    init(deliver: @escaping @Sendable (ReceivedMail) -> Void) { self.deliver = deliver }

    func channelActive(context: ChannelHandlerContext) { reply("220 mail.test ESMTP ready", context) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        if dataLines != nil { return dataLine(line, context) }
        switch line.split(separator: " ").first.map({ $0.uppercased() }) ?? "" {
        case "EHLO", "HELO": reply("250-mail.test greets you\r\n250-PIPELINING\r\n250 8BITMIME", context)
        case "MAIL":
            from = Self.angleAddress(line)
            recipients = []
            reply("250 2.1.0 OK", context)
        case "RCPT":
            recipients.append(Self.angleAddress(line))
            reply("250 2.1.5 OK", context)
        case "DATA":
            dataLines = []
            reply("354 End data with <CR><LF>.<CR><LF>", context)
        case "RSET":
            from = ""
            recipients = []
            reply("250 2.0.0 OK", context)
        case "NOOP": reply("250 2.0.0 OK", context)
        case "QUIT":
            reply("221 2.0.0 Bye", context)
            context.close(promise: nil)
        default: reply("502 5.5.2 command not recognised", context)
        }
    }

    private func dataLine(_ line: String, _ context: ChannelHandlerContext) {
        guard line == "." else {
            dataLines?.append(line.hasPrefix(".") ? String(line.dropFirst()) : line)
            return
        }
        deliver(ReceivedMail(from: from, recipients: recipients, data: (dataLines ?? []).joined(separator: "\r\n")))
        dataLines = nil
        reply("250 2.0.0 queued", context)
    }

    private func reply(_ text: String, _ context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
    }

    private static func angleAddress(_ line: String) -> String {
        guard let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">"), open < close else { return "" }
        return String(line[line.index(after: open)..<close])
    }
}
