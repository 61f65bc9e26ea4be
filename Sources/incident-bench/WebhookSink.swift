import Foundation
import Locking
import NIOCore
import NIOHTTP1
import NIOPosix

/// The end of the end-to-end measurement: a local webhook receiver that `incidentd` pages.
///
/// Each delivery's body is the generic webhook document (`{"event", "incident": {"id", "title",
/// …}, …}`); the incident's title carries the run tag and the event key (`EventBodies`), which
/// ties the page to the request that opened the incident. The first arrival per key is kept
/// with its monotonic time (the same clock the load driver stamps intended send times with);
/// later ones count as duplicates. Answers 200 at once, over keep-alive.
final class WebhookSink: Sendable {
    struct Arrivals: Sendable {
        /// Event key → monotonic nanoseconds of the first page for it.
        var first: [Int: UInt64] = [:]
        /// Pages for a key that had already been paged.
        var duplicates = 0
        /// Requests that were not a page of this run (another run's tag, unreadable bodies).
        var unmatched = 0
    }

    private let arrivals = Lock(Arrivals())
    private let bodies: EventBodies
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    private init(bodies: EventBodies, group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.bodies = bodies
        self.group = group
        self.channel = channel
    }

    /// Listens on `endpoint` (loopback only, checked by `Endpoint`).
    static func start(on endpoint: Endpoint, bodies: EventBodies) async throws -> WebhookSink {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let recorder = Recorder()
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(PageHandler(recorder: recorder))
                    }
                }
                .bind(host: endpoint.host, port: endpoint.port)
                .get()
            let sink = WebhookSink(bodies: bodies, group: group, channel: channel)
            recorder.sink.withLock { $0 = sink }
            return sink
        } catch {
            try? await group.shutdownGracefully()
            throw BenchError(.connectFailed, "cannot listen for webhooks on \(endpoint): \(error)")
        }
    }

    func record(body: [UInt8], atNanos nanos: UInt64) {
        let key = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
            .flatMap { $0["incident"] as? [String: Any] }
            .flatMap { $0["title"] as? String }
            .flatMap { bodies.key(fromTitle: $0) }
        arrivals.withLock { arrivals in
            guard let key else {
                arrivals.unmatched += 1
                return
            }
            if arrivals.first[key] == nil { arrivals.first[key] = nanos } else { arrivals.duplicates += 1 }
        }
    }

    var current: Arrivals { arrivals.withLock { $0 } }

    /// Waits until every key in `expected` has been paged or `seconds` pass.
    func waitForPages(of expected: some Collection<Int>, upTo seconds: Double) async -> Arrivals {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let now = current
            if expected.allSatisfy({ now.first[$0] != nil }) || Date() >= deadline { return now }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// Lets the handlers reach the sink that owns their server (set once it is bound).
    private final class Recorder: Sendable {
        let sink = Lock<WebhookSink?>(nil)
        func record(body: [UInt8], atNanos nanos: UInt64) { sink.withLock { $0 }?.record(body: body, atNanos: nanos) }
    }

    private final class PageHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let recorder: Recorder
        private var body: [UInt8] = []
        private var keepAlive = true

        init(recorder: Recorder) { self.recorder = recorder }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                body.removeAll(keepingCapacity: true)
                keepAlive = head.isKeepAlive
            case .body(let part):
                if body.count < 1 << 20 { body.append(contentsOf: part.readableBytesView) }
            case .end:
                recorder.record(body: body, atNanos: NIODeadline.now().uptimeNanoseconds)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "0")
                if !keepAlive { headers.add(name: "Connection", value: "close") }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                let keepAlive = self.keepAlive
                context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                    if !keepAlive { context.close(promise: nil) }
                }
            }
        }
    }
}
