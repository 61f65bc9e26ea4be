import RaftCore

/// Entries, snapshot metadata and membership on the wire (docs/PROTOCOL.md §2.6).
extension RaftCodec {
    /// Smallest encoded entry: term, index, kind, empty data length.
    static let minimumEntryBytes = 8 + 8 + 1 + 4

    /// `[term u64][index u64][kind u8][data: u32 length + bytes]`.
    public static func encode(_ entry: Entry, into writer: inout WireWriter) {
        writer.write(entry.term)
        writer.write(entry.index)
        writer.write(entry.kind.rawValue)
        writer.writeBytes(entry.data)
    }

    public static func decodeEntry(_ reader: inout WireReader) throws(WireFormatError) -> Entry {
        let term = try reader.read(UInt64.self)
        let index = try reader.read(UInt64.self)
        let at = reader.position
        let rawKind = try reader.read(UInt8.self)
        guard let kind = EntryKind(rawValue: rawKind) else {
            throw WireFormatError(.unknown, "entry kind \(rawKind)", offset: at)
        }
        let data = try reader.readBytes(limit: reader.remaining)
        return Entry(term: term, index: index, kind: kind, data: data)
    }

    /// `[count u32]` then `count` entries; consecutive indexes are not required by the codec
    /// (RaftCore checks log matching), only that the count fits the bytes that are left.
    static func encode(_ entries: [Entry], into writer: inout WireWriter) {
        writer.write(UInt32(entries.count))
        for entry in entries { encode(entry, into: &writer) }
    }

    static func decodeEntries(_ reader: inout WireReader) throws(WireFormatError) -> [Entry] {
        let at = reader.position
        let count = Int(try reader.read(UInt32.self))
        guard count <= reader.remaining / minimumEntryBytes else {
            throw WireFormatError(.truncated, "\(count) entries cannot fit in \(reader.remaining) bytes", offset: at)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count { entries.append(try decodeEntry(&reader)) }
        return entries
    }

    /// `[index u64][term u64][confState]`.
    public static func encode(_ metadata: SnapshotMetadata, into writer: inout WireWriter) {
        writer.write(metadata.index)
        writer.write(metadata.term)
        encode(metadata.confState, into: &writer)
    }

    public static func decodeSnapshotMetadata(_ reader: inout WireReader) throws(WireFormatError) -> SnapshotMetadata {
        let index = try reader.read(UInt64.self)
        let term = try reader.read(UInt64.self)
        let confState = try decodeConfState(&reader)
        return SnapshotMetadata(index: index, term: term, confState: confState)
    }

    /// Four id sets (voters, learners, outgoing voters, learners next), each `[count u32]` then
    /// `count` non-zero u64 ids in strictly ascending order, then `[autoLeave u8]`.
    public static func encode(_ confState: ConfState, into writer: inout WireWriter) {
        for set in [confState.voters, confState.learners, confState.outgoingVoters, confState.learnersNext] {
            writer.write(UInt32(set.count))
            for id in set.sorted() { writer.write(id) }
        }
        writer.write(confState.autoLeave)
    }

    public static func decodeConfState(_ reader: inout WireReader) throws(WireFormatError) -> ConfState {
        let voters = try decodeIDSet(&reader)
        let learners = try decodeIDSet(&reader)
        let outgoing = try decodeIDSet(&reader)
        let learnersNext = try decodeIDSet(&reader)
        let autoLeave = try reader.readBool()
        return ConfState(
            voters: voters, learners: learners, outgoingVoters: outgoing, learnersNext: learnersNext,
            autoLeave: autoLeave)
    }

    private static func decodeIDSet(_ reader: inout WireReader) throws(WireFormatError) -> Set<NodeID> {
        let at = reader.position
        let count = Int(try reader.read(UInt32.self))
        guard count <= reader.remaining / 8 else {
            throw WireFormatError(.truncated, "\(count) member ids cannot fit in \(reader.remaining) bytes", offset: at)
        }
        var ids = Set<NodeID>(minimumCapacity: count)
        var previous: NodeID = 0
        for _ in 0..<count {
            let idAt = reader.position
            let id = try reader.readNodeID()
            // Ascending order makes the encoding canonical and rules out duplicates.
            guard id > previous else { throw WireFormatError(.invalid, "member ids not strictly ascending", offset: idAt) }
            previous = id
            ids.insert(id)
        }
        return ids
    }
}
