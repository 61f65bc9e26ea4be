import Foundation
import NIOCore

/// The request bodies of `--target etcd`: etcd's `PutRequest` as its JSON gateway reads it,
/// `{"key":"<base64>","value":"<base64>"}` (protobuf `bytes` fields are base64 in JSON).
///
/// Request `i` of a run puts key `bench/<run tag>/<i>`, so every put writes a new key; the value
/// is `valueBytes` bytes, the same in every request, encoded once.
struct EtcdPutBodies: Sendable {
    /// Marks this run's keys; only `[a-z0-9-]` (checked with `--run-tag`).
    let runTag: String
    /// Bytes of every value before base64.
    let valueBytes: Int
    private let valueBase64: String

    /// Below etcd's default `--max-request-bytes` (1.5 MiB) with the key and framing added.
    static let maxValueBytes = 1_048_576

    init(runTag: String, valueBytes: Int) throws(BenchError) {
        guard (0...Self.maxValueBytes).contains(valueBytes) else {
            throw BenchError(.badArgument, "--value-bytes must be 0–\(Self.maxValueBytes)")
        }
        self.runTag = runTag
        self.valueBytes = valueBytes
        // Any bytes do; these vary so that nothing between the generator and the disk can
        // shrink them to a run of one byte.
        valueBase64 = Data((0..<valueBytes).map { UInt8(truncatingIfNeeded: $0 &* 7) }).base64EncodedString()
    }

    /// The key request `requestIndex` (global) puts.
    func key(_ requestIndex: Int) -> String { "bench/\(runTag)/\(requestIndex)" }

    /// The body of request `requestIndex` (global), appended to `buffer`.
    func write(request requestIndex: Int, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"key":""#)
        buffer.writeString(Data(key(requestIndex).utf8).base64EncodedString())
        buffer.writeStaticString(#"","value":""#)
        buffer.writeString(valueBase64)
        buffer.writeStaticString(#""}"#)
    }

    /// Upper bound of one body in bytes: the framing, a key of at most 6 + 32 + 1 + 20 bytes
    /// (80 in base64) and the value.
    var maxRequestBytes: Int { 32 + 80 + valueBase64.utf8.count }
}
