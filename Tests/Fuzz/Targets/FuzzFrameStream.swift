import WireFormat

/// libFuzzer target: the input is a byte stream from a peer. Frames are cut from it the way the
/// NIO decoder does (also from a prefix, as if the bytes arrived in two reads) until the parser
/// needs more bytes or throws. Every frame it accepts must survive encode → parse unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameStream(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let parser = FrameParser(maxFrameBytes: 1 << 20)
    // A partial delivery: whatever the prefix yields must be consistent with the whole.
    let cut = size == 0 ? 0 : Int(input[0]) % (size + 1)
    let early = try? parser.parse(UnsafeRawBufferPointer(rebasing: input[..<cut]))
    var offset = 0
    var frames = 0
    while offset < size, frames < 64 {
        let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
        guard let parsed = try? parser.parse(rest) else { break }
        if frames == 0, let early {
            precondition(early.frame == parsed.frame, "a prefix parsed to a different frame")
        }
        for threshold in [0, Int.max] {
            let again = parsed.frame.encoded(compressionThresholdBytes: threshold).bytes
            let reparsed = again.withUnsafeBytes { try? parser.parse($0) }
            precondition(reparsed?.frame == parsed.frame, "frame does not round-trip")
        }
        offset += parsed.consumed
        frames += 1
    }
    return 0
}
