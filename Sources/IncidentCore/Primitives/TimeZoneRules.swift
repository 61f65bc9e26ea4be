import Foundation

/// The rules of one IANA time zone, as needed by schedules, routing windows and maintenance
/// windows: the UTC offset at an instant, the wall clock at an instant, and the instant of a
/// wall-clock time.
///
/// Backed by Foundation's `TimeZone`, which on Linux reads the tz database compiled into ICU
/// inside the toolchain's Foundation, not `/usr/share/zoneinfo`: no file I/O, and every replica
/// running the same binary computes the same answer. (Replicas on binaries with different tz
/// data could disagree about a zone whose rules changed in between; rolling upgrades should not
/// straddle a tz-rule change for zones in use. ICU would also read override files under
/// `/usr/share/icu/<version>/` if a host had them; hosts of one cluster must agree on those.)
public struct TimeZoneRules: Sendable, Hashable {
    public let identifier: String
    private let zone: TimeZone

    /// Returns nil for an identifier that is not an IANA `Area/Location` zone name (or `UTC`) that
    /// ICU knows. Foundation alone also accepts abbreviations and offsets (`BST` is Bangladesh
    /// there, `GMT+2` has the opposite sign of `Etc/GMT-2`); those mislead more than they help.
    /// (ICU's own list of known identifiers cannot be used: it has `Asia/Calcutta` but not the
    /// current `Asia/Kolkata`, which it still resolves.)
    public init?(identifier: String) {
        guard identifier == "UTC" || TimeZoneRules.looksLikeAreaLocation(identifier),
            let zone = TimeZone(identifier: identifier)
        else { return nil }
        self.identifier = identifier
        self.zone = zone
    }

    public static let utc = TimeZoneRules(identifier: "UTC")!

    private static func looksLikeAreaLocation(_ identifier: String) -> Bool {
        let utf8 = identifier.utf8
        guard utf8.count >= 3, utf8.count <= 64, utf8.contains(0x2F), utf8.first != 0x2F, utf8.last != 0x2F else { return false }
        return utf8.allSatisfy { b in
            (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2F || b == 0x5F || b == 0x2D || b == 0x2B
        }
    }

    public static func == (lhs: TimeZoneRules, rhs: TimeZoneRules) -> Bool { lhs.identifier == rhs.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }

    /// Seconds east of UTC in force at `instant`.
    public func offsetSeconds(at instant: Timestamp) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant.millisecondsSinceEpoch) / 1000))
    }

    /// The local wall clock at `instant`.
    public func localTime(at instant: Timestamp) -> CivilDateTime {
        let offset = Int64(offsetSeconds(at: instant)) * 1000
        return CivilDateTime(utcMilliseconds: instant.millisecondsSinceEpoch &+ offset)
    }

    /// The instant at which the local clock shows `local`.
    ///
    /// In a spring-forward gap (a wall time that never happens) the wall time is read with the
    /// offset in force before the gap, so it lands as far past the jump as it was into the gap
    /// (02:30 in a 02:00–03:00 gap becomes 03:30), the usual "shift forward" rule.
    /// In a fall-back overlap (a wall time that happens twice) it is the earlier of the two.
    public func instant(of local: CivilDateTime) -> Timestamp {
        let wallMs = local.secondsSinceEpochAsUTC.multipliedReportingOverflow(by: 1000).partialValue
        // Candidate offsets: those in force a day either side cover every real-world transition.
        let before = offsetSeconds(at: Timestamp(millisecondsSinceEpoch: wallMs &- Milliseconds.day))
        let after = offsetSeconds(at: Timestamp(millisecondsSinceEpoch: wallMs &+ Milliseconds.day))
        var matches: [Int64] = []
        for offset in Set([before, after]) {
            let candidate = wallMs &- Int64(offset) * 1000
            if offsetSeconds(at: Timestamp(millisecondsSinceEpoch: candidate)) == offset { matches.append(candidate) }
        }
        if let earliest = matches.min() { return Timestamp(millisecondsSinceEpoch: earliest) }
        // Gap: read the wall time with the offset in force before the transition.
        return Timestamp(millisecondsSinceEpoch: wallMs &- Int64(before) * 1000)
    }
}
