import Crypto

/// Hex SHA-256 of API key secrets (swift-crypto), the form IncidentCore stores and looks up.
enum SecretDigest {
    static func hex(_ text: String) -> String {
        Crypto.SHA256.hash(data: Array(text.utf8)).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
    }
}
