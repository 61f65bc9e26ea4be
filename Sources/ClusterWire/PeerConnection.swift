import X509
import NIOSSL
import Logging
import NIOCore
import RaftCore
import WireFormat

/// One TCP connection to a peer: runs the handshake, then carries frames both ways. It is the
/// last handler of the pipeline (`[TLS] → FrameDecoder → PeerConnection`) and, like everything
/// of ClusterWire, lives on the wire's single event loop.
///
/// Phases: `handshaking` (dialer sent `Hello`, or acceptor waits for one) → `established`
/// (attached to its `PeerLink`) → `closed`. Anything unexpected for the phase — a frame kind, a
/// message not from the peer or not to us, a decode error — closes this connection only, with
/// the reason logged and recorded in the peer's `lastError`.
final class PeerConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    enum Role {
        /// We dialed this peer.
        case dialer(PeerLink)
        case acceptor
    }

    enum Phase {
        case handshaking
        case established(PeerLink)
        case closed
    }

    let board: Switchboard
    let role: Role
    var logger: Logger
    private(set) var phase: Phase = .handshaking
    /// The protocol version the handshake chose (0 before it completes).
    private(set) var protocolVersion: UInt16 = 0
    var context: ChannelHandlerContext?
    private var handshakeTimer: Scheduled<Void>?
    private(set) var closeReason: String?
    /// Whether `close` already recorded its reason as the peer's `lastError`.
    private(set) var closedWithRecordedError = false
    var lastHeardNanoseconds = monotonicNanoseconds()
    /// Frames waiting for the socket to become writable, and their encoded size.
    var outbox = CircularBuffer<(frame: EncodedFrame, messages: Int)>()
    var queuedBytes = 0
    /// `WireConfig.sendDelays` for the peer's region, in nanoseconds (0: none).
    var sendDelayNanoseconds: UInt64 = 0
    /// Frames held back by the send delay, oldest first, with the time each may leave; they
    /// count towards `queuedBytes` and the frame limit like the outbox.
    var delayed = CircularBuffer<(due: UInt64, frame: EncodedFrame, messages: Int)>()
    var delayTimer: Scheduled<Void>?
    /// Our requests awaiting an answer on this connection.
    var pending: [UInt64: (promise: EventLoopPromise<[UInt8]>, timer: Scheduled<Void>)] = [:]
    var nextRequestID: UInt64 = 1
    /// The peer's requests handed to the delegate and not yet answered.
    var serving: Set<UInt64> = []
    var pingSequence: UInt64 = 0

    init(board: Switchboard, role: Role, logger: Logger) {
        self.board = board
        self.role = role
        self.logger = logger
    }

    /// The peer this connection belongs to, once known.
    var link: PeerLink? {
        switch (phase, role) {
        case (.established(let link), _), (_, .dialer(let link)): return link
        default: return nil
        }
    }

    var isEstablished: Bool {
        if case .established = phase { return true }
        return false
    }

    var remoteAddress: String {
        guard let address = context?.channel.remoteAddress else { return "unknown address" }
        return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    /// The remote IP, standing in for the listen address of a dialer we learn (no peer list).
    var remoteHost: String { context?.channel.remoteAddress?.ipAddress ?? "unknown" }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        let timeout = board.limits.handshakeTimeoutMilliseconds
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(timeout))) {
            self.close(reason: "handshake not completed within \(timeout) ms")
        }
        if case .dialer(let link) = role {
            writeDirect(.handshake(board.hello(to: link.id)))
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let reason = closeReason ?? "connection closed by the peer"
        let link = self.link
        phase = .closed
        handshakeTimer?.cancel()
        handshakeTimer = nil
        failPending(WireError(board.isShuttingDown ? .shutDown : .disconnected, reason))
        if let link, !outbox.isEmpty || !delayed.isEmpty {
            let messages = outbox.reduce(0) { $0 + $1.messages } + delayed.reduce(0) { $0 + $1.messages }
            link.countDropped(frames: outbox.count + delayed.count, messages: messages)
        }
        outbox.removeAll()
        delayed.removeAll()
        delayTimer?.cancel()
        delayTimer = nil
        queuedBytes = 0
        serving.removeAll()
        board.connectionClosed(self, link: link, reason: reason)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let formatError = error as? WireFormatError {
            close(reason: "malformed input from \(remoteAddress): \(formatError)", isError: true)
        } else {
            close(reason: "connection error with \(remoteAddress): \(error)", isError: true)
        }
    }

    /// Closes the connection once; the first reason wins and goes to the log and `lastError`.
    func close(reason: String, isError: Bool = true) {
        guard closeReason == nil, let context else { return }
        closeReason = reason
        if isError {
            logger.warning("closing peer connection", metadata: ["reason": "\(reason)", "remote": "\(remoteAddress)"])
            if let link {
                board.recordError(reason, for: link)
                closedWithRecordedError = true
            }
        } else {
            logger.debug("closing peer connection", metadata: ["reason": "\(reason)"])
        }
        context.close(promise: nil)
    }

    /// Sends `frame` and closes once it is on the wire (a refusal must reach the dialer; it was
    /// logged as a warning already).
    private func closeAfter(_ frame: WireFrame, reason: String) {
        guard closeReason == nil, let context else { return }
        let buffer = frame.encoded(compressionThresholdBytes: .max).buffer(context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
            self.close(reason: reason, isError: false)
        }
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard closeReason == nil else { return }
        let inbound = unwrapInboundIn(data)
        let now = monotonicNanoseconds()
        lastHeardNanoseconds = now
        switch phase {
        case .handshaking: handshakeFrame(inbound.frame)
        case .established(let link):
            link.countReceived(bytes: inbound.wireBytes, at: now)
            established(inbound.frame, link: link, now: now)
            board.publish(link)
        case .closed: break
        }
    }

    private func handshakeFrame(_ frame: WireFrame) {
        switch (role, frame) {
        case (.acceptor, .handshake(let hello)):
            switch board.evaluate(hello, remote: remoteAddress, remoteHost: remoteHost, certificateNames: peerCertificateNames()) {
            case .success(let link):
                let answer = board.answer(accepting: hello)
                writeDirect(.handshakeAnswer(answer))
                becomeEstablished(link, region: hello.region, zone: hello.zone, version: answer.version)
            case .failure(let refusal):
                closeAfter(.handshakeAnswer(board.answer(refusing: refusal)), reason: "refused node \(hello.nodeID): \(refusal.text)")
            }
        case (.dialer(let link), .handshakeAnswer(let answer)):
            if let problem = board.checkAnswer(answer, expected: link.id) {
                close(reason: problem)
            } else if let expected = board.tlsConfig?.expectedName(for: link.id), !(peerCertificateNames() ?? []).contains(expected) {
                let text = "node \(link.id)'s certificate names \((peerCertificateNames() ?? []).joined(separator: ", ")), not \(expected)"
                logger.warning("refused an acceptor whose certificate names another node", metadata: ["peer": "\(link.id)", "detail": "\(text)"])
                close(reason: text)
            } else {
                becomeEstablished(link, region: answer.region, zone: answer.zone, version: answer.version)
            }
        default:
            close(reason: "unexpected \(frame.kind) frame during the handshake")
        }
    }

    /// The peer's TLS certificate names (subject common names, then DNS subject alternative
    /// names); nil without TLS or without a certificate.
    private func peerCertificateNames() -> [String]? {
        guard let context, let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self),
            let der = try? handler.peerCertificate?.toDERBytes(), let certificate = try? Certificate(derEncoded: der)
        else { return nil }
        var names: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName { names.append(String(describing: attribute.value)) }
        }
        if let alternatives = try? certificate.extensions.subjectAlternativeNames {
            for name in alternatives { if case .dnsName(let dns) = name { names.append(dns) } }
        }
        return names
    }

    private func becomeEstablished(_ link: PeerLink, region: String, zone: String, version: UInt16) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        phase = .established(link)
        protocolVersion = version
        sendDelayNanoseconds = UInt64(board.sendDelays[region] ?? 0) * 1_000_000
        logger[metadataKey: "peer"] = "\(link.id)"
        board.attach(self, to: link, region: region, zone: zone, version: version)
    }

    private func established(_ frame: WireFrame, link: PeerLink, now: UInt64) {
        switch frame {
        case .raftMessages(let messages):
            deliver(messages, from: link)
        case .snapshotChunk(let message):
            deliver([message], from: link)
        case .forward(let request):
            serve(request, from: link)
        case .forwardResult(let result):
            complete(result)
        case .ping(let ping):
            send(.pong(ping))
            flush()
        case .pong(let pong):
            if pong.sentNanoseconds <= now {
                link.status.roundTripMilliseconds = Double(now - pong.sentNanoseconds) / 1_000_000
            }
        case .handshake, .handshakeAnswer:
            close(reason: "\(frame.kind) frame after the handshake")
        }
    }

    private func deliver(_ messages: [Message], from link: PeerLink) {
        let localID = board.localID
        guard messages.allSatisfy({ $0.from == link.id && $0.to == localID }) else {
            close(reason: "Raft message not from node \(link.id) to node \(localID)")
            return
        }
        board.delegate.wire(received: messages, from: link.id)
    }
}
