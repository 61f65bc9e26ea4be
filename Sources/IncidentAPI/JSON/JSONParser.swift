/// RFC 8259 JSON parsed straight from request bytes into `JSONValue`.
///
/// Why not Foundation's `JSONDecoder`: decoding into an enum means trying every case in turn
/// (each failed try builds a `DecodingError`), objects lose their field order, and errors carry no
/// byte offset. Profiling the ingest path put that decode at about a quarter of the node's CPU
/// (docs/BENCHMARKS.md). This parser makes one pass over the bytes, keeps field order, and
/// names the offset of the first byte it rejects.
///
/// Rules: whitespace is space, tab, LF, CR; strings must be valid UTF-8 without raw control
/// characters, escapes are the RFC's nine plus `\uXXXX` with surrogate pairs (a lone surrogate is
/// an error); a number without fraction or exponent that fits `Int64` is `.int`, any other number
/// `.double` (finite only); a repeated object key keeps its first position and its last value
/// (what `JSON.parse` does); nesting deeper than `maxDepth` is an error, so hostile input cannot
/// exhaust the stack; anything but whitespace after the value is an error.
struct JSONParser {
    static let maxDepth = 512
    /// Objects with at most this many fields look up repeated keys by scanning; larger ones keep an index.
    private static let linearKeyLimit = 16

    private let input: UnsafeBufferPointer<UInt8>
    private var offset = 0
    private var depth = 0

    private init(_ input: UnsafeBufferPointer<UInt8>) { self.input = input }

    static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer)
            do throws(JSONParseError) {
                parser.skipWhitespace()
                let value = try parser.parseValue()
                parser.skipWhitespace()
                guard parser.offset == buffer.count else { throw parser.failure("unexpected data after the JSON value") }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    // MARK: - Values

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard offset < input.count else { throw failure("unexpected end of input") }
        switch input[offset] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected \(describe(input[offset]))")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        offset += 1  // {
        var fields: [(key: String, value: JSONValue)] = []
        var index: [String: Int] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            offset += 1
            depth -= 1
            return .object(JSONObject(parsedFields: fields))
        }
        fields.reserveCapacity(8)  // one allocation for most objects, not four
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw failure(offset < input.count ? "expected a string key, found \(describe(input[offset]))" : "unexpected end of input") }
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after an object key")
            skipWhitespace()
            let value = try parseValue()
            if let existing = existingField(key, in: fields, index: index) {
                fields[existing].value = value
            } else {
                fields.append((key, value))
                if fields.count > Self.linearKeyLimit {
                    if index.isEmpty { for (i, field) in fields.enumerated() { index[field.key] = i } }
                    index[key] = fields.count - 1
                }
            }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                depth -= 1
                return .object(JSONObject(parsedFields: fields))
            default: throw failure(offset < input.count ? "expected ',' or '}' in an object, found \(describe(input[offset]))" : "unexpected end of input")
            }
        }
    }

    private func existingField(_ key: String, in fields: [(key: String, value: JSONValue)], index: [String: Int]) -> Int? {
        if fields.count > Self.linearKeyLimit { return index[key] }
        return fields.firstIndex { $0.key == key }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        offset += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            offset += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                depth -= 1
                return .array(elements)
            default: throw failure(offset < input.count ? "expected ',' or ']' in an array, found \(describe(input[offset]))" : "unexpected end of input")
            }
        }
    }

    private mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth) levels") }
    }

    // MARK: - Strings

    /// A string starting at the opening quote; leaves `offset` after the closing quote.
    private mutating func parseString() throws(JSONParseError) -> String {
        let start = offset + 1
        var cursor = start
        // Fast path: no escapes. Stops at the closing quote, a backslash or a control character.
        while cursor < input.count {
            let byte = input[cursor]
            if byte == UInt8(ascii: "\"") {
                let text = try utf8String(start..<cursor)
                offset = cursor + 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            cursor += 1
        }
        offset = cursor
        var bytes = Array(input[start..<cursor])
        while offset < input.count {
            let byte = input[offset]
            switch byte {
            case UInt8(ascii: "\""):
                let text = String(validating: bytes, as: UTF8.self)
                guard let text else { throw failure("a string is not valid UTF-8", at: start) }
                offset += 1
                return text
            case UInt8(ascii: "\\"):
                try parseEscape(into: &bytes)
            case 0..<0x20:
                throw failure("control character \(describe(byte)) inside a string (escape it)")
            default:
                bytes.append(byte)
                offset += 1
            }
        }
        throw failure("unexpected end of input inside a string")
    }

    private func utf8String(_ range: Range<Int>) throws(JSONParseError) -> String {
        let slice = UnsafeBufferPointer(rebasing: input[range])
        // ASCII is the common case and needs no validation beyond the scan already done.
        if slice.allSatisfy({ $0 < 0x80 }) { return String(decoding: slice, as: UTF8.self) }
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw failure("a string is not valid UTF-8", at: range.lowerBound)
        }
        return text
    }

    private mutating func parseEscape(into bytes: inout [UInt8]) throws(JSONParseError) {
        offset += 1  // backslash
        guard offset < input.count else { throw failure("unexpected end of input inside a string") }
        let code = input[offset]
        offset += 1
        switch code {
        case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): bytes.append(0x08)
        case UInt8(ascii: "f"): bytes.append(0x0C)
        case UInt8(ascii: "n"): bytes.append(0x0A)
        case UInt8(ascii: "r"): bytes.append(0x0D)
        case UInt8(ascii: "t"): bytes.append(0x09)
        case UInt8(ascii: "u"):
            let escapeStart = offset - 2
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard offset + 1 < input.count, input[offset] == UInt8(ascii: "\\"), input[offset + 1] == UInt8(ascii: "u") else {
                    throw failure("unpaired UTF-16 surrogate in a \\u escape", at: escapeStart)
                }
                offset += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired UTF-16 surrogate in a \\u escape", at: escapeStart) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw failure("unpaired UTF-16 surrogate in a \\u escape", at: escapeStart)
            }
            // Valid by construction: surrogates were excluded above.
            bytes.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            throw failure("invalid escape \\\(describe(code, quoted: false)) in a string", at: offset - 2)
        }
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard offset + 4 <= input.count else { throw failure("unexpected end of input inside a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = input[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("expected a hex digit in a \\u escape, found \(describe(byte))")
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = offset
        var integral = true
        if peek() == UInt8(ascii: "-") { offset += 1 }
        switch peek() ?? 0 {
        case UInt8(ascii: "0"): offset += 1
        case UInt8(ascii: "1")...UInt8(ascii: "9"): skipDigits()
        default: throw failure(offset < input.count ? "expected a digit, found \(describe(input[offset]))" : "unexpected end of input in a number")
        }
        if peek() == UInt8(ascii: ".") {
            integral = false
            offset += 1
            guard isDigit(peek()) else { throw failure("expected a digit after '.' in a number") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            integral = false
            offset += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { offset += 1 }
            guard isDigit(peek()) else { throw failure("expected a digit in a number's exponent") }
            skipDigits()
        }
        let lexeme = UnsafeBufferPointer(rebasing: input[start..<offset])
        if integral, let value = Self.int64(lexeme) { return .int(value) }
        guard let value = Double(String(decoding: lexeme, as: UTF8.self)), value.isFinite else {
            throw failure("number out of range", at: start)
        }
        return .double(value)
    }

    /// The value of an optionally negative run of digits, nil when it does not fit `Int64`.
    private static func int64(_ lexeme: UnsafeBufferPointer<UInt8>) -> Int64? {
        let negative = lexeme.first == UInt8(ascii: "-")
        var value: Int64 = 0
        for byte in lexeme.dropFirst(negative ? 1 : 0) {
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = next
        }
        return value
    }

    private mutating func skipDigits() { while isDigit(peek()) { offset += 1 } }
    private func isDigit(_ byte: UInt8?) -> Bool { byte.map { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } ?? false }

    // MARK: - Bytes

    private func peek() -> UInt8? { offset < input.count ? input[offset] : nil }

    private mutating func skipWhitespace() {
        while offset < input.count {
            switch input[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONParseError) {
        guard offset < input.count else { throw failure("unexpected end of input, expected \(what)") }
        guard input[offset] == byte else { throw failure("expected \(what), found \(describe(input[offset]))") }
        offset += 1
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let matches = offset + count <= input.count
            && (0..<count).allSatisfy { input[offset + $0] == literal.utf8Start[$0] }
        guard matches else { throw failure("invalid literal (expected \(literal))") }
        offset += count
    }

    private func describe(_ byte: UInt8, quoted: Bool = true) -> String {
        if (0x21...0x7E).contains(byte) {
            let text = String(UnicodeScalar(byte))
            return quoted ? "'\(text)'" : text
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }

    private func failure(_ reason: String, at position: Int? = nil) -> JSONParseError {
        JSONParseError(reason: "\(reason) at byte offset \(position ?? offset)", offset: position ?? offset)
    }
}
