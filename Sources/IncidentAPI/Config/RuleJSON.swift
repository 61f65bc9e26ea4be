import IncidentCore

/// Classification, routing and grouping rules and maintenance windows. Rules are evaluated by
/// `position` (then id); every rule has `enabled` (default true) and a `match` (see
/// `EventMatcher.decode`).
extension ClassificationRule: ConfigJSONCodable {
    /// `{"id", "name", "position", "enabled", "match", "set_severity", "set_category",
    /// "set_team", "continue"}`.
    static func decode(_ r: JSONReader, existing: ClassificationRule?) throws(APIError) -> ClassificationRule {
        let (id, name) = try r.identity()
        return ClassificationRule(
            id: id, name: name, position: try r.int("position") ?? 0, enabled: try r.bool("enabled") ?? true,
            match: try EventMatcher.decode(try r.object("match")),
            setSeverity: try r.named("set_severity", Severity.init(normalizing:), expected: ["P0", "P1", "P2", "P3", "P4"]),
            setCategory: try r.named("set_category", EventCategory.init(name:), expected: EventMatcher.categoryNames),
            setTeam: try r.string("set_team"), continue: try r.bool("continue") ?? false)
    }

    func json(revealingSecrets: Bool) -> JSONObject {
        [
            "id": .string(id), "name": .string(name), "position": .int(position), "enabled": .bool(enabled), "match": match.json,
            "set_severity": .string(setSeverity?.description), "set_category": .string(setCategory?.name),
            "set_team": .string(setTeam), "continue": .bool(self.continue),
        ]
    }
}

extension RoutingRule: ConfigJSONCodable {
    /// `{"id", "name", "position", "enabled", "match", "active_window", "team",
    /// "escalation_policy", "channels", "suppress", "continue"}`.
    static func decode(_ r: JSONReader, existing: RoutingRule?) throws(APIError) -> RoutingRule {
        let (id, name) = try r.identity()
        return RoutingRule(
            id: id, name: name, position: try r.int("position") ?? 0, enabled: try r.bool("enabled") ?? true,
            match: try EventMatcher.decode(try r.object("match")),
            activeWindow: try r.object("active_window").map { (w) throws(APIError) in try ZonedTimeWindow.decode(w) },
            team: try r.string("team"), escalationPolicy: try r.string("escalation_policy"),
            channels: try r.strings("channels") ?? [], suppress: try r.bool("suppress") ?? false, continue: try r.bool("continue") ?? false)
    }

    func json(revealingSecrets: Bool) -> JSONObject {
        [
            "id": .string(id), "name": .string(name), "position": .int(position), "enabled": .bool(enabled), "match": match.json,
            "active_window": activeWindow?.json ?? .null, "team": .string(team), "escalation_policy": .string(escalationPolicy),
            "channels": .strings(channels), "suppress": .bool(suppress), "continue": .bool(self.continue),
        ]
    }
}

extension GroupingRule: ConfigJSONCodable {
    static let fieldNames = ["source", "event_type", "category", "environment", "resource_id", "label:<name>", "tag:<name>"]

    /// `{"id", "name", "position", "enabled", "match", "group_by": ["source", "label:cluster"],
    /// "window": "10m"}`.
    static func decode(_ r: JSONReader, existing: GroupingRule?) throws(APIError) -> GroupingRule {
        let (id, name) = try r.identity()
        guard let window = try r.duration("window") else { throw APIError.invalid(r.field("window"), "is required") }
        return GroupingRule(
            id: id, name: name, position: try r.int("position") ?? 0, enabled: try r.bool("enabled") ?? true,
            match: try EventMatcher.decode(try r.object("match")),
            groupBy: try r.namedList("group_by", GroupField.init(name:), expected: fieldNames) ?? [], windowMilliseconds: window)
    }

    func json(revealingSecrets: Bool) -> JSONObject {
        [
            "id": .string(id), "name": .string(name), "position": .int(position), "enabled": .bool(enabled), "match": match.json,
            "group_by": .strings(groupBy.map(\.description)), "window": .string(TimeText.durationText(windowMilliseconds)),
        ]
    }
}

extension MaintenanceWindow: ConfigJSONCodable {
    /// One-off: `{"id", "name", "match", "start", "end"}`. Weekly: `{"id", "name", "match",
    /// "window": {"time_zone", "range"}, "from", "until"}` (`from`/`until` optional bounds).
    static func decode(_ r: JSONReader, existing: MaintenanceWindow?) throws(APIError) -> MaintenanceWindow {
        let (id, name) = try r.identity()
        let schedule: MaintenanceSchedule
        if let window = try r.object("window") {
            schedule = .weekly(window: try ZonedTimeWindow.decode(window), from: try r.instant("from"), until: try r.instant("until"))
        } else {
            guard let start = try r.instant("start") else { throw APIError.invalid(r.field("start"), "is required (or give a weekly window)") }
            guard let end = try r.instant("end") else { throw APIError.invalid(r.field("end"), "is required") }
            schedule = .oneOff(start: start, end: end)
        }
        return MaintenanceWindow(id: id, name: name, match: try EventMatcher.decode(try r.object("match")), schedule: schedule)
    }

    func json(revealingSecrets: Bool) -> JSONObject {
        var object: JSONObject = ["id": .string(id), "name": .string(name), "match": match.json]
        switch schedule {
        case .oneOff(let start, let end):
            object["start"] = .string(start.rfc3339)
            object["end"] = .string(end.rfc3339)
        case .weekly(let window, let from, let until):
            object["window"] = window.json
            object["from"] = .string(from?.rfc3339)
            object["until"] = .string(until?.rfc3339)
        }
        return object
    }
}
