import RaftCore
import WireFormat
import XCTest

/// Every `Message.Body` case survives encode → decode, including edge values, and the decoder
/// refuses every malformed variant without crashing.
final class RaftCodecTests: XCTestCase {
    static let jointState = ConfState(
        voters: [1, 2, 3], learners: [7], outgoingVoters: [1, 2, 4], learnersNext: [4], autoLeave: true)

    static let samples: [Message.Body] = [
        .vote(lastIndex: 0, lastTerm: 0, transfer: false),
        .vote(lastIndex: .max, lastTerm: .max, transfer: true),
        .voteResponse(reject: true),
        .voteResponse(reject: false),
        .preVote(lastIndex: 42, lastTerm: 7),
        .preVoteResponse(reject: true),
        .append(prevIndex: 0, prevTerm: 0, entries: [], commit: 0),
        .append(
            prevIndex: 10, prevTerm: 3,
            entries: [
                Entry(term: 3, index: 11),
                Entry(term: 4, index: 12, kind: .normal, data: Array(repeating: 0xAB, count: 1_000)),
                Entry(term: 4, index: 13, kind: .confChange, data: ConfChange([.addVoter(5), .remove(2)]).encoded()),
                Entry(term: .max, index: .max, data: [0]),
            ], commit: 12),
        .appendResponse(index: 99, reject: true, hintIndex: 90, hintTerm: 2),
        .appendResponse(index: .max, reject: false, hintIndex: 0, hintTerm: 0),
        .heartbeat(commit: 5, context: []),
        .heartbeat(commit: .max, context: Array("read-ctx".utf8)),
        .heartbeatResponse(context: [1, 2, 3]),
        .snapshotChunk(
            metadata: SnapshotMetadata(index: 100, term: 9, confState: jointState), totalBytes: 1 << 40, offset: 0,
            data: Array(0..<255), done: false),
        .snapshotChunk(metadata: SnapshotMetadata(), totalBytes: 0, offset: 0, data: [], done: true),
        .snapshotChunk(
            metadata: SnapshotMetadata(index: .max, term: .max, confState: ConfState(voters: [.max])),
            totalBytes: Int.max, offset: Int.max, data: [9], done: true),
        .snapshotChunkResponse(index: 100, received: 65_536, reject: false),
        .snapshotChunkResponse(index: 0, received: Int.max, reject: true),
        .timeoutNow,
        .readIndex(context: Array("ctx".utf8)),
        .readIndex(context: []),
        .readIndexResponse(context: [7], index: 77),
        .readIndexResponse(context: [7], index: nil),
        .readIndexResponse(context: [], index: 0),
        .transferLeader(target: 3),
        .transferLeader(target: 0),
    ]

    static var sampleMessages: [Message] {
        samples.enumerated().map { i, body in
            Message(from: NodeID(i + 1), to: i.isMultiple(of: 2) ? .max : 1, term: i == 0 ? 0 : UInt64(i * 1_000), body: body)
        }
    }

    func testEveryBodyTagIsCovered() {
        let covered = Set(Self.samples.map { RaftCodec.tag(of: $0) })
        XCTAssertEqual(covered, Set(RaftCodec.Tag.allCases))
    }

    func testEveryMessageRoundTrips() throws {
        for message in Self.sampleMessages {
            let bytes = RaftCodec.encode(message)
            let decoded = try bytes.withUnsafeBytes { try RaftCodec.decodeMessage($0) }
            XCTAssertEqual(decoded, message)
        }
    }

    func testEntriesMetadataAndConfStateRoundTripAlone() throws {
        var writer = WireWriter()
        let entry = Entry(term: 1, index: 2, kind: .confChange, data: [1, 2])
        let metadata = SnapshotMetadata(index: 5, term: 6, confState: Self.jointState)
        RaftCodec.encode(entry, into: &writer)
        RaftCodec.encode(metadata, into: &writer)
        RaftCodec.encode(ConfState(), into: &writer)
        try writer.bytes.withUnsafeBytes { bytes in
            var reader = WireReader(bytes)
            XCTAssertEqual(try RaftCodec.decodeEntry(&reader), entry)
            XCTAssertEqual(try RaftCodec.decodeSnapshotMetadata(&reader), metadata)
            XCTAssertEqual(try RaftCodec.decodeConfState(&reader), ConfState())
            try reader.expectEnd("test")
        }
    }

    func testEveryTruncationIsRejected() {
        for message in Self.sampleMessages {
            let bytes = RaftCodec.encode(message)
            for length in 0..<bytes.count {
                XCTAssertThrowsError(try Array(bytes[..<length]).withUnsafeBytes { try RaftCodec.decodeMessage($0) }) {
                    XCTAssertTrue([.truncated, .invalid, .oversized].contains(($0 as? WireFormatError)?.code), "\($0)")
                }
            }
        }
    }

    func testTrailingBytesAreRejected() {
        let bytes = RaftCodec.encode(Message(from: 1, to: 2, term: 3, body: .timeoutNow)) + [0]
        XCTAssertEqual(code { try bytes.withUnsafeBytes { try RaftCodec.decodeMessage($0) } }, .trailingBytes)
    }

    func testMalformedFieldsAreRejected() {
        let vote = RaftCodec.encode(Message(from: 1, to: 2, term: 3, body: .vote(lastIndex: 1, lastTerm: 1, transfer: true)))
        // Unknown tag, zero ids, a bool that is neither 0 nor 1.
        XCTAssertEqual(code(patching: vote, at: 24, with: 0), .unknown)
        XCTAssertEqual(code(patching: vote, at: 24, with: 15), .unknown)
        XCTAssertEqual(code(patching: vote, at: 24, with: 0xFF), .unknown)
        XCTAssertEqual(code(patching: vote, range: 0..<8, with: 0), .invalid)
        XCTAssertEqual(code(patching: vote, range: 8..<16, with: 0), .invalid)
        XCTAssertEqual(code(patching: vote, at: vote.count - 1, with: 2), .invalid)
        // An entry of unknown kind.
        let append = RaftCodec.encode(
            Message(from: 1, to: 2, term: 3, body: .append(prevIndex: 0, prevTerm: 0, entries: [Entry(term: 1, index: 1)], commit: 0)))
        XCTAssertEqual(code(patching: append, at: 25 + 24 + 4 + 16, with: 9), .unknown)
        // An entry count far beyond the bytes present: refused before allocating.
        XCTAssertEqual(code(patching: append, range: 49..<53, with: 0xFF), .truncated)
        // A byte-string length beyond the bytes present.
        let heartbeat = RaftCodec.encode(Message(from: 1, to: 2, term: 3, body: .heartbeat(commit: 1, context: [1])))
        XCTAssertEqual(code(patching: heartbeat, range: 33..<37, with: 0xFF), .oversized)
    }

    func testConfStateMustBeCanonical() {
        let chunk = Message(
            from: 1, to: 2, term: 3,
            body: .snapshotChunk(
                metadata: SnapshotMetadata(index: 1, term: 1, confState: ConfState(voters: [1, 2])), totalBytes: 1, offset: 0,
                data: [1], done: true))
        let bytes = RaftCodec.encode(chunk)
        // Voters start after header (25) + index + term (16) + count (4): ids 1 then 2.
        XCTAssertEqual(code(patching: bytes, range: 45..<53, with: 2), .invalid, "duplicate id")
        XCTAssertEqual(code(patching: bytes, range: 45..<53, with: 0), .invalid, "zero id")
        var descending = bytes
        descending[45] = 3
        XCTAssertEqual(code { try descending.withUnsafeBytes { try RaftCodec.decodeMessage($0) } }, .invalid)
        // A snapshot size that does not fit Int.
        var huge = bytes
        let totalAt = 45 + 16 + 4 * 3 + 1
        for i in totalAt..<totalAt + 8 { huge[i] = 0xFF }
        XCTAssertEqual(code { try huge.withUnsafeBytes { try RaftCodec.decodeMessage($0) } }, .oversized)
    }

    private func code(patching bytes: [UInt8], at index: Int, with value: UInt8) -> WireFormatError.Code? {
        code(patching: bytes, range: index..<index + 1, with: value)
    }

    private func code(patching bytes: [UInt8], range: Range<Int>, with value: UInt8) -> WireFormatError.Code? {
        var patched = bytes
        for i in range { patched[i] = value }
        return code { try patched.withUnsafeBytes { try RaftCodec.decodeMessage($0) } }
    }

    private func code(_ body: () throws -> Message) -> WireFormatError.Code? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? WireFormatError)?.code
        }
    }
}
