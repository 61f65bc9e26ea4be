import WireFormat

/// libFuzzer target: handshake and handshake-answer payloads. Whatever decodes must encode to
/// a payload that decodes to the same value (and, for `Hello`, to the same bytes: canonical).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHandshake(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    if let hello = try? Hello.decode(input) {
        var writer = WireWriter()
        hello.encode(into: &writer)
        precondition(writer.bytes == Array(input), "Hello is not canonical")
        _ = Hello.negotiate(Hello.supportedVersions, hello.versions)
    }
    if let answer = try? HelloAnswer.decode(input) {
        var writer = WireWriter()
        answer.encode(into: &writer)
        let again = writer.bytes.withUnsafeBytes { try? HelloAnswer.decode($0) }
        precondition(again == answer, "HelloAnswer does not round-trip")
    }
    return 0
}
