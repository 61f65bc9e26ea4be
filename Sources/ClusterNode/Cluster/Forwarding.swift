import IncidentCore
import RaftCore

/// What a follower sends its leader over the transport, and what comes back: writes and cluster
/// operations accepted on any node are carried out on the leader (docs/PROTOCOL.md, "Forward").
///
/// Request: `[version u8 = 1][kind u8]` then for kind 0 (command) `[request id string][command]`,
/// for kind 1 (cluster operation) `[operation tag u8][operand]` with tags 0 set member (member
/// info), 1 forget member (id varint), 2 change membership (ConfChange bytes as a blob),
/// 3 transfer leadership (target id varint), 4 archive command (`ArchiveCommand` bytes: tag 0
/// enable + limit varint, 1 set archiver + node varint + available u8, 2 progress + index varint).
/// Kind 2 (batch) carries several kind-0 requests: `[count varint]` then each request's bytes as a
/// blob; its answer has status 3: `[count varint]` then each answer's bytes as a blob, in order.
/// Answer: `[version u8 = 1][status u8]` then for 0 (applied) `[index varint][applied at zigzag
/// ms][duplicate u8][0 + CommandResult | 1 + CommandError]`, for 1 (done) `[index varint]`, for
/// 2 (refused) `[error code string][message string][leader hint varint]`, for 4 (applied earlier:
/// a retried node-made id was applied before, and only the node that made it keeps the answer)
/// `[index varint]`, for 5 (applied, with the entry's term: status 0's fields with `[term varint]`
/// after the index) — sent only on connections that negotiated wire protocol version 2 or later
/// (`termsSinceProtocolVersion`); the follower uses the term to commit the entry at once
/// (`Raft.learnCommitted`).
enum Forwarded {
    static let version: UInt8 = 1
    /// The first wire protocol version whose nodes read status 5.
    static let termsSinceProtocolVersion: UInt16 = 2

    enum Request: Sendable, Equatable {
        case command(Command, requestID: String)
        case cluster(Inbox.ClusterOperation)
    }

    enum Answer: Sendable {
        case applied(Submission)
        case done(LogIndex)
        case refused(NodeError)
    }

    static func encode(_ request: Request) -> [UInt8] {
        switch request {
        case .command(let command, let requestID):
            return encodeCommand(command, requestID: requestID).bytes
        case .cluster(let operation):
            var writer = BinaryWriter()
            writer.write(version)
            writer.write(UInt8(1))
            switch operation {
            case .setMember(let info):
                writer.write(UInt8(0))
                info.encode(to: &writer)
            case .forgetMember(let id):
                writer.write(UInt8(1))
                writer.write(varint: id)
            case .changeMembership(let change):
                writer.write(UInt8(2))
                writer.write(blob: change.encoded())
            case .transferLeadership(let target):
                writer.write(UInt8(3))
                writer.write(varint: target)
            case .archive(let command):
                writer.write(UInt8(4))
                command.encode(to: &writer)
            }
            return writer.bytes
        }
    }

    /// A command's request, and where the command's own encoding starts in it (it runs to the
    /// end): the forwarding node keeps those bytes to recognise the entry when it applies.
    static func encodeCommand(_ command: Command, requestID: String) -> (bytes: [UInt8], commandStart: Int) {
        var writer = BinaryWriter(reservingCapacity: 1024)  // an event's command rarely needs more
        writer.write(version)
        writer.write(UInt8(0))
        writer.write(string: requestID)
        let start = writer.bytes.count
        command.encode(to: &writer)
        return (writer.bytes, start)
    }

    /// Most requests in one batch (a follower sends what queued while its previous batch was out).
    static let maxBatchCount = 1_024

    static func encodeBatch(_ requests: [[UInt8]]) -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(version)
        writer.write(UInt8(2))
        writer.write(varint: UInt64(requests.count))
        for request in requests { writer.write(blob: request) }
        return writer.bytes
    }

    static func encodeBatchAnswer(_ answers: [[UInt8]]) -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(version)
        writer.write(UInt8(3))
        writer.write(varint: UInt64(answers.count))
        for answer in answers { writer.write(blob: answer) }
        return writer.bytes
    }

    /// The elements of a batch request, nil when `bytes` is not one.
    static func batchElements(_ bytes: [UInt8]) throws(DecodingError) -> [[UInt8]]? {
        guard bytes.count >= 2, bytes[0] == version, bytes[1] == 2 else { return nil }
        return try elements(bytes)
    }

    /// The answers of a batch answer, nil when `bytes` is not one (a refusal of the whole batch).
    static func batchAnswers(_ bytes: [UInt8]) throws(DecodingError) -> [[UInt8]]? {
        guard bytes.count >= 2, bytes[0] == version, bytes[1] == 3 else { return nil }
        return try elements(bytes)
    }

    private static func elements(_ bytes: [UInt8]) throws(DecodingError) -> [[UInt8]] {
        var reader = BinaryReader(bytes)
        _ = try reader.readByte()
        _ = try reader.readByte()
        let count = try reader.readCount(minimumElementSize: 1)
        guard count <= maxBatchCount else { throw DecodingError(.invalidTag, at: 2, "batch of \(count) requests") }
        var elements: [[UInt8]] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try reader.readBlob()) }
        try reader.expectEnd()
        return elements
    }

    static func decodeRequest(_ bytes: [UInt8]) throws(DecodingError) -> Request {
        try decodeRequestKeepingCommandBytes(bytes).request
    }

    /// `decodeRequest`, with a command's own bytes: the leader logs a forwarded write's command as
    /// its follower encoded it (the bytes it was just decoded from, so they decode to the same
    /// command on every node) instead of encoding it again.
    static func decodeRequestKeepingCommandBytes(_ bytes: [UInt8]) throws(DecodingError) -> (request: Request, commandBytes: ArraySlice<UInt8>?) {
        var reader = BinaryReader(bytes)
        let version = try reader.readByte()
        guard version == Self.version else { throw DecodingError(.unsupportedVersion, at: 0, "forwarded request v\(version)") }
        let request: Request
        var commandBytes: ArraySlice<UInt8>?
        switch try reader.readByte() {
        case 0:
            let requestID = try reader.readString()
            let start = reader.offset
            request = .command(try Command(from: &reader), requestID: requestID)
            commandBytes = bytes[start..<reader.offset]
        case 1:
            let offset = reader.offset
            switch try reader.readByte() {
            case 0: request = .cluster(.setMember(try MemberInfo(from: &reader)))
            case 1: request = .cluster(.forgetMember(try reader.readVarint()))
            case 2:
                guard let change = ConfChange(decoding: try reader.readBlob()) else { throw DecodingError(.invalidTag, at: offset, "membership change") }
                request = .cluster(.changeMembership(change))
            case 3: request = .cluster(.transferLeadership(to: try reader.readVarint()))
            case 4: request = .cluster(.archive(try ArchiveCommand(from: &reader)))
            case let tag: throw DecodingError(.invalidTag, at: offset, "cluster operation \(tag)")
            }
        case let kind: throw DecodingError(.invalidTag, at: 1, "forwarded request kind \(kind)")
        }
        try reader.expectEnd()
        return (request, commandBytes)
    }

    /// `withTerm`: a write's answer carries its entry's term (status 5 instead of 0); only for a
    /// requester that reads it.
    static func encode(_ answer: Answer, withTerm: Bool = false) -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(version)
        switch answer {
        case .applied(let submission):
            writer.write(UInt8(withTerm ? 5 : 0))
            writer.write(varint: submission.index)
            if withTerm { writer.write(varint: submission.term) }
            writer.write(zigzag: submission.appliedAt.millisecondsSinceEpoch)
            writer.write(UInt8(submission.duplicate ? 1 : 0))
            RequestTable.encode(submission.outcome, to: &writer)
        case .done(let index):
            writer.write(UInt8(1))
            writer.write(varint: index)
        case .refused(let error) where error.code == .appliedEarlier:
            writer.write(UInt8(4))
            writer.write(varint: error.earlierIndex)
        case .refused(let error):
            writer.write(UInt8(2))
            writer.write(string: error.code.rawValue)
            writer.write(string: error.message)
            writer.write(varint: error.leaderHint)
        }
        return writer.bytes
    }

    static func decodeAnswer(_ bytes: [UInt8]) throws(DecodingError) -> Answer {
        var reader = BinaryReader(bytes)
        let version = try reader.readByte()
        guard version == Self.version else { throw DecodingError(.unsupportedVersion, at: 0, "forwarded answer v\(version)") }
        let answer: Answer
        switch try reader.readByte() {
        case let status where status == 0 || status == 5:
            let index = try reader.readVarint()
            let term = status == 5 ? try reader.readVarint() : 0
            let appliedAt = Timestamp(millisecondsSinceEpoch: try reader.readZigzag())
            let duplicate = try reader.readByte() != 0
            let outcome = try RequestTable.decodeOutcome(from: &reader)
            answer = .applied(Submission(outcome: outcome, index: index, appliedAt: appliedAt, duplicate: duplicate, term: term))
        case 1: answer = .done(try reader.readVarint())
        case 2:
            let offset = reader.offset
            let codeText = try reader.readString()
            guard let code = NodeError.Code(rawValue: codeText) else { throw DecodingError(.invalidTag, at: offset, "error code \(codeText)") }
            let message = try reader.readString()
            answer = .refused(NodeError(code, message, leaderHint: try reader.readVarint()))
        case 4:
            let index = try reader.readVarint()
            answer = .refused(NodeError(.appliedEarlier, "the write was applied earlier, at index \(index)", earlierIndex: index))
        case let status: throw DecodingError(.invalidTag, at: 1, "forwarded answer status \(status)")
        }
        try reader.expectEnd()
        return answer
    }
}
