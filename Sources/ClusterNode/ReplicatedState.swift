import IncidentCore
import RaftCore

/// Everything the incident log replicates: the incident state machine, the answers to recent
/// request ids and the cluster's member directory. `apply` is deterministic, so every replica
/// holds the same bytes.
public struct ReplicatedState: Sendable {
    public private(set) var machine: IncidentStateMachine
    /// Answers to client request ids (`Idempotency-Key`), kept long (24 h by default).
    var requests: RequestTable
    /// The ids nodes give writes they may have to retry after a leader change
    /// (`RequestIDs.isTransient`), without their answers (only the node that made an id needs
    /// the answer, and keeps it itself: `OwnWrites`). Needed only for seconds, so kept in a
    /// smaller, shorter table that cannot push client keys out.
    var transientRequests: RequestTable
    public private(set) var members = MemberDirectory()
    /// Dispatch leases by scope (`"*"` today; one per region later).
    public private(set) var dispatchLeases: [String: DispatchLease] = [:]
    /// Changes the PostgreSQL archive has yet to take (empty and idle unless archival is on).
    public private(set) var archive = ArchiveJournal()
    /// Counts applied changes that can alter who may call the API (configuration writes and
    /// snapshot installs). Local to this replica and not part of snapshots: API front ends cache
    /// key lookups and drop the cache when it moves (`IncidentNode.accessRevision`).
    public private(set) var accessRevision: UInt64 = 0

    init(rememberedRequests: Int, requestMemoryMilliseconds: Int64, transientRequests: Int = 100_000, transientMemoryMilliseconds: Int64 = 300_000) {
        machine = IncidentStateMachine()
        requests = RequestTable(capacity: rememberedRequests, retentionMilliseconds: requestMemoryMilliseconds)
        self.transientRequests = RequestTable(capacity: transientRequests, retentionMilliseconds: transientMemoryMilliseconds)
    }

    /// The answer to one applied entry.
    struct Applied: Sendable {
        /// The incident command's outcome; nil for a cluster command (which cannot fail), and
        /// for a duplicate whose first answer is kept only by the node that made its id.
        var outcome: Outcome?
        /// The request id was seen before: `outcome` is the first answer and nothing was applied.
        var duplicate: Bool
        var stamp: Timestamp
        var requestID = ""
        /// For a duplicate: the index the request id was first applied at.
        var earlierIndex: LogIndex = 0
    }

    /// Applies a committed normal entry. Malformed entries (never written by a correct leader)
    /// are skipped identically everywhere, with the reason. `proposed` is the envelope this node
    /// proposed for the entry, when it did (it is what `entry.data` decodes to).
    mutating func apply(_ entry: Entry, proposed: Envelope? = nil) -> Result<Applied, DecodingError> {
        guard !entry.data.isEmpty else { return .failure(DecodingError(.truncated, at: 0, "empty entry")) }
        let envelope: Envelope
        if let proposed {
            envelope = proposed
        } else {
            do { envelope = try Envelope(decoding: entry.data) } catch { return .failure(error) }
        }
        switch envelope.body {
        case .cluster(let command):
            members.apply(command)
            if case .grantDispatchLease(let scope, let holder, let expiresAt) = command,
                dispatchLeases[scope]?.allows(holder, at: envelope.stamp) ?? true
            {
                dispatchLeases[scope] = DispatchLease(holder: holder, expiresAt: expiresAt)
            }
            if case .handOverLease(let scope, let from, let to, let expiresAt) = command, scope == ConsensusLoop.archiveScope,
                dispatchLeases[scope]?.holder == from
            {
                dispatchLeases[scope] = DispatchLease(holder: to, expiresAt: expiresAt)
            }
            if case .archive(let archiveCommand) = command { archive.apply(archiveCommand, at: entry.index) }
            return .success(Applied(outcome: nil, duplicate: false, stamp: envelope.stamp))
        case .incident(let command):
            return .success(apply(command, envelope: envelope, index: entry.index, size: entry.data.count))
        }
    }

    private mutating func apply(_ command: Command, envelope: Envelope, index: LogIndex, size: Int) -> Applied {
        let id = envelope.requestID
        let transient = RequestIDs.isTransient(id)
        let key = RequestTable.Key(id)
        if !id.isEmpty, let remembered = transient ? transientRequests.answer(for: key) : requests.answer(for: key) {
            if remembered.answer.isEmpty {
                return Applied(outcome: nil, duplicate: true, stamp: envelope.stamp, requestID: id, earlierIndex: remembered.index)
            }
            if let outcome = try? RequestTable.outcome(of: remembered) {
                return Applied(outcome: outcome, duplicate: true, stamp: envelope.stamp, requestID: id, earlierIndex: remembered.index)
            }
        }
        var intentBefore: NotificationIntent?
        if archive.isEnabled, case .recordDelivery(let id, _, _) = command { intentBefore = machine.notification(id) }
        let outcome = machine.apply(command, at: envelope.stamp, index: index)
        if archive.isEnabled,
            let record = ArchiveRecord.of(
                command, outcome: outcome, index: index, at: envelope.stamp, cost: size + 64, intentBefore: intentBefore, after: machine)
        {
            archive.record(record)
        }
        switch command {
        case .createConfig, .updateConfig, .deleteConfig: accessRevision &+= 1
        default: break
        }
        if !id.isEmpty {
            if transient {
                transientRequests.remember(key, index: index, stamp: envelope.stamp, outcome: nil)
            } else {
                requests.remember(key, index: index, stamp: envelope.stamp, outcome: outcome)
            }
        }
        return Applied(outcome: outcome, duplicate: false, stamp: envelope.stamp, requestID: id)
    }

    // MARK: - Snapshot

    private static let magic: [UInt8] = Array("IMRS".utf8)
    private static let version: UInt8 = 3

    /// `["IMRS"][version u8 = 3][machine snapshot blob, its length a varint padded to five
    /// bytes (written before the length was known; minimal ones, as earlier builds wrote, read
    /// the same)][request table][transient request
    /// table][member directory][lease count varint, then per lease (by scope): scope string, holder
    /// varint, expires-at zigzag ms][archive journal (v3)]`. Versions 1 (machine and request table
    /// only) and 2 (no archive journal) are still read.
    func snapshot() -> [UInt8] {
        var stats = SnapshotEncodingStats()
        return snapshot(reusingEncodingsUpTo: 0, stats: &stats)
    }

    /// The same bytes, reusing (and keeping up to `budget` bytes of) unchanged incidents'
    /// encodings: only a node's snapshot thread may pass a budget above 0
    /// (`IncidentStateMachine.snapshot(reusingEncodingsUpTo:stats:)`).
    func snapshot(reusingEncodingsUpTo budget: Int, stats: inout SnapshotEncodingStats) -> [UInt8] {
        // One writer sized for everything, the machine's blob encoded straight into it (most of
        // the bytes, about 500 per open incident) behind a length filled in afterwards: no copy
        // of the state's bytes and their page faults (a seventh of the snapshot thread's time
        // with encodings reused), and no second array of the state's size at the peak.
        var writer = BinaryWriter(
            reservingCapacity: 16 + machine.snapshotCapacityEstimate + requests.encodedBytesEstimate + transientRequests.encodedBytesEstimate + 4_096)
        for byte in Self.magic { writer.write(byte) }
        writer.write(Self.version)
        let length = writer.reservePaddedVarint()
        machine.encodeSnapshot(to: &writer, reusingEncodingsUpTo: budget, stats: &stats)
        writer.fill(paddedVarint: UInt64(writer.bytes.count - length - 5), at: length)
        encodeTables(to: &writer)
        return writer.bytes
    }

    /// Everything in a snapshot after the machine's blob.
    private func encodeTables(to writer: inout BinaryWriter) {
        requests.encode(to: &writer)
        transientRequests.encode(to: &writer)
        members.encode(to: &writer)
        writer.write(varint: UInt64(dispatchLeases.count))
        for scope in dispatchLeases.keys.sorted() {
            let lease = dispatchLeases[scope]!
            writer.write(string: scope)
            writer.write(varint: lease.holder)
            writer.write(zigzag: lease.expiresAt.millisecondsSinceEpoch)
        }
        archive.encode(to: &writer)
    }

    mutating func restore(_ bytes: [UInt8]) throws(DecodingError) {
        var reader = BinaryReader(bytes)
        for byte in Self.magic where try reader.readByte() != byte {
            throw DecodingError(.badMagic, at: 0, "not a replicated-state snapshot")
        }
        let version = try reader.readByte()
        guard (1...Self.version).contains(version) else { throw DecodingError(.unsupportedVersion, at: 4, "replicated state v\(version)") }
        machine = try IncidentStateMachine(snapshot: try reader.readBlob())
        try requests.decode(from: &reader)
        if version >= 2 {
            try transientRequests.decode(from: &reader)
            members = try MemberDirectory(from: &reader)
            dispatchLeases = [:]
            for _ in 0..<(try reader.readCount(minimumElementSize: 3)) {
                let scope = try reader.readString()
                dispatchLeases[scope] = DispatchLease(holder: try reader.readVarint(), expiresAt: Timestamp(millisecondsSinceEpoch: try reader.readZigzag()))
            }
            archive = version >= 3 ? try ArchiveJournal(from: &reader) : ArchiveJournal()
        } else {
            archive = ArchiveJournal()
            dispatchLeases = [:]
            transientRequests = RequestTable(capacity: transientRequests.capacity, retentionMilliseconds: transientRequests.retentionMilliseconds)
            members = MemberDirectory()
        }
        try reader.expectEnd()
        accessRevision &+= 1
    }
}

/// Request ids: clients' (`<api key id>:<Idempotency-Key>`) and the ones nodes make up for writes
/// they may retry on another leader (`~<node>.<boot>.<counter>`, never a valid client id
/// because API key ids cannot start with `~`).
public enum RequestIDs {
    static func isTransient(_ id: String) -> Bool { id.utf8.first == UInt8(ascii: "~") }
}
