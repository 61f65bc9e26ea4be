extension ArchiveStore {
    /// Writes `batch` and moves the watermark from `expectedWatermark` to `batch.lastIndex`, in
    /// one transaction: either all of it is archived or none of it.
    ///
    /// 1. The watermark compare-and-set runs first: `UPDATE ... WHERE last_index = expected`.
    ///    It locks the watermark row, so a second archiver with the same expectation waits,
    ///    then finds the row moved and gets `.watermarkMoved` without writing anything. This
    ///    fences an archiver that still believes it holds the lease.
    /// 2. Each non-empty row kind is COPYed into a staging table and inserted set-based:
    ///    rows already archived are skipped (`ON CONFLICT DO NOTHING`), incidents are
    ///    upserted forward-only (see `StagingTable.incidents`).
    ///
    /// Throws `ArchiveError.invalidBatch` before touching the database when the batch does not
    /// continue `expectedWatermark` (see `ArchiveBatch.validate`), and `PostgresError` when the
    /// database fails; with `isConnectionBroken` the outcome of an interrupted COMMIT is unknown,
    /// and retrying the same batch with the same expectation is safe (it either writes, or
    /// answers `.watermarkMoved(actual: batch.lastIndex)` because the first attempt committed).
    public func write(_ batch: ArchiveBatch, expectedWatermark: UInt64) throws -> WriteResult {
        try batch.validate(expectedWatermark: expectedWatermark, maxRows: configuration.maxRowsPerBatch)
        let staged = Self.stage(batch)  // encoded before the transaction, to keep it short
        do {
            let rows = try commit(staged, movingWatermarkFrom: expectedWatermark, to: batch.lastIndex)
            logger.debug(
                "archived batch",
                metadata: ["first": "\(batch.firstIndex)", "last": "\(batch.lastIndex)", "rows": "\(rows)", "staged": "\(batch.rowCount)"])
            return .written(rows: rows)
        } catch let moved as WatermarkMoved {
            logger.notice(
                "archive watermark moved by someone else",
                metadata: ["expected": "\(expectedWatermark)", "actual": "\(moved.actual)", "batch_last": "\(batch.lastIndex)"])
            return .watermarkMoved(actual: moved.actual)
        }
    }

    /// Upserts incident rows and timeline entries without moving the watermark (a re-sync from
    /// state after a gap), in one transaction that first checks the watermark is still
    /// `expectedWatermark`, so an archiver that lost its lease writes nothing.
    public func resync(incidents: [ArchivedIncident], timeline: [ArchivedTimelineEntry], expectedWatermark: UInt64) throws -> WriteResult {
        let page = ArchiveBatch(firstIndex: expectedWatermark + 1, lastIndex: expectedWatermark + 1, incidents: incidents, timeline: timeline)
        guard page.rowCount <= configuration.maxRowsPerBatch else {
            throw ArchiveError(code: .invalidBatch, message: "re-sync page: \(page.rowCount) rows exceed the limit of \(configuration.maxRowsPerBatch)")
        }
        guard incidents.allSatisfy({ Int32(exactly: $0.escalationLevel) != nil }) else {
            throw ArchiveError(code: .invalidBatch, message: "re-sync page: an incident's escalation level does not fit")
        }
        do {
            return .written(rows: try commit(Self.stage(page), movingWatermarkFrom: expectedWatermark, to: expectedWatermark))
        } catch let moved as WatermarkMoved {
            return .watermarkMoved(actual: moved.actual)
        }
    }

    /// One transaction: the watermark compare-and-set, then every staged row kind COPYed and
    /// inserted set-based. Returns the rows inserted or updated.
    private func commit(_ staged: [(StagingTable, CopyBuffer)], movingWatermarkFrom expected: UInt64, to last: UInt64) throws -> Int {
        try database.use { connection in
            try connection.transaction {
                try moveWatermark(from: expected, to: last, on: connection)
                var rows = 0
                for (table, data) in staged where !data.isEmpty {
                    try connection.exec(table.createSQL)
                    try connection.copyIn(table.copySQL, data: data)
                    rows += try connection.exec(table.insertSQL, params: [clusterID]).affectedRows
                }
                return rows
            }
        }
    }

    /// Thrown inside the transaction to roll it back when the compare-and-set missed.
    private struct WatermarkMoved: Error {
        let actual: UInt64
    }

    /// The compare-and-set. For the very first batch the row is created at 0 first; two
    /// archivers racing there both insert, one waits on the other's key and then does nothing,
    /// and its UPDATE finds the committed value instead of 0.
    private func moveWatermark(from expected: UInt64, to last: UInt64, on connection: PostgresConnection) throws {
        if expected == 0 {
            try connection.exec(
                "INSERT INTO archive_watermark (cluster_id, last_index, updated_at) VALUES ($1, 0, now()) ON CONFLICT (cluster_id) DO NOTHING",
                params: [clusterID])
        }
        let moved = try connection.exec(
            "UPDATE archive_watermark SET last_index = $2, updated_at = now() WHERE cluster_id = $1 AND last_index = $3",
            params: [clusterID, String(last), String(expected)])
        guard moved.affectedRows == 1 else {
            let actual = try connection.exec("SELECT last_index FROM archive_watermark WHERE cluster_id = $1", params: [clusterID])
            throw WatermarkMoved(actual: actual.firstValue.flatMap { UInt64($0) } ?? 0)
        }
    }

    /// Every row kind encoded in COPY text format, in a fixed order.
    static func stage(_ batch: ArchiveBatch) -> [(StagingTable, CopyBuffer)] {
        [
            (.events, encode(batch.events, bytesPerRow: 512, StagingTable.encode)),
            (.incidents, encode(batch.incidents, bytesPerRow: 512, StagingTable.encode)),
            (.timeline, encode(batch.timeline, bytesPerRow: 160, StagingTable.encode)),
            (.deliveries, encode(batch.deliveries, bytesPerRow: 128, StagingTable.encode)),
            (.configChanges, encode(batch.configChanges, bytesPerRow: 256, StagingTable.encode)),
            (.gaps, encode(batch.gaps, bytesPerRow: 64, StagingTable.encode)),
        ]
    }

    private static func encode<Row>(_ rows: [Row], bytesPerRow: Int, _ encode: (Row, inout CopyBuffer) -> Void) -> CopyBuffer {
        var buffer = CopyBuffer(reservingCapacity: rows.count * bytesPerRow)
        for row in rows {
            encode(row, &buffer)
            buffer.endRow()
        }
        return buffer
    }
}
