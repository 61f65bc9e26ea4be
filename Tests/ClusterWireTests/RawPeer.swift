import Locking
import NIOCore
import NIOPosix
import WireFormat

/// A hand-driven TCP endpoint for tests that need a peer misbehaving on purpose: sending
/// garbage, never answering, never reading.
final class RawPeer: Sendable {
    let channel: any Channel
    let received: ReceivedBytes

    final class ReceivedBytes: Sendable {
        let bytes = Lock<[UInt8]>([])
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: ReceivedBytes
        init(_ received: ReceivedBytes) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }
    }

    private init(channel: any Channel, received: ReceivedBytes) {
        self.channel = channel
        self.received = received
    }

    /// Connects to `port` on loopback.
    static func connect(port: Int) async throws -> RawPeer {
        let received = ReceivedBytes()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(received)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawPeer(channel: channel, received: received)
    }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    /// Whether the other side closed the connection within `seconds`.
    func closedByPeer(within seconds: Int64) async -> Bool {
        let deadline = NIODeadline.now() + .seconds(seconds)
        while NIODeadline.now() < deadline {
            if !channel.isActive { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    func close() async {
        try? await channel.close()
    }

    private final class AnswerOnActive: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes: [UInt8]
        init(bytes: [UInt8]) { self.bytes = bytes }
        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            context.fireChannelActive()
        }
    }
}

/// A fake acceptor: answers every connection with `answer` right away, without reading the
/// dialer's hello; with `reads == false` it never reads anything (its receive buffer fills up).
final class FakeAcceptor: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    init(answer: HelloAnswer, reads: Bool) async throws {
        let bytes = WireFrame.handshakeAnswer(answer).encoded(compressionThresholdBytes: .max).bytes
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: reads)
            .childChannelOption(.socketOption(.so_rcvbuf), value: 4_096)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AnswerOnActive(bytes: bytes))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async {
        try? await channel.close()
    }

    private final class AnswerOnActive: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes: [UInt8]
        init(bytes: [UInt8]) { self.bytes = bytes }
        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            context.fireChannelActive()
        }
    }
}
