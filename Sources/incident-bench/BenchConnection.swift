import NIOCore
import NIOHTTP1

/// One keep-alive HTTP/1.1 connection with at most one request in flight.
///
/// It writes the request the driver gives it, looks for the target's marker in the answer's
/// body (`accepted` for incidentd, `"header"` for etcd) and hands the status and that verdict
/// back; the driver owns the schedule, the clock and the tallies. Lives on its channel's event
/// loop, like the driver.
final class BenchConnection: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// Only this many body bytes are searched for the marker; the native answer is ~300 bytes,
    /// etcd's put answer ~130.
    static let maxInspectedBodyBytes = 64 * 1_024

    private let driver: LoadDriver
    private let slot: Int
    private let marker: [UInt8]
    private var context: ChannelHandlerContext?
    private var status: UInt = 0
    private var body: ByteBuffer?
    private var awaitingResponse = false

    init(driver: LoadDriver, slot: Int, marker: [UInt8]) {
        self.driver = driver
        self.slot = slot
        self.marker = marker
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Writes one request; the driver calls it only when the previous answer has arrived.
    func send(head: HTTPRequestHead, body: ByteBuffer) {
        guard let context else { return }
        precondition(!awaitingResponse, "one request in flight per connection")
        awaitingResponse = true
        status = 0
        self.body = nil
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status.code
        case .body(var part):
            if body == nil {
                body = part
            } else if body!.readableBytes < Self.maxInspectedBodyBytes {
                body!.writeBuffer(&part)
            }
        case .end:
            guard awaitingResponse else { return }
            awaitingResponse = false
            let hasMarker = body.map { Self.contains($0.readableBytesView, marker) } ?? false
            body = nil
            driver.answered(slot: slot, status: status, hasMarker: hasMarker)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let lost = awaitingResponse
        awaitingResponse = false
        driver.closed(slot: slot, lostRequest: lost)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Reset, refused or a malformed answer: close, and channelInactive reports the loss.
        context.close(promise: nil)
    }

    /// Naive search; the body is small and the marker short.
    static func contains(_ haystack: ByteBufferView, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count, let first = needle.first else { return needle.isEmpty }
        var index = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = 1
                while matched < needle.count, haystack[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return true }
            }
            index += 1
        }
        return false
    }
}
