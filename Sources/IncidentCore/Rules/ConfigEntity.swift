/// The kinds of configuration the state machine stores.
public enum ConfigKind: UInt8, CaseIterable, Sendable, Comparable, BinaryCodable, CustomStringConvertible {
    case classificationRule, routingRule, groupingRule, schedule, escalationPolicy, channel
    case maintenanceWindow, team, user, apiKey

    public static func < (lhs: ConfigKind, rhs: ConfigKind) -> Bool { lhs.rawValue < rhs.rawValue }

    public var name: String {
        [
            "classification_rule", "routing_rule", "grouping_rule", "schedule", "escalation_policy", "channel",
            "maintenance_window", "team", "user", "api_key",
        ][Int(rawValue)]
    }
    public var description: String { name }

    /// Prefix of ids the state machine assigns when a create command leaves the id empty.
    public var idPrefix: String {
        ["cls", "rte", "grp", "sch", "pol", "chn", "mnt", "team", "user", "key"][Int(rawValue)]
    }
}

/// A reference from one configuration item to another, checked on create/update and delete.
public struct ConfigReference: Hashable, Sendable {
    public var kind: ConfigKind
    public var id: String
    /// Where in the referring item, for error messages (`levels[0].targets[1]`).
    public var field: String

    public init(_ kind: ConfigKind, _ id: String, field: String) {
        self.kind = kind
        self.id = id
        self.field = field
    }
}

/// A stored configuration item: rules, schedules, policies, channels, windows, teams, users, keys.
public protocol ConfigEntity: BinaryCodable, Sendable, Equatable {
    static var kind: ConfigKind { get }
    var id: String { get set }
    /// Checks the item on its own (lengths, ranges, regexes); references are checked by the state.
    func validate() throws(ValidationError)
    /// Other configuration items this one names; they must exist while it does.
    var references: [ConfigReference] { get }
}

/// Rules that are evaluated in order: by `position`, then id.
public protocol OrderedRule: ConfigEntity {
    var position: Int { get }
    var enabled: Bool { get }
}

extension ConfigEntity {
    /// Validation shared by every item: its id and name.
    static func checkIdentity(id: String, name: String) throws(ValidationError) {
        try TextLimits.check(id, field: "id", max: TextLimits.identifierBytes)
        for byte in id.utf8 where !(isIDByte(byte)) {
            throw ValidationError(field: "id", reason: "may contain only letters, digits, '-', '_', '.', ':' and '@'")
        }
        try TextLimits.check(name, field: "name", max: TextLimits.titleBytes)
    }
}

private func isIDByte(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
        || b == 0x2D || b == 0x5F || b == 0x2E || b == 0x3A || b == 0x40
}
