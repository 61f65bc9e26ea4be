extension RegexProgram {
    /// Unanchored search: simulates every NFA thread in lockstep over the text's scalars.
    ///
    /// Each thread list holds each instruction at most once (stamped with the step number), so a
    /// step costs O(instructions) and the whole search O(scalars × instructions). All working
    /// memory is one temporary allocation per call (on the stack when small); nothing is
    /// allocated per scalar.
    func matches(_ text: String) -> Bool {
        let count = instructions.count
        return instructions.withUnsafeBufferPointer { code in
            sets.withUnsafeBufferPointer { sets in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * count) { memory in
                    var machine = PikeMachine(code: code, sets: sets, memory: memory)
                    return machine.run(text, anchoredAtStart: anchoredAtStart, firstScalars: firstScalars)
                }
            }
        }
    }
}

/// The working state of one search. Memory layout: `stamps`, two thread lists and a stack, each
/// with one slot per instruction.
private struct PikeMachine {
    let code: UnsafeBufferPointer<RegexInstruction>
    let sets: UnsafeBufferPointer<ScalarSet>
    /// `stamps[pc] == step` when `pc` is already on the list being built for `step`.
    let stamps: UnsafeMutablePointer<Int>
    var current: UnsafeMutablePointer<Int>
    var next: UnsafeMutablePointer<Int>
    let stack: UnsafeMutablePointer<Int>
    var currentCount = 0
    var nextCount = 0

    init(code: UnsafeBufferPointer<RegexInstruction>, sets: UnsafeBufferPointer<ScalarSet>,
         memory: UnsafeMutableBufferPointer<Int>) {
        let count = code.count
        let base = memory.baseAddress!
        self.code = code
        self.sets = sets
        stamps = base
        current = base + count
        next = base + 2 * count
        stack = base + 3 * count
        stamps.initialize(repeating: -1, count: count)
    }

    mutating func run(_ text: String, anchoredAtStart: Bool, firstScalars: ScalarSet?) -> Bool {
        var scalars = text.unicodeScalars.makeIterator()
        var previous: Unicode.Scalar? = nil
        var scalar = scalars.next()
        var step = 0
        while true {
            // `current` holds the threads waiting to consume `scalar`; add one starting here.
            if (!anchoredAtStart || step == 0) && Self.canStartMatch(at: scalar, firstScalars: firstScalars),
               addThread(at: 0, toNext: false, step: step, previous: previous, following: scalar) {
                return true
            }
            guard let consumed = scalar else { return false }
            let following = scalars.next()
            nextCount = 0
            if currentCount == 0 {
                if anchoredAtStart { return false }
            } else {
                for slot in 0..<currentCount {
                    let pc = current[slot]
                    if consumes(code[pc], consumed.value),
                       addThread(at: pc + 1, toNext: true, step: step + 1, previous: consumed, following: following) {
                        return true
                    }
                }
            }
            swap(&current, &next)
            currentCount = nextCount
            previous = consumed
            scalar = following
            step += 1
        }
    }

    @inline(__always)
    private static func canStartMatch(at scalar: Unicode.Scalar?, firstScalars: ScalarSet?) -> Bool {
        guard let firstScalars else { return true }
        guard let scalar else { return false }  // the empty string cannot match
        return firstScalars.contains(scalar.value)
    }

    @inline(__always)
    private func consumes(_ instruction: RegexInstruction, _ value: UInt32) -> Bool {
        switch instruction {
        case .scalar(let expected): return value == expected
        case .set(let index): return sets[index].contains(value)
        case .anyExceptNewline: return value != 10
        case .assert, .split, .jump, .match: return false  // never on a thread list
        }
    }

    /// Follows every non-consuming path from `start` at the position between `previous` and
    /// `following`, appending the consuming instructions reached to a thread list. Returns true
    /// as soon as `.match` is reached: a yes/no search needs nothing more.
    private mutating func addThread(at start: Int, toNext: Bool, step: Int,
                                    previous: Unicode.Scalar?, following: Unicode.Scalar?) -> Bool {
        let list = toNext ? next : current
        var count = toNext ? nextCount : currentCount
        defer { if toNext { nextCount = count } else { currentCount = count } }
        var depth = 1
        stack[0] = start
        while depth > 0 {
            depth -= 1
            var pc = stack[depth]
            walk: while stamps[pc] != step {
                stamps[pc] = step
                switch code[pc] {
                case .jump(let target):
                    pc = target
                case .split(let first, let second):
                    // Each split is stamped once per call, so the stack never outgrows `code.count`.
                    assert(depth < code.count)
                    stack[depth] = second
                    depth += 1
                    pc = first
                case .assert(let assertion):
                    guard Self.holds(assertion, previous: previous, following: following) else { break walk }
                    pc += 1
                case .match:
                    return true
                case .scalar, .set, .anyExceptNewline:
                    list[count] = pc
                    count += 1
                    break walk
                }
            }
        }
        return false
    }

    private static func holds(_ assertion: RegexAssertion, previous: Unicode.Scalar?, following: Unicode.Scalar?) -> Bool {
        switch assertion {
        case .textStart: return previous == nil
        case .textEnd: return following == nil
        case .wordBoundary: return ScalarSet.isWordCharacter(previous) != ScalarSet.isWordCharacter(following)
        case .notWordBoundary: return ScalarSet.isWordCharacter(previous) == ScalarSet.isWordCharacter(following)
        }
    }
}
