/// A failure of the archive layer itself (not of PostgreSQL): a schema newer than this binary,
/// a batch that does not continue the archive, an analytics request out of bounds.
///
/// `code == .invalidQuery` is the caller's input: the HTTP API answers 400 with `message`.
public struct ArchiveError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The database was migrated by a newer binary; this one refuses to write to it.
        public static let schemaTooNew = Code("schema_too_new")
        /// A recorded migration has another name than this binary's step of the same version.
        public static let schemaMismatch = Code("schema_mismatch")
        /// The batch does not start right after the expected watermark (and no gap covers the
        /// hole), or its indexes are inconsistent. A bug of the caller; nothing was written.
        public static let invalidBatch = Code("invalid_batch")
        /// A configuration value out of its documented range.
        public static let invalidConfiguration = Code("invalid_configuration")
        /// An analytics request out of bounds (limit, time range, cursor, query text).
        public static let invalidQuery = Code("invalid_query")
        /// The database returned something the archive cannot read (a value of the wrong shape).
        public static let corruptRow = Code("corrupt_row")
    }

    public var code: Code
    public var message: String
    /// The request field at fault, for `invalidQuery` (`limit`, `since`, `cursor`, ...).
    public var field: String?

    public init(code: Code, message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    static func invalidQuery(_ field: String, _ message: String) -> ArchiveError {
        ArchiveError(code: .invalidQuery, message: "\(field): \(message)", field: field)
    }

    public var description: String { "archive \(code): \(message)" }
}
