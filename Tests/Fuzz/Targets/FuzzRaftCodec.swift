import WireFormat

/// libFuzzer target: one Raft message, and the same bytes as a `raftMessages` batch payload.
/// The message encoding is canonical: decode → encode must give back the input bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRaftCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    if let message = try? RaftCodec.decodeMessage(input) {
        precondition(RaftCodec.encode(message) == Array(input), "message encoding is not canonical")
    }
    let header = FrameHeader(kind: .raftMessages, flags: 0, payloadLength: size, checksum: 0)
    if let frame = try? WireFrame.decode(header: header, payload: input, maxFrameBytes: 1 << 20) {
        precondition(frame.encodedPayload() == Array(input), "batch encoding is not canonical")
    }
    let chunk = FrameHeader(kind: .snapshotChunk, flags: 0, payloadLength: size, checksum: 0)
    if let frame = try? WireFrame.decode(header: chunk, payload: input, maxFrameBytes: 1 << 20) {
        precondition(frame.encodedPayload() == Array(input), "snapshot chunk encoding is not canonical")
    }
    return 0
}
