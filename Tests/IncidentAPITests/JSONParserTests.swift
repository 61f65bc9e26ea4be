import Foundation
import XCTest

@testable import IncidentAPI

/// The request-body parser: RFC 8259 values, field order, errors with offsets, hostile input.
final class JSONParserTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    private func rejection(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        rejection(Array(text.utf8), file: file, line: line)
    }

    private func rejection(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        do {
            let value = try JSONValue.parse(bytes)
            XCTFail("accepted \(value)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testScalars() throws {
        XCTAssertEqual(try parse("null"), .null)
        XCTAssertEqual(try parse(" true "), .bool(true))
        XCTAssertEqual(try parse("\tfalse\r\n"), .bool(false))
        XCTAssertEqual(try parse("0"), .int(0))
        XCTAssertEqual(try parse("-0"), .int(0))
        XCTAssertEqual(try parse("42"), .int(42))
        XCTAssertEqual(try parse("9223372036854775807"), .int(.max))
        XCTAssertEqual(try parse("-9223372036854775808"), .int(.min))
        XCTAssertEqual(try parse("9223372036854775808"), .double(9223372036854775808))
        XCTAssertEqual(try parse("2.5"), .double(2.5))
        XCTAssertEqual(try parse("1.0"), .double(1))
        XCTAssertEqual(try parse("-1e3"), .double(-1000))
        XCTAssertEqual(try parse("1E+2"), .double(100))
        XCTAssertEqual(try parse("25e-1"), .double(2.5))
        XCTAssertEqual(try parse(#""""#), .string(""))
    }

    func testStringsAndEscapes() throws {
        XCTAssertEqual(try parse(#""a\"b\\c\/d\b\f\n\r\t""#), .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        XCTAssertEqual(try parse(#""\u00e9\u4E2D""#), .string("é中"))
        XCTAssertEqual(try parse(#""\ud83d\ude00 ok""#), .string("😀 ok"))
        XCTAssertEqual(try parse("\"é中😀\""), .string("é中😀"))
        XCTAssertEqual(try parse(#""\u0000""#), .string("\u{0}"))
    }

    func testObjectsKeepFieldOrderAndMergeRepeatedKeys() throws {
        guard case .object(let object) = try parse(#"{"z":1,"a":{"y":[],"b":{}},"m":null}"#) else { return XCTFail() }
        XCTAssertEqual(object.keys, ["z", "a", "m"])
        guard case .object(let repeated) = try parse(#"{"a":1,"b":2,"a":3}"#) else { return XCTFail() }
        XCTAssertEqual(repeated.keys, ["a", "b"])
        XCTAssertEqual(repeated["a"], .int(3))

        // Past the linear-scan limit a key index takes over; repeats still merge.
        let many = (0..<40).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        guard case .object(let large) = try parse("{\(many),\"k3\":\"again\",\"k39\":true}") else { return XCTFail() }
        XCTAssertEqual(large.keys, (0..<40).map { "k\($0)" })
        XCTAssertEqual(large["k3"], .string("again"))
        XCTAssertEqual(large["k39"], .bool(true))
        XCTAssertEqual(large["k20"], .int(20))
    }

    func testErrorsNameTheOffset() {
        let cases: [(String, Int, String)] = [
            ("", 0, "unexpected end of input"),
            ("   ", 3, "unexpected end of input"),
            (#"{"source":"llm-sentinel","title":"GPU"#, 37, "end of input inside a string"),
            (#"{"a":1,}"#, 7, "expected a string key"),
            (#"{"a" 1}"#, 5, "expected ':'"),
            (#"{"a":1 "b":2}"#, 7, "expected ',' or '}'"),
            ("[1,2", 4, "unexpected end of input"),
            ("[1 2]", 3, "expected ',' or ']'"),
            ("[01]", 2, "expected ',' or ']'"),
            ("tru", 0, "invalid literal"),
            ("nul", 0, "invalid literal"),
            ("{} x", 3, "unexpected data after the JSON value"),
            ("'a'", 0, "unexpected '''"),
            ("-", 1, "end of input in a number"),
            ("1.", 2, "after '.'"),
            ("1e", 2, "exponent"),
            ("1e999", 0, "number out of range"),
            (#""a\qb""#, 2, "invalid escape \\q"),
            (#""\u12G4""#, 5, "hex digit"),
            (#""\ud800x""#, 1, "unpaired UTF-16 surrogate"),
            (#""\udc00""#, 1, "unpaired UTF-16 surrogate"),
            (#""\ud800\u0041""#, 1, "unpaired UTF-16 surrogate"),
            ("\"a\nb\"", 2, "control character byte 0x0A"),
        ]
        for (text, offset, reason) in cases {
            guard let error = rejection(text) else { continue }
            XCTAssertEqual(error.offset, offset, "\(text): \(error.reason)")
            XCTAssertTrue(error.reason.contains(reason), "\(text): \(error.reason)")
            XCTAssertTrue(error.reason.hasSuffix("at byte offset \(offset)"), error.reason)
        }
    }

    func testInvalidUTF8IsRejected() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x61, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22], [0xEF, 0xBB, 0xBF, 0x31]] {
            XCTAssertNotNil(rejection(bytes), "\(bytes)")
        }
    }

    func testNestingIsBounded() throws {
        let ok = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        XCTAssertNoThrow(try parse(ok))
        let deep = String(repeating: "[", count: 100_000)
        XCTAssertEqual(rejection(deep)?.offset, JSONParser.maxDepth)
        let deepObjects = String(repeating: #"{"a":"#, count: 1_000)
        XCTAssertTrue(rejection(deepObjects)?.reason.contains("nested deeper than 512 levels") ?? false)
    }

    /// Randomly built documents: the writer's output parses back to the same value, and Foundation's
    /// own parser reads the same text the same way.
    func testRandomDocumentsRoundTripAndAgreeWithFoundation() throws {
        var rng = SplitMix(seed: 0x5EED)
        for _ in 0..<2_000 {
            let value = Self.randomValue(&rng, depth: 0)
            let bytes = value.bytes
            XCTAssertEqual(try JSONValue.parse(bytes), value, String(decoding: bytes, as: UTF8.self))
            let foundation = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            XCTAssertTrue(Self.same(value, foundation), String(decoding: bytes, as: UTF8.self))
        }
    }

    /// Byte flips, truncations and insertions never trap; whatever is accepted re-encodes to a
    /// document that encodes the same again, and Foundation accepts it too.
    func testMutatedInputNeverTraps() throws {
        var rng = SplitMix(seed: 0xBAD)
        let alphabet = Array(#"{}[]",:\/ u0123456789abcdefABCDEF.eE+-truefalsenull"#.utf8) + [0x00, 0x0A, 0x7F, 0x80, 0xC3, 0xA9, 0xED, 0xFF]
        var accepted = 0
        for _ in 0..<5_000 {
            var bytes = Self.randomValue(&rng, depth: 0).bytes
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let position = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0 where !bytes.isEmpty: bytes[position] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: position)
                case 2 where !bytes.isEmpty: bytes.remove(at: position)
                default: bytes = Array(bytes.prefix(position))
                }
            }
            do {
                let value = try JSONValue.parse(bytes)
                accepted += 1
                // The compact encoding is a fixed point (whole doubles such as 1e3 are written as 1000).
                XCTAssertEqual(try JSONValue.parse(value.bytes).bytes, value.bytes)
                XCTAssertNoThrow(
                    try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
                    "accepted what Foundation rejects: \(bytes)")
            } catch {
                XCTAssertLessThanOrEqual(error.offset, bytes.count)
            }
        }
        XCTAssertGreaterThan(accepted, 100)
    }

    // MARK: - Helpers

    private static func randomValue(_ rng: inout SplitMix, depth: Int) -> JSONValue {
        let pick = rng.next() % (depth > 3 ? 5 : 7)
        switch pick {
        case 0: return .null
        case 1: return .bool(rng.next() % 2 == 0)
        case 2:
            let shift = Int(rng.next() % 64)
            let number: Int64 = Int64(bitPattern: rng.next()) >> shift
            return JSONValue.int(number)
        case 3:
            let whole = Int64(bitPattern: rng.next()) >> 24
            return .double(Double(whole) + 0.25)
        case 4: return .string(randomString(&rng))
        case 5: return .array((0..<Int(rng.next() % 5)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var object = JSONObject()
            for _ in 0..<Int(rng.next() % 5) { object[randomString(&rng)] = randomValue(&rng, depth: depth + 1) }
            return .object(object)
        }
    }

    private static func randomString(_ rng: inout SplitMix) -> String {
        let pieces = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1F}", "é", "中", "😀", "\u{7F}", "\u{FFFF}"]
        return (0..<Int(rng.next() % 8)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
    }

    /// Our value and Foundation's reading of the same text hold the same data.
    private static func same(_ value: JSONValue, _ other: Any) -> Bool {
        switch value {
        case .null: return other is NSNull
        case .bool(let b): return (other as? Bool) == b
        case .int(let i): return (other as? NSNumber)?.int64Value == i
        case .double(let d): return (other as? NSNumber)?.doubleValue == d
        case .string(let s): return (other as? String) == s
        case .array(let elements):
            guard let list = other as? [Any], list.count == elements.count else { return false }
            return zip(elements, list).allSatisfy { same($0, $1) }
        case .object(let object):
            guard let dictionary = other as? [String: Any], dictionary.count == object.keys.count else { return false }
            return object.fields.allSatisfy { field in dictionary[field.key].map { same(field.value, $0) } ?? false }
        }
    }
}

/// A small deterministic generator (SplitMix64) so failures reproduce.
struct SplitMix {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
