import Archive
import Archiver
import Dispatch
import Foundation
import Synchronization

/// The archiver's PostgreSQL side: an `ArchiveStore` (one blocking libpq connection) used only
/// on a serial queue of its own, so a slow or unreachable database never blocks Swift
/// Concurrency's threads, the consensus loop or the HTTP server. The schema migrations run
/// before the first statement (and again after a failed attempt), so a database that is down at
/// startup only delays archiving.
public final class PostgresArchiveSink: ArchiveSink {
    private let store: Mutex<ArchiveStore>
    private let queue = DispatchQueue(label: "incidentd-archive-writer")
    private let migrated = Atomic<Bool>(false)
    private let clock: @Sendable () -> Int64
    public let redactedURL: String

    public init(store: sending ArchiveStore, clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000) }) {
        redactedURL = store.redactedURL
        self.store = Mutex(store)
        self.clock = clock
    }

    public func watermark() async throws -> UInt64 {
        try await run { store in try store.watermark() }
    }

    public func write(_ slice: ArchiveSlice, expected: UInt64) async throws -> ArchiveWriteOutcome {
        let now = clock()
        let result: WriteResult = try await run { store in
            if slice.isResyncPage {
                var page = ArchiveBatch(firstIndex: slice.firstIndex, lastIndex: slice.lastIndex)
                ArchiveRowMapping.appendIncidents(slice.incidents, stateIndex: slice.stateIndex, to: &page)
                return try store.resync(incidents: page.incidents, timeline: page.timeline, expectedWatermark: expected)
            }
            return try store.write(ArchiveRowMapping.batch(slice, now: now), expectedWatermark: expected)
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
