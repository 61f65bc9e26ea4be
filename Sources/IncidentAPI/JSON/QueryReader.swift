import Foundation
import Hummingbird
import IncidentCore

/// Typed access to query parameters; errors name the parameter (`details.field` = `limit`).
struct QueryReader {
    let parameters: Parameters

    init(_ request: Request) { parameters = request.uri.queryParameters }

    /// The value, nil when absent or empty.
    func string(_ name: String) throws(APIError) -> String? {
        guard let value = parameters.get(name), !value.isEmpty else { return nil }
        guard value.utf8.count <= 1_024 else { throw APIError.invalid(name, "is longer than 1024 bytes") }
        return value
    }

    /// A comma-separated list (`status=new,acknowledged`); repeated parameters add up too.
    func list(_ name: String) throws(APIError) -> [String] {
        var values: [String] = []
        for raw in parameters.getAll(name) {
            guard raw.utf8.count <= 1_024 else { throw APIError.invalid(name, "is longer than 1024 bytes") }
            values += raw.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return values
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let text = try string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.invalid(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// RFC 3339 or milliseconds since the epoch.
    func instant(_ name: String) throws(APIError) -> Timestamp? {
        guard let text = try string(name) else { return nil }
        guard let instant = TimeText.queryInstant(text) else {
            throw APIError.invalid(name, "must be an RFC 3339 time (2026-11-25T06:04:00Z) or milliseconds since the epoch")
        }
        return instant
    }
}
