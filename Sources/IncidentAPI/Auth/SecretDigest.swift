import Crypto

/// Hex SHA-256 of API key secrets (swift-crypto), the form IncidentCore stores and looks up.
enum SecretDigest {
    static func hex(_ text: String) -> String {
        hexString(Crypto.SHA256.hash(data: Array(text.utf8)))
    }
}

/// `prefix` and the lower-case hex of `bytes`, built in one buffer.
func hexString<Bytes: Sequence>(_ bytes: Bytes, prefix: StaticString = "") -> String where Bytes.Element == UInt8 {
    var out: [UInt8] = []
    out.reserveCapacity(64 + prefix.utf8CodeUnitCount)
    prefix.withUTF8Buffer { out.append(contentsOf: $0) }
    for byte in bytes {
        out.append(hexDigit(byte >> 4))
        out.append(hexDigit(byte & 0xF))
    }
    return String(decoding: out, as: UTF8.self)
}

/// The lower-case hex digit of `value` (0...15).
@inline(__always)
private func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") - 10 + value }
