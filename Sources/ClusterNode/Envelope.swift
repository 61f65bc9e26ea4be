import IncidentCore

/// What one Raft entry of the incident log carries: an incident command (or a change to the
/// replicated cluster facts), the leader's time stamp and the request id that makes retries
/// idempotent.
///
/// Layout (IncidentCore's binary encoding): `[version u8 = 2][stamp zigzag ms][request id string,
/// empty when none][body tag u8: 0 incident command, 1 cluster command][command]`. Version 1
/// (written before cluster commands existed) has no tag and always holds an incident command;
/// it is still read. The stamp is the leader's clock, never below the previous entry's, so time
/// inside the state machine only moves forward.
struct Envelope: Sendable, Equatable {
    static let version: UInt8 = 2

    enum Body: Sendable, Equatable {
        case incident(Command)
        case cluster(ClusterCommand)
    }

    var stamp: Timestamp
    var requestID: String
    var body: Body

    init(stamp: Timestamp, requestID: String, body: Body) {
        self.stamp = stamp
        self.requestID = requestID
        self.body = body
    }

    func encoded() -> [UInt8] {
        var writer = BinaryWriter()
        writeHead(to: &writer)
        switch body {
        case .incident(let command):
            writer.write(UInt8(0))
            command.encode(to: &writer)
        case .cluster(let command):
            writer.write(UInt8(1))
            command.encode(to: &writer)
        }
        // Kept in the in-memory log until the next snapshot compacts it.
        return writer.compactBytes
    }

    /// `encoded()` of an incident command from `commandBytes`, an encoding of it the caller
    /// already has (a forwarded write's, as its follower encoded it), instead of encoding it again.
    func encoded(incidentCommandBytes commandBytes: ArraySlice<UInt8>) -> [UInt8] {
        if case .cluster = body { preconditionFailure("only an incident command's bytes can be reused") }
        // version, stamp and id length (at most 10 bytes each), id, body tag, command.
        var writer = BinaryWriter(reservingCapacity: 31 + requestID.utf8.count + commandBytes.count)
        writeHead(to: &writer)
        writer.write(UInt8(0))
        writer.write(raw: commandBytes)
        return writer.compactBytes
    }

    private func writeHead(to writer: inout BinaryWriter) {
        writer.write(Self.version)
        writer.write(zigzag: stamp.millisecondsSinceEpoch)
        writer.write(string: requestID)
    }

    init(decoding bytes: [UInt8]) throws(DecodingError) {
        var reader = BinaryReader(bytes)
        self = try Envelope(head: try Head(reading: &reader), decodingBodyFrom: &reader)
    }

    /// The rest of `init(decoding:)` once `head` was read from `reader`.
    init(head: Head, decodingBodyFrom reader: inout BinaryReader) throws(DecodingError) {
        stamp = head.stamp
        requestID = head.requestID
        if head.version == 1 {
            body = .incident(try Command(from: &reader))
        } else {
            let offset = reader.offset
            switch try reader.readByte() {
            case 0: body = .incident(try Command(from: &reader))
            case 1: body = .cluster(try ClusterCommand(from: &reader))
            case let tag: throw DecodingError(.invalidTag, at: offset, "envelope body \(tag)")
            }
        }
        try reader.expectEnd()
    }

    /// What an encoded envelope says before its body: a write's stamp and id without decoding
    /// its command.
    struct Head {
        var version: UInt8
        var stamp: Timestamp
        var requestID: String
        /// Where an incident command's encoding starts (it runs to the end); nil for a cluster
        /// command or an unknown body.
        var incidentCommandOffset: Int?

        init(reading reader: inout BinaryReader) throws(DecodingError) {
            version = try reader.readByte()
            guard version == 1 || version == Envelope.version else { throw DecodingError(.unsupportedVersion, at: 0, "entry envelope v\(version)") }
            stamp = Timestamp(millisecondsSinceEpoch: try reader.readZigzag())
            requestID = try reader.readString()
            if version == 1 {
                incidentCommandOffset = reader.offset
            } else {
                incidentCommandOffset = reader.peekByte() == 0 ? reader.offset + 1 : nil
            }
        }
    }
}
