/// The first frame on every connection, sent by the dialer (docs/PROTOCOL.md §2.4).
///
///     [magic "ICMW" 4 bytes][minVersion u16][maxVersion u16][nodeID u64][expectedPeer u64]
///     [clusterID: u8 length + UTF-8][region: u8 length + UTF-8][zone: u8 length + UTF-8]
///
/// `expectedPeer` is the node id the dialer believes it is calling (0 when it does not know), so a
/// wrong address in someone's peer list is refused instead of silently connecting two strangers.
public struct Hello: Sendable, Equatable {
    public static let magic: [UInt8] = Array("ICMW".utf8)
    /// The protocol versions this implementation speaks. Version 2 frames are version 1's; it
    /// tells the application that the peer reads what version 2 added to the payloads it carries
    /// (docs/PROTOCOL.md §2.4: a Forward answer to a write may carry its entry's term).
    public static let supportedVersions: ClosedRange<UInt16> = 1...2
    /// Longest cluster id, region or zone in UTF-8 bytes (one length byte).
    public static let maxNameBytes = 255

    public var versions: ClosedRange<UInt16>
    public var nodeID: UInt64
    public var expectedPeer: UInt64
    public var clusterID: String
    public var region: String
    public var zone: String

    public init(versions: ClosedRange<UInt16>, nodeID: UInt64, expectedPeer: UInt64, clusterID: String, region: String, zone: String) {
        self.versions = versions
        self.nodeID = nodeID
        self.expectedPeer = expectedPeer
        self.clusterID = clusterID
        self.region = region
        self.zone = zone
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeRaw(Self.magic)
        writer.write(versions.lowerBound)
        writer.write(versions.upperBound)
        writer.write(nodeID)
        writer.write(expectedPeer)
        writer.writeShortString(clusterID)
        writer.writeShortString(region)
        writer.writeShortString(zone)
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> Hello {
        var reader = WireReader(bytes)
        try readMagic(&reader)
        let versions = try readVersionRange(&reader)
        let nodeID = try reader.readNodeID()
        let expectedPeer = try reader.read(UInt64.self)
        let clusterID = try reader.readShortString()
        let region = try reader.readShortString()
        let zone = try reader.readShortString()
        try reader.expectEnd("handshake")
        return Hello(versions: versions, nodeID: nodeID, expectedPeer: expectedPeer, clusterID: clusterID, region: region, zone: zone)
    }

    static func readMagic(_ reader: inout WireReader) throws(WireFormatError) {
        let magic = try reader.readRaw(4)
        guard magic == Self.magic else { throw WireFormatError(.invalid, "bad handshake magic \(magic)", offset: 0) }
    }

    static func readVersionRange(_ reader: inout WireReader) throws(WireFormatError) -> ClosedRange<UInt16> {
        let at = reader.position
        let low = try reader.read(UInt16.self)
        let high = try reader.read(UInt16.self)
        guard low >= 1, low <= high else { throw WireFormatError(.invalid, "version range \(low)...\(high)", offset: at) }
        return low...high
    }

    /// The highest version both ranges contain, or nil when they do not overlap.
    public static func negotiate(_ mine: ClosedRange<UInt16>, _ theirs: ClosedRange<UInt16>) -> UInt16? {
        let high = min(mine.upperBound, theirs.upperBound)
        return high >= max(mine.lowerBound, theirs.lowerBound) ? high : nil
    }
}

/// Why an acceptor refused a handshake. Values are part of the protocol; an unknown value read
/// from a newer peer decodes as `.other`.
public enum RefusalReason: UInt8, Sendable, Equatable, CaseIterable {
    case other = 0
    case clusterMismatch = 1
    /// The acceptor has a peer list and the dialer's node id is not in it.
    case unknownNode = 2
    case versionMismatch = 3
    /// The dialer claims the acceptor's own node id.
    case sameNodeID = 4
    /// The dialer expected a different node at this address.
    case wrongNode = 5
    /// The dialer's id is higher than the acceptor's: the lower id dials (docs/PROTOCOL.md §2.9).
    case wrongDirection = 6
    case shuttingDown = 7
    case malformedHandshake = 8
    /// With node names required, the dialer's TLS certificate does not name the node it claims.
    case certificateMismatch = 9
}

/// The acceptor's answer (docs/PROTOCOL.md §2.4):
///
///     [magic "ICMW"][accepted u8][version u16][nodeID u64]
///     [clusterID: u8 len + UTF-8][region: u8 len + UTF-8][zone: u8 len + UTF-8]
///     [reason u8][reasonText: u16 length + UTF-8, at most 1,024 bytes]
///
/// On accept `version` is the chosen protocol version, `reason` is 0 and the text is empty; on
/// refusal `version` is 0. Identity fields are always the acceptor's own, so the dialer learns
/// the region and zone of the node it reached and can check the node id.
public struct HelloAnswer: Sendable, Equatable {
    public static let maxReasonTextBytes = 1_024

    public var accepted: Bool
    public var version: UInt16
    public var nodeID: UInt64
    public var clusterID: String
    public var region: String
    public var zone: String
    public var reason: RefusalReason
    public var reasonText: String

    public init(
        accepted: Bool, version: UInt16, nodeID: UInt64, clusterID: String, region: String, zone: String,
        reason: RefusalReason = .other, reasonText: String = ""
    ) {
        self.accepted = accepted
        self.version = version
        self.nodeID = nodeID
        self.clusterID = clusterID
        self.region = region
        self.zone = zone
        self.reason = reason
        self.reasonText = reasonText
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeRaw(Hello.magic)
        writer.write(accepted)
        writer.write(accepted ? version : 0)
        writer.write(nodeID)
        writer.writeShortString(clusterID)
        writer.writeShortString(region)
        writer.writeShortString(zone)
        writer.write(accepted ? 0 : reason.rawValue)
        // Cut at a character boundary so the text stays valid UTF-8.
        var text = Substring(accepted ? "" : reasonText)
        while text.utf8.count > Self.maxReasonTextBytes { text = text.dropLast() }
        writer.write(UInt16(text.utf8.count))
        writer.writeRaw(Array(text.utf8))
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> HelloAnswer {
        var reader = WireReader(bytes)
        try Hello.readMagic(&reader)
        let accepted = try reader.readBool()
        let versionAt = reader.position
        let version = try reader.read(UInt16.self)
        guard accepted == (version != 0) else {
            throw WireFormatError(.invalid, "version \(version) with accepted=\(accepted)", offset: versionAt)
        }
        let nodeID = try reader.readNodeID()
        let clusterID = try reader.readShortString()
        let region = try reader.readShortString()
        let zone = try reader.readShortString()
        let reasonAt = reader.position
        let rawReason = try reader.read(UInt8.self)
        guard !accepted || rawReason == 0 else { throw WireFormatError(.invalid, "reason on an accept", offset: reasonAt) }
        let textAt = reader.position
        let textLength = Int(try reader.read(UInt16.self))
        guard textLength <= maxReasonTextBytes else {
            throw WireFormatError(.oversized, "reason text of \(textLength) bytes", offset: textAt)
        }
        guard !accepted || textLength == 0 else { throw WireFormatError(.invalid, "reason text on an accept", offset: textAt) }
        guard let text = String(validating: try reader.readRaw(textLength), as: UTF8.self) else {
            throw WireFormatError(.invalid, "reason text is not valid UTF-8", offset: textAt)
        }
        try reader.expectEnd("handshake answer")
        return HelloAnswer(
            accepted: accepted, version: version, nodeID: nodeID, clusterID: clusterID, region: region, zone: zone,
            reason: RefusalReason(rawValue: rawReason) ?? .other, reasonText: text)
    }
}
