/// One instruction of a compiled `SafeRegex` (Thompson's construction, as in RE2's `Prog`).
enum RegexInstruction: Sendable, Hashable {
    /// Consume exactly this scalar.
    case scalar(UInt32)
    /// Consume a scalar in `RegexProgram.sets[index]`.
    case set(Int)
    /// Consume any scalar except `\n`.
    case anyExceptNewline
    /// Continue only if the assertion holds at the current position.
    case assert(RegexAssertion)
    /// Continue at both targets.
    case split(Int, Int)
    case jump(Int)
    case match
}

/// A compiled pattern: instructions plus facts that let the matcher skip work.
struct RegexProgram: Sendable {
    /// Execution starts at index 0.
    var instructions: [RegexInstruction]
    var sets: [ScalarSet]
    /// Every path from the start passes `^` before consuming anything, so new threads are only
    /// started at position 0.
    var anchoredAtStart: Bool
    /// When the empty string cannot match: the scalars that can begin a match. The matcher starts
    /// no thread at a position whose scalar is outside this set (a generalised literal-prefix scan).
    var firstScalars: ScalarSet?
}

/// Compiles a `RegexNode` tree into a `RegexProgram`, enforcing `SafeRegex.maxProgramInstructions`
/// as it emits, so an oversized expansion such as `((a{100}){100}){100}` stops early.
struct RegexCompiler {
    private var instructions: [RegexInstruction] = []
    private var sets: [ScalarSet] = []
    private var setIndices: [ScalarSet: Int] = [:]
    /// The outermost repetition being expanded: where a `.tooComplex` error points.
    private var repetitionOffset: Int?
    private let patternBytes: Int

    private init(patternBytes: Int) {
        self.patternBytes = patternBytes
    }

    static func compile(_ root: RegexNode, patternBytes: Int) throws(PatternError) -> RegexProgram {
        var compiler = RegexCompiler(patternBytes: patternBytes)
        try compiler.emit(root)
        compiler.instructions.append(.match)  // `append` kept a slot free for it
        let program = compiler.instructions
        return RegexProgram(
            instructions: program,
            sets: compiler.sets,
            anchoredAtStart: Self.isAnchoredAtStart(program),
            firstScalars: Self.firstScalars(program, sets: compiler.sets)
        )
    }

    private mutating func append(_ instruction: RegexInstruction) throws(PatternError) -> Int {
        // One slot stays free for the final `.match`, so the error can name a repetition.
        guard instructions.count < SafeRegex.maxProgramInstructions - 1 else {
            throw PatternError(.tooComplex, at: repetitionOffset ?? patternBytes,
                               "the compiled pattern exceeds \(SafeRegex.maxProgramInstructions) instructions")
        }
        instructions.append(instruction)
        return instructions.count - 1
    }

    private mutating func emit(_ node: RegexNode) throws(PatternError) {
        switch node {
        case .empty:
            break
        case .scalar(let value):
            _ = try append(.scalar(value))
        case .set(let set):
            if let value = set.singleScalar {
                _ = try append(.scalar(value))
            } else {
                _ = try append(.set(index(of: set)))
            }
        case .anyExceptNewline:
            _ = try append(.anyExceptNewline)
        case .assertion(let assertion):
            _ = try append(.assert(assertion))
        case .concatenation(let items):
            for item in items { try emit(item) }
        case .alternation(let branches):
            try emitAlternation(branches)
        case .repetition(let body, let minimum, let maximum, let offset):
            let outermost = repetitionOffset == nil
            if outermost { repetitionOffset = offset }
            try emitRepetition(body, minimum: minimum, maximum: maximum)
            if outermost { repetitionOffset = nil }
        }
    }

    /// `split L1, next; L1: a; jump end; next: split L2, next2; L2: b; jump end; ... last; end:`
    private mutating func emitAlternation(_ branches: [RegexNode]) throws(PatternError) {
        var jumpsToEnd: [Int] = []
        for branch in branches.dropLast() {
            let split = try append(.split(0, 0))
            try emit(branch)
            jumpsToEnd.append(try append(.jump(0)))
            instructions[split] = .split(split + 1, instructions.count)
        }
        try emit(branches[branches.count - 1])
        for jump in jumpsToEnd { instructions[jump] = .jump(instructions.count) }
    }

    /// `x{n,m}` becomes n copies of `x` then m−n optional copies that all exit to the end;
    /// `x{n,}` becomes n−1 copies then `x+`; `x*` is a loop.
    private mutating func emitRepetition(_ body: RegexNode, minimum: Int, maximum: Int?) throws(PatternError) {
        if let maximum {
            for _ in 0..<minimum { try emit(body) }
            var optionalSplits: [Int] = []
            for _ in minimum..<maximum {
                optionalSplits.append(try append(.split(0, 0)))
                try emit(body)
            }
            for split in optionalSplits { instructions[split] = .split(split + 1, instructions.count) }
        } else if minimum == 0 {
            let loop = try append(.split(0, 0))
            try emit(body)
            _ = try append(.jump(loop))
            instructions[loop] = .split(loop + 1, instructions.count)
        } else {
            for _ in 0..<(minimum - 1) { try emit(body) }
            let start = instructions.count
            try emit(body)
            let split = try append(.split(start, 0))
            instructions[split] = .split(start, split + 1)
        }
    }

    private mutating func index(of set: ScalarSet) -> Int {
        if let index = setIndices[set] { return index }
        sets.append(set)
        setIndices[set] = sets.count - 1
        return sets.count - 1
    }

    // MARK: Analysis

    /// The instructions reachable from the start without consuming a scalar, not passing any
    /// assertion for which `stop` returns true.
    private static func epsilonReachable(_ program: [RegexInstruction], stoppingAt stop: (RegexAssertion) -> Bool) -> [Int] {
        var visited = [Bool](repeating: false, count: program.count)
        var pending = [0]
        var reached: [Int] = []
        while let pc = pending.popLast() {
            guard !visited[pc] else { continue }
            visited[pc] = true
            switch program[pc] {
            case .jump(let target): pending.append(target)
            case .split(let first, let second): pending.append(contentsOf: [first, second])
            case .assert(let assertion): if !stop(assertion) { pending.append(pc + 1) }
            case .scalar, .set, .anyExceptNewline, .match: reached.append(pc)
            }
        }
        return reached
    }

    private static func isAnchoredAtStart(_ program: [RegexInstruction]) -> Bool {
        epsilonReachable(program, stoppingAt: { $0 == .textStart }).isEmpty
    }

    /// Assertions are treated as passable, which over-approximates: safe for a filter.
    private static func firstScalars(_ program: [RegexInstruction], sets: [ScalarSet]) -> ScalarSet? {
        var ranges: [ClosedRange<UInt32>] = []
        for pc in epsilonReachable(program, stoppingAt: { _ in false }) {
            switch program[pc] {
            case .scalar(let value): ranges.append(value...value)
            case .set(let index): ranges.append(contentsOf: sets[index].ranges)
            default: return nil  // `.` or a possible empty match: no useful filter
            }
        }
        return ScalarSet(ranges)
    }
}
