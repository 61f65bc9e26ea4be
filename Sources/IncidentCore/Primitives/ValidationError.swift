/// A rejected piece of configuration or input: which field, and why.
///
/// Raised when a command is validated, before anything is applied, so an invalid command
/// changes nothing. `field` is a dotted path (`layers[1].users`) that API layers pass through to
/// clients verbatim.
public struct ValidationError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }

    /// The same error with `prefix` prepended to its field path (`rules[3]` + `title`).
    public func nested(under prefix: String) -> ValidationError {
        ValidationError(field: field.isEmpty ? prefix : (field.hasPrefix("[") ? prefix + field : prefix + "." + field), reason: reason)
    }
}

/// Shared limits on strings in configuration and events, so no input can grow state unboundedly.
public enum TextLimits {
    /// Identifiers: config ids, user ids, keys of labels and tags.
    public static let identifierBytes = 128
    /// Names and titles.
    public static let titleBytes = 1_024
    /// Descriptions, notes, label values and other free text.
    public static let textBytes = 16 * 1_024

    public static func check(_ value: String, field: String, max: Int, allowEmpty: Bool = false) throws(ValidationError) {
        if !allowEmpty && value.isEmpty { throw ValidationError(field: field, reason: "must not be empty") }
        if value.utf8.count > max { throw ValidationError(field: field, reason: "longer than \(max) bytes") }
    }
}
