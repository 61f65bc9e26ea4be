/// A JSON document as a value: what requests are parsed into and responses are built from.
///
/// Requests are parsed into this tree first and then read field by field (`JSONReader`), so every
/// type error names the exact field (`events[3].resource.id`), unknown fields are ignored the
/// same way everywhere, and opaque producer payloads (PagerDuty `custom_details`, Sentinel
/// `payload`) pass through unchanged. Objects keep their field order, so responses read in the
/// order they are written.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Parses UTF-8 JSON (`JSONParser`: one pass, field order kept, errors name the byte offset).
    static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(bytes)
    }

    /// The compact UTF-8 encoding.
    var bytes: [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.write(self)
        return writer.bytes
    }

    /// The compact encoding as a string (how opaque payloads are stored in events).
    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// A short name of the value's type for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A JSON object with its fields in order. Lookups are linear: objects built by the API are
/// small, and parsed objects are read once per known field.
struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    private(set) var fields: [(key: String, value: JSONValue)] = []

    init() {}

    /// Fields from the parser, which already merged repeated keys.
    init(parsedFields: [(key: String, value: JSONValue)]) { fields = parsedFields }

    /// A literal's keys are distinct (checked in debug builds), so its fields are taken as they are.
    init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(literal: elements) }

    init(literal elements: [(String, JSONValue)]) {
        assert(Set(elements.map(\.0)).count == elements.count, "a JSON object literal repeats a key")
        fields = elements.map { (key: $0.0, value: $0.1) }
    }

    subscript(key: String) -> JSONValue? {
        get { fields.first { $0.key == key }?.value }
        set {
            let index = fields.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let i?, let value?): fields[i].value = value
            case (let i?, nil): fields.remove(at: i)
            case (nil, let value?): fields.append((key, value))
            case (nil, nil): break
            }
        }
    }

    var isEmpty: Bool { fields.isEmpty }
    var keys: [String] { fields.map(\.key) }

    /// Objects are equal when they hold the same fields, in any order (JSON's own meaning).
    static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.fields.count == rhs.fields.count && lhs.fields.allSatisfy { rhs[$0.key] == $0.value }
    }
}

/// The body was not JSON (truncated, wrong syntax, not UTF-8, nested too deeply).
struct JSONParseError: Error, Sendable, Equatable {
    /// What was wrong, ending with "at byte offset N".
    var reason: String
    /// Offset of the first byte that was rejected (the input's length when it ended too early).
    var offset: Int
}

// MARK: - Building responses

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int64) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    init(nilLiteral: ()) { self = .null }
    init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(literal: elements)) }
}

extension JSONValue {
    static func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
    static func int<I: BinaryInteger>(_ value: I) -> JSONValue { .int(Int64(clamping: value)) }
    static func int<I: BinaryInteger>(_ value: I?) -> JSONValue { value.map { .int(Int64(clamping: $0)) } ?? .null }
    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }

    /// A string map with keys sorted (maps in state have no order of their own).
    static func map(_ values: [String: String]) -> JSONValue {
        var object = JSONObject()
        for key in values.keys.sorted() { object[key] = .string(values[key]!) }
        return .object(object)
    }
}

/// Compact JSON encoding into bytes.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let i): append(String(i))
        case .double(let d): append(d.isFinite ? Self.format(d) : "null")
        case .string(let s): writeString(s)
        case .array(let values):
            bytes.append(UInt8(ascii: "["))
            for (i, element) in values.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            for (i, field) in object.fields.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(field.key)
                bytes.append(UInt8(ascii: ":"))
                write(field.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static func format(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    private mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// JSON text written as it is, for answers streamed without a tree (`EventJSON.write`).
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Text inside a string value that needs no escaping (an incident id), copied as it is.
    mutating func unescaped(_ text: String) {
        assert(!text.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }, "needs escaping: \(text)")
        bytes.append(contentsOf: text.utf8)
    }

    /// A string value, quoted and escaped; nil writes `null`.
    mutating func string(_ s: String?) {
        guard let s else { return raw("null") }
        writeString(s)
    }

    /// Copies runs of bytes that need no escape whole; most strings are one such run.
    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                if start < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i])) }
                writeEscaped(byte)
                start = i + 1
            }
            if start < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): append("\\\"")
        case UInt8(ascii: "\\"): append("\\\\")
        case 0x0A: append("\\n")
        case 0x0D: append("\\r")
        case 0x09: append("\\t")
        default:
            let hex: StaticString = "0123456789abcdef"
            hex.withUTF8Buffer { digits in
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
            }
        }
    }
}
