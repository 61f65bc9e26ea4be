import IncidentCore
import RaftCore

/// Replicated facts about the cluster itself (not incidents): each member's addresses, region
/// and zone. Raft's configuration says *who* votes; this says *where* they are, so every node
/// can dial every member, place leadership in preferred regions and tell clients the nearest
/// healthy node. Entries exist for members being added (written before their conf change) and
/// are dropped when a member is removed.
public struct MemberDirectory: Sendable, Equatable {
    public private(set) var members: [NodeID: MemberInfo] = [:]

    public init() {}

    public subscript(id: NodeID) -> MemberInfo? { members[id] }

    /// Members sorted by id (maps have no order of their own; replicas must not depend on one).
    public var sorted: [MemberInfo] { members.keys.sorted().map { members[$0]! } }

    mutating func apply(_ command: ClusterCommand) {
        switch command {
        case .setMember(let info): members[info.id] = info
        case .forgetMember(let id): members[id] = nil
        case .grantDispatchLease, .handOverLease, .archive: break  // ReplicatedState keeps leases and the archive journal
        }
    }

    func encode(to writer: inout BinaryWriter) {
        writer.write(varint: UInt64(members.count))
        for info in sorted { info.encode(to: &writer) }
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        let count = try reader.readCount(minimumElementSize: 5)
        for _ in 0..<count {
            let info = try MemberInfo(from: &reader)
            members[info.id] = info
        }
    }
}

/// The right to deliver notifications, held by one node at a time until `expiresAt` (leader
/// stamps, like every time in the log). Notifications leave only from the holder, and only while
/// the lease has more time left than an attempt can take, so a page is never being delivered by
/// two nodes at once — not even by a deposed leader whose attempt is still in flight.
public struct DispatchLease: Sendable, Equatable {
    public var holder: NodeID
    public var expiresAt: Timestamp

    /// Whether `holder` may take the lease at `stamp` under this one: free, its own, or expired.
    func allows(_ holder: NodeID, at stamp: Timestamp) -> Bool {
        self.holder == holder || expiresAt <= stamp
    }
}

/// Changes to the replicated cluster facts, carried in log entries like incident commands.
enum ClusterCommand: Sendable, Equatable {
    case setMember(MemberInfo)
    case forgetMember(NodeID)
    /// Grants or renews the dispatch lease of `scope` (`"*"`: every notification). Applied only
    /// when the current lease allows it at the entry's stamp; otherwise a no-op everywhere.
    case grantDispatchLease(scope: String, holder: NodeID, expiresAt: Timestamp)
    /// Archive journal switches and progress (`ArchiveJournal`).
    case archive(ArchiveCommand)
    /// Moves the lease of `scope` from `from` to `to` before it expired; a no-op unless `from`
    /// holds it. Only for scopes whose work is fenced elsewhere (the archive's watermark
    /// compare-and-set), never for notification dispatch.
    case handOverLease(scope: String, from: NodeID, to: NodeID, expiresAt: Timestamp)

    func encode(to writer: inout BinaryWriter) {
        switch self {
        case .setMember(let info):
            writer.write(UInt8(0))
            info.encode(to: &writer)
        case .forgetMember(let id):
            writer.write(UInt8(1))
            writer.write(varint: id)
        case .grantDispatchLease(let scope, let holder, let expiresAt):
            writer.write(UInt8(2))
            writer.write(string: scope)
            writer.write(varint: holder)
            writer.write(zigzag: expiresAt.millisecondsSinceEpoch)
        case .archive(let command):
            writer.write(UInt8(3))
            command.encode(to: &writer)
        case .handOverLease(let scope, let from, let to, let expiresAt):
            writer.write(UInt8(4))
            writer.write(string: scope)
            writer.write(varint: from)
            writer.write(varint: to)
            writer.write(zigzag: expiresAt.millisecondsSinceEpoch)
        }
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        let offset = reader.offset
        switch try reader.readByte() {
        case 0: self = .setMember(try MemberInfo(from: &reader))
        case 1: self = .forgetMember(try reader.readVarint())
        case 2:
            self = .grantDispatchLease(
                scope: try reader.readString(), holder: try reader.readVarint(),
                expiresAt: Timestamp(millisecondsSinceEpoch: try reader.readZigzag()))
        case 3: self = .archive(try ArchiveCommand(from: &reader))
        case 4:
            self = .handOverLease(
                scope: try reader.readString(), from: try reader.readVarint(), to: try reader.readVarint(),
                expiresAt: Timestamp(millisecondsSinceEpoch: try reader.readZigzag()))
        case let tag: throw DecodingError(.invalidTag, at: offset, "cluster command \(tag)")
        }
    }
}

extension MemberInfo {
    func encode(to writer: inout BinaryWriter) {
        writer.write(varint: id)
        writer.write(string: peerAddress)
        writer.write(string: apiAddress)
        writer.write(string: region)
        writer.write(string: zone)
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            id: try reader.readVarint(), peerAddress: try reader.readString(), apiAddress: try reader.readString(),
            region: try reader.readString(), zone: try reader.readString())
    }
}
