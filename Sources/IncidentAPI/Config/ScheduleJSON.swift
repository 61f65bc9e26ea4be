import IncidentCore

/// On-call schedules, escalation policies and the SLA policy.
extension OnCallSchedule: ConfigJSONCodable {
    /// `{"id", "name", "time_zone", "layers": [{"name", "users", "rotation", "handoff_minute",
    /// "start_date": "2026-01-05", "end_date", "restrictions": [{"days", "start_minute",
    /// "end_minute"}]}], "overrides": [{"user", "start", "end"}]}`. `rotation` is `daily`,
    /// `weekly`, `days:N` (every N local days) or `hours:N` (every N elapsed hours).
    static func decode(_ r: JSONReader, existing: OnCallSchedule?) throws(APIError) -> OnCallSchedule {
        let (id, name) = try r.identity()
        var layers: [ScheduleLayer] = []
        for layer in try r.objects("layers", maxCount: ScheduleLimits.maxLayers) ?? [] {
            guard let rotationText = try layer.string("rotation") else { throw APIError.invalid(layer.field("rotation"), "is required") }
            guard let rotation = Rotation(text: rotationText) else {
                throw APIError.invalid(layer.field("rotation"), "must be daily, weekly, days:N or hours:N")
            }
            guard let startText = try layer.string("start_date") else { throw APIError.invalid(layer.field("start_date"), "is required") }
            guard let start = CivilDate(iso: startText) else { throw APIError.invalid(layer.field("start_date"), "must be a date like 2026-01-05") }
            var end: CivilDate?
            if let endText = try layer.string("end_date") {
                guard let date = CivilDate(iso: endText) else { throw APIError.invalid(layer.field("end_date"), "must be a date like 2026-01-05") }
                end = date
            }
            var restrictions: [DailyTimeRange] = []
            for range in try layer.objects("restrictions", maxCount: ScheduleLimits.maxRestrictionsPerLayer) ?? [] {
                restrictions.append(try DailyTimeRange.decode(range))
            }
            layers.append(
                ScheduleLayer(
                    name: try layer.string("name") ?? "layer \(layers.count + 1)", users: try layer.strings("users") ?? [], rotation: rotation,
                    handoffMinute: try layer.int("handoff_minute") ?? 0, startDate: start, endDate: end, restrictions: restrictions))
        }
        var overrides: [ScheduleOverride] = []
        for o in try r.objects("overrides", maxCount: ScheduleLimits.maxOverrides) ?? [] {
            guard let start = try o.instant("start") else { throw APIError.invalid(o.field("start"), "is required") }
            guard let end = try o.instant("end") else { throw APIError.invalid(o.field("end"), "is required") }
            overrides.append(ScheduleOverride(user: try o.requiredString("user"), start: start, end: end))
        }
        return OnCallSchedule(id: id, name: name, timeZone: try r.requiredString("time_zone"), layers: layers, overrides: overrides)
    }

    func json(revealingSecrets: Bool) -> JSONObject {
        [
            "id": .string(id), "name": .string(name), "time_zone": .string(timeZone),
            "layers": .array(
                layers.map { layer in
                    [
                        "name": .string(layer.name), "users": .strings(layer.users), "rotation": .string(layer.rotation.text),
                        "handoff_minute": .int(layer.handoffMinute), "start_date": .string(layer.startDate.isoString),
                        "end_date": .string(layer.endDate?.isoString), "restrictions": .array(layer.restrictions.map(\.json)),
                    ]
                }),
            "overrides": .array(
                overrides.map { ["user": .string($0.user), "start": .string($0.start.rfc3339), "end": .string($0.end.rfc3339)] }),
        ]
    }
}

extension Rotation {
    init?(text: String) {
        switch text {
        case "daily": self = .daily
        case "weekly": self = .weekly
        default:
            let parts = text.split(separator: ":")
            guard parts.count == 2, let n = Int(parts[1]) else { return nil }
            switch parts[0] {
            case "days": self = .days(n)
            case "hours": self = .hours(n)
            default: return nil
            }
        }
    }

    var text: String {
        switch self {
        case .daily: return "daily"
        case .weekly: return "weekly"
        case .days(let n): return "days:\(n)"
        case .hours(let n): return "hours:\(n)"
        }
    }
}

extension EscalationPolicy: ConfigJSONCodable {
    /// `{"id", "name", "levels": [{"delay": "5m", "targets": ["schedule:primary", "user:alice",
    /// "team:ml-infra", "channel:slack-ops"], "channels": ["slack-ops"]}], "repeat_count",
    /// "acknowledge_timeout": "30m"}`. A level's `delay` is how long it waits before the next.
    static func decode(_ r: JSONReader, existing: EscalationPolicy?) throws(APIError) -> EscalationPolicy {
        let (id, name) = try r.identity()
        var levels: [EscalationLevel] = []
        for level in try r.objects("levels", maxCount: maxLevels) ?? [] {
            guard let delay = try level.duration("delay") else { throw APIError.invalid(level.field("delay"), "is required") }
            let targets = try level.namedList(
                "targets", EscalationTarget.init(text:), expected: ["user:<id>", "schedule:<id>", "team:<id>", "channel:<id>"])
            levels.append(EscalationLevel(delayMilliseconds: delay, targets: targets ?? [], channels: try level.strings("channels") ?? []))
        }
        return EscalationPolicy(
            id: id, name: name, levels: levels, repeatCount: try r.int("repeat_count") ?? 0,
            acknowledgeTimeoutMilliseconds: try r.duration("acknowledge_timeout"))
    }

    func json(revealingSecrets: Bool) -> JSONObject {
        [
            "id": .string(id), "name": .string(name),
            "levels": .array(
                levels.map { level in
                    [
                        "delay": .string(TimeText.durationText(level.delayMilliseconds)), "targets": .strings(level.targets.map(\.description)),
                        "channels": .strings(level.channels),
                    ]
                }),
            "repeat_count": .int(repeatCount),
            "acknowledge_timeout": .string(acknowledgeTimeoutMilliseconds.map(TimeText.durationText)),
        ]
    }
}

extension EscalationTarget {
    /// `user:<id>`, `schedule:<id>`, `team:<id>` or `channel:<id>`.
    init?(text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let id = String(text[text.index(after: colon)...])
        guard !id.isEmpty else { return nil }
        switch text[..<colon] {
        case "user": self = .user(id)
        case "schedule": self = .schedule(id)
        case "team": self = .team(id)
        case "channel": self = .channel(id)
        default: return nil
        }
    }
}

extension SLAPolicy {
    /// `{"P0": {"acknowledge_within": "5m", "resolve_within": "1h"}, …}`; severities left out
    /// keep their current targets.
    static func decode(_ r: JSONReader, current: SLAPolicy) throws(APIError) -> SLAPolicy {
        var policy = current
        for severity in Severity.allCases {
            guard let targets = try r.object(severity.description) else { continue }
            let i = Int(severity.rawValue)
            if let ack = try targets.duration("acknowledge_within") { policy.acknowledgeWithinMilliseconds[i] = ack }
            if let resolve = try targets.duration("resolve_within") { policy.resolveWithinMilliseconds[i] = resolve }
        }
        return policy
    }

    var json: JSONValue {
        var object = JSONObject()
        for severity in Severity.allCases {
            object[severity.description] = [
                "acknowledge_within": .string(TimeText.durationText(acknowledgeWithin(severity))),
                "resolve_within": .string(TimeText.durationText(resolveWithin(severity))),
            ]
        }
        return .object(object)
    }
}
