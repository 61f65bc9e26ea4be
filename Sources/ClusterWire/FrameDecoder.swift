import NIOCore
import WireFormat

/// A frame as it arrived, with its size on the wire for the byte counters.
struct InboundFrame {
    var frame: WireFrame
    var wireBytes: Int
}

/// Cuts frames out of the byte stream with WireFormat's pure `FrameParser` (the fuzzed code).
/// Any `WireFormatError` propagates as an error on the pipeline, and the connection handler
/// closes just that connection with the reason.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = InboundFrame

    let parser: FrameParser

    init(maxFrameBytes: Int) {
        parser = FrameParser(maxFrameBytes: maxFrameBytes)
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let parser = self.parser
        let parsed = try buffer.withUnsafeReadableBytes { bytes in try parser.parse(bytes) }
        guard let parsed else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: parsed.consumed)
        context.fireChannelRead(wrapInboundOut(InboundFrame(frame: parsed.frame, wireBytes: parsed.consumed)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A partial frame at EOF is simply discarded: the connection is going away anyway.
        return .needMoreData
    }
}

extension EncodedFrame {
    /// The frame in one buffer from `allocator`.
    func buffer(_ allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: totalBytes)
        buffer.writeBytes(headerBytes)
        buffer.writeBytes(payload)
        return buffer
    }
}
