/// The syntax tree of a `SafeRegex` pattern. Case-insensitivity is already applied: a folded
/// literal or class is a `ScalarSet` holding every case variant.
indirect enum RegexNode: Sendable {
    case empty
    case scalar(UInt32)
    case set(ScalarSet)
    case anyExceptNewline
    case assertion(RegexAssertion)
    case concatenation([RegexNode])
    case alternation([RegexNode])
    /// `maximum == nil` is unbounded; `offset` is where the quantifier was written.
    case repetition(RegexNode, minimum: Int, maximum: Int?, offset: Int)
}

/// Zero-width conditions on the position between two scalars.
enum RegexAssertion: Sendable, Hashable {
    case textStart, textEnd, wordBoundary, notWordBoundary
}

/// A recursive-descent parser for the `SafeRegex` syntax (see its doc comment).
///
/// Recursion depth is bounded by `SafeRegex.maxNestingDepth` (checked at every `(`), so no
/// pattern can exhaust the stack.
struct RegexParser {
    private let scalars: [Unicode.Scalar]
    /// `offsets[i]` is the UTF-8 offset of `scalars[i]`; the extra last element is the length.
    private let offsets: [Int]
    private var position = 0
    private var depth = 0
    private var caseInsensitive = false

    static func parse(_ pattern: String) throws(PatternError) -> RegexNode {
        let length = pattern.utf8.count
        guard length > 0 else { throw PatternError(.empty, at: 0, "the pattern is empty") }
        guard length <= SafeRegex.maxPatternBytes else {
            throw PatternError(.tooLong, at: SafeRegex.maxPatternBytes,
                               "the pattern is \(length) bytes; the limit is \(SafeRegex.maxPatternBytes)")
        }
        var parser = RegexParser(pattern)
        return try parser.parsePattern()
    }

    private init(_ pattern: String) {
        scalars = Array(pattern.unicodeScalars)
        var offsets: [Int] = [0]
        for scalar in scalars { offsets.append(offsets[offsets.count - 1] + UTF8.width(scalar)) }
        self.offsets = offsets
    }

    private mutating func parsePattern() throws(PatternError) -> RegexNode {
        if scalars.starts(with: "(?i)".unicodeScalars) {
            caseInsensitive = true
            position = 4
        }
        let root = try parseAlternation()
        if position < scalars.count {  // parseAlternation stops only at the end or at a ')'
            throw error(.unbalancedParenthesis, "')' without a matching '('")
        }
        return root
    }

    // MARK: Structure

    private mutating func parseAlternation() throws(PatternError) -> RegexNode {
        var branches = [try parseConcatenation()]
        while peek() == "|" {
            position += 1
            branches.append(try parseConcatenation())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseConcatenation() throws(PatternError) -> RegexNode {
        var items: [RegexNode] = []
        while let next = peek(), next != "|", next != ")" {
            let atom = try parseAtom()
            items.append(try parseQuantifier(applyingTo: atom))
        }
        switch items.count {
        case 0: return .empty
        case 1: return items[0]
        default: return .concatenation(items)
        }
    }

    private mutating func parseAtom() throws(PatternError) -> RegexNode {
        let scalar = scalars[position]
        switch scalar {
        case "(": return try parseGroup()
        case "[": return try parseClass()
        case "\\": return try parseEscape()
        case "*", "+", "?":
            throw error(.nothingToRepeat, "'\(scalar)' has nothing to repeat")
        case "{":
            let start = position
            _ = try parseCountedRepetition()
            throw error(.nothingToRepeat, "the repetition has nothing to repeat", at: start)
        default:
            position += 1
            switch scalar {
            case ".": return .anyExceptNewline
            case "^": return .assertion(.textStart)
            case "$": return .assertion(.textEnd)
            default: return literal(scalar.value)
            }
        }
    }

    private mutating func parseGroup() throws(PatternError) -> RegexNode {
        let open = position
        position += 1
        var groupCaseInsensitive = caseInsensitive
        if peek() == "?" {
            position += 1
            switch (peek(), peek(1)) {
            case (":", _):
                position += 1
            case ("i", ":"):
                position += 2
                groupCaseInsensitive = true
            case ("i", ")"):
                throw error(.unsupported, "(?i) is only supported at the very start of the pattern; use (?i:...)", at: open)
            case ("=", _), ("!", _), ("<", "="), ("<", "!"):
                throw error(.unsupported, "lookaround assertions are not supported", at: open)
            case ("P", _), ("<", _), ("'", _):
                throw error(.unsupported, "named groups are not supported; use (...) or (?:...)", at: open)
            case (nil, _):
                throw error(.unbalancedParenthesis, "'(' without a matching ')'", at: open)
            default:
                throw error(.unsupported, "only the groups (...), (?:...) and (?i:...) are supported", at: open)
            }
        }
        depth += 1
        guard depth <= SafeRegex.maxNestingDepth else {
            throw error(.tooComplex, "groups nest deeper than \(SafeRegex.maxNestingDepth)", at: open)
        }
        let outerCaseInsensitive = caseInsensitive
        caseInsensitive = groupCaseInsensitive
        let body = try parseAlternation()
        caseInsensitive = outerCaseInsensitive
        depth -= 1
        guard peek() == ")" else { throw error(.unbalancedParenthesis, "'(' without a matching ')'", at: open) }
        position += 1
        return body
    }

    // MARK: Quantifiers

    private mutating func parseQuantifier(applyingTo atom: RegexNode) throws(PatternError) -> RegexNode {
        let start = position
        let bounds: (minimum: Int, maximum: Int?)
        switch peek() {
        case "*": bounds = (0, nil); position += 1
        case "+": bounds = (1, nil); position += 1
        case "?": bounds = (0, 1); position += 1
        case "{": bounds = try parseCountedRepetition()
        default: return atom
        }
        if peek() == "?" { position += 1 }  // lazy: same yes/no answer as greedy
        if let next = peek(), "*+?{".unicodeScalars.contains(next) {
            throw error(.invalidRepetition, "a repetition cannot be repeated; use a group, as in (?:a*)*")
        }
        return .repetition(atom, minimum: bounds.minimum, maximum: bounds.maximum, offset: offsets[start])
    }

    /// `{n}`, `{n,}` or `{n,m}` at `position`. Any other use of `{` is an error rather than a
    /// literal (unlike RE2), so a typo never silently changes a rule's meaning.
    private mutating func parseCountedRepetition() throws(PatternError) -> (minimum: Int, maximum: Int?) {
        let start = position
        position += 1
        let malformed = "'{' must start {n}, {n,} or {n,m}; write \\{ for a literal brace"
        guard let minimum = parseCount() else { throw error(.invalidRepetition, malformed, at: start) }
        var maximum: Int? = minimum
        if peek() == "," {
            position += 1
            maximum = peek() == "}" ? nil : parseCount()
            if maximum == nil && peek() != "}" { throw error(.invalidRepetition, malformed, at: start) }
        }
        guard peek() == "}" else { throw error(.invalidRepetition, malformed, at: start) }
        position += 1
        if let maximum, maximum < minimum {
            throw error(.invalidRepetition, "{\(minimum),\(maximum)} has its bounds reversed", at: start)
        }
        if max(minimum, maximum ?? 0) > SafeRegex.maxRepetitionCount {
            throw error(.tooComplex, "repetition counts are limited to \(SafeRegex.maxRepetitionCount)", at: start)
        }
        return (minimum, maximum)
    }

    /// Decimal digits, saturating well above any limit so huge numbers cannot overflow.
    private mutating func parseCount() -> Int? {
        var value: Int?
        while let digit = peek(), ("0"..."9").contains(digit) {
            value = min((value ?? 0) * 10 + Int(digit.value - 48), 1_000_000)
            position += 1
        }
        return value
    }

    // MARK: Escapes and classes

    private mutating func parseEscape() throws(PatternError) -> RegexNode {
        let start = position
        guard let letter = peek(1) else { throw error(.invalidEscape, "trailing backslash") }
        position += 2
        switch letter {
        case "b": return .assertion(.wordBoundary)
        case "B": return .assertion(.notWordBoundary)
        case "A": return .assertion(.textStart)
        case "z": return .assertion(.textEnd)
        default:
            if let set = Self.perlClass(letter) { return .set(set) }
            return literal(try escapedScalar(letter, at: start))
        }
    }

    /// `\d \D \w \W \s \S`.
    private static func perlClass(_ letter: Unicode.Scalar) -> ScalarSet? {
        switch letter {
        case "d": return .digits
        case "D": return ScalarSet.digits.inverted()
        case "w": return .wordCharacters
        case "W": return ScalarSet.wordCharacters.inverted()
        case "s": return .whitespace
        case "S": return ScalarSet.whitespace.inverted()
        default: return nil
        }
    }

    /// The scalar denoted by a backslash followed by `letter` (not a class or an assertion).
    private func escapedScalar(_ letter: Unicode.Scalar, at start: Int) throws(PatternError) -> UInt32 {
        switch letter {
        case "n": return 10
        case "t": return 9
        case "r": return 13
        case "f": return 12
        case "v": return 11
        case "1"..."9":
            throw error(.unsupported, "backreferences are not supported", at: start)
        case "p", "P":
            throw error(.unsupported, "Unicode property classes are not supported", at: start)
        case "x", "u", "U", "0":
            throw error(.unsupported, "numeric escapes are not supported; write the character itself", at: start)
        case "Q", "E", "k", "g", "G", "K", "Z", "C", "X", "R":
            throw error(.unsupported, "\\\(letter) is not supported", at: start)
        default:
            // Escaped ASCII punctuation (and space) is always itself, as in RE2.
            if (32...126).contains(letter.value), !letter.properties.isAlphabetic, !("0"..."9").contains(letter) {
                return letter.value
            }
            throw error(.invalidEscape, "unknown escape \\\(letter)", at: start)
        }
    }

    private mutating func parseClass() throws(PatternError) -> RegexNode {
        let open = position
        position += 1
        let negated = peek() == "^"
        if negated { position += 1 }
        var members: [ClosedRange<UInt32>] = []  // literals and ranges: subject to case folding
        var fixed: [ClosedRange<UInt32>] = []    // \d, \w, \s and negations: never folded
        var first = true
        while true {
            guard let next = peek() else { throw error(.invalidClass, "'[' without a matching ']'", at: open) }
            if next == "]" && !first {
                position += 1
                break
            }
            first = false
            if next == "[" && peek(1) == ":" {
                throw error(.unsupported, "POSIX classes like [:alpha:] are not supported; use ranges")
            }
            let itemStart = position
            switch try parseClassItem() {
            case .set(let set):
                if peek() == "-", let after = peek(1), after != "]" {
                    throw error(.invalidClass, "a class escape cannot start a range", at: itemStart)
                }
                fixed.append(contentsOf: set.ranges)
            case .scalar(let low):
                guard peek() == "-", let after = peek(1), after != "]" else {
                    members.append(low...low)
                    continue
                }
                position += 1
                guard case .scalar(let high) = try parseClassItem() else {
                    throw error(.invalidClass, "a class escape cannot end a range", at: itemStart)
                }
                guard low <= high else { throw error(.invalidClass, "the range is reversed", at: itemStart) }
                members.append(low...high)
            }
        }
        var set = ScalarSet(members)
        if caseInsensitive { set = set.caseFolded() }
        set = set.union(ScalarSet(fixed))
        return .set(negated ? set.inverted() : set)
    }

    private enum ClassItem {
        case scalar(UInt32)
        case set(ScalarSet)
    }

    private mutating func parseClassItem() throws(PatternError) -> ClassItem {
        let start = position
        let scalar = scalars[position]
        guard scalar == "\\" else {
            position += 1
            return .scalar(scalar.value)
        }
        guard let letter = peek(1) else { throw error(.invalidEscape, "trailing backslash") }
        position += 2
        if let set = Self.perlClass(letter) { return .set(set) }
        if "bBAz".unicodeScalars.contains(letter) {
            throw error(.invalidEscape, "\\\(letter) is an assertion and cannot appear in a class", at: start)
        }
        return .scalar(try escapedScalar(letter, at: start))
    }

    // MARK: Helpers

    private func literal(_ value: UInt32) -> RegexNode {
        guard caseInsensitive else { return .scalar(value) }
        let orbit = CaseFolding.orbit(of: value)
        return orbit.count == 1 ? .scalar(value) : .set(ScalarSet(scalars: orbit))
    }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        position + ahead < scalars.count ? scalars[position + ahead] : nil
    }

    private func error(_ code: PatternError.Code, _ message: String, at index: Int? = nil) -> PatternError {
        PatternError(code, at: offsets[index ?? position], message)
    }
}
