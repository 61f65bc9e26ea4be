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
public enum Fingerprint: Hashable, Comparable, Sendable, BinaryCodable, CustomStringConvertible {
    /// `k:` + the event's dedup key.
    case key(String)
    /// `h:` + 32 hex digits of the FNV-1a 128 hash defined above. Held as a number: no string is
    /// built on the ingest path, and the open-incident index hashes 16 bytes instead of 34.
    case hash(UInt128)
    /// `m:` + the incident number: a manual incident opened without a dedup key never dedups.
    case manual(UInt64)

    public init(of event: Event) {
        if !event.dedupKey.isEmpty {
            self = .key(event.dedupKey)
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
        self = .hash(hash.state)
    }

    /// Parses the string form (`k:…`, `h:<32 hex>`, `m:<number>`); nil if it is none of them.
    public init?(parsing text: String) {
        if text.hasPrefix("k:") && text.utf8.count > 2 {
            self = .key(String(text.dropFirst(2)))
        } else if text.hasPrefix("h:"), text.utf8.count == 34, let value = UInt128(text.dropFirst(2), radix: 16),
            !text.dropFirst(2).contains(where: { $0.isUppercase })
        {
            self = .hash(value)
        } else if text.hasPrefix("m:"), let number = UInt64(text.dropFirst(2)), "m:\(number)" == text {
            self = .manual(number)
        } else {
            return nil
        }
    }

    /// The string form, as shown by the API and stored by the archive.
    public var value: String {
        switch self {
        case .key(let key): return "k:" + key
        case .hash(let hash): return "h:" + FNV1a128.hex(hash)
        case .manual(let number): return "m:\(number)"
        }
    }

    public var description: String { value }

    /// Keys first, then hashes, then manual numbers; within a kind, by value. (Compared case by
    /// case: a tuple of the three built per comparison retained and released the key's string
    /// twice, and sorting the open-incident index was a fifth of a snapshot's encoding.)
    private var rank: UInt8 {
        switch self {
        case .key: 0
        case .hash: 1
        case .manual: 2
        }
    }

    public static func < (lhs: Fingerprint, rhs: Fingerprint) -> Bool {
        switch (lhs, rhs) {
        case (.key(let a), .key(let b)): a < b
        case (.hash(let a), .hash(let b)): a < b
        case (.manual(let a), .manual(let b)): a < b
        default: lhs.rank < rhs.rank
        }
    }

    public func encode(to writer: inout BinaryWriter) {
        switch self {
        case .key(let key):
            writer.write(UInt8(0))
            writer.write(string: key)
        case .hash(let hash):
            writer.write(UInt8(1))
            writer.write(varint: UInt64(truncatingIfNeeded: hash >> 64))
            writer.write(varint: UInt64(truncatingIfNeeded: hash))
        case .manual(let number):
            writer.write(UInt8(2))
            writer.write(varint: number)
        }
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .key(try reader.readString())
        case 1:
            let high = UInt128(try reader.readVarint())
            self = .hash(high << 64 | UInt128(try reader.readVarint()))
        case 2: self = .manual(try reader.readVarint())
        default: throw DecodingError(.invalidTag, at: start, "fingerprint")
        }
    }
}

/// FNV-1a with a 128-bit state (http://www.isthe.com/chongo/tech/comp/fnv/).
struct FNV1a128 {
    private(set) var state: UInt128 = 0x6c62272e_07bb0142_62b82175_6295c58d

    /// Multiplies by the FNV-128 prime 2^88 + 2^8 + 0x3b as shifts and adds (mod 2^128), which
    /// is what makes the 128-bit variant cheap.
    @inline(__always)
    private static func timesPrime(_ x: UInt128) -> UInt128 {
        (x &<< 88) &+ (x &<< 8) &+ (x &* 0x3b)
    }

    mutating func combine(separator byte: UInt8) {
        state = Self.timesPrime(state ^ UInt128(byte))
    }

    mutating func combine(bytes text: String) {
        var text = text
        text.withUTF8 { buffer in
            var s = state
            for byte in buffer { s = Self.timesPrime(s ^ UInt128(byte)) }
            state = s
        }
    }

    /// 32 lower-case hex digits.
    static func hex(_ value: UInt128) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 32) { buffer in
            var v = value
            for i in stride(from: 31, through: 0, by: -1) {
                buffer[i] = digits[Int(v & 0xF)]
                v >>= 4
            }
            return 32
        }
    }
}
