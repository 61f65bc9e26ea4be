import Foundation
import XCTest
@testable import IncidentCore

/// `SafeRegex` protects the replicated state machine from admin-supplied patterns: these tests pin
/// its syntax, its errors, its agreement with a mainstream engine, and its linear running time.
final class SafeRegexTests: XCTestCase {
    /// A pattern with texts it must match and texts it must not.
    private struct Case {
        var pattern: String
        var matching: [String]
        var notMatching: [String]

        init(_ pattern: String, _ matching: [String], not notMatching: [String] = []) {
            self.pattern = pattern
            self.matching = matching
            self.notMatching = notMatching
        }
    }

    private func check(_ cases: [Case], file: StaticString = #filePath, line: UInt = #line) {
        for testCase in cases {
            let regex: SafeRegex
            do {
                regex = try SafeRegex(testCase.pattern)
            } catch {
                XCTFail("\(testCase.pattern.debugDescription) rejected: \(error)", file: file, line: line)
                continue
            }
            for text in testCase.matching where !regex.matches(text) {
                XCTFail("\(testCase.pattern.debugDescription) should match \(text.debugDescription)", file: file, line: line)
            }
            for text in testCase.notMatching where regex.matches(text) {
                XCTFail("\(testCase.pattern.debugDescription) should not match \(text.debugDescription)", file: file, line: line)
            }
        }
    }

    // MARK: Syntax

    func testLiteralsAndDot() {
        check([
            Case("disk", ["disk full", "the disk", "disk"], not: ["dis k", "DISK", ""]),
            Case("a.c", ["abc", "a c", "a🔥c"], not: ["ac", "a\nc"]),
            Case(".", ["x", " "], not: ["", "\n"]),
            Case("a}", ["a}"], not: ["a"]),
            Case("a]", ["a]"], not: ["a"]),
            Case("x*", ["", "y", "xxx"]),
        ])
    }

    func testEscapes() {
        check([
            Case(#"\.\*\+\?"#, [".*+?"], not: ["a*+?"]),
            Case(#"\(\)\[\]\{\}"#, ["()[]{}"]),
            Case(#"\|\^\$\/\-\\"#, [#"|^$/-\"#]),
            Case(#"\d+"#, ["build 42"], not: ["build"]),
            Case(#"^\D+$"#, ["abc"], not: ["a1c"]),
            Case(#"^\w+$"#, ["snake_case9"], not: ["kebab-case", "\u{E9}"]),
            Case(#"\W"#, ["a b", "\u{E9}"], not: ["ab_1"]),
            Case(#"a\sb"#, ["a b", "a\tb", "a\nb", "a\rb"], not: ["ab", "a\u{A0}b"]),
            Case(#"^\S+$"#, ["abc"], not: ["a c"]),
            Case(#"a\nb"#, ["a\nb"], not: ["anb"]),
            Case(#"\t\r"#, ["\t\r"], not: ["tr"]),
            Case(#"\Aabc\z"#, ["abc"], not: ["abcd", "xabc"]),
        ])
    }

    func testClasses() {
        check([
            Case("[abc]", ["a", "xcx"], not: ["d", ""]),
            Case("^[a-z0-9_]+$", ["db_01"], not: ["DB", "db-01"]),
            Case("^[^abc]+$", ["xyz", "\n"], not: ["xaz"]),
            Case("^[-a]+$", ["-a-"], not: ["b"]),
            Case("^[a-]+$", ["a-"], not: ["b"]),
            Case("^[]a]+$", ["]a"], not: ["b"]),
            Case("^[^]a]$", ["b"], not: ["]", "a"]),
            Case(#"^[\d.]+$"#, ["10.0.0.1"], not: ["10.0.0.x"]),
            Case(#"[\]]"#, ["]"], not: ["["]),
            Case(#"^[a\-z]$"#, ["a", "-", "z"], not: ["b"]),
            Case("^[a-c-e]$", ["b", "-", "e"], not: ["d"]),
            Case("^[.]$", ["."], not: ["x"]),
            Case(#"^[\^x]$"#, ["^", "x"], not: ["y"]),
            Case("^[^^]$", ["x"], not: ["^"]),
            Case(#"^[\D]$"#, ["x"], not: ["5"]),
            Case(#"^[^\s]$"#, ["x"], not: [" "]),
            Case(#"^[\w\s]+$"#, ["hello world"], not: ["hello-world"]),
            Case("^[\u{1F525}-\u{1F9EF}]$", ["\u{1F692}", "\u{1F525}"], not: ["\u{1F4A9}"]),
        ])
    }

    func testAnchorsAndWordBoundaries() {
        check([
            Case("^abc", ["abcdef"], not: ["xabc"]),
            Case("abc$", ["xabc"], not: ["abcx", "abc\n"]),
            Case("^$", [""], not: ["a", "\n"]),
            Case("^", ["", "anything"]),
            Case("$", ["", "anything"]),
            Case("a^b", [], not: ["ab", "a^b"]),
            Case("a$|^b", ["xa", "bx"], not: ["ax", "xb"]),
            Case(#"\bcat\b"#, ["a cat sat", "cat", "(cat)"], not: ["concatenate", "cats"]),
            Case(#"\Bcat\B"#, ["concatenate"], not: ["cat", "a cat"]),
            Case(#"\b"#, ["a"], not: ["", " "]),
            Case(#"\B"#, ["", " "], not: ["a"]),
            Case(#"caf\b"#, ["caf\u{E9}"], not: ["cafe"]),  // ASCII word characters only
        ])
    }

    func testGroupsAndAlternation() {
        check([
            Case("cat|dog", ["hotdog", "cat"], not: ["cow"]),
            Case("^(cat|dog)s?$", ["cats", "dog"], not: ["catdog"]),
            Case("^(?:ab)+$", ["abab"], not: ["aba", ""]),
            Case("^(a|b)*c$", ["c", "abbac"], not: ["abd"]),
            Case("a|", ["zzz", ""]),
            Case("|", [""]),
            Case("^(|a)b$", ["b", "ab"], not: ["aab"]),
            Case("^(?:a||b)c$", ["c", "ac", "bc"], not: ["abc"]),
            Case("()", [""]),
            Case("^((a)(b(c)))$", ["abc"], not: ["ab"]),
        ])
    }

    func testQuantifiers() {
        check([
            Case("ab*c", ["ac", "abbbc"], not: ["adc"]),
            Case("ab+c", ["abc", "abbc"], not: ["ac"]),
            Case("ab?c", ["ac", "abc"], not: ["abbc"]),
            Case("^a{3}$", ["aaa"], not: ["aa", "aaaa"]),
            Case("^a{2,}$", ["aa", "aaaaa"], not: ["a"]),
            Case("^a{2,3}$", ["aa", "aaa"], not: ["a", "aaaa"]),
            Case("^a{0}$", [""], not: ["a"]),
            Case("^a{0,1}b$", ["b", "ab"], not: ["aab"]),
            Case("^(ab){1,2}$", ["ab", "abab"], not: ["ababab"]),
            Case("^a*?$", ["", "aaa"], not: ["ab"]),
            Case("^a+?b$", ["ab", "aab"], not: ["b"]),
            Case("^a??b$", ["b", "ab"], not: ["aab"]),
            Case("^a{1,2}?$", ["a", "aa"], not: ["aaa"]),
            Case("^a{2,}?$", ["aa", "aaa"], not: ["a"]),
            Case("^(a*)*$", ["", "aaa"], not: ["b"]),
            Case("^(a|)+$", ["", "aa"], not: ["b"]),
            Case("^*x", ["x"]),
        ])
    }

    func testCaseInsensitivity() {
        check([
            Case("(?i)hello", ["HeLLo world", "hello"], not: ["help"]),
            Case("hello", ["hello"], not: ["HELLO"]),
            Case("(?i)^[a-c]+x$", ["ABCX", "abcx"], not: ["ABDX"]),
            Case("a(?i:b)c", ["aBc", "abc"], not: ["ABc", "abC"]),
            Case("(?i:a(?:b))c", ["ABc"], not: ["ABC"]),
            Case("(?i)k", ["K", "\u{212A}"]),            // KELVIN SIGN
            Case("(?i)s", ["S", "\u{17F}"]),             // LONG S
            Case("(?i)\u{3C3}", ["\u{3A3}", "\u{3C2}"]), // σ matches Σ and final ς
            Case("(?i)\u{FC}", ["\u{DC}"]),              // ü matches Ü
            Case("(?i)stra\u{DF}e", ["STRA\u{1E9E}E"], not: ["STRASSE"]),  // one-to-one mappings only
            Case("(?i)^[^a]$", ["b"], not: ["A", "a"]),
            Case(#"(?i)^\d$"#, ["5"], not: ["x"]),
            Case("(?i)", ["", "x"]),
            // A class of more than 256 scalars folds through the whole-table path.
            Case("(?i)^[\u{430}-\u{44F}\u{100}-\u{2FF}]+$", ["\u{41F}\u{420}\u{418}", "\u{43F}\u{440}\u{438}"], not: ["abc"]),
            Case(#"(?i)\b(disk|volume) (full|space)\b"#, ["ALERT: Disk Full on db-1"], not: ["diskfull"]),
        ])
    }

    func testUnicode() {
        let word = "\u{DC}n\u{EF}c\u{F6}d\u{E9}"  // "Ünïcödé", precomposed
        check([
            Case(word, ["x\(word)x"], not: ["Unicode"]),
            Case("^.{7}$", [word], not: ["\(word)!"]),
            Case("^.$", ["\u{1F525}", "\u{E9}"], not: ["\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"]),
            Case("\u{1F525}+", ["fire \u{1F525}\u{1F525}"], not: ["fire"]),
            Case("\u{E9}", ["caf\u{E9}"], not: ["cafe\u{301}"]),  // scalars, no normalisation
            Case("^[^a]$", ["\u{1F525}"]),
        ])
    }

    // MARK: Errors

    func testEveryErrorCodeWithItsOffset() {
        let cases: [(String, PatternError.Code, Int)] = [
            ("", .empty, 0),
            (String(repeating: "a", count: 513), .tooLong, 512),
            ("(ab", .unbalancedParenthesis, 0),
            ("ab)", .unbalancedParenthesis, 2),
            ("a(b(c)", .unbalancedParenthesis, 1),
            ("(?", .unbalancedParenthesis, 0),
            ("\u{E9}\u{E9})", .unbalancedParenthesis, 4),
            (#"ab\"#, .invalidEscape, 2),
            (#"\q"#, .invalidEscape, 0),
            (#"[\b]"#, .invalidEscape, 1),
            ("\\\u{E9}", .invalidEscape, 0),
            ("[ab", .invalidClass, 0),
            ("x[]", .invalidClass, 1),
            ("[z-a]", .invalidClass, 1),
            (#"[\d-z]"#, .invalidClass, 1),
            (#"[a-\d]"#, .invalidClass, 1),
            ("a{", .invalidRepetition, 1),
            ("a{x}", .invalidRepetition, 1),
            ("a{,3}", .invalidRepetition, 1),
            ("a{2,1}", .invalidRepetition, 1),
            ("a{1,2", .invalidRepetition, 1),
            ("{", .invalidRepetition, 0),
            ("a**", .invalidRepetition, 2),
            ("a*+", .invalidRepetition, 2),
            ("a*??", .invalidRepetition, 3),
            ("a{1,2}{3}", .invalidRepetition, 6),
            ("\u{1F525}*+", .invalidRepetition, 5),
            ("*a", .nothingToRepeat, 0),
            ("a|+b", .nothingToRepeat, 2),
            ("(?:*)", .nothingToRepeat, 3),
            ("{2}", .nothingToRepeat, 0),
            ("a{101}", .tooComplex, 1),
            ("a{1,1000000000000}", .tooComplex, 1),
            ("(a{100}){50}", .tooComplex, 8),
            (String(repeating: "(", count: 51) + String(repeating: ")", count: 51), .tooComplex, 50),
            (#"(a)\1"#, .unsupported, 3),
            ("a(?=b)", .unsupported, 1),
            ("a(?!b)", .unsupported, 1),
            ("(?<=a)b", .unsupported, 0),
            ("(?P<name>a)", .unsupported, 0),
            ("a(?i)b", .unsupported, 1),
            ("(?s)a", .unsupported, 0),
            (#"\p{L}"#, .unsupported, 0),
            (#"\x41"#, .unsupported, 0),
            ("[[:alpha:]]", .unsupported, 1),
        ]
        var seen: Set<String> = []
        for (pattern, code, offset) in cases {
            do {
                let regex = try SafeRegex(pattern)
                XCTFail("\(pattern.debugDescription) should be rejected, compiled to \(regex.program.instructions.count) instructions")
            } catch {
                XCTAssertEqual(error.code, code, "\(pattern.debugDescription): \(error)")
                XCTAssertEqual(error.offset, offset, "\(pattern.debugDescription): \(error)")
                XCTAssertFalse(error.message.isEmpty)
                seen.insert(error.code.rawValue)
            }
        }
        XCTAssertEqual(seen.count, 9, "every PatternError.Code is exercised")
    }

    func testLimitsAreInclusive() throws {
        _ = try SafeRegex(String(repeating: "a", count: SafeRegex.maxPatternBytes))
        _ = try SafeRegex("a{100}")
        let nested = String(repeating: "(", count: SafeRegex.maxNestingDepth) + "a" + String(repeating: ")", count: SafeRegex.maxNestingDepth)
        XCTAssertTrue(try SafeRegex(nested).matches("a"))
        // 49 × 100 copies plus `^`, `$` and the final match instruction: under the 5,000 limit.
        let largest = try SafeRegex("^(a{100}){49}$")
        XCTAssertTrue(largest.matches(String(repeating: "a", count: 4_900)))
        XCTAssertFalse(largest.matches(String(repeating: "a", count: 4_899)))
    }

    // MARK: Agreement with NSRegularExpression

    /// Random patterns over a small alphabet must give the same yes/no answer as ICU's backtracking
    /// engine. Patterns ICU rejects are skipped; the only patterns we may reject while ICU accepts
    /// are stacked quantifiers (`a*+` is possessive in ICU, an error in RE2 and here).
    func testAgreesWithNSRegularExpressionOnRandomPatterns() throws {
        let seed: UInt64 = 0x5EED_2024
        var random = SplitMix64(seed: seed)
        let tokens = ["a", "b", "c", ".", "*", "+", "?", "|", "(", ")", "[ab]", "^", "$", "{1,2}"]
        var compared = 0, skippedByICU = 0, rejectedByUs = 0, mismatches = 0
        for _ in 0..<8_000 {
            let pattern = (0..<Int.random(in: 1...8, using: &random)).map { _ in tokens.randomElement(using: &random)! }.joined()
            guard let reference = try? NSRegularExpression(pattern: pattern) else {
                skippedByICU += 1
                continue
            }
            let regex: SafeRegex
            do {
                regex = try SafeRegex(pattern)
            } catch {
                XCTAssertEqual(error.code, .invalidRepetition, "\(pattern) accepted by ICU, rejected here: \(error) (seed 0x\(String(seed, radix: 16)))")
                rejectedByUs += 1
                continue
            }
            for _ in 0..<8 {
                let text = String((0..<Int.random(in: 0...8, using: &random)).map { _ in "abc".randomElement(using: &random)! })
                let expected = reference.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                compared += 1
                if regex.matches(text) != expected {
                    mismatches += 1
                    if mismatches <= 10 {
                        XCTFail("\(pattern.debugDescription) on \(text.debugDescription): ICU says \(expected) (seed 0x\(String(seed, radix: 16)))")
                    }
                }
            }
        }
        print("differential: \(compared) comparisons, \(skippedByICU) patterns rejected by ICU, \(rejectedByUs) rejected only here")
        XCTAssertGreaterThan(compared, 15_000)
    }

    // MARK: Pathological patterns

    /// Each of these takes exponential time in a backtracking engine; here they are linear.
    func testPathologicalPatternsFinishOnLongInputs() throws {
        let run = String(repeating: "a", count: 10_000)
        let cases: [(String, String, Bool)] = [
            ("(a+)+$", run, true),
            ("(a+)+$", run + "b", false),
            ("^(a+)+$", run + "b", false),
            ("(a|aa)*b", run, false),
            ("(a|aa)*b", run + "b", true),
            ("(a*)*b", run, false),
            ("(x+x+)+y", String(repeating: "x", count: 10_000), false),
            ("^(a?){50}a{50}$", String(repeating: "a", count: 50), true),
            ("(.*a){20}", run, true),
            ("(.*a){20}b", run, false),
            ("^(\\w+\\s?)*$", String(repeating: "word ", count: 2_000) + "!", false),
        ]
        for (pattern, text, expected) in cases {
            XCTAssertEqual(try SafeRegex(pattern).matches(text), expected, pattern)
        }
    }

    // MARK: Identity and encoding

    func testEqualityAndHashingUseThePatternOnly() throws {
        XCTAssertEqual(try SafeRegex("a+"), try SafeRegex("a+"))
        XCTAssertNotEqual(try SafeRegex("a"), try SafeRegex("(?:a)"))
        XCTAssertEqual(Set([try SafeRegex("a"), try SafeRegex("a"), try SafeRegex("b")]).count, 2)
        XCTAssertEqual(try SafeRegex("(?i)disk").description, "(?i)disk")
    }

    func testBinaryRoundTripRecompiles() throws {
        let rules = [try SafeRegex("(?i)^disk (full|space)$"), try SafeRegex("\u{1F525}+")]
        let decoded = try [SafeRegex](binary: rules.binaryEncoded())
        XCTAssertEqual(decoded, rules)
        XCTAssertTrue(decoded[0].matches("DISK FULL"))
        XCTAssertTrue(decoded[1].matches("\u{1F525}"))

        var writer = BinaryWriter()
        writer.write(string: "a+")
        XCTAssertEqual(try SafeRegex("a+").binaryEncoded(), writer.bytes, "the encoding is the pattern string")
    }

    func testDecodingAnInvalidPatternFails() {
        var writer = BinaryWriter()
        writer.write(UInt8(7))
        writer.write(string: "(unclosed")
        var reader = BinaryReader(writer.bytes)
        XCTAssertEqual(try reader.readByte(), 7)
        do {
            let regex = try SafeRegex(from: &reader)
            XCTFail("decoded \(regex)")
        } catch {
            XCTAssertEqual(error.code, .invalidValue)
            XCTAssertEqual(error.offset, 1, "points at the start of the pattern string")
            XCTAssertTrue(error.context.hasPrefix("regex: "), error.context)
        }
    }
}

/// A tiny seeded generator (Steele, Lea and Flood's SplitMix64) so random tests replay exactly.
private struct SplitMix64: RandomNumberGenerator {
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
