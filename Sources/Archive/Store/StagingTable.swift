/// How one row kind travels: COPY into a temporary staging table, then one set-based
/// `INSERT ... SELECT ... ON CONFLICT` into the archive table.
///
/// The column list is declared once here; the staging DDL, the COPY and the INSERT are all
/// derived from it, and each row kind's encoder (StagingTable+Rows.swift) appends fields in
/// the same order.
struct StagingTable {
    /// One column: its name (the same in both tables), its type in the staging table, and how
    /// the INSERT turns the staged value into the archive's.
    struct Column {
        let name: String
        let stagedType: String
        let selected: String

        static func plain(_ name: String, _ type: String) -> Column { Column(name: name, stagedType: type, selected: name) }

        /// Milliseconds since the epoch, staged as bigint, stored as timestamptz. The interval
        /// product is exact (microseconds in a 64-bit integer), unlike `to_timestamp(ms / 1000.0)`.
        static func timestamp(_ name: String) -> Column {
            Column(name: name, stagedType: "bigint", selected: "'epoch'::timestamptz + \(name) * interval '1 millisecond'")
        }
    }

    let target: String
    let columns: [Column]
    /// Between `FROM <staging>` and the conflict clause (e.g. `ORDER BY` for DISTINCT ON).
    var selectPrefix = ""
    var selectSuffix = ""
    let conflict: String

    var staging: String { target.replacingFirst("archive_", with: "archive_stage_") }

    /// Dropped at COMMIT (and with a ROLLBACK): nothing outlives the transaction, which also
    /// keeps this working behind a transaction-pooling proxy.
    var createSQL: String {
        "CREATE TEMP TABLE \(staging) (\(columns.map { "\($0.name) \($0.stagedType)" }.joined(separator: ", "))) ON COMMIT DROP"
    }

    var copySQL: String { "COPY \(staging) (\(columns.map(\.name).joined(separator: ", "))) FROM STDIN" }

    /// `$1` is the cluster id.
    var insertSQL: String {
        """
        INSERT INTO \(target) (cluster_id, \(columns.map(\.name).joined(separator: ", ")))
        SELECT \(selectPrefix)$1, \(columns.map(\.selected).joined(separator: ", ")) FROM \(staging) \(selectSuffix)
        \(conflict)
        """
    }
}

extension String {
    fileprivate func replacingFirst(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
