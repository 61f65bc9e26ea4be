/// Full-state snapshots: a compact, versioned binary form that restores to an identical state.
///
/// Layout: magic `INCS` (fixed32), format version (varint), then the fields below in order.
/// Maps are written sorted by key, so equal states produce identical bytes; compression (LZ4)
/// and checksums belong to the storage layer that writes the snapshot file.
extension IncidentStateMachine {
    static let snapshotMagic: UInt32 = 0x5343_4E49  // "INCS" little-endian
    public static let snapshotFormatVersion: UInt64 = 1

    public func snapshot() -> [UInt8] {
        var stats = SnapshotEncodingStats()
        return snapshot(reusingEncodingsUpTo: 0, stats: &stats)
    }

    /// The same bytes as `snapshot()`, reusing the encodings of incidents unchanged since the
    /// last call and keeping up to `budget` bytes of encodings for the next (see
    /// `IncidentTable.encodeByNumber`). The kept encodings live in the incidents' copy-on-write
    /// boxes, which every copy of this state shares: **only one thread may ever call this with a
    /// budget above 0 on the copies of one state** — a node's snapshot thread. Other callers
    /// (backups, tests) use `snapshot()`, which never reads or writes them.
    public func snapshot(reusingEncodingsUpTo budget: Int, stats: inout SnapshotEncodingStats) -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: snapshotCapacityEstimate)
        encodeSnapshot(to: &writer, reusingEncodingsUpTo: budget, stats: &stats)
        return writer.bytes
    }

    /// Room enough for most snapshots of this state (a writer sized by it does not double while
    /// encoding): about 500 bytes per incident are typical.
    public var snapshotCapacityEstimate: Int { 4096 + incidents.count * 1024 }

    /// Appends the `snapshot()` bytes to `writer` (for a container that holds them inside its own
    /// format, without a copy).
    public func encodeSnapshot(to writer: inout BinaryWriter, reusingEncodingsUpTo budget: Int, stats: inout SnapshotEncodingStats) {
        writer.write(fixed32: Self.snapshotMagic)
        writer.write(varint: Self.snapshotFormatVersion)
        writer.write(varint: appliedIndex)
        writer.write(appliedAt)
        writer.write(settings)
        writer.write(varint: nextIncidentNumber)
        writer.write(varint: nextNotificationID)
        writer.write(varint: nextConfigSequence)
        writer.write(config)
        writer.write(varint: UInt64(incidents.count))
        incidents.encodeByNumber(to: &writer, reusingEncodingsUpTo: budget, stats: &stats)
        writer.write(openByFingerprint)
        writer.write(openByGroup)
        writer.write(varint: UInt64(outbox.count))
        // The ids sorted and each looked up, not the pairs sorted: sorting moved every intent
        // (some 200 bytes) about log2(n) times, a tenth of the encoding with 20,000 of them.
        for id in outbox.keys.sorted() { outbox[id]!.encode(to: &writer) }
    }

    /// Restores a state from `snapshot()` bytes; malformed input throws, it never traps.
    public init(snapshot bytes: [UInt8]) throws(DecodingError) {
        var reader = BinaryReader(bytes)
        guard try reader.readFixed32() == Self.snapshotMagic else { throw DecodingError(.badMagic, at: 0, "not an incident state snapshot") }
        let versionOffset = reader.offset
        let version = try reader.readVarint()
        guard version == Self.snapshotFormatVersion else {
            throw DecodingError(.unsupportedVersion, at: versionOffset, "snapshot format \(version), this build reads \(Self.snapshotFormatVersion)")
        }
        self.init()
        appliedIndex = try reader.read()
        appliedAt = try reader.read()
        settings = try reader.read()
        nextIncidentNumber = try reader.read()
        nextNotificationID = try reader.read()
        nextConfigSequence = try reader.read()
        config = try reader.read()
        let count = try reader.readCount(minimumElementSize: 16)
        incidents.reserveCapacity(count)
        var previous: UInt64 = 0
        for _ in 0..<count {
            let start = reader.offset
            let incident = try Incident(from: &reader)
            let number = incident.id.number
            guard number > previous, number < nextIncidentNumber else { throw DecodingError(.invalidValue, at: start, "incident order") }
            previous = number
            incidents.insert(incident)
            statusCounts[Int(incident.status.rawValue)] += 1
        }
        openByFingerprint = try reader.read()
        openByGroup = try reader.read()
        let outboxCount = try reader.readCount(minimumElementSize: 8)
        var previousID: UInt64 = 0
        for _ in 0..<outboxCount {
            let start = reader.offset
            let intent = try NotificationIntent(from: &reader)
            guard intent.id > previousID, intent.id < nextNotificationID else { throw DecodingError(.invalidValue, at: start, "outbox order") }
            previousID = intent.id
            outbox[intent.id] = intent
        }
        try reader.expectEnd()
        if let violation = invariantViolation() { throw DecodingError(.invalidValue, at: 0, "inconsistent snapshot: \(violation)") }
    }
}
