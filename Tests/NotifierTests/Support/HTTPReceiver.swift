import Locking
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request the receiver got.
struct RecordedRequest: Sendable {
    var method: String
    var uri: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What the receiver answers, after an optional delay.
struct CannedResponse: Sendable {
    var status: Int = 200
    var headers: [(String, String)] = []
    var body: String = "ok"
    var delayMilliseconds: Int64 = 0
}

/// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port) that records every request and answers
/// what `respond` says for the n-th request (0-based).
final class HTTPReceiver: Sendable {
    private let channel: any Channel
    private let recorded = Lock<[RecordedRequest]>([])
    let port: Int

    static func start(
        respond: @escaping @Sendable (_ index: Int, _ request: RecordedRequest) -> CannedResponse = { _, _ in CannedResponse() }
    ) async throws -> HTTPReceiver {
        let box = Lock<HTTPReceiver?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(RecordingHandler { request in
                        let receiver = box.withLock { $0 }!
                        let index = receiver.recorded.withLock { list in
                            list.append(request)
                            return list.count - 1
                        }
                        return respond(index, request)
                    })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let receiver = HTTPReceiver(channel: channel)
        box.withLock { $0 = receiver }
        return receiver
    }

    private init(channel: any Channel) {
        self.channel = channel
        self.port = channel.localAddress!.port!
    }

    func url(_ path: String = "/hook") -> String { "http://127.0.0.1:\(port)\(path)" }
    var requests: [RecordedRequest] { recorded.withLock { $0 } }

    func close() async throws { try await channel.close() }
}

private final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let record: @Sendable (RecordedRequest) -> CannedResponse
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(record: @escaping @Sendable (RecordedRequest) -> CannedResponse) { self.record = record }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let request = RecordedRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { (name: $0.name, value: $0.value) }, body: body)
            let response = record(request)
            if response.delayMilliseconds > 0 {
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(response.delayMilliseconds)) {
                    self.write(response, context)
                }
            } else {
                write(response, context)
            }
        }
    }

    private func write(_ response: CannedResponse, _ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders(response.headers)
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
