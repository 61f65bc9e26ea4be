extension ArchiveStore {
    /// Writes `batch` and moves the watermark from `expectedWatermark` to `batch.lastIndex`, in
    /// one transaction: either all of it is archived or none of it.
    ///
    /// 1. The watermark compare-and-set runs first: `UPDATE ... WHERE last_index = expected`.
    ///    It locks the watermark row, so a second archiver with the same expectation waits,
    ///    then finds the row moved and gets `.watermarkMoved` without writing anything. This
    ///    fences an archiver that still believes it holds the lease.
    /// 2. Each non-empty row kind is COPYed in (see `ArchiveTable`): rows keyed by log index
    ///    straight into their table, the others through a staging table and a set-based
    ///    INSERT that skips rows already archived (`ON CONFLICT DO NOTHING`) or, for incidents,
    ///    upserts forward-only.
    ///
    /// Throws `ArchiveError.invalidBatch` before touching the database when the batch does not
    /// continue `expectedWatermark` (see `ArchiveBatch.validate`), and `PostgresError` when the
    /// database fails; with `isConnectionBroken` the outcome of an interrupted COMMIT is unknown,
    /// and retrying the same batch with the same expectation is safe (it either writes, or
    /// answers `.watermarkMoved(actual: batch.lastIndex)` because the first attempt committed).
    public func write(_ batch: ArchiveBatch, expectedWatermark: UInt64) throws -> WriteResult {
        try write(prepare(batch, expectedWatermark: expectedWatermark))
    }

    /// Validates and encodes `batch` without touching the database (see `PreparedBatch`).
    public func prepare(_ batch: ArchiveBatch, expectedWatermark: UInt64) throws -> PreparedBatch {
        try Self.prepare(batch, expectedWatermark: expectedWatermark, clusterID: clusterID, maxRows: configuration.maxRowsPerBatch)
    }

    /// `prepare` on any thread: a writer can encode its next batch while the database commits
    /// the previous one.
    public static func prepare(_ batch: ArchiveBatch, expectedWatermark: UInt64, clusterID: String, maxRows: Int) throws -> PreparedBatch {
        try batch.validate(expectedWatermark: expectedWatermark, maxRows: maxRows)
        return PreparedBatch(
            firstIndex: batch.firstIndex, lastIndex: batch.lastIndex, expectedWatermark: expectedWatermark, clusterID: clusterID,
            rowCount: batch.rowCount, encoded: encode(batch, clusterID: clusterID))
    }

    /// Writes a prepared batch (see `write(_:expectedWatermark:)`).
    public func write(_ prepared: PreparedBatch) throws -> WriteResult {
        guard prepared.clusterID == clusterID else {
            throw ArchiveError(code: .invalidBatch, message: "the batch was prepared for cluster \(prepared.clusterID), not \(clusterID)")
        }
        let (batch, expectedWatermark) = (prepared, prepared.expectedWatermark)
        do {
            let rows = try commit(prepared.encoded, movingWatermarkFrom: expectedWatermark, to: batch.lastIndex)
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
            return .written(rows: try commit(Self.encode(page, clusterID: clusterID), movingWatermarkFrom: expectedWatermark, to: expectedWatermark))
        } catch let moved as WatermarkMoved {
            return .watermarkMoved(actual: moved.actual)
        }
    }

    /// One transaction: the watermark compare-and-set, then every non-empty row kind COPYed
    /// in. Returns the rows inserted or updated.
    private func commit(_ encoded: [(ArchiveTable, CopyBuffer)], movingWatermarkFrom expected: UInt64, to last: UInt64) throws -> Int {
        try database.use { connection in
            try connection.transaction {
                try moveWatermark(from: expected, to: last, on: connection)
                var rows = 0
                for (table, data) in encoded where !data.isEmpty {
                    rows += try copy(data, into: table, on: connection)
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

    /// Rows inserted or updated from `data`, by the direct or the staged way (see ArchiveTable).
    private func copy(_ data: CopyBuffer, into table: ArchiveTable, on connection: PostgresConnection) throws -> Int {
        if table.isKeyedByLogIndex {
            try connection.exec("SAVEPOINT archive_direct_copy")
            do {
                let rows = try connection.copyIn(table.directCopySQL, data: data)
                try connection.exec("RELEASE SAVEPOINT archive_direct_copy")
                return rows
            } catch let error as PostgresError where error.sqlState == "23505" && !error.isConnectionBroken {
                try connection.exec("ROLLBACK TO SAVEPOINT archive_direct_copy")
                logger.notice("archive rows above the watermark already exist; skipping them", metadata: ["table": "\(table.name)"])
            }
        }
        try connection.exec(table.createStagingSQL)
        try connection.copyIn(table.stagingCopySQL, data: data)
        return try connection.exec(table.insertFromStagingSQL).affectedRows
    }

    /// Every row kind in COPY text format, cluster id first, in a fixed order.
    static func encode(_ batch: ArchiveBatch, clusterID cluster: String) -> [(ArchiveTable, CopyBuffer)] {
        func encode<Row>(_ rows: [Row], bytesPerRow: Int, _ encodeRow: (Row, inout CopyBuffer) -> Void) -> CopyBuffer {
            var buffer = CopyBuffer(reservingCapacity: rows.count * bytesPerRow)
            for row in rows {
                buffer.append(cluster)
                encodeRow(row, &buffer)
                buffer.endRow()
            }
            return buffer
        }
        return [
            (.events, encode(batch.events, bytesPerRow: 640, ArchiveTable.encode)),
            (.incidents, encode(batch.incidents, bytesPerRow: 512, ArchiveTable.encode)),
            (.timeline, encode(batch.timeline, bytesPerRow: 192, ArchiveTable.encode)),
            (.deliveries, encode(batch.deliveries, bytesPerRow: 192, ArchiveTable.encode)),
            (.configChanges, encode(batch.configChanges, bytesPerRow: 320, ArchiveTable.encode)),
            (.gaps, encode(batch.gaps, bytesPerRow: 128, ArchiveTable.encode)),
        ]
    }
}

/// A batch validated and encoded in COPY format, ready for `ArchiveStore.write(_:)`; made by
/// `ArchiveStore.prepare` on any thread.
public struct PreparedBatch: Sendable {
    public let firstIndex: UInt64
    public let lastIndex: UInt64
    public let expectedWatermark: UInt64
    let clusterID: String
    public let rowCount: Int
    let encoded: [(ArchiveTable, CopyBuffer)]
}
