import RaftCore
import WireFormat

#if canImport(Glibc)
import Glibc
#endif

/// Writes valid examples of every structure into the seed corpora, so the fuzzers start from
/// real frames instead of discovering the magic bytes by chance.
/// Usage: seed-generator <corpus root>; writes <root>/{frame-stream,handshake,raft-codec,forward}/.
let root = CommandLine.arguments.dropFirst().first ?? "corpus"

func write(_ bytes: [UInt8], _ target: String, _ name: String) {
    let directory = "\(root)/\(target)"
    mkdir(root, 0o755)
    mkdir(directory, 0o755)
    guard let file = fopen("\(directory)/seed-\(name)", "wb") else { fatalError("cannot write \(directory)") }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
}

let confState = ConfState(voters: [1, 2, 3], learners: [4], outgoingVoters: [1, 2], learnersNext: [3], autoLeave: true)
let bodies: [Message.Body] = [
    .vote(lastIndex: 5, lastTerm: 2, transfer: true), .voteResponse(reject: false), .preVote(lastIndex: 1, lastTerm: 1),
    .preVoteResponse(reject: true),
    .append(prevIndex: 3, prevTerm: 1, entries: [Entry(term: 1, index: 4, data: Array("hello".utf8)), Entry(term: 2, index: 5, kind: .confChange, data: [1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])], commit: 4),
    .appendResponse(index: 4, reject: true, hintIndex: 3, hintTerm: 1), .heartbeat(commit: 4, context: [1, 2]),
    .heartbeatResponse(context: [1, 2]),
    .snapshotChunk(metadata: SnapshotMetadata(index: 9, term: 2, confState: confState), totalBytes: 100, offset: 50, data: Array(repeating: 7, count: 50), done: true),
    .snapshotChunkResponse(index: 9, received: 100, reject: false), .timeoutNow, .readIndex(context: [9]),
    .readIndexResponse(context: [9], index: 12), .readIndexResponse(context: [], index: nil), .transferLeader(target: 2),
]
let messages = bodies.enumerated().map { Message(from: 1, to: 2, term: UInt64($0.offset + 1), body: $0.element) }
let hello = Hello(versions: 1...2, nodeID: 1, expectedPeer: 2, clusterID: "cluster", region: "eu", zone: "eu-1")
let refusal = HelloAnswer(accepted: false, version: 0, nodeID: 2, clusterID: "cluster", region: "eu", zone: "eu-2", reason: .clusterMismatch, reasonText: "cluster id 'x' is not 'cluster'")
let accept = HelloAnswer(accepted: true, version: 1, nodeID: 2, clusterID: "cluster", region: "eu", zone: "eu-2")
let batch = messages.filter { RaftCodec.tag(of: $0.body) != .snapshotChunk }
let chunk = messages.first { RaftCodec.tag(of: $0.body) == .snapshotChunk }!
let bigBatch = [Message(from: 1, to: 2, term: 1, body: .append(prevIndex: 0, prevTerm: 0, entries: [Entry(term: 1, index: 1, data: Array(repeating: 65, count: 600))], commit: 0))]
let frames: [WireFrame] = [
    .handshake(hello), .handshakeAnswer(accept), .handshakeAnswer(refusal), .raftMessages(batch), .raftMessages(bigBatch),
    .snapshotChunk(chunk), .forward(ForwardRequest(requestID: 1, kind: 1, payload: [1, 2, 3])),
    .forwardResult(ForwardResult(requestID: 1, status: .ok, payload: [4])), .ping(Ping(sequence: 1, sentNanoseconds: 2)),
    .pong(Ping(sequence: 1, sentNanoseconds: 2)),
]
var stream: [UInt8] = []
for (i, frame) in frames.enumerated() {
    let encoded = frame.encoded(compressionThresholdBytes: 256).bytes
    write(encoded, "frame-stream", "frame-\(i)")
    stream += encoded
}
write(stream, "frame-stream", "all-frames")
for (i, frame) in [WireFrame.handshake(hello), .handshakeAnswer(accept), .handshakeAnswer(refusal)].enumerated() {
    write(frame.encodedPayload(), "handshake", "payload-\(i)")
}
for (i, message) in messages.enumerated() { write(RaftCodec.encode(message), "raft-codec", "message-\(i)") }
write(WireFrame.raftMessages(batch).encodedPayload(), "raft-codec", "batch")
for (i, frame) in frames[6...].enumerated() { write(frame.encodedPayload(), "forward", "payload-\(i)") }
write(LZ4Payload.compress(WireFrame.raftMessages(bigBatch).encodedPayload())!, "forward", "lz4")
print("seeds written to \(root)")
