/// Reads one result row's text values left to right, as the types the query selected.
struct RowReader {
    private let row: [String?]
    private var column = 0

    init(_ row: [String?]) { self.row = row }

    private mutating func next() throws -> String? {
        guard column < row.count else { throw ArchiveError(code: .corruptRow, message: "row has only \(row.count) columns") }
        defer { column += 1 }
        return row[column]
    }

    private func corrupt(_ value: String, _ type: String) -> ArchiveError {
        ArchiveError(code: .corruptRow, message: "column \(column - 1): \"\(value)\" is not \(type)")
    }

    mutating func optionalText() throws -> String? { try next() }

    mutating func text() throws -> String {
        guard let value = try next() else { throw ArchiveError(code: .corruptRow, message: "column \(column - 1) is NULL") }
        return value
    }

    mutating func optionalInt64() throws -> Int64? {
        guard let value = try next() else { return nil }
        guard let number = Int64(value) else { throw corrupt(value, "an integer") }
        return number
    }

    mutating func int64() throws -> Int64 {
        let value = try text()
        guard let number = Int64(value) else { throw corrupt(value, "an integer") }
        return number
    }

    mutating func int() throws -> Int { Int(try int64()) }

    mutating func uint64() throws -> UInt64 {
        let value = try text()
        guard let number = UInt64(value) else { throw corrupt(value, "a non-negative integer") }
        return number
    }

    mutating func bool() throws -> Bool {
        switch try text() {
        case "t": return true
        case "f": return false
        case let value: throw corrupt(value, "a boolean")
        }
    }

    /// Four columns: count, mean, p50, p95.
    mutating func durationSummary() throws -> DurationSummary {
        DurationSummary(
            count: try int(), meanMilliseconds: try optionalInt64(), p50Milliseconds: try optionalInt64(),
            p95Milliseconds: try optionalInt64())
    }
}
