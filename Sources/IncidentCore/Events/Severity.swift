/// Incident priority, P0 (most severe) to P4. Raw values order them: a smaller value is worse.
public enum Severity: UInt8, CaseIterable, Sendable, Comparable, BinaryCodable, CustomStringConvertible {
    case p0, p1, p2, p3, p4

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `P0` … `P4`.
    public var description: String { "P\(rawValue)" }

    /// Whether `self` is more severe than `other`.
    public func isWorse(than other: Severity) -> Bool { rawValue < other.rawValue }

    /// The word used by the seed design's severity scale.
    public var word: String { ["critical", "high", "medium", "low", "info"][Int(rawValue)] }

    /// The PagerDuty Events v2 severity we emit (P3 and P4 both become `info`).
    public var pagerDutySeverity: String { ["critical", "error", "warning", "info", "info"][Int(rawValue)] }

    /// Maps a raw severity from any source we accept to P0–P4, or nil if it is not recognised.
    ///
    /// Accepted spellings, case-insensitive and trimmed:
    /// - our own scale and `P0`…`P4` / `SEV0`…`SEV4` / `SEV-0`…`SEV-4`;
    /// - PagerDuty Events v2: `critical`, `error`, `warning`, `info`;
    /// - Alertmanager `severity` label values in common use: `critical`, `page`, `error`, `high`,
    ///   `major`, `warning`, `warn`, `medium`, `moderate`, `minor`, `low`, `notice`, `info`,
    ///   `informational`, `none`, `debug`;
    /// - syslog names: `emergency`, `emerg`, `alert`, `fatal`, `crit`, `err`.
    public init?(normalizing raw: String) {
        let key = raw.trimmingASCIIWhitespace().lowercased()
        if let value = Severity.spellings[key] { self = value } else { return nil }
    }

    private static let spellings: [String: Severity] = {
        var table: [String: Severity] = [:]
        let groups: [(Severity, [String])] = [
            (.p0, ["critical", "crit", "fatal", "emergency", "emerg", "alert", "disaster"]),
            (.p1, ["high", "error", "err", "major", "page", "severe"]),
            (.p2, ["medium", "warning", "warn", "moderate", "average"]),
            (.p3, ["low", "minor", "notice"]),
            (.p4, ["info", "informational", "information", "none", "debug", "ok"]),
        ]
        for (severity, words) in groups {
            for word in words { table[word] = severity }
            let n = severity.rawValue
            for prefix in ["p", "sev", "sev-", "sev_", "s"] { table["\(prefix)\(n)"] = severity }
        }
        return table
    }()
}

extension String {
    /// The string without leading and trailing ASCII spaces, tabs and newlines.
    func trimmingASCIIWhitespace() -> String {
        let utf8 = self.utf8
        guard let first = utf8.firstIndex(where: { !isASCIISpace($0) }) else { return "" }
        let last = utf8.lastIndex(where: { !isASCIISpace($0) })!
        if first == utf8.startIndex && last == utf8.index(before: utf8.endIndex) { return self }
        return String(self[first...last])
    }
}

@inline(__always)
func isASCIISpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
