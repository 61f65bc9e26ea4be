import ClusterNode
import CoreMetrics
import Foundation
import IncidentCore
import Locking
import Logging
import RaftCore
import Synchronization

/// One batch for the archive: the journal records in `firstIndex ... lastIndex` (log order), the
/// current rows of the incidents they changed, and a gap when records in the range are gone.
public struct ArchiveSlice: Sendable {
    /// The archive's watermark + 1; `lastIndex` becomes its new watermark. A re-sync page has
    /// `lastIndex == firstIndex - 1` (it moves nothing; its incident rows are upserts).
    public var firstIndex: LogIndex
    public var lastIndex: LogIndex
    public var records: [ArchiveRecord]
    /// Current rows (as of `stateIndex`) of the incidents the records changed, or of a re-sync page.
    public var incidents: [Incident]
    /// The applied index the incident rows were read at (they only ever move forward).
    public var stateIndex: LogIndex
    public var gap: Gap?

    public struct Gap: Sendable, Equatable {
        public var from: LogIndex
        public var through: LogIndex
        public var reason: String
    }

    public var isResyncPage: Bool { lastIndex < firstIndex }
}

/// Where batches go: PostgreSQL in production (`PostgresArchiveSink`), memory in tests.
public protocol ArchiveSink: AnyObject, Sendable {
    /// Readies the archive (PostgreSQL: applies the schema migrations); called at start by
    /// every node with an archive, retried until it succeeds.
    func prepare() async throws
    /// The archive's watermark: the last log index whose changes it holds (0: none).
    func watermark() async throws -> LogIndex
    /// Writes the slice and moves the watermark from `expected` to `slice.lastIndex` in one
    /// transaction; `.moved(actual)` (and nothing written) when the watermark is not `expected`.
    func write(_ slice: ArchiveSlice, expected: LogIndex) async throws -> ArchiveWriteOutcome
}

public enum ArchiveWriteOutcome: Sendable, Equatable {
    case written(rows: Int)
    case moved(actual: LogIndex)
}

/// What the archiver last saw, for `GET /api/v1/cluster` and `/metrics`.
public struct ArchiverStatus: Sendable, Equatable {
    public enum State: String, Sendable { case starting, idle, archiving, degraded }
    public var state: State = .starting
    /// The archive's watermark as this node last read or wrote it.
    public var watermark: LogIndex = 0
    public var lastError: String?
    public var rowsWritten: UInt64 = 0
    public var batchesWritten: UInt64 = 0
    public var gapsRecorded: UInt64 = 0
}

/// Runs on every node started with an archive URL; writes only while the node holds the archive
/// lease (`NodeStatus.holdsArchiveLease`). Each pass reads the journal after the archive's
/// watermark on the consensus loop (copies only), turns it into rows off the loop, writes them
/// with the watermark in one transaction, then reports progress so every replica trims its
/// journal. PostgreSQL down or slow: retries with backoff; ingestion never waits for it.
public final class ArchiveRunner: Sendable {
    public struct Settings: Sendable {
        /// Journal bound on every replica (`ArchiveCommand.enable`).
        public var journalLimitBytes = 256 << 20
        /// Most journal records per batch.
        public var maxRecordsPerBatch = 5_000
        /// Incidents per re-sync page.
        public var resyncPageSize = 2_000
        /// How long to wait between passes when there is nothing to archive.
        public var idleMilliseconds = 100
        /// Entries with nothing to archive (lease renewals, the progress reports themselves) move
        /// the watermark only once this many gathered or this much time passed: each write is
        /// followed by a progress entry, so writing for those alone would never stop.
        public var quietEntriesBeforeWrite: UInt64 = 1_000
        public var quietMillisecondsBeforeWrite = 10_000
        public var retryMinimumMilliseconds = 200
        public var retryMaximumMilliseconds = 10_000
        public init() {}
    }

    private let node: IncidentNode
    private let sink: any ArchiveSink
    private let settings: Settings
    private let logger: Logger
    private let published = Lock(ArchiverStatus())
    private let stopped = Atomic<Bool>(false)

    public init(node: IncidentNode, sink: any ArchiveSink, settings: Settings = Settings(), logger: Logger) {
        self.node = node
        self.sink = sink
        self.settings = settings
        self.logger = logger
    }

    public var status: ArchiverStatus { published.withLock { $0 } }

    public func stop() { stopped.store(true, ordering: .relaxed) }

    /// Runs until `stop()` or cancellation.
    public func run() async {
        let sink = self.sink
        let logger = self.logger
        let preparing = Task {
            var delay = settings.retryMinimumMilliseconds
            while !Task.isCancelled {
                do {
                    try await sink.prepare()
                    return
                } catch {
                    logger.warning("archive not ready; retrying", metadata: ["error": "\(error)", "retry_ms": "\(delay)"])
                    try? await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
                    delay = min(settings.retryMaximumMilliseconds, delay * 2)
                }
            }
        }
        defer { preparing.cancel() }
        await announce()
        var knownWatermark: LogIndex?
        var failures = 0
        var lastWrite = ContinuousClock.now
        while !stopped.load(ordering: .relaxed), !Task.isCancelled {
            do {
                let holds = try await node.read(.local) { $0.status.holdsArchiveLease }
                guard holds else {
                    knownWatermark = nil  // re-read when the lease comes back: another node may have written
                    update { $0.state = .idle }
                    try await sleep(settings.idleMilliseconds * 2)
                    continue
                }
                let watermark: LogIndex
                if let knownWatermark { watermark = knownWatermark } else { watermark = try await sink.watermark() }
                knownWatermark = watermark
                let progressed = try await pass(from: watermark, known: &knownWatermark, lastWrite: &lastWrite)
                failures = 0
                update {
                    $0.state = .archiving
                    $0.lastError = nil
                    $0.watermark = knownWatermark ?? $0.watermark
                }
                if !progressed { try await sleep(settings.idleMilliseconds) }
            } catch is CancellationError {
                break
            } catch {
                knownWatermark = nil
                failures += 1
                let delay = min(settings.retryMaximumMilliseconds, settings.retryMinimumMilliseconds << min(failures - 1, 10))
                let message = "\(error)"
                update {
                    $0.state = .degraded
                    $0.lastError = message
                }
                if failures == 1 || failures.isMultiple(of: 20) {
                    logger.warning("archive write failed; retrying", metadata: ["error": "\(message)", "retry_ms": "\(delay)"])
                }
                Counter(label: "incidentd_archive_errors_total").increment()
                do { try await sleep(delay) } catch { break }
            }
        }
    }

    /// Switches the journal on and offers this node as an archiver (again after restarts, and
    /// until it sticks: the leader may be unknown at first).
    private func announce() async {
        let me = node.config.nodeID
        while !stopped.load(ordering: .relaxed), !Task.isCancelled {
            let journal = try? await node.read(.local) { $0.state.archive }
            if let journal, journal.isEnabled, journal.limitBytes == settings.journalLimitBytes, journal.archivers.contains(me) { return }
            if node.leader != 0, let journal {
                do {
                    if !journal.isEnabled || journal.limitBytes != settings.journalLimitBytes {
                        try await node.archive(.enable(limitBytes: settings.journalLimitBytes))
                    }
                    if !journal.archivers.contains(me) { try await node.archive(.setArchiver(me, available: true)) }
                    continue
                } catch {
                    logger.debug("archive announcement not taken yet", metadata: ["error": "\(error)"])
                }
            }
            try? await sleep(200)
        }
    }

    /// One batch (plus re-sync pages before it when the range has a gap), and while the backlog
    /// fills whole batches, the next ones pipelined: batch n+1 is read from the journal and
    /// turned into rows while PostgreSQL commits batch n (it expects n's watermark, so should n
    /// fail it writes nothing). Whether the watermark moved.
    private func pass(from watermark: LogIndex, known: inout LogIndex?, lastWrite: inout ContinuousClock.Instant) async throws -> Bool {
        let view = try await readJournal(after: watermark)
        // The archive holds changes this node has not applied: a new holder still catching up
        // (retried shortly), or another cluster's history under the same cluster id (retried
        // with backoff, and reported, until an operator points this cluster elsewhere).
        guard view.applied >= watermark else { throw ArchiveRunnerError.archiveAhead(watermark: watermark, applied: view.applied) }
        guard view.through > watermark else {
            // Nothing new; a progress report the last writer could not make is made up here.
            if view.replicatedWatermark < watermark { try await node.archive(.progress(watermark)) }
            return false
        }
        let quiet = view.records.isEmpty && view.gapThrough <= watermark && watermark >= view.enabledAt
        if quiet, view.through - watermark < settings.quietEntriesBeforeWrite,
            ContinuousClock.now - lastWrite < .milliseconds(settings.quietMillisecondsBeforeWrite)
        {
            return false
        }
        // The journal holds records only after all three of: the entry that switched archival
        // on, the last progress reported (by whichever archiver, into whichever database), and
        // the records dropped over the bound. An archive behind that point gets a gap for the
        // rest (and every incident re-synced), never a silent hole.
        var gap: ArchiveSlice.Gap?
        let journalFrom = max(view.enabledAt, view.replicatedWatermark, view.gapThrough)
        if watermark < journalFrom {
            let reason =
                view.gapThrough == journalFrom ? "journal limit exceeded while the archive was behind"
                : view.replicatedWatermark == journalFrom ? "archived into another database (this archive was replaced or reset)"
                : "before archival was enabled"
            gap = .init(from: watermark + 1, through: min(journalFrom, view.through), reason: reason)
        }
        if gap != nil { try await resyncIncidents(watermark: watermark) }
        var slice = view.slice(after: watermark, gap: gap)
        var writing = startWrite(slice, expected: watermark)
        while true {
            var next: (slice: ArchiveSlice, write: Task<ArchiveWriteOutcome, any Error>)?
            if slice.records.count == settings.maxRecordsPerBatch {
                let ahead = try? await readJournal(after: slice.lastIndex)
                if let ahead, !ahead.records.isEmpty, ahead.gapThrough <= slice.lastIndex {
                    let nextSlice = ahead.slice(after: slice.lastIndex, gap: nil)
                    next = (nextSlice, startWrite(nextSlice, expected: slice.lastIndex))
                }
            }
            let outcome: ArchiveWriteOutcome
            do { outcome = try await writing.value } catch {
                _ = try? await next?.write.value  // fenced: it expected this batch's watermark
                throw error
            }
            switch outcome {
            case .moved(let actual):
                logger.info("archive watermark moved under this archiver", metadata: ["expected": "\(slice.firstIndex - 1)", "actual": "\(actual)"])
                known = actual
                _ = try? await next?.write.value
                return true
            case .written(let rows):
                known = slice.lastIndex
                lastWrite = ContinuousClock.now
                recordWritten(rows: rows, gap: slice.gap)
                // Trims every replica's journal; losing this report is harmless (made up later).
                let through = slice.lastIndex
                Task { [node] in _ = try? await node.archive(.progress(through)) }
            }
            guard let next else { return true }
            (slice, writing) = next
        }
    }

    private func startWrite(_ slice: ArchiveSlice, expected: LogIndex) -> Task<ArchiveWriteOutcome, any Error> {
        let sink = self.sink
        return Task { try await sink.write(slice, expected: expected) }
    }

    /// The journal after `watermark` as of now (copies only: records and the current rows of
    /// the incidents they changed), at most one batch of it.
    private func readJournal(after watermark: LogIndex) async throws -> JournalView {
        let limit = settings.maxRecordsPerBatch
        return try await node.read(.local) { context -> JournalView in
            let journal = context.state.archive
            let applied = context.status.appliedIndex
            let records = Array(journal.records(after: watermark, through: applied, limit: limit))
            var through = applied
            if records.count == limit, let last = records.last { through = last.index }
            var changed: [UInt64] = []
            var seen = Set<UInt64>()
            for record in records {
                for id in record.incidents where seen.insert(id.number).inserted { changed.append(id.number) }
            }
            let incidents = changed.compactMap { context.state.machine.incident(number: $0) }
            return JournalView(
                records: records, incidents: incidents, through: through, applied: applied, enabledAt: journal.enabledAt,
                gapThrough: journal.gapThrough, replicatedWatermark: journal.watermark)
        }
    }

    private func recordWritten(rows: Int, gap: ArchiveSlice.Gap?) {
        Counter(label: "incidentd_archive_rows_total").increment(by: rows)
        Counter(label: "incidentd_archive_batches_total").increment()
        update {
            $0.rowsWritten += UInt64(rows)
            $0.batchesWritten += 1
            if gap != nil { $0.gapsRecorded += 1 }
        }
        if let gap {
            logger.warning("archive gap recorded; incidents re-synced from state", metadata: [
                "from": "\(gap.from)", "through": "\(gap.through)", "reason": "\(gap.reason)",
            ])
        }
    }

    /// Upserts every incident in state, page by page, without moving the watermark: rows the
    /// missing range changed are right again afterwards (timelines as far as state keeps them).
    private func resyncIncidents(watermark: LogIndex) async throws {
        var before: UInt64?
        let pageSize = settings.resyncPageSize
        while true {
            let cursor = before
            let page = try await node.read(.local) { context -> (incidents: [Incident], applied: LogIndex) in
                (context.state.machine.incidents(before: cursor, limit: pageSize), context.status.appliedIndex)
            }
            guard !page.incidents.isEmpty else { return }
            let slice = ArchiveSlice(
                firstIndex: watermark + 1, lastIndex: watermark, records: [], incidents: page.incidents, stateIndex: page.applied, gap: nil)
            if case .moved(let actual) = try await sink.write(slice, expected: watermark) {
                throw ArchiveRunnerError.watermarkMoved(expected: watermark, actual: actual)
            }
            guard page.incidents.count == pageSize, let last = page.incidents.last else { return }
            before = last.id.number
        }
    }

    private func update(_ change: (inout ArchiverStatus) -> Void) {
        published.withLock { change(&$0) }
    }

    private func sleep(_ milliseconds: Int) async throws {
        try await Task.sleep(nanoseconds: UInt64(max(1, milliseconds)) * 1_000_000)
    }
}

enum ArchiveRunnerError: Error, CustomStringConvertible {
    case watermarkMoved(expected: LogIndex, actual: LogIndex)
    case archiveAhead(watermark: LogIndex, applied: LogIndex)

    var description: String {
        switch self {
        case .watermarkMoved(let expected, let actual): "another archiver moved the watermark (expected \(expected), found \(actual))"
        case .archiveAhead(let watermark, let applied):
            "the archive's watermark (\(watermark)) is ahead of this node's applied index (\(applied)): it is catching up, or the database holds another cluster's history under the same cluster_id (then use another cluster_id or database)"
        }
    }
}

private struct JournalView: Sendable {
    var records: [ArchiveRecord]
    var incidents: [Incident]
    var through: LogIndex
    var applied: LogIndex
    var enabledAt: LogIndex
    var gapThrough: LogIndex
    var replicatedWatermark: LogIndex

    func slice(after watermark: LogIndex, gap: ArchiveSlice.Gap?) -> ArchiveSlice {
        ArchiveSlice(firstIndex: watermark + 1, lastIndex: through, records: records, incidents: incidents, stateIndex: applied, gap: gap)
    }
}
