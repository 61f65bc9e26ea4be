import Foundation

/// A JSON document read leniently: every accessor returns nil for a missing field or a value of
/// another type, so a table shows `-` where an older or newer server answers differently.
///
/// Integers are kept as `Int64` (Raft indexes and terms), other numbers as `Double`.
public enum JSONValue: Sendable, Equatable, Codable, ExpressibleByDictionaryLiteral, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, ExpressibleByBooleanLiteral
{
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses `bytes`; nil when they are not JSON.
    public init?(parsing bytes: some Collection<UInt8>) {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else { return nil }
        self = value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Bool before numbers, Int64 before Double: JSONDecoder reads neither `1` as a Bool nor
        // `1.5` as an Int64, so the first match is the JSON type.
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .int(number)
        } else if let number = try? container.decode(Double.self) {
            self = .double(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let elements = try? container.decode([JSONValue].self) {
            self = .array(elements)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .int(let number): try container.encode(number)
        case .double(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .array(let elements): try container.encode(elements)
        case .object(let fields): try container.encode(fields)
        }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    // MARK: - Lenient access

    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var string: String? { if case .string(let text) = self { return text } else { return nil } }
    public var bool: Bool? { if case .bool(let flag) = self { return flag } else { return nil } }
    public var array: [JSONValue]? { if case .array(let elements) = self { return elements } else { return nil } }
    public var object: [String: JSONValue]? { if case .object(let fields) = self { return fields } else { return nil } }

    /// An integer, also from a whole `Double` or a decimal string (`"42"`).
    public var int: Int64? {
        switch self {
        case .int(let number): return number
        case .double(let number) where number.rounded() == number && abs(number) < 9e15: return Int64(number)
        case .string(let text): return Int64(text)
        default: return nil
        }
    }

    /// The value as a table cell: strings as they are, numbers and booleans as written, `-`
    /// for null, an empty string, or a missing value; arrays and objects as compact JSON.
    public var cell: String {
        switch self {
        case .null: return "-"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .string(let text): return text.isEmpty ? "-" : text
        case .array, .object: return compactText
        }
    }

    /// Compact JSON with sorted keys.
    public var compactText: String { text(pretty: false) }

    /// Indented JSON with sorted keys, as `--output json` prints it.
    public var prettyText: String { text(pretty: true) }

    private func text(pretty: Bool) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail (no non-finite numbers come out of a parse).
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The value as request body bytes.
    var bytes: [UInt8] { Array(compactText.utf8) }
}

extension Optional where Wrapped == JSONValue {
    /// `-` for a missing value, else the value's cell.
    public var cell: String { self?.cell ?? "-" }
}
