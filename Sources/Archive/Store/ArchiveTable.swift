/// How one row kind reaches its archive table. Rows are encoded once, in the archive table's
/// own column order and types (cluster id first, times as timestamptz text), and then go one
/// of two ways:
///
/// - **Direct** (`isKeyedByLogIndex`): COPY straight into the archive table. Rows keyed by a
///   log index above the watermark cannot exist yet: they and the watermark commit together,
///   and the watermark compare-and-set ran first. This halves the cost of the largest kind,
///   events. Should a row exist anyway (someone moved the watermark back by hand), the COPY
///   fails with a unique violation, is rolled back to a savepoint, and the rows go the staged way.
/// - **Staged**: COPY into a session temporary table, then one set-based
///   `INSERT ... SELECT ... ON CONFLICT` that skips rows already archived (or, for incidents,
///   updates forward-only).
struct ArchiveTable: Sendable {
    let name: String
    /// Every column after `cluster_id`, in the table's order.
    let columns: [String]
    let isKeyedByLogIndex: Bool
    /// Between SELECT and the column list, and after FROM (DISTINCT ON needs an ORDER BY).
    var selectPrefix = ""
    var selectSuffix = ""
    var conflict = "ON CONFLICT DO NOTHING"

    private var columnList: String { (["cluster_id"] + columns).joined(separator: ", ") }
    var staging: String { "archive_stage_" + name.dropFirst("archive_".count) }

    var directCopySQL: String { "COPY \(name) (\(columnList)) FROM STDIN" }

    /// Created by the first batch of a session, emptied at every COMMIT (a ROLLBACK undoes its
    /// rows anyway). Creating and dropping it per batch (ON COMMIT DROP) costs ~4 ms of catalog
    /// work per table per batch, a fifth of a 1 000-entry batch. `IF NOT EXISTS` in every
    /// transaction keeps this right behind a transaction-pooling proxy, where consecutive
    /// transactions may run in different server sessions.
    var createStagingSQL: String { "CREATE TEMP TABLE IF NOT EXISTS \(staging) (LIKE \(name)) ON COMMIT DELETE ROWS" }

    var stagingCopySQL: String { "COPY \(staging) (\(columnList)) FROM STDIN" }

    var insertFromStagingSQL: String {
        "INSERT INTO \(name) (\(columnList)) SELECT \(selectPrefix)\(columnList) FROM \(staging) \(selectSuffix) \(conflict)"
    }
}
