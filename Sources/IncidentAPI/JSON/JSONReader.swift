import IncidentCore

/// Reads typed fields out of one parsed JSON object, naming the full field path
/// (`events[3].resource.id`) in every error.
///
/// Conventions, the same on every endpoint: a missing field and an explicit `null` both mean
/// "not given"; fields the API does not know are ignored (producers add fields over time, and a
/// strict reader would break them); a known field of the wrong type is a 400 naming the field.
struct JSONReader {
    let object: JSONObject
    /// Path of this object from the body's root ("" for the root itself).
    let path: String

    init(_ value: JSONValue, path: String = "") throws(APIError) {
        guard case .object(let object) = value else {
            throw APIError.invalid(path, "must be an object, not \(value.typeName)")
        }
        self.object = object
        self.path = path
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value of `key`, nil when missing or null.
    func value(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    func string(_ key: String) throws(APIError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw APIError.invalid(field(key), "must be a string, not \(value.typeName)") }
        return text
    }

    func requiredString(_ key: String) throws(APIError) -> String {
        guard let text = try string(key) else { throw APIError.invalid(field(key), "is required") }
        return text
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw APIError.invalid(field(key), "must be true or false, not \(value.typeName)") }
        return flag
    }

    func double(_ key: String) throws(APIError) -> Double? {
        guard let value = value(key) else { return nil }
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: throw APIError.invalid(field(key), "must be a number, not \(value.typeName)")
        }
    }

    /// A whole number in `range`.
    func int(_ key: String, in range: ClosedRange<Int64> = Int64(Int32.min)...Int64(Int32.max)) throws(APIError) -> Int? {
        guard let value = value(key) else { return nil }
        let number: Int64
        switch value {
        case .int(let i): number = i
        case .double(let d) where d.isFinite && d == d.rounded() && abs(d) < 9e15: number = Int64(d)
        default: throw APIError.invalid(field(key), "must be a whole number, not \(value.typeName)")
        }
        guard range.contains(number) else { throw APIError.invalid(field(key), "must be between \(range.lowerBound) and \(range.upperBound)") }
        return Int(number)
    }

    /// A nested object, nil when missing.
    func object(_ key: String) throws(APIError) -> JSONReader? {
        guard let value = value(key) else { return nil }
        return try JSONReader(value, path: field(key))
    }

    func array(_ key: String, maxCount: Int = 10_000) throws(APIError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { throw APIError.invalid(field(key), "must be an array, not \(value.typeName)") }
        guard elements.count <= maxCount else { throw APIError.invalid(field(key), "has more than \(maxCount) elements") }
        return elements
    }

    /// An array of objects, each read with its index in the path.
    func objects(_ key: String, maxCount: Int = 10_000) throws(APIError) -> [JSONReader]? {
        guard let elements = try array(key, maxCount: maxCount) else { return nil }
        var readers: [JSONReader] = []
        for (i, element) in elements.enumerated() { readers.append(try JSONReader(element, path: "\(field(key))[\(i)]")) }
        return readers
    }

    func strings(_ key: String, maxCount: Int = 10_000) throws(APIError) -> [String]? {
        guard let elements = try array(key, maxCount: maxCount) else { return nil }
        var result: [String] = []
        for (i, element) in elements.enumerated() {
            guard case .string(let text) = element else {
                throw APIError.invalid("\(field(key))[\(i)]", "must be a string, not \(element.typeName)")
            }
            result.append(text)
        }
        return result
    }

    /// A map of strings. Numbers and booleans are accepted and kept as their text (producers
    /// send `"replicas": 3` in tags); nested objects and arrays are refused.
    func stringMap(_ key: String) throws(APIError) -> [String: String]? {
        guard let value = value(key) else { return nil }
        guard case .object(let object) = value else { throw APIError.invalid(field(key), "must be an object, not \(value.typeName)") }
        var map: [String: String] = [:]
        for (name, element) in object.fields {
            switch element {
            case .string(let text): map[name] = text
            case .int, .double, .bool: map[name] = element.text
            case .null: continue
            default: throw APIError.invalid("\(field(key)).\(name)", "must be a string, not \(element.typeName)")
            }
        }
        return map
    }

    /// A map of finite numbers (event metrics).
    func numberMap(_ key: String) throws(APIError) -> [String: Double]? {
        guard let value = value(key) else { return nil }
        guard case .object(let object) = value else { throw APIError.invalid(field(key), "must be an object, not \(value.typeName)") }
        var map: [String: Double] = [:]
        for (name, element) in object.fields {
            switch element {
            case .int(let i): map[name] = Double(i)
            case .double(let d): map[name] = d
            case .null: continue
            default: throw APIError.invalid("\(field(key)).\(name)", "must be a number, not \(element.typeName)")
            }
        }
        return map
    }

    /// An RFC 3339 string, or a number of milliseconds since the epoch.
    func instant(_ key: String) throws(APIError) -> Timestamp? {
        guard let value = value(key) else { return nil }
        switch value {
        case .string(let text):
            guard let instant = TimeText.instant(text) else {
                throw APIError.invalid(field(key), "must be an RFC 3339 time such as 2026-11-25T06:04:00Z")
            }
            return instant
        case .int(let ms) where TimeText.civilMilliseconds.contains(ms): return Timestamp(millisecondsSinceEpoch: ms)
        default: throw APIError.invalid(field(key), "must be an RFC 3339 time string (years 0001–9999), not \(value.typeName)")
        }
    }

    /// A duration string (`5m`, `1h30m`) or a number of seconds, in milliseconds.
    func duration(_ key: String) throws(APIError) -> Int64? {
        guard let value = value(key) else { return nil }
        switch value {
        case .string(let text):
            guard let ms = TimeText.duration(text) else {
                throw APIError.invalid(field(key), "must be a duration such as 90s, 5m or 1h30m")
            }
            return ms
        case .int(let seconds) where (0...366 * 86_400).contains(seconds): return seconds * 1_000
        default: throw APIError.invalid(field(key), "must be a duration string or a number of seconds")
        }
    }

    /// A string naming one of a fixed set of values.
    func named<T>(_ key: String, _ parse: (String) -> T?, expected: [String]) throws(APIError) -> T? {
        guard let text = try string(key) else { return nil }
        guard let parsed = parse(text) else {
            throw APIError.invalid(field(key), "must be one of \(expected.joined(separator: ", ")), not '\(text)'")
        }
        return parsed
    }
}
