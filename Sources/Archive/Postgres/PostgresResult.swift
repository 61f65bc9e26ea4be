import CLibPQ

/// What a statement returned, copied out of libpq's result (text format): column names, rows
/// of optional strings (nil for SQL NULL), the command tag and the affected row count.
public struct PostgresResult: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String?]]
    /// `INSERT 0 5`, `UPDATE 1`, `COMMIT`, `ROLLBACK`, ...
    public var commandTag: String
    /// Rows inserted, updated, deleted, copied or selected (libpq's PQcmdTuples), 0 otherwise.
    public var affectedRows: Int

    public init(columns: [String] = [], rows: [[String?]] = [], commandTag: String = "", affectedRows: Int = 0) {
        self.columns = columns
        self.rows = rows
        self.commandTag = commandTag
        self.affectedRows = affectedRows
    }

    /// The first column of the first row, when there is one and it is not NULL.
    public var firstValue: String? { rows.first?.first ?? nil }

    init(copying result: OpaquePointer) {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        rows = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            rows.append(
                (0..<Int32(columnCount)).map { column in
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                })
        }
        commandTag = String(cString: PQcmdStatus(result))
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }
}
