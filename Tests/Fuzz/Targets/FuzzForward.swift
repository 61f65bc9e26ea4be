import WireFormat

/// libFuzzer target: Forward / ForwardResult / ping payloads and compressed payloads (the LZ4
/// `[rawLength u32][block]` framing), each decoded from the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzForward(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    if let request = try? ForwardRequest.decode(input) {
        var writer = WireWriter()
        request.encode(into: &writer)
        precondition(writer.bytes == Array(input), "ForwardRequest is not canonical")
    }
    if let result = try? ForwardResult.decode(input) {
        var writer = WireWriter()
        result.encode(into: &writer)
        precondition(writer.bytes == Array(input), "ForwardResult is not canonical")
    }
    if let ping = try? Ping.decode(input) {
        var writer = WireWriter()
        ping.encode(into: &writer)
        precondition(writer.bytes == Array(input), "Ping is not canonical")
    }
    if let raw = try? LZ4Payload.decompress(input, maxRawBytes: 1 << 20) {
        precondition(raw.count <= 1 << 20 && !raw.isEmpty, "decompressed size outside the limit")
        if let again = LZ4Payload.compress(raw) {
            let back = again.withUnsafeBytes { try? LZ4Payload.decompress($0, maxRawBytes: 1 << 20) }
            precondition(back == raw, "LZ4 does not round-trip")
        }
    }
    return 0
}
