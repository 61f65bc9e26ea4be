import IncidentCore
import RaftCore

/// Everything the incident log replicates: the incident state machine plus the answers to
/// recent request ids. `apply` is deterministic, so every replica holds the same bytes.
public struct ReplicatedState: Sendable {
    public private(set) var machine: IncidentStateMachine
    var requests: RequestTable
    /// Counts applied changes that can alter who may call the API (configuration writes and
    /// snapshot installs). Local to this replica and not part of snapshots: API front ends cache
    /// key lookups and drop the cache when it moves (`IncidentNode.accessRevision`).
    public private(set) var accessRevision: UInt64 = 0

    init(rememberedRequests: Int, requestMemoryMilliseconds: Int64) {
        machine = IncidentStateMachine()
        requests = RequestTable(capacity: rememberedRequests, retentionMilliseconds: requestMemoryMilliseconds)
    }

    /// The answer to one applied entry.
    struct Applied: Sendable {
        var outcome: Outcome
        /// The request id was seen before: `outcome` is the first answer and nothing was applied.
        var duplicate: Bool
        var stamp: Timestamp
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
        if !envelope.requestID.isEmpty, let remembered = requests.answer(for: envelope.requestID),
            let outcome = try? RequestTable.outcome(of: remembered)
        {
            return .success(Applied(outcome: outcome, duplicate: true, stamp: envelope.stamp))
        }
        let outcome = machine.apply(envelope.command, at: envelope.stamp, index: entry.index)
        switch envelope.command {
        case .createConfig, .updateConfig, .deleteConfig: accessRevision &+= 1
        default: break
        }
        if !envelope.requestID.isEmpty {
            requests.remember(envelope.requestID, index: entry.index, stamp: envelope.stamp, outcome: outcome)
        }
        return .success(Applied(outcome: outcome, duplicate: false, stamp: envelope.stamp))
    }

    // MARK: - Snapshot

    private static let magic: [UInt8] = Array("IMRS".utf8)
    private static let version: UInt8 = 1

    /// `["IMRS"][version u8][machine snapshot blob][request table]`.
    func snapshot() -> [UInt8] {
        var writer = BinaryWriter()
        for byte in Self.magic { writer.write(byte) }
        writer.write(Self.version)
        writer.write(blob: machine.snapshot())
        requests.encode(to: &writer)
        return writer.bytes
    }

    mutating func restore(_ bytes: [UInt8]) throws(DecodingError) {
        var reader = BinaryReader(bytes)
        for byte in Self.magic where try reader.readByte() != byte {
            throw DecodingError(.badMagic, at: 0, "not a replicated-state snapshot")
        }
        let version = try reader.readByte()
        guard version == Self.version else { throw DecodingError(.unsupportedVersion, at: 4, "replicated state v\(version)") }
        machine = try IncidentStateMachine(snapshot: try reader.readBlob())
        try requests.decode(from: &reader)
        try reader.expectEnd()
        accessRevision &+= 1
    }
}
