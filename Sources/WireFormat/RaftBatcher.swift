import RaftCore

/// Packs outgoing Raft messages for one peer into frame payloads of at most `maxPayloadBytes`
/// (docs/PROTOCOL.md §2.5): ordinary messages share `raftMessages` batches in their original
/// order, each `snapshotChunk` gets a frame of its own. A single message that cannot fit a frame
/// is returned in `oversized` (the caller drops and counts it; Raft's `maxSizePerMessageBytes`
/// and `snapshotChunkBytes` should stay well below the frame limit).
public enum RaftBatcher {
    /// Frame payloads in send order with the number of messages in each, and what did not fit.
    public struct Output: Sendable {
        public var frames: [(kind: FrameKind, payload: [UInt8], messages: Int)] = []
        public var oversized: [Message] = []
    }

    public static func pack(_ messages: [Message], maxPayloadBytes: Int) -> Output {
        var output = Output()
        var batch = WireWriter(capacity: 256)
        var inBatch = 0
        func flush() {
            guard inBatch > 0 else { return }
            batch.patch(UInt32(inBatch), at: 0)
            output.frames.append((.raftMessages, batch.bytes, inBatch))
            batch = WireWriter(capacity: 256)
            inBatch = 0
        }
        for message in messages {
            if RaftCodec.tag(of: message.body) == .snapshotChunk {
                flush()
                let payload = RaftCodec.encode(message)
                if payload.count <= maxPayloadBytes {
                    output.frames.append((.snapshotChunk, payload, 1))
                } else {
                    output.oversized.append(message)
                }
                continue
            }
            if inBatch == 0 { batch.write(UInt32(0)) }
            let mark = batch.count
            RaftCodec.encode(message, into: &batch)
            guard batch.count > maxPayloadBytes else {
                inBatch += 1
                continue
            }
            if inBatch == 0 {
                // Alone and still too large.
                output.oversized.append(message)
                batch = WireWriter(capacity: 256)
                continue
            }
            // Over the limit: take the message out again, close the batch, retry it alone.
            batch.truncate(to: mark)
            flush()
            batch.write(UInt32(0))
            RaftCodec.encode(message, into: &batch)
            if batch.count <= maxPayloadBytes {
                inBatch = 1
            } else {
                output.oversized.append(message)
                batch = WireWriter(capacity: 256)
            }
        }
        flush()
        return output
    }
}
