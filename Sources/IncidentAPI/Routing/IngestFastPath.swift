import ClusterNode
import CoreMetrics
import Dispatch
import HTTPTypes
import Hummingbird
import IncidentCore
import NIOCore
import NIOHTTP1
import Synchronization

/// Answers event ingestion on the event loop that read the request, without Hummingbird's
/// per-request machinery.
///
/// Ingestion is nearly all of a busy node's requests, and once the consensus work was lean the
/// HTTP threads were the larger cost per event: of that, a third or more went to carrying each
/// request through an async channel, a connection task, the router and its middleware and back
/// (task switches and their executor-preference lookups, task allocations, the async writer,
/// conversions between NIO's and HTTPTypes' messages). This handler sits in the channel
/// pipeline after NIO's HTTP/1 codec and its pipelining handler (which hands it one request at a
/// time, in order) and before Hummingbird's. For `POST` to an ingest path it collects the body
/// and, when the request needs nothing beyond the common case, answers it itself through the
/// same steps as the route (`Endpoints.ingestCommand`, `IncidentNode.submit`,
/// `Endpoints.ingestAnswer`): the submission's answer arrives on the consensus side and is written
/// from this event loop. Every other request, and every ingest request it cannot answer that way
/// — no cached API key, a role without `ingest`, a bad `Idempotency-Key`, a body that is not a
/// valid batch of events, no rate-limit token, duplicated credential headers, `Expect`, a closing
/// connection, a query string, a body over the limit — is passed to Hummingbird untouched, whose
/// routes answer it exactly as they would have. Nothing the fast path does before submitting has
/// an effect, so a request passed on is handled once.
///
/// The answers are the route's answers: the same status, body and headers (`Content-Type`,
/// `Content-Length`, `Idempotent-Replayed`, `Retry-After`, the cluster headers, `Date`,
/// `Server`), and the same request metrics under the route's name.
final class IngestFastPath: Sendable {
    let endpoints: Endpoints
    let serverName: String?
    let metrics: RouteMetrics
    let dates = HTTPDateCache()
    let counts = Counts()
    private let nodeID: String
    private let routes: [String: EventJSON.Defaults]

    /// How many ingest requests were answered here and how many were passed on.
    final class Counts: Sendable {
        let answered = Atomic<Int>(0)
        let passedOn = Atomic<Int>(0)
    }

    init(endpoints: Endpoints, serverName: String?, metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.endpoints = endpoints
        self.serverName = serverName
        metrics = RouteMetrics(factory: metricsFactory)
        nodeID = String(endpoints.node.config.nodeID)
        routes = Dictionary(uniqueKeysWithValues: Endpoints.ingestRoutes.map { ($0.path, $0.defaults) })
    }

    func makeHandler() -> IngestHandler { IngestHandler(self) }

    /// The defaults of the ingest route `head` asks for, when it may be answered here.
    fileprivate func defaults(for head: HTTPRequestHead) -> EventJSON.Defaults? {
        guard head.method == .POST, let defaults = routes[head.uri], head.isKeepAlive, !head.headers.contains(name: "expect") else { return nil }
        if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > endpoints.settings.maxBodyBytes { return nil }
        return defaults
    }

    /// The validated command and its request id, or nil when the request must be passed on.
    /// Takes the key's rate-limit token last, so a request passed on has taken nothing.
    /// `secretMemo` is the connection's last secret and its hash (`Endpoints.cachedKey`).
    fileprivate func submission(
        for head: HTTPRequestHead, body: [UInt8], defaults: EventJSON.Defaults, secretMemo: inout (secret: String, hash: String)?
    ) -> (ingest: Endpoints.Ingest, requestID: String)? {
        guard let credentials = Credentials(head.headers),
            let secret = Endpoints.secret(authorization: credentials.authorization, apiKey: credentials.apiKey),
            let key = endpoints.cachedKey(forSecret: secret, memo: &secretMemo),
            key.role.allows(.ingest),
            let requestID = try? Endpoints.requestID(idempotencyKey: credentials.idempotencyKey, key: key),
            let ingest = try? endpoints.ingestCommand(body, defaults: defaults, key: key),
            endpoints.limiter.take(key.id) == nil
        else { return nil }
        return (ingest, requestID)
    }

    /// The request's credential and idempotency headers, found in one pass; nil when one of
    /// them is repeated (the route sees repeats joined: it judges them).
    private struct Credentials {
        var authorization: String?
        var apiKey: String?
        var idempotencyKey: String?

        init?(_ headers: HTTPHeaders) {
            for (name, value) in headers {
                switch name.utf8.count {
                case 13 where Self.named(name, "authorization"):
                    guard authorization == nil else { return nil }
                    authorization = value
                case 9 where Self.named(name, "x-api-key"):
                    guard apiKey == nil else { return nil }
                    apiKey = value
                case 15 where Self.named(name, "idempotency-key"):
                    guard idempotencyKey == nil else { return nil }
                    idempotencyKey = value
                default: continue
                }
            }
        }

        /// ASCII case-insensitive comparison with a lower-case name of the same length.
        private static func named(_ name: String, _ lowercase: StaticString) -> Bool {
            lowercase.withUTF8Buffer { expected in
                name.utf8.elementsEqual(expected) { ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0) == $1 }
            }
        }
    }

    /// The answer's status, headers and body, as the route and its middleware would give them
    /// (`IngestFastPathTests` compares them with the route's), written straight into NIO's
    /// headers: the route's own (`Idempotent-Replayed`, `Retry-After`), then `Content-Type`,
    /// `Content-Length`, the cluster headers of a linearizable request (as
    /// `ClusterHeadersMiddleware.add` writes them), `Date` and `Server`.
    fileprivate func response(to result: Result<Submission, NodeError>, isArray: Bool) -> (HTTPResponseStatus, HTTPHeaders, [UInt8]) {
        let status: HTTPResponse.Status
        let routeHeaders: HTTPFields
        let bytes: [UInt8]
        switch endpoints.answer(to: result).flatMap({ answer in Result { () throws(APIError) in try Endpoints.ingestAnswer(answer, isArray: isArray) } }) {
        case .success(let answer): (status, routeHeaders, bytes) = (.accepted, answer.headers, answer.body)
        case .failure(let error): (status, routeHeaders, bytes) = (error.status, error.headers, error.body.bytes)
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(routeHeaders.count + 6)
        for field in routeHeaders { headers.add(name: field.name.rawName, value: field.value) }
        headers.add(name: HeaderNames.contentType, value: jsonContentType)
        headers.add(name: HeaderNames.contentLength, value: String(bytes.count))
        headers.add(name: HeaderNames.node, value: nodeID)
        let leader = endpoints.node.leader
        if leader != 0 { headers.add(name: HeaderNames.leader, value: String(leader)) }
        headers.add(name: HeaderNames.date, value: dates.now)
        if let serverName { headers.add(name: HeaderNames.server, value: serverName) }
        return (HTTPResponseStatus(statusCode: status.code, reasonPhrase: status.reasonPhrase), headers, bytes)
    }

    private enum HeaderNames {
        static let contentType = HTTPField.Name.contentType.rawName
        static let contentLength = HTTPField.Name.contentLength.rawName
        static let node = ClusterHeaderNames.node.rawName
        static let leader = ClusterHeaderNames.leader.rawName
        static let date = HTTPField.Name.date.rawName
        static let server = HTTPField.Name.server.rawName
    }

    fileprivate func record(_ path: String, _ status: HTTPResponseStatus, startedAt started: UInt64) {
        let route = metrics.route(path, .post, HTTPResponse.Status(code: Int(status.code)))
        route.requests.increment()
        route.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
    }
}

/// One connection's `IngestFastPath` (see there). Runs on the connection's event loop.
final class IngestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private struct Collected {
        var head: HTTPRequestHead
        var defaults: EventJSON.Defaults
        var body: ByteBuffer?
        var started: UInt64
    }

    private enum State {
        /// Between requests.
        case idle
        /// Gathering an ingest request's body.
        case collecting(Collected)
        /// The current request is Hummingbird's: its parts go on.
        case passing
        /// Submitted; the answer is awaited (the pipelining handler holds the next request).
        case answering
    }

    private let fast: IngestFastPath
    private var state = State.idle
    private var removed = false
    /// The last API key secret on this connection and its hash.
    private var secretMemo: (secret: String, hash: String)?

    fileprivate init(_ fast: IngestFastPath) { self.fast = fast }

    func handlerRemoved(context: ChannelHandlerContext) { removed = true }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state {
        case .idle:
            guard case .head(let head) = part, let defaults = fast.defaults(for: head) else {
                if case .head = part { state = .passing }
                return context.fireChannelRead(data)
            }
            state = .collecting(Collected(head: head, defaults: defaults, body: nil, started: DispatchTime.now().uptimeNanoseconds))
        case .collecting(var collected):
            state = .idle  // drops the state's reference, so the body below is appended in place
            switch part {
            case .head:
                passOn(collected, context: context, ended: false)
                state = .passing
                context.fireChannelRead(data)
            case .body(var buffer):
                if (collected.body?.readableBytes ?? 0) + buffer.readableBytes > fast.endpoints.settings.maxBodyBytes {
                    // The route answers 413 for it.
                    passOn(collected, context: context, ended: false)
                    state = .passing
                    context.fireChannelRead(data)
                } else {
                    if collected.body == nil { collected.body = buffer } else { collected.body!.writeBuffer(&buffer) }
                    state = .collecting(collected)
                }
            case .end:
                finish(collected, context: context)
            }
        case .passing:
            if case .end = part { state = .idle }
            context.fireChannelRead(data)
        case .answering:
            // Not while HTTPServerPipelineHandler is in front, which holds a request until the
            // previous answer ended; without it, the route's answer could overtake ours.
            context.fireChannelRead(data)
        }
    }

    /// Hands a collected request to Hummingbird as it arrived.
    private func passOn(_ collected: Collected, context: ChannelHandlerContext, ended: Bool) {
        fast.counts.passedOn.add(1, ordering: .relaxed)
        context.fireChannelRead(wrapInboundOut(.head(collected.head)))
        if let body = collected.body { context.fireChannelRead(wrapInboundOut(.body(body))) }
        if ended { context.fireChannelRead(wrapInboundOut(.end(nil))) }
    }

    private func finish(_ collected: Collected, context: ChannelHandlerContext) {
        let body = collected.body.map { Array($0.readableBytesView) } ?? []
        guard let (ingest, requestID) = fast.submission(for: collected.head, body: body, defaults: collected.defaults, secretMemo: &secretMemo) else {
            passOn(collected, context: context, ended: true)
            return
        }
        state = .answering
        let active = fast.metrics.active(.post)
        active.increment()
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
        let (version, path, started, isArray) = (collected.head.version, collected.head.uri, collected.started, ingest.isArray)
        let fast = self.fast
        fast.endpoints.node.submit(ingest.command, requestID: requestID) { result in
            // Called on the consensus side, which only hands the answer over: it is made and
            // written on the connection's loop.
            eventLoop.execute {
                let (status, headers, bytes) = fast.response(to: result, isArray: isArray)
                fast.record(path, status, startedAt: started)
                active.decrement()
                let (handler, context) = bound.value
                handler.write(status, headers, bytes, version: version, context: context)
            }
        }
    }

    private func write(_ status: HTTPResponseStatus, _ headers: HTTPHeaders, _ bytes: [UInt8], version: HTTPVersion, context: ChannelHandlerContext) {
        state = .idle
        guard !removed else { return }
        fast.counts.answered.add(1, ordering: .relaxed)
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
