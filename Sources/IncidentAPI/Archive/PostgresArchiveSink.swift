import Archive
import Archiver
import Dispatch
import Foundation
import Locking
import Synchronization

/// The archiver's PostgreSQL side: an `ArchiveStore` (one blocking libpq connection) used only
/// on a serial queue of its own, so a slow or unreachable database never blocks Swift
/// Concurrency's threads, the consensus loop or the HTTP server. The schema migrations run
/// before the first statement (and again after a failed attempt), so a database that is down at
/// startup only delays archiving.
public final class PostgresArchiveSink: ArchiveSink {
    private let store: Lock<ArchiveStore>
    private let queue = DispatchQueue(label: "incidentd-archive-writer")
    private let migrated = Atomic<Bool>(false)
    private let clock: @Sendable () -> Int64
    public let redactedURL: String
    private let clusterID: String
    private let maxRows: Int

    public init(store: sending ArchiveStore, clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000) }) {
        redactedURL = store.redactedURL
        clusterID = store.clusterID
        maxRows = store.configuration.maxRowsPerBatch
        self.store = Lock(store)
        self.clock = clock
    }

    /// Applies the schema migrations now (they also run before the first write otherwise).
    public func prepare() async throws {
        try await run { _ in }
    }

    public func watermark() async throws -> UInt64 {
        try await run { store in try store.watermark() }
    }

    /// Rows are made and encoded in the calling task; only the transaction runs on the queue, so
    /// the runner can prepare its next batch while this one commits.
    public func write(_ slice: ArchiveSlice, expected: UInt64) async throws -> ArchiveWriteOutcome {
        let result: WriteResult
        if slice.isResyncPage {
            var page = ArchiveBatch(firstIndex: slice.firstIndex, lastIndex: slice.lastIndex)
            ArchiveRowMapping.appendIncidents(slice.incidents, stateIndex: slice.stateIndex, to: &page)
            let (incidents, timeline) = (page.incidents, page.timeline)
            result = try await run { store in try store.resync(incidents: incidents, timeline: timeline, expectedWatermark: expected) }
        } else {
            let prepared = try ArchiveStore.prepare(
                ArchiveRowMapping.batch(slice, now: clock()), expectedWatermark: expected, clusterID: clusterID, maxRows: maxRows)
            result = try await run { store in try store.write(prepared) }
        }
        switch result {
        case .written(let rows): return .written(rows: rows)
        case .watermarkMoved(let actual): return .moved(actual: actual)
        }
    }

    public func close() {
        store.withLock { $0.close() }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (ArchiveStore) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(
                    with: Result {
                        try self.store.withLock { store in
                            if !self.migrated.load(ordering: .relaxed) {
                                try store.migrate()
                                self.migrated.store(true, ordering: .relaxed)
                            }
                            return try body(store)
                        }
                    })
            }
        }
    }
}
