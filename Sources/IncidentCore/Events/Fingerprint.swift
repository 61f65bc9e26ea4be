/// The deduplication identity of an event.
///
/// Definition (stable across versions; changing it would split open incidents in two):
/// - an event with a non-empty `dedup_key` has fingerprint `"k:" + dedup_key`;
/// - otherwise the fingerprint is `"h:"` followed by the 32 lower-case hex digits of the
///   FNV-1a 128-bit hash of the UTF-8 bytes
///   `"v1" US source US event_type US resource.id US title`
///   where US is the unit separator byte 0x1F; when `resource.id` is empty (a label-only event,
///   as Alertmanager sends) the sorted label set follows as
///   `US key1 "=" value1 RS key2 "=" value2 …` with RS = 0x1E, keys sorted by their UTF-8 bytes.
///
/// FNV-1a 128 (offset basis 0x6c62272e07bb014262b821756295c58d, prime 2^88 + 2^8 + 0x3b) is not
/// cryptographic: fingerprints only need to be stable and spread, and anyone able to post events
/// can already choose a dedup_key.
public struct Fingerprint: Hashable, Comparable, Sendable, BinaryCodable, CustomStringConvertible {
    public let value: String

    public init(value: String) { self.value = value }

    public init(of event: Event) {
        if !event.dedupKey.isEmpty {
            value = "k:" + event.dedupKey
            return
        }
        var hash = FNV1a128()
        hash.combine(bytes: "v1")
        hash.combine(separator: 0x1F)
        hash.combine(bytes: event.source)
        hash.combine(separator: 0x1F)
        hash.combine(bytes: event.eventType)
        hash.combine(separator: 0x1F)
        hash.combine(bytes: event.resource.id)
        hash.combine(separator: 0x1F)
        hash.combine(bytes: event.title)
        if event.resource.id.isEmpty && !event.labels.isEmpty {
            hash.combine(separator: 0x1F)
            let keys = event.labels.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, key) in keys.enumerated() {
                if i > 0 { hash.combine(separator: 0x1E) }
                hash.combine(bytes: key)
                hash.combine(separator: 0x3D)  // "="
                hash.combine(bytes: event.labels[key]!)
            }
        }
        value = "h:" + hash.hexDigest
    }

    public var description: String { value }
    public static func < (lhs: Fingerprint, rhs: Fingerprint) -> Bool { lhs.value < rhs.value }

    public func encode(to writer: inout BinaryWriter) { writer.write(string: value) }
    public init(from reader: inout BinaryReader) throws(DecodingError) { value = try reader.readString() }
}

/// FNV-1a with a 128-bit state (http://www.isthe.com/chongo/tech/comp/fnv/).
struct FNV1a128 {
    private(set) var state: UInt128 = 0x6c62272e_07bb0142_62b82175_6295c58d
    private static let prime: UInt128 = (1 << 88) + (1 << 8) + 0x3b

    mutating func combine(separator byte: UInt8) {
        state = (state ^ UInt128(byte)) &* FNV1a128.prime
    }

    mutating func combine(bytes text: String) {
        var text = text
        text.withUTF8 { buffer in
            var s = state
            for byte in buffer { s = (s ^ UInt128(byte)) &* FNV1a128.prime }
            state = s
        }
    }

    var hexDigest: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 32) { buffer in
            var v = state
            for i in stride(from: 31, through: 0, by: -1) {
                buffer[i] = digits[Int(v & 0xF)]
                v >>= 4
            }
            return 32
        }
    }
}
