import IncidentCore

/// The JSON form of one kind of configuration item.
///
/// Field names follow IncidentCore's validation paths (`match.title`, `levels[0].delay`,
/// `layers[1].users`), so a validation error from the state machine names the JSON field the
/// client sent. Write-only fields (channel secrets) are never answered; on update, leaving one
/// out keeps the stored value.
protocol ConfigJSONCodable: ConfigEntity {
    /// Reads an item. `existing` is the stored item on update (write-only fields come from it).
    static func decode(_ r: JSONReader, existing: Self?) throws(APIError) -> Self
    /// The item as answered, or with its write-only fields as well (the base a PATCH merges onto).
    func json(revealingSecrets: Bool) -> JSONObject
}

extension JSONReader {
    /// `id` (optional on create: the state machine assigns `<prefix>-<n>`) and `name`.
    func identity() throws(APIError) -> (id: String, name: String) {
        (try string("id") ?? "", try requiredString("name"))
    }

    /// A list of names parsed one by one, errors naming the element.
    func namedList<T>(_ key: String, _ parse: (String) -> T?, expected: [String]) throws(APIError) -> [T]? {
        guard let names = try strings(key) else { return nil }
        var values: [T] = []
        for (i, name) in names.enumerated() {
            guard let value = parse(name) else {
                throw APIError.invalid("\(field(key))[\(i)]", "must be one of \(expected.joined(separator: ", ")), not '\(name)'")
            }
            values.append(value)
        }
        return values
    }

    /// A `ValidationError` thrown while building a value, re-rooted at `key`.
    func validating<T>(_ key: String, _ build: () throws(ValidationError) -> T) throws(APIError) -> T {
        do { return try build() } catch {
            let path = field(key)
            throw APIError.invalid(error.field.isEmpty ? path : (error.field.hasPrefix("[") ? path + error.field : "\(path).\(error.field)"), error.reason)
        }
    }
}

extension EventMatcher {
    static let categoryNames = EventCategory.allCases.map(\.name)

    /// `{"sources", "event_types", "categories", "severities", "environments", "services",
    /// "tags": [{"key", "op", "value"}], "labels": [...], "title": "<regex>"}`; all optional.
    static func decode(_ r: JSONReader?) throws(APIError) -> EventMatcher {
        guard let r else { return EventMatcher() }
        var title: SafeRegex?
        if let pattern = try r.string("title") {
            do { title = try SafeRegex(pattern) } catch { throw APIError.invalid(r.field("title"), "invalid regex: \(error)") }
        }
        return EventMatcher(
            sources: try r.strings("sources") ?? [], eventTypes: try r.strings("event_types") ?? [],
            categories: try r.namedList("categories", EventCategory.init(name:), expected: categoryNames) ?? [],
            severities: try r.namedList("severities", Severity.init(normalizing:), expected: ["P0", "P1", "P2", "P3", "P4"]) ?? [],
            environments: try r.strings("environments") ?? [], services: try r.strings("services") ?? [],
            tags: try labelMatchers(r, "tags"), labels: try labelMatchers(r, "labels"), title: title)
    }

    private static func labelMatchers(_ r: JSONReader, _ key: String) throws(APIError) -> [LabelMatcher] {
        var matchers: [LabelMatcher] = []
        for (i, m) in (try r.objects(key, maxCount: maxConditionValues) ?? []).enumerated() {
            let name = try m.requiredString("key")
            let op = try m.named("op", LabelMatcher.Operator.init(name:), expected: LabelMatcher.Operator.allCases.map(\.name)) ?? .equals
            let value = try m.string("value") ?? ""
            matchers.append(try r.validating("\(key)[\(i)]") { () throws(ValidationError) in try LabelMatcher(key: name, op: op, value: value) })
        }
        return matchers
    }

    var json: JSONValue {
        func matchers(_ list: [LabelMatcher]) -> JSONValue {
            .array(list.map { ["key": .string($0.key), "op": .string($0.op.name), "value": .string($0.value)] })
        }
        return [
            "sources": .strings(sources), "event_types": .strings(eventTypes), "categories": .strings(categories.map(\.name)),
            "severities": .strings(severities.map(\.description)), "environments": .strings(environments),
            "services": .strings(services), "tags": matchers(tags), "labels": matchers(labels), "title": .string(title?.pattern),
        ]
    }
}

extension ZonedTimeWindow {
    /// `{"time_zone": "Europe/Berlin", "range": {"days": ["monday"], "start_minute": 540, "end_minute": 1020}}`.
    static func decode(_ r: JSONReader) throws(APIError) -> ZonedTimeWindow {
        guard let range = try r.object("range") else { throw APIError.invalid(r.field("range"), "is required") }
        return ZonedTimeWindow(timeZone: try r.requiredString("time_zone"), range: try DailyTimeRange.decode(range))
    }

    var json: JSONValue { ["time_zone": .string(timeZone), "range": range.json] }
}

extension DailyTimeRange {
    /// `{"days": ["monday", …] (empty: every day), "start_minute": 0–1439, "end_minute": 0–1440}`;
    /// an end before the start wraps past midnight.
    static func decode(_ r: JSONReader) throws(APIError) -> DailyTimeRange {
        let days = try r.namedList("days", Weekday.init(name:), expected: Weekday.allCases.map(\.name)) ?? []
        guard let start = try r.int("start_minute") else { throw APIError.invalid(r.field("start_minute"), "is required") }
        guard let end = try r.int("end_minute") else { throw APIError.invalid(r.field("end_minute"), "is required") }
        return DailyTimeRange(days: Set(days), startMinute: start, endMinute: end)
    }

    var json: JSONValue {
        ["days": .strings(days.sorted().map(\.name)), "start_minute": .int(startMinute), "end_minute": .int(endMinute)]
    }
}
