import Crypto

/// Hex SHA-256 of API key secrets (swift-crypto), the form IncidentCore stores and looks up.
enum SecretDigest {
    static func hex(_ text: String) -> String {
        hexString(Crypto.SHA256.hash(data: Array(text.utf8)))
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

/// Lower-case hex of `bytes`, built in one buffer.
func hexString<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for byte in bytes {
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}
