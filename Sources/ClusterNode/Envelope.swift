import IncidentCore

/// What one Raft entry of the incident log carries: the command, the leader's time stamp and
/// the request id that makes retries idempotent.
///
/// Layout (IncidentCore's binary encoding): `[version u8 = 1][stamp zigzag ms][request id
/// string, empty when none][command]`. The stamp is the leader's clock, never below the previous
/// entry's, so time inside the state machine only moves forward.
struct Envelope: Sendable, Equatable {
    static let version: UInt8 = 1

    var stamp: Timestamp
    var requestID: String
    var command: Command

    func encoded() -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(Self.version)
        writer.write(zigzag: stamp.millisecondsSinceEpoch)
        writer.write(string: requestID)
        command.encode(to: &writer)
        return writer.bytes
    }

    init(stamp: Timestamp, requestID: String, command: Command) {
        self.stamp = stamp
        self.requestID = requestID
        self.command = command
    }

    init(decoding bytes: [UInt8]) throws(DecodingError) {
        var reader = BinaryReader(bytes)
        let version = try reader.readByte()
        guard version == Self.version else { throw DecodingError(.unsupportedVersion, at: 0, "entry envelope v\(version)") }
        stamp = Timestamp(millisecondsSinceEpoch: try reader.readZigzag())
        requestID = try reader.readString()
        command = try Command(from: &reader)
        try reader.expectEnd()
    }
}
