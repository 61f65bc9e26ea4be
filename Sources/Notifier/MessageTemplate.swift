/// A channel's message template: text with `{{placeholder}}` fields filled from the incident.
///
/// Syntax (also in docs/NOTIFICATIONS.md):
/// - `{{name}}` is replaced by the field's value; spaces inside the braces are ignored
///   (`{{ incident.title }}`). There are no conditionals, loops or escapes.
/// - Fields: `incident.id`, `incident.title`, `incident.description`, `incident.severity` (`P0`…`P4`),
///   `incident.severity_word` (`critical`…`info`), `incident.status`, `incident.team`,
///   `incident.assignee`, `incident.source`, `incident.environment`, `incident.category`,
///   `incident.component`, `incident.occurrences`, `incident.escalation_level`,
///   `incident.created_at`, `incident.updated_at` (RFC 3339), `incident.url` (empty without a
///   dashboard base URL), `incident.labels.KEY`, `notification.kind`, `notification.level`,
///   `notification.target`, `notification.attempt`, `notification.id`, `channel.name`.
/// - An unknown field or a missing label renders as the empty string.
/// - `{{` without a closing `}}` is kept literally.
/// - Values are inserted as they are; each channel escapes the result for its format (Slack
///   mrkdwn, HTML, JSON), so a template cannot break a payload.
/// - The rendered text is cut at `maxRenderedBytes` (on a character boundary).
public struct MessageTemplate: Sendable, Equatable {
    /// Longest rendered text, in UTF-8 bytes.
    public static let maxRenderedBytes = 16 * 1_024
    /// Longest placeholder name; anything longer between braces is not a placeholder.
    static let maxNameBytes = 128

    enum Piece: Sendable, Equatable {
        case text(Substring)
        case field(String)
    }

    let pieces: [Piece]

    public init(_ source: String) {
        var pieces: [Piece] = []
        var rest = source[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}"),
                rest.utf8.distance(from: open.upperBound, to: close.lowerBound) <= Self.maxNameBytes
            else { break }
            if open.lowerBound > rest.startIndex { pieces.append(.text(rest[..<open.lowerBound])) }
            let name = rest[open.upperBound..<close.lowerBound].filter { $0 != " " }
            pieces.append(.field(String(name)))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.text(rest)) }
        self.pieces = pieces
    }

    /// Renders with `lookup` giving each field's value (nil = unknown = empty).
    public func render(_ lookup: (String) -> String?) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let text): out += text
            case .field(let name): out += lookup(name) ?? ""
            }
            if out.utf8.count > Self.maxRenderedBytes { return truncated(out, toBytes: Self.maxRenderedBytes) }
        }
        return out
    }
}

/// `text` cut to at most `bytes` UTF-8 bytes without splitting a character.
func truncated(_ text: String, toBytes bytes: Int) -> String {
    guard text.utf8.count > bytes else { return text }
    var out = ""
    var used = 0
    for character in text {
        let size = character.utf8.count
        if used + size > bytes { break }
        out.append(character)
        used += size
    }
    return out
}

/// `text` cut to at most `characters` characters, ending in `…` when cut.
func shortened(_ text: String, toCharacters characters: Int) -> String {
    guard text.count > characters else { return text }
    return String(text.prefix(max(0, characters - 1))) + "…"
}
