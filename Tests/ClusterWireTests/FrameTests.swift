import RaftCore
import WireFormat
import XCTest

/// Frame header, stream parsing, compression, handshake, Forward and ping payloads.
final class FrameTests: XCTestCase {
    let parser = FrameParser(maxFrameBytes: 1 << 20)

    static let hello = Hello(versions: 1...3, nodeID: 4, expectedPeer: 9, clusterID: "prod-eu", region: "eu-west", zone: "eu-west-1a")

    static let frames: [WireFrame] = [
        .handshake(hello),
        .handshake(Hello(versions: 1...1, nodeID: .max, expectedPeer: 0, clusterID: "c", region: "", zone: "")),
        .handshakeAnswer(
            HelloAnswer(accepted: true, version: 2, nodeID: 9, clusterID: "prod-eu", region: "eu-west", zone: "eu-west-1b")),
        .handshakeAnswer(
            HelloAnswer(
                accepted: false, version: 0, nodeID: 9, clusterID: "prod-eu", region: "r", zone: "z", reason: .clusterMismatch,
                reasonText: "cluster id 'x' is not 'prod-eu' — ünïcödé")),
        .raftMessages(RaftCodecTests.sampleMessages.filter { RaftCodec.tag(of: $0.body) != .snapshotChunk }),
        .raftMessages([Message(from: 1, to: 2, term: 1, body: .timeoutNow)]),
        .snapshotChunk(RaftCodecTests.sampleMessages.first { RaftCodec.tag(of: $0.body) == .snapshotChunk }!),
        .forward(ForwardRequest(requestID: 1, kind: 1, payload: [])),
        .forward(ForwardRequest(requestID: .max, kind: 200, payload: Array(repeating: 3, count: 5_000))),
        .forwardResult(ForwardResult(requestID: 7, status: .ok, payload: [1, 2, 3])),
        .forwardResult(ForwardResult(requestID: 7, status: .overloaded)),
        .ping(Ping(sequence: 0, sentNanoseconds: 0)),
        .pong(Ping(sequence: .max, sentNanoseconds: .max)),
    ]

    func testEveryFrameKindRoundTripsCompressedOrNot() throws {
        XCTAssertEqual(Set(Self.frames.map(\.kind)), Set(FrameKind.allCases))
        for frame in Self.frames {
            for threshold in [0, Int.max] {
                let bytes = frame.encoded(compressionThresholdBytes: threshold).bytes
                let parsed = try XCTUnwrap(try bytes.withUnsafeBytes { try parser.parse($0) })
                XCTAssertEqual(parsed.frame, frame)
                XCTAssertEqual(parsed.consumed, bytes.count)
            }
        }
    }

    func testStreamParsingNeedsTheWholeFrameAndLeavesTheRest() throws {
        let first = WireFrame.ping(Ping(sequence: 1, sentNanoseconds: 2)).encoded(compressionThresholdBytes: .max).bytes
        let second = Self.frames[4].encoded(compressionThresholdBytes: .max).bytes
        let stream = first + second
        for cut in 0..<first.count {
            XCTAssertNil(try Array(stream[..<cut]).withUnsafeBytes { try parser.parse($0) })
        }
        let parsed = try XCTUnwrap(try stream.withUnsafeBytes { try parser.parse($0) })
        XCTAssertEqual(parsed.consumed, first.count)
        let next = try XCTUnwrap(try Array(stream[first.count...]).withUnsafeBytes { try parser.parse($0) })
        XCTAssertEqual(next.frame, Self.frames[4])
    }

    func testCompressionOnlyWhenAboveThresholdAndSmaller() throws {
        let compressible = WireFrame.raftMessages([
            Message(
                from: 1, to: 2, term: 1,
                body: .append(prevIndex: 0, prevTerm: 0, entries: [Entry(term: 1, index: 1, data: Array(repeating: 7, count: 10_000))], commit: 0))
        ])
        XCTAssertTrue(compressible.encoded(compressionThresholdBytes: 4_096).isCompressed)
        XCTAssertFalse(compressible.encoded(compressionThresholdBytes: 20_000).isCompressed, "below threshold")
        var random = SystemRandomNumberGenerator()
        let noise = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let incompressible = WireFrame.raftMessages([
            Message(from: 1, to: 2, term: 1, body: .append(prevIndex: 0, prevTerm: 0, entries: [Entry(term: 1, index: 1, data: noise)], commit: 0))
        ])
        XCTAssertFalse(incompressible.encoded(compressionThresholdBytes: 0).isCompressed, "LZ4 would not shrink it")
        XCTAssertFalse(Self.frames[8].encoded(compressionThresholdBytes: 0).isCompressed, "forward frames are never compressed")
        let encoded = compressible.encoded(compressionThresholdBytes: 0)
        XCTAssertLessThan(encoded.payload.count, 1_000)
        XCTAssertEqual(try encoded.bytes.withUnsafeBytes { try parser.parse($0) }?.frame, compressible)
    }

    func testHeaderRejections() {
        let good = Self.frames[11].encoded(compressionThresholdBytes: .max).bytes
        XCTAssertEqual(code(good, patch: 0, 0), .unknown, "kind 0")
        XCTAssertEqual(code(good, patch: 0, 9), .unknown, "kind 9")
        XCTAssertEqual(code(good, patch: 1, FrameHeader.compressedFlag), .unknown, "compressed flag on a ping")
        XCTAssertEqual(code(good, patch: 1, 0x80), .unknown, "unknown flag bit")
        XCTAssertEqual(code(good, patch: 3, 1), .unknown, "reserved bits")
        XCTAssertEqual(code(good, patch: 20, good[20] ^ 1), .checksumMismatch, "payload bit flip")
        XCTAssertEqual(code(good, patch: 8, good[8] ^ 1), .checksumMismatch, "checksum bit flip")
        // A length over the limit is refused from the header alone, before any payload arrives.
        var oversized = Array(good[..<12])
        oversized[4] = 0xFF
        oversized[5] = 0xFF
        oversized[6] = 0xFF
        XCTAssertEqual(code(oversized), .oversized)
        XCTAssertEqual(code(Array(good[..<11])), nil, "an incomplete header just waits")
    }

    func testCompressedPayloadRejections() throws {
        let raw = Self.frames[4].encodedPayload()
        func frame(_ payload: [UInt8]) -> [UInt8] {
            var header = EncodedFrame(kind: .raftMessages, rawPayload: [], compressionThresholdBytes: .max)
            header.flags = FrameHeader.compressedFlag
            header.payload = payload
            return header.bytes
        }
        let compressed = try XCTUnwrap(LZ4Payload.compress(raw + raw))
        XCTAssertEqual(code(frame(compressed)), .trailingBytes, "two batches back to back")
        var lying = compressed
        lying[0] &+= 1
        XCTAssertEqual(code(frame(lying)), .invalid, "declared raw length does not match")
        var huge = compressed
        huge[3] = 0x7F
        XCTAssertEqual(code(frame(huge)), .oversized, "raw length over the frame limit, refused before allocating")
        XCTAssertEqual(code(frame([0, 0, 0, 0, 1])), .invalid, "raw length 0")
        XCTAssertEqual(code(frame([10, 0, 0, 0])), .truncated, "no block")
        XCTAssertEqual(code(frame([10, 0, 0, 0, 0xFF, 0xFF, 0xFF])), .invalid, "garbage block")
    }

    func testPayloadRejections() {
        XCTAssertEqual(code(raw(.raftMessages, [0, 0, 0, 0])), .invalid, "empty batch")
        XCTAssertEqual(code(raw(.raftMessages, [0xFF, 0xFF, 0xFF, 0xFF])), .truncated, "count beyond bytes")
        let chunk = Self.frames[6].encodedPayload()
        XCTAssertEqual(code(raw(.raftMessages, [1, 0, 0, 0] + chunk)), .invalid, "snapshot chunk inside a batch")
        let notChunk = RaftCodec.encode(Message(from: 1, to: 2, term: 1, body: .timeoutNow))
        XCTAssertEqual(code(raw(.snapshotChunk, notChunk)), .invalid, "other message in a snapshot frame")
        XCTAssertEqual(code(raw(.ping, Array(repeating: 0, count: 17))), .trailingBytes)
        XCTAssertEqual(code(raw(.pong, Array(repeating: 0, count: 15))), .truncated)
        XCTAssertEqual(code(raw(.forward, Array(repeating: 0, count: 9))), .invalid, "request id 0")
        XCTAssertEqual(code(raw(.forwardResult, [1, 0, 0, 0, 0, 0, 0, 0, 9])), .unknown, "unknown status")
        XCTAssertEqual(code(raw(.forwardResult, [1, 0, 0, 0, 0, 0, 0, 0, 2, 5])), .trailingBytes, "payload on a failure")
        var hello = Self.frames[0].encodedPayload()
        hello[0] = UInt8(ascii: "X")
        XCTAssertEqual(code(raw(.handshake, hello)), .invalid, "bad magic")
        var versions = Self.frames[0].encodedPayload()
        versions[4] = 5  // min 5 > max 3
        XCTAssertEqual(code(raw(.handshake, versions)), .invalid, "inverted version range")
        var utf8 = Self.frames[0].encodedPayload()
        utf8[4 + 4 + 16 + 1] = 0xFF
        XCTAssertEqual(code(raw(.handshake, utf8)), .invalid, "cluster id not UTF-8")
        XCTAssertEqual(code(raw(.handshake, Self.frames[0].encodedPayload() + [0])), .trailingBytes)
        var answer = Self.frames[2].encodedPayload()
        answer[5] = 0  // accepted with version 0
        answer[6] = 0
        XCTAssertEqual(code(raw(.handshakeAnswer, answer)), .invalid)
    }

    func testEveryTruncationOfEveryFrameIsHandled() {
        for frame in Self.frames {
            let payload = frame.encodedPayload()
            // Forward payloads run to the end of the frame: only their 9-byte header can be cut.
            let cuttable = [.forward, .forwardResult].contains(frame.kind) ? ForwardRequest.headerBytes : payload.count
            for length in 0..<cuttable {
                XCTAssertNotNil(code(raw(frame.kind, Array(payload[..<length]))), "\(frame.kind) cut at \(length)")
            }
        }
    }

    func testReasonTextIsCutAtACharacterBoundary() throws {
        let long = String(repeating: "é", count: 600)  // 1,200 UTF-8 bytes
        let answer = HelloAnswer(accepted: false, version: 0, nodeID: 1, clusterID: "c", region: "", zone: "", reason: .other, reasonText: long)
        let bytes = WireFrame.handshakeAnswer(answer).encoded(compressionThresholdBytes: .max).bytes
        guard case .handshakeAnswer(let decoded) = try XCTUnwrap(try bytes.withUnsafeBytes { try parser.parse($0) }).frame else {
            return XCTFail("not an answer")
        }
        XCTAssertEqual(decoded.reasonText.utf8.count, 1_024)
        XCTAssertTrue(long.hasPrefix(decoded.reasonText))
    }

    func testVersionNegotiation() {
        XCTAssertEqual(Hello.negotiate(1...3, 2...5), 3)
        XCTAssertEqual(Hello.negotiate(1...1, 1...1), 1)
        XCTAssertNil(Hello.negotiate(1...1, 2...2))
    }

    func testBatcherSplitsAtTheFrameLimitAndSeparatesSnapshotChunks() throws {
        let big = Array(repeating: UInt8(1), count: 3_000)
        let append = Message(from: 1, to: 2, term: 1, body: .append(prevIndex: 0, prevTerm: 0, entries: [Entry(term: 1, index: 1, data: big)], commit: 0))
        let chunk = RaftCodecTests.sampleMessages.first { RaftCodec.tag(of: $0.body) == .snapshotChunk }!
        let tooBig = Message(from: 1, to: 2, term: 1, body: .heartbeat(commit: 0, context: Array(repeating: 0, count: 9_000)))
        let vote = Message(from: 1, to: 2, term: 1, body: .vote(lastIndex: 1, lastTerm: 1, transfer: false))
        let output = RaftBatcher.pack([vote, append, append, append, chunk, tooBig, vote], maxPayloadBytes: 8_192)
        XCTAssertEqual(output.oversized, [tooBig])
        XCTAssertEqual(output.frames.map(\.kind), [.raftMessages, .raftMessages, .snapshotChunk, .raftMessages])
        XCTAssertEqual(output.frames.map(\.messages), [3, 1, 1, 1])
        var decoded: [Message] = []
        for item in output.frames {
            XCTAssertLessThanOrEqual(item.payload.count, 8_192)
            let bytes = EncodedFrame(kind: item.kind, rawPayload: item.payload, compressionThresholdBytes: .max).bytes
            switch try XCTUnwrap(try bytes.withUnsafeBytes { try parser.parse($0) }).frame {
            case .raftMessages(let messages): decoded += messages
            case .snapshotChunk(let message): decoded.append(message)
            default: XCTFail("unexpected frame")
            }
        }
        XCTAssertEqual(decoded, [vote, append, append, append, chunk, vote])
    }

    // MARK: - Helpers

    private func raw(_ kind: FrameKind, _ payload: [UInt8]) -> [UInt8] {
        EncodedFrame(kind: kind, rawPayload: payload, compressionThresholdBytes: .max).bytes
    }

    private func code(_ bytes: [UInt8], patch index: Int, _ value: UInt8) -> WireFormatError.Code? {
        var patched = bytes
        patched[index] = value
        return code(patched)
    }

    /// The error parsing `bytes` throws; nil when it parses or needs more bytes.
    private func code(_ bytes: [UInt8]) -> WireFormatError.Code? {
        do {
            _ = try bytes.withUnsafeBytes { try parser.parse($0) }
            return nil
        } catch {
            return (error as? WireFormatError)?.code
        }
    }
}
