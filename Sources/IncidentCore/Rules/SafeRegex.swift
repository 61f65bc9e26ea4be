/// A regular expression whose matching time is linear in the text, whatever the pattern.
///
/// Classification rules match event titles inside the Raft-replicated state machine, so every
/// replica runs every admin-supplied pattern. A backtracking engine (`NSRegularExpression`, Swift
/// `Regex`) can take exponential time on a pattern such as `(a+)+$` and would stall all replicas
/// at once; its answers also depend on the ICU version linked into each binary. `SafeRegex`
/// compiles an RE2 subset to a Thompson NFA and simulates all NFA states in lockstep (a Pike VM
/// without captures): each text scalar is looked at once per live instruction, so a match costs
/// O(text scalars × program instructions), and the program size is capped by
/// `maxProgramInstructions`. Nothing ever backtracks, and nothing depends on Foundation or ICU.
///
/// Syntax (an RE2 subset; anything else is a `PatternError`):
/// - literals (any Unicode scalar), `.` (any scalar except `\n`);
/// - escapes: any ASCII punctuation escaped (`\.`, `\*`, `\\`, `\{` ...), `\n \t \r \f \v`,
///   ASCII classes `\d \D \w \W \s \S` (`\s` is `[\t\n\f\r ]`), ASCII word boundaries `\b \B`,
///   `\A` and `\z` (same as `^` and `$`);
/// - classes `[abc]`, `[a-z0-9_]`, `[^...]`, with escapes inside; `]` first and `-` first or last
///   are literal;
/// - `^` and `$` match only at the start and end of the text (there is no multi-line mode);
/// - groups `(...)`, `(?:...)`, `(?i:...)`, a leading `(?i)`; alternation `|` (empty branches
///   allowed);
/// - quantifiers `* + ? {n} {n,} {n,m}` and their lazy forms (same answer: this is a yes/no match);
///   a `{` that does not start a valid quantifier is an error (write `\{` for a literal brace),
///   while a lone `}` or `]` is a literal.
///
/// Matching compares Unicode scalars with no normalisation (as RE2 does): NFC `"é"` does not
/// match NFD `"e\u{301}"`. Case-insensitive matching uses simple one-to-one case mappings from the
/// standard library's Unicode tables, so a binary built with a newer Unicode version may fold a
/// newly added letter differently; ASCII and all long-standing scripts are unaffected.
public struct SafeRegex: Sendable, Hashable, CustomStringConvertible, BinaryCodable {
    /// Longest accepted pattern, in UTF-8 bytes. Rules are short; the cap bounds parse and compile
    /// work per command. Longer patterns fail with `.tooLong`.
    public static let maxPatternBytes = 512
    /// Largest `n` or `m` in `{n}`, `{n,}`, `{n,m}`. Counted repetition is expanded into copies of
    /// its operand, so counts drive program size. Larger counts fail with `.tooComplex`.
    public static let maxRepetitionCount = 100
    /// Most instructions in a compiled program (each `{n,m}` copy counts). Matching time per text
    /// scalar is proportional to this, so it is the real cost bound; over it fails with `.tooComplex`.
    public static let maxProgramInstructions = 5_000
    /// Deepest nesting of groups. Bounds the recursion of the parser and compiler; deeper
    /// patterns fail with `.tooComplex`.
    public static let maxNestingDepth = 50

    /// The pattern exactly as given; equality, hashing and the binary encoding use only this.
    public let pattern: String
    let program: RegexProgram

    /// Parses, validates and compiles `pattern`.
    public init(_ pattern: String) throws(PatternError) {
        let syntax = try RegexParser.parse(pattern)
        self.program = try RegexCompiler.compile(syntax, patternBytes: pattern.utf8.count)
        self.pattern = pattern
    }

    /// Whether any substring of `text` matches (RE2's `PartialMatch`); use `^` and `$` to anchor.
    public func matches(_ text: String) -> Bool {
        program.matches(text)
    }

    public var description: String { pattern }

    public static func == (lhs: SafeRegex, rhs: SafeRegex) -> Bool { lhs.pattern == rhs.pattern }

    public func hash(into hasher: inout Hasher) { hasher.combine(pattern) }

    /// Writes the pattern only; decoding recompiles it.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(string: pattern)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        let pattern = try reader.readString()
        do {
            try self.init(pattern)
        } catch {
            throw DecodingError(.invalidValue, at: start, "regex: \(error)")
        }
    }
}

/// Why a pattern was rejected, with the UTF-8 byte offset in the pattern where it was noticed.
public struct PatternError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The pattern is the empty string.
        case empty
        /// Longer than `SafeRegex.maxPatternBytes`.
        case tooLong
        /// A `(` without `)` or a `)` without `(`.
        case unbalancedParenthesis
        /// A backslash at the end, or followed by a character with no meaning.
        case invalidEscape
        /// An unterminated class, a reversed range, or a class escape used as a range end.
        case invalidClass
        /// A malformed `{...}` or a quantifier applied to a quantifier (`a**`).
        case invalidRepetition
        /// A quantifier with no operand (`*a`, `(+)`, `a|?`).
        case nothingToRepeat
        /// Over `maxRepetitionCount`, `maxProgramInstructions` or `maxNestingDepth`.
        case tooComplex
        /// Valid in other engines but deliberately absent: backreferences, lookaround, named
        /// groups, flags other than `i`, Unicode property classes, hex escapes.
        case unsupported
    }

    public var code: Code
    /// UTF-8 byte offset into the pattern.
    public var offset: Int
    public var message: String

    public init(_ code: Code, at offset: Int, _ message: String) {
        self.code = code
        self.offset = offset
        self.message = message
    }

    public var description: String {
        "invalid pattern: \(code.rawValue) at byte \(offset): \(message)"
    }
}
