/// A request to the peer, e.g. a proposal forwarded to the leader (docs/PROTOCOL.md §2.7):
///
///     [requestID u64, non-zero][requestKind u8][payload: the rest of the frame]
///
/// Request ids are chosen by the sender and unique among its requests in flight on the
/// connection; the answer echoes the id. The kind is opaque here: the transport checks it.
public struct ForwardRequest: Sendable, Equatable {
    public static let headerBytes = 9

    public var requestID: UInt64
    public var kind: UInt8
    public var payload: [UInt8]

    public init(requestID: UInt64, kind: UInt8, payload: [UInt8]) {
        self.requestID = requestID
        self.kind = kind
        self.payload = payload
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(requestID)
        writer.write(kind)
        writer.writeRaw(payload)
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> ForwardRequest {
        var reader = WireReader(bytes)
        let id = try reader.read(UInt64.self)
        guard id != 0 else { throw WireFormatError(.invalid, "request id 0", offset: 0) }
        let kind = try reader.read(UInt8.self)
        return ForwardRequest(requestID: id, kind: kind, payload: reader.readRest())
    }
}

/// The answer to a `ForwardRequest`:
///
///     [requestID u64, non-zero][status u8][payload: the rest of the frame]
///
/// The payload is the application's answer when `status` is `.ok` and empty otherwise.
public struct ForwardResult: Sendable, Equatable {
    /// How the peer handled the request. Values are part of the protocol.
    public enum Status: UInt8, Sendable, CaseIterable {
        case ok = 0
        /// The peer does not know the request kind.
        case unsupported = 1
        /// The peer already serves its limit of requests from this connection.
        case overloaded = 2
        /// The peer is shutting down.
        case shuttingDown = 3
    }

    public static let headerBytes = 9

    public var requestID: UInt64
    public var status: Status
    public var payload: [UInt8]

    public init(requestID: UInt64, status: Status, payload: [UInt8] = []) {
        self.requestID = requestID
        self.status = status
        self.payload = payload
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(requestID)
        writer.write(status.rawValue)
        writer.writeRaw(status == .ok ? payload : [])
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> ForwardResult {
        var reader = WireReader(bytes)
        let id = try reader.read(UInt64.self)
        guard id != 0 else { throw WireFormatError(.invalid, "request id 0", offset: 0) }
        let rawStatus = try reader.read(UInt8.self)
        guard let status = Status(rawValue: rawStatus) else { throw WireFormatError(.unknown, "result status \(rawStatus)", offset: 8) }
        let payload = reader.readRest()
        guard status == .ok || payload.isEmpty else {
            throw WireFormatError(.trailingBytes, "payload on a \(status) result", offset: 9)
        }
        return ForwardResult(requestID: id, status: status, payload: payload)
    }
}

/// Ping and pong payload (docs/PROTOCOL.md §2.8): `[sequence u64][sentNanoseconds u64]`. The
/// pong echoes the ping's payload unchanged, so the sender computes the round trip on its own
/// monotonic clock and the receiver needs no clock at all.
public struct Ping: Sendable, Equatable {
    public static let byteCount = 16

    public var sequence: UInt64
    public var sentNanoseconds: UInt64

    public init(sequence: UInt64, sentNanoseconds: UInt64) {
        self.sequence = sequence
        self.sentNanoseconds = sentNanoseconds
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(sequence)
        writer.write(sentNanoseconds)
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> Ping {
        var reader = WireReader(bytes)
        let ping = Ping(sequence: try reader.read(UInt64.self), sentNanoseconds: try reader.read(UInt64.self))
        try reader.expectEnd("ping")
        return ping
    }
}
