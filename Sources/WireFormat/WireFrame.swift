import RaftCore

/// One decoded frame of the peer protocol (docs/PROTOCOL.md §2.3).
public enum WireFrame: Sendable, Equatable {
    case handshake(Hello)
    case handshakeAnswer(HelloAnswer)
    /// `[count u32, ≥ 1]` then `count` messages (§2.5); never a `snapshotChunk`.
    case raftMessages([Message])
    /// Exactly one message whose body is `snapshotChunk`.
    case snapshotChunk(Message)
    case forward(ForwardRequest)
    case forwardResult(ForwardResult)
    case ping(Ping)
    case pong(Ping)

    public var kind: FrameKind {
        switch self {
        case .handshake: return .handshake
        case .handshakeAnswer: return .handshakeAnswer
        case .raftMessages: return .raftMessages
        case .snapshotChunk: return .snapshotChunk
        case .forward: return .forward
        case .forwardResult: return .forwardResult
        case .ping: return .ping
        case .pong: return .pong
        }
    }

    /// The payload before compression.
    public func encodedPayload() -> [UInt8] {
        var writer = WireWriter(capacity: 64)
        switch self {
        case .handshake(let hello): hello.encode(into: &writer)
        case .handshakeAnswer(let answer): answer.encode(into: &writer)
        case .raftMessages(let messages):
            precondition(!messages.isEmpty, "empty Raft batch")
            writer = WireWriter(capacity: 4 + messages.reduce(0) { $0 + 64 + $1.payloadBytes + 25 * entryCount($1) })
            writer.write(UInt32(messages.count))
            for message in messages {
                precondition(RaftCodec.tag(of: message.body) != .snapshotChunk, "snapshot chunks travel in their own frame")
                RaftCodec.encode(message, into: &writer)
            }
        case .snapshotChunk(let message):
            precondition(RaftCodec.tag(of: message.body) == .snapshotChunk, "not a snapshot chunk")
            writer = WireWriter(capacity: 128 + message.payloadBytes)
            RaftCodec.encode(message, into: &writer)
        case .forward(let request): request.encode(into: &writer)
        case .forwardResult(let result): result.encode(into: &writer)
        case .ping(let ping), .pong(let ping): ping.encode(into: &writer)
        }
        return writer.bytes
    }

    /// Header plus payload, ready for the socket. Kinds that allow it are LZ4-compressed when the
    /// raw payload has at least `compressionThresholdBytes` and compression makes it smaller.
    public func encoded(compressionThresholdBytes: Int) -> EncodedFrame {
        EncodedFrame(kind: kind, rawPayload: encodedPayload(), compressionThresholdBytes: compressionThresholdBytes)
    }

    /// Decodes a payload whose header (and checksum) was already verified.
    public static func decode(header: FrameHeader, payload: UnsafeRawBufferPointer, maxFrameBytes: Int) throws(WireFormatError) -> WireFrame {
        if header.isCompressed {
            let raw = try LZ4Payload.decompress(payload, maxRawBytes: maxFrameBytes)
            let result = raw.withUnsafeBytes { bytes in Result { () throws(WireFormatError) in try decodeRaw(header.kind, bytes) } }
            return try result.get()
        }
        return try decodeRaw(header.kind, payload)
    }

    private static func decodeRaw(_ kind: FrameKind, _ payload: UnsafeRawBufferPointer) throws(WireFormatError) -> WireFrame {
        switch kind {
        case .handshake: return .handshake(try Hello.decode(payload))
        case .handshakeAnswer: return .handshakeAnswer(try HelloAnswer.decode(payload))
        case .raftMessages: return .raftMessages(try decodeBatch(payload))
        case .snapshotChunk:
            let message = try RaftCodec.decodeMessage(payload)
            guard RaftCodec.tag(of: message.body) == .snapshotChunk else {
                throw WireFormatError(.invalid, "snapshot chunk frame holds a \(RaftCodec.tag(of: message.body)) message", offset: 24)
            }
            return .snapshotChunk(message)
        case .forward: return .forward(try ForwardRequest.decode(payload))
        case .forwardResult: return .forwardResult(try ForwardResult.decode(payload))
        case .ping: return .ping(try Ping.decode(payload))
        case .pong: return .pong(try Ping.decode(payload))
        }
    }

    private static func decodeBatch(_ payload: UnsafeRawBufferPointer) throws(WireFormatError) -> [Message] {
        var reader = WireReader(payload)
        let count = Int(try reader.read(UInt32.self))
        guard count >= 1 else { throw WireFormatError(.invalid, "empty Raft batch", offset: 0) }
        guard count <= reader.remaining / RaftCodec.minimumMessageBytes else {
            throw WireFormatError(.truncated, "\(count) messages cannot fit in \(reader.remaining) bytes", offset: 0)
        }
        var messages: [Message] = []
        messages.reserveCapacity(count)
        for _ in 0..<count {
            let at = reader.position
            let message = try RaftCodec.decodeMessage(&reader)
            guard RaftCodec.tag(of: message.body) != .snapshotChunk else {
                throw WireFormatError(.invalid, "snapshot chunk inside a Raft batch", offset: at)
            }
            messages.append(message)
        }
        try reader.expectEnd("Raft batch")
        return messages
    }

    private func entryCount(_ message: Message) -> Int {
        if case .append(_, _, let entries, _) = message.body { return entries.count }
        return 0
    }
}

/// A frame as it goes on the socket.
public struct EncodedFrame: Sendable {
    public var kind: FrameKind
    public var flags: UInt8
    public var payload: [UInt8]
    /// Payload size before compression (equal to `payload.count` when not compressed).
    public var rawPayloadBytes: Int

    /// Compresses `rawPayload` when the kind allows it, it has at least `compressionThresholdBytes`
    /// and LZ4 makes it smaller.
    public init(kind: FrameKind, rawPayload: [UInt8], compressionThresholdBytes: Int) {
        self.kind = kind
        self.rawPayloadBytes = rawPayload.count
        if kind.allowsCompression, rawPayload.count >= compressionThresholdBytes, let compressed = LZ4Payload.compress(rawPayload) {
            self.payload = compressed
            self.flags = FrameHeader.compressedFlag
        } else {
            self.payload = rawPayload
            self.flags = 0
        }
    }

    public var isCompressed: Bool { flags & FrameHeader.compressedFlag != 0 }
    public var totalBytes: Int { FrameHeader.byteCount + payload.count }

    /// The 12 header bytes (docs/PROTOCOL.md §2.2).
    public var headerBytes: [UInt8] {
        var writer = WireWriter(capacity: FrameHeader.byteCount)
        writer.write(kind.rawValue)
        writer.write(flags)
        writer.write(UInt16(0))
        writer.write(UInt32(payload.count))
        writer.write(payload.withUnsafeBytes { FrameHeader.checksum(kind: kind, flags: flags, payload: $0) })
        return writer.bytes
    }

    /// Header followed by payload in one array.
    public var bytes: [UInt8] { headerBytes + payload }
}
