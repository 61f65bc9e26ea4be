import Crypto
import Foundation
import IncidentdTesting
import Locking
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request the webhook receiver got.
struct ReceivedRequest: Sendable {
    var method: String
    var uri: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    var json: JSON { JSON(parsing: body) ?? .null }
    /// `event` of our webhook payload, e.g. `incident.triggered`.
    var event: String? { json["event"]?.string }
    var notification: JSON? { json["notification"] }
}

/// A small HTTP/1.1 receiver on 127.0.0.1 (ephemeral port) standing in for a webhook consumer:
/// it records every request and answers 200 (or what `status` says for the n-th request).
final class WebhookReceiver: Sendable {
    private let channel: any Channel
    private let recorded = Lock<[ReceivedRequest]>([])
    let port: Int

    static func start(
        cleanup: TestCleanup, status: @escaping @Sendable (_ index: Int, _ request: ReceivedRequest) -> Int = { _, _ in 200 }
    ) async throws -> WebhookReceiver {
        let box = Lock<WebhookReceiver?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(
                        RecordingHandler { request in
                            let receiver = box.withLock { $0 }!
                            let index = receiver.recorded.withLock { list in
                                list.append(request)
                                return list.count - 1
                            }
                            return status(index, request)
                        })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let receiver = WebhookReceiver(channel: channel)
        box.withLock { $0 = receiver }
        cleanup.closeAfterwards { try? await receiver.channel.close() }
        return receiver
    }

    private init(channel: any Channel) {
        self.channel = channel
        self.port = channel.localAddress!.port!
    }

    func url(_ path: String = "/hooks/incidents") -> String { "http://127.0.0.1:\(port)\(path)" }
    var requests: [ReceivedRequest] { recorded.withLock { $0 } }
    func requests(event: String) -> [ReceivedRequest] { requests.filter { $0.event == event } }
}

/// Checks `X-Incident-Signature: t=<seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` the way
/// docs/NOTIFICATIONS.md tells receivers to.
enum WebhookSignature {
    /// The signed time (seconds) when the header is well-formed and the MAC matches the body.
    static func verify(_ header: String?, body: [UInt8], secret: String) -> Int64? {
        guard let header else { return nil }
        var fields: [String: String] = [:]
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        guard let t = fields["t"], let seconds = Int64(t), let v1 = fields["v1"] else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(t).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
        let expected = mac.map { String(format: "%02x", $0) }.joined()
        return expected == v1 ? seconds : nil
    }
}

private final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let record: @Sendable (ReceivedRequest) -> Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(record: @escaping @Sendable (ReceivedRequest) -> Int) { self.record = record }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let status = record(
                ReceivedRequest(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { (name: $0.name, value: $0.value) }, body: body))
            let text = status == 200 ? "ok" : "error"
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(text.utf8.count))
            let response = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
