import NIOCore

/// One keep-alive HTTP/1.1 connection with at most one request in flight.
///
/// It writes the request bytes the driver gives it, reads the answer with `ResponseReader` (the
/// status, and whether the body holds the target's marker: `accepted` for incidentd, `"header"`
/// for etcd) and hands both back; the driver owns the schedule, the clock and the tallies. Lives
/// on its channel's event loop, like the driver. Requests and answers are plain bytes on the
/// socket, without NIO's HTTP codec: see `ResponseReader` for why.
final class BenchConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let driver: LoadDriver
    private let slot: Int
    private var reader: ResponseReader
    private var context: ChannelHandlerContext?
    private var awaitingResponse = false

    init(driver: LoadDriver, slot: Int, marker: [UInt8]) {
        self.driver = driver
        self.slot = slot
        self.reader = ResponseReader(marker: marker)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Writes one whole request; the driver calls it only when the previous answer has arrived.
    func send(_ request: ByteBuffer) {
        guard let context else { return }
        precondition(!awaitingResponse, "one request in flight per connection")
        awaitingResponse = true
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        let answers: [ResponseReader.Answer]
        do { answers = try reader.read(&bytes) } catch {
            // A malformed answer: close; channelInactive reports the request as lost.
            context.close(promise: nil)
            return
        }
        for answer in answers {
            // An answer nobody asked for (a server writing ahead) is ignored, like before.
            guard awaitingResponse else { continue }
            awaitingResponse = false
            // Tallied before the close, which reports the connection gone (and reopens it).
            driver.answered(slot: slot, status: answer.status, hasMarker: answer.hasMarker, connectionStays: !answer.closes)
            if answer.closes {
                context.close(promise: nil)
                return
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let lost = awaitingResponse
        awaitingResponse = false
        driver.closed(slot: slot, lostRequest: lost)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Reset or refused: close, and channelInactive reports the loss.
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
