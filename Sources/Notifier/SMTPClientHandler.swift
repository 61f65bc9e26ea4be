import NIOCore
import NIOSSL
import NIOTLS

/// The NIO shell around `SMTPSession`: writes its commands, feeds it decoded replies, installs
/// TLS for STARTTLS and bounds every wait for a reply by `replyTimeout`.
///
/// `outcome` completes exactly once: success when the message is accepted, otherwise the first
/// failure (a refusal, a timeout, a broken connection). After that the handler only sends QUIT
/// where polite and closes the connection.
final class SMTPClientHandler: ChannelInboundHandler {
    typealias InboundIn = SMTPReply
    typealias OutboundOut = ByteBuffer

    /// TLS for STARTTLS: the context and the name to verify (nil for IP literals).
    struct StartTLS {
        var context: NIOSSLContext
        var serverHostname: String?
    }

    private var session: SMTPSession
    private let outcome: EventLoopPromise<Void>
    private let replyTimeout: TimeAmount
    private let startTLS: StartTLS?
    private var timeout: Scheduled<Void>?
    private var completed = false

    init(session: SMTPSession, outcome: EventLoopPromise<Void>, replyTimeout: TimeAmount, startTLS: StartTLS?) {
        self.session = session
        self.outcome = outcome
        self.replyTimeout = replyTimeout
        self.startTLS = startTLS
    }

    func channelActive(context: ChannelHandlerContext) {
        armTimeout(context)  // for the greeting
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        cancelTimeout()
        perform(session.receive(unwrapInboundIn(data)), context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            cancelTimeout()
            perform(session.tlsEstablished(), context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(.failure(Self.classify(error)))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimeout()
        complete(.failure(DeliveryError(.connectionFailed, "the server closed the connection", retryable: true)))
        context.fireChannelInactive()
    }

    private func perform(_ action: SMTPSession.Action, _ context: ChannelHandlerContext) {
        switch action {
        case .send(let line):
            write(line, context)
            armTimeout(context)
        case .sendMessage(let bytes):
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
            armTimeout(context)
        case .startTLS:
            installTLS(context)
        case .delivered:
            complete(.success(()))
            quit(context)
        case .failed(let error, let quit):
            complete(.failure(error))
            if quit { self.quit(context) } else { context.close(promise: nil) }
        case .none:
            if session.isFinished { context.close(promise: nil) }
        }
    }

    private func installTLS(_ context: ChannelHandlerContext) {
        guard let startTLS else {
            perform(.failed(.invalid("TLS is unavailable on this node"), quit: false), context)
            return
        }
        do {
            let handler = try NIOSSLClientHandler(context: startTLS.context, serverHostname: startTLS.serverHostname)
            try context.pipeline.syncOperations.addHandler(handler, position: .first)
            armTimeout(context)  // for the handshake
        } catch {
            perform(.failed(Self.classify(error), quit: false), context)
        }
    }

    /// QUIT, then close on its reply (`.none` above) or when the reply timeout passes.
    private func quit(_ context: ChannelHandlerContext) {
        write("QUIT", context)
        armTimeout(context)
    }

    private func write(_ line: String, _ context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: line.utf8.count + 2)
        buffer.writeString(line)
        buffer.writeStaticString("\r\n")
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    private func armTimeout(_ context: ChannelHandlerContext) {
        cancelTimeout()
        let milliseconds = replyTimeout.nanoseconds / 1_000_000
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: replyTimeout) {
            self.complete(.failure(DeliveryError(.timeout, "no SMTP reply within \(milliseconds) ms", retryable: true)))
            context.close(promise: nil)
        }
    }

    private func cancelTimeout() {
        timeout?.cancel()
        timeout = nil
    }

    private func complete(_ result: Result<Void, DeliveryError>) {
        guard !completed else { return }
        completed = true
        outcome.completeWith(result.mapError { $0 as any Error })
    }

    static func classify(_ error: any Error) -> DeliveryError {
        if let error = error as? DeliveryError { return error }
        if let error = error as? NIOSSLError { return DeliveryError(.connectionFailed, "TLS: \(error)", retryable: true) }
        if let error = error as? BoringSSLError { return DeliveryError(.connectionFailed, "TLS: \(error)", retryable: true) }
        return DeliveryError(.connectionFailed, String(describing: error), retryable: true)
    }
}
