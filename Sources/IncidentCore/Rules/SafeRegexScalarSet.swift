/// A set of Unicode scalar values, as used by `SafeRegex` for classes and folded literals.
///
/// Stored as sorted, disjoint, non-adjacent ranges, plus a 128-bit bitmap of the ASCII members so
/// that the common case of matching an ASCII scalar is two shifts and no search.
struct ScalarSet: Hashable, Sendable {
    static let maxScalar: UInt32 = 0x10FFFF

    /// Sorted, disjoint and non-adjacent.
    private(set) var ranges: [ClosedRange<UInt32>]
    private var asciiLow: UInt64 = 0
    private var asciiHigh: UInt64 = 0

    init(_ unsorted: some Sequence<ClosedRange<UInt32>>) {
        var merged: [ClosedRange<UInt32>] = []
        for range in unsorted.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        ranges = merged
        for range in merged where range.lowerBound < 128 {
            for value in range.lowerBound...min(range.upperBound, 127) {
                if value < 64 { asciiLow |= 1 << UInt64(value) } else { asciiHigh |= 1 << UInt64(value - 64) }
            }
        }
    }

    init(scalars: some Sequence<UInt32>) {
        self.init(scalars.map { $0...$0 })
    }

    @inline(__always)
    func contains(_ value: UInt32) -> Bool {
        if value < 64 { return asciiLow & (1 << UInt64(value)) != 0 }
        if value < 128 { return asciiHigh & (1 << UInt64(value - 64)) != 0 }
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            let range = ranges[middle]
            if value < range.lowerBound {
                high = middle
            } else if value > range.upperBound {
                low = middle + 1
            } else {
                return true
            }
        }
        return false
    }

    /// The only member, when there is exactly one.
    var singleScalar: UInt32? {
        ranges.count == 1 && ranges[0].lowerBound == ranges[0].upperBound ? ranges[0].lowerBound : nil
    }

    func union(_ other: ScalarSet) -> ScalarSet {
        ScalarSet(ranges + other.ranges)
    }

    /// Every scalar not in the set (surrogate code points included; they never occur in text).
    func inverted() -> ScalarSet {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for range in ranges {
            if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
            next = range.upperBound &+ 1
        }
        if !ranges.isEmpty && ranges[ranges.count - 1].upperBound == Self.maxScalar { return ScalarSet(result) }
        result.append(next...Self.maxScalar)
        return ScalarSet(result)
    }

    /// The set closed under simple case mapping: every member's case variants are added.
    func caseFolded() -> ScalarSet {
        var added: [ClosedRange<UInt32>] = ranges
        let memberCount = ranges.reduce(0) { $0 + Int($1.upperBound - $1.lowerBound) + 1 }
        if memberCount <= 256 {
            // Small classes (the usual `[a-z0-9_]`): look each member up.
            for range in ranges {
                for value in range { added.append(contentsOf: CaseFolding.orbit(of: value).map { $0...$0 }) }
            }
        } else {
            for (scalar, orbit) in CaseFolding.orbits where contains(scalar) {
                added.append(contentsOf: orbit.map { $0...$0 })
            }
        }
        return ScalarSet(added)
    }

    // ASCII classes, as in RE2 (Perl classes are ASCII-only there too).
    static let digits = ScalarSet([48...57])
    static let wordCharacters = ScalarSet([48...57, 65...90, 95...95, 97...122])
    static let whitespace = ScalarSet([9...10, 12...13, 32...32])

    /// `\b` and `\w` use ASCII word characters: `[0-9A-Za-z_]`.
    @inline(__always)
    static func isWordCharacter(_ scalar: Unicode.Scalar?) -> Bool {
        guard let value = scalar?.value, value < 128 else { return false }
        return wordCharacters.contains(value)
    }
}

/// Simple case-insensitive equivalence classes ("orbits"), built from the standard library's
/// Unicode tables: two scalars are equivalent when one is the single-scalar lowercase or uppercase
/// mapping of the other, closed transitively (so `k`, `K` and KELVIN SIGN U+212A form one orbit, as
/// do `s`, `S` and LONG S U+017F). Multi-scalar mappings (`ß` → `SS`) are ignored. One deliberate
/// quirk of the transitive closure: dotless `ı` (uppercase `I`) joins the orbit of `i` and `I`.
enum CaseFolding {
    /// Scalars with case variants, mapped to their whole orbit (sorted, including themselves).
    /// A `static let` is initialised lazily and thread-safely, once per process (about 5 ms).
    static let orbits: [UInt32: [UInt32]] = buildOrbits()

    /// `scalar` and its case variants, sorted; just `[scalar]` when it has none.
    static func orbit(of scalar: UInt32) -> [UInt32] {
        // ASCII fast path: only letters have variants, so digits and punctuation skip the table.
        if scalar < 128 && !(65...90).contains(scalar) && !(97...122).contains(scalar) { return [scalar] }
        return orbits[scalar] ?? [scalar]
    }

    /// Every cased scalar lies in planes 0 and 1 (checked for Unicode 16: planes 2–16 hold
    /// ideographs, tags and private use), so only those are scanned.
    private static let scannedScalars: ClosedRange<UInt32> = 0...0x1_FFFF

    private static func buildOrbits() -> [UInt32: [UInt32]] {
        var parent: [UInt32: UInt32] = [:]
        func root(_ value: UInt32) -> UInt32 {
            var current = value
            while let next = parent[current], next != current { current = next }
            return current
        }
        func join(_ a: UInt32, _ b: UInt32) {
            let rootA = root(a), rootB = root(b)
            parent[rootA] = min(rootA, rootB)
            parent[rootB] = min(rootA, rootB)
        }
        for value in scannedScalars {
            guard let scalar = Unicode.Scalar(value), scalar.properties.changesWhenCaseMapped else { continue }
            for mapping in [scalar.properties.lowercaseMapping, scalar.properties.uppercaseMapping] {
                let mapped = mapping.unicodeScalars
                if mapped.count == 1, let other = mapped.first, other.value != value { join(value, other.value) }
            }
        }
        var members: [UInt32: [UInt32]] = [:]
        for value in parent.keys { members[root(value), default: []].append(value) }
        var orbits: [UInt32: [UInt32]] = [:]
        for group in members.values where group.count > 1 {
            let sorted = group.sorted()
            for value in sorted { orbits[value] = sorted }
        }
        return orbits
    }
}
