/// A bordered text table in the style of `etcdctl -w table`: upper-case headers, cells
/// padded to the widest in their column, every line the same width.
///
/// ```
/// +-----------------------+----+---------+
/// |       ENDPOINT        | ID |  ROLE   |
/// +-----------------------+----+---------+
/// | http://127.0.0.1:8080 |  1 | leader  |
/// +-----------------------+----+---------+
/// ```
/// Headers are centred; numbers are right-aligned, other cells left-aligned. Newlines and
/// tabs in cells become spaces so one row is one line.
public struct Table: Sendable, Equatable {
    public var headers: [String]
    public var rows: [[String]]

    public init(headers: [String], rows: [[String]] = []) {
        self.headers = headers
        self.rows = rows
    }

    /// The table as text, ending with a newline.
    public func rendered() -> String {
        let header = headers.map { Self.clean($0).uppercased() }
        let body = rows.map { row in (0..<headers.count).map { $0 < row.count ? Self.clean(row[$0]) : "-" } }
        var widths = header.map(\.count)
        for row in body {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        let rule = "+" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "+\n"
        var text = rule
        text += line(header.enumerated().map { Self.centre($1, width: widths[$0]) })
        text += rule
        for row in body {
            text += line(row.enumerated().map { i, cell in Self.isNumber(cell) ? Self.pad(cell, width: widths[i], right: true) : Self.pad(cell, width: widths[i]) })
        }
        if !body.isEmpty { text += rule }
        return text
    }

    private func line(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |\n" }

    static func clean(_ text: String) -> String {
        String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }

    static func pad(_ text: String, width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }

    static func centre(_ text: String, width: Int) -> String {
        let total = max(0, width - text.count)
        return String(repeating: " ", count: total / 2) + text + String(repeating: " ", count: total - total / 2)
    }

    static func isNumber(_ text: String) -> Bool { !text.isEmpty && Int64(text) != nil }
}

/// Shortens `text` to `limit` characters, ending with `…` when cut.
func truncated(_ text: String, to limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(max(0, limit - 1))) + "…"
}
