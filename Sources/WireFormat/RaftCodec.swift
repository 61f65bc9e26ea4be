import RaftCore

/// The binary encoding of `RaftCore.Message` (docs/PROTOCOL.md §2.5).
///
/// A message is `[from u64][to u64][term u64][tag u8]` followed by the body the tag names. All
/// integers are little-endian; bools are one byte, 0 or 1; byte strings are `[length u32][bytes]`.
/// Decoding rejects unknown tags, zero node ids, bad bools, counts that cannot fit the remaining
/// bytes and (for whole buffers) trailing bytes.
public enum RaftCodec {
    /// The body tags. Values are part of the protocol and never reused.
    public enum Tag: UInt8, Sendable, CaseIterable {
        case vote = 1
        case voteResponse = 2
        case preVote = 3
        case preVoteResponse = 4
        case append = 5
        case appendResponse = 6
        case heartbeat = 7
        case heartbeatResponse = 8
        case snapshotChunk = 9
        case snapshotChunkResponse = 10
        case timeoutNow = 11
        case readIndex = 12
        case readIndexResponse = 13
        case transferLeader = 14
    }

    /// Smallest encoded message: from, to, term, tag (a `timeoutNow`).
    public static let minimumMessageBytes = 8 + 8 + 8 + 1

    public static func tag(of body: Message.Body) -> Tag {
        switch body {
        case .vote: return .vote
        case .voteResponse: return .voteResponse
        case .preVote: return .preVote
        case .preVoteResponse: return .preVoteResponse
        case .append: return .append
        case .appendResponse: return .appendResponse
        case .heartbeat: return .heartbeat
        case .heartbeatResponse: return .heartbeatResponse
        case .snapshotChunk: return .snapshotChunk
        case .snapshotChunkResponse: return .snapshotChunkResponse
        case .timeoutNow: return .timeoutNow
        case .readIndex: return .readIndex
        case .readIndexResponse: return .readIndexResponse
        case .transferLeader: return .transferLeader
        }
    }

    public static func encode(_ message: Message, into writer: inout WireWriter) {
        writer.write(message.from)
        writer.write(message.to)
        writer.write(message.term)
        writer.write(tag(of: message.body).rawValue)
        encodeBody(message.body, into: &writer)
    }

    /// One message as a whole buffer (no trailing bytes allowed).
    public static func encode(_ message: Message) -> [UInt8] {
        var writer = WireWriter(capacity: minimumMessageBytes + 32 + message.payloadBytes)
        encode(message, into: &writer)
        return writer.bytes
    }

    public static func decodeMessage(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> Message {
        var reader = WireReader(bytes)
        let message = try decodeMessage(&reader)
        try reader.expectEnd("message")
        return message
    }

    public static func decodeMessage(_ reader: inout WireReader) throws(WireFormatError) -> Message {
        let from = try reader.readNodeID()
        let to = try reader.readNodeID()
        let term = try reader.read(UInt64.self)
        let at = reader.position
        let rawTag = try reader.read(UInt8.self)
        guard let tag = Tag(rawValue: rawTag) else { throw WireFormatError(.unknown, "message tag \(rawTag)", offset: at) }
        let body = try decodeBody(tag, &reader)
        return Message(from: from, to: to, term: term, body: body)
    }

    private static func encodeBody(_ body: Message.Body, into writer: inout WireWriter) {
        switch body {
        case .vote(let lastIndex, let lastTerm, let transfer):
            writer.write(lastIndex)
            writer.write(lastTerm)
            writer.write(transfer)
        case .voteResponse(let reject), .preVoteResponse(let reject):
            writer.write(reject)
        case .preVote(let lastIndex, let lastTerm):
            writer.write(lastIndex)
            writer.write(lastTerm)
        case .append(let prevIndex, let prevTerm, let entries, let commit):
            writer.write(prevIndex)
            writer.write(prevTerm)
            writer.write(commit)
            encode(entries, into: &writer)
        case .appendResponse(let index, let reject, let hintIndex, let hintTerm):
            writer.write(index)
            writer.write(reject)
            writer.write(hintIndex)
            writer.write(hintTerm)
        case .heartbeat(let commit, let context):
            writer.write(commit)
            writer.writeBytes(context)
        case .heartbeatResponse(let context), .readIndex(let context):
            writer.writeBytes(context)
        case .snapshotChunk(let metadata, let totalBytes, let offset, let data, let done):
            encode(metadata, into: &writer)
            writer.writeCount(totalBytes)
            writer.writeCount(offset)
            writer.write(done)
            writer.writeBytes(data)
        case .snapshotChunkResponse(let index, let received, let reject):
            writer.write(index)
            writer.writeCount(received)
            writer.write(reject)
        case .timeoutNow:
            break
        case .readIndexResponse(let context, let index):
            writer.writeBytes(context)
            writer.write(index != nil)
            if let index { writer.write(index) }
        case .transferLeader(let target):
            writer.write(target)
        }
    }

    private static func decodeBody(_ tag: Tag, _ reader: inout WireReader) throws(WireFormatError) -> Message.Body {
        switch tag {
        case .vote:
            return .vote(
                lastIndex: try reader.read(UInt64.self), lastTerm: try reader.read(UInt64.self),
                transfer: try reader.readBool())
        case .voteResponse:
            return .voteResponse(reject: try reader.readBool())
        case .preVote:
            return .preVote(lastIndex: try reader.read(UInt64.self), lastTerm: try reader.read(UInt64.self))
        case .preVoteResponse:
            return .preVoteResponse(reject: try reader.readBool())
        case .append:
            let prevIndex = try reader.read(UInt64.self)
            let prevTerm = try reader.read(UInt64.self)
            let commit = try reader.read(UInt64.self)
            let entries = try decodeEntries(&reader)
            return .append(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit)
        case .appendResponse:
            return .appendResponse(
                index: try reader.read(UInt64.self), reject: try reader.readBool(),
                hintIndex: try reader.read(UInt64.self), hintTerm: try reader.read(UInt64.self))
        case .heartbeat:
            let commit = try reader.read(UInt64.self)
            return .heartbeat(commit: commit, context: try reader.readBytes(limit: reader.remaining))
        case .heartbeatResponse:
            return .heartbeatResponse(context: try reader.readBytes(limit: reader.remaining))
        case .snapshotChunk:
            let metadata = try decodeSnapshotMetadata(&reader)
            let totalBytes = try reader.readCount()
            let offset = try reader.readCount()
            let done = try reader.readBool()
            let data = try reader.readBytes(limit: reader.remaining)
            return .snapshotChunk(metadata: metadata, totalBytes: totalBytes, offset: offset, data: data, done: done)
        case .snapshotChunkResponse:
            return .snapshotChunkResponse(
                index: try reader.read(UInt64.self), received: try reader.readCount(), reject: try reader.readBool())
        case .timeoutNow:
            return .timeoutNow
        case .readIndex:
            return .readIndex(context: try reader.readBytes(limit: reader.remaining))
        case .readIndexResponse:
            let context = try reader.readBytes(limit: reader.remaining)
            let index: LogIndex? = try reader.readBool() ? try reader.read(UInt64.self) : nil
            return .readIndexResponse(context: context, index: index)
        case .transferLeader:
            return .transferLeader(target: try reader.read(UInt64.self))
        }
    }
}
