import Archive
import ArgumentParser
import Foundation
import Logging
import PostgresTesting

/// Catch-up throughput of the archive: writes a synthetic backlog through `ArchiveStore.write`
/// in batches and prints rows per second (docs/ARCHIVE.md, "Benchmarks").
///
/// Two mixes of rows per log entry (`--mix`):
/// - `one-to-one` (worst case): every entry's event opens a new incident: 2 rows per entry,
///   half of them incidents, whose full-text index makes them the expensive kind.
/// - `dedup`: one event per entry; every 10th entry opens an incident (with a timeline entry
///   and a delivery), the others deduplicate into the newest open incident, whose latest
///   version the batch carries once: about 1.3 rows per entry.
/// Generating the rows is not timed; encoding, COPY, the set-based inserts, the watermark
/// compare-and-set and the commit are.
@main
struct ArchiveBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive-bench", abstract: "Archive catch-up throughput (rows/s) against PostgreSQL.")

    @Option(help: "PostgreSQL URL of a migrated or empty database (each run uses a new cluster id).")
    var url: String?

    @Option(help: "Environment variable holding the password for --url.")
    var passwordEnv: String?

    @Flag(help: "Start a throwaway PostgreSQL (PostgresTesting) and use a new database per run.")
    var startServer = false

    @Flag(help: "With --start-server: fsync=off and full_page_writes=off (default: durable settings).")
    var noFsync = false

    @Option(help: "Log entries in the backlog (rows = 2 x entries).")
    var entries = 200_000

    @Option(help: "Comma-separated batch sizes, in log entries.")
    var batchSizes = "1000,5000,20000"

    @Option(help: "Runs per batch size; the median is reported.")
    var repeats = 3

    @Flag(help: "Drop the full-text index on incidents before writing (what it costs the writer).")
    var withoutTextIndex = false

    @Option(help: "Rows per log entry: one-to-one (an incident per event) or dedup (an incident per 10 events).")
    var mix: SyntheticBacklog.Mix = .oneToOne

    mutating func run() throws {
        let sizes = batchSizes.split(separator: ",").compactMap { Int($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 && $0 <= entries }), entries > 0, repeats > 0 else {
            throw ValidationError("need entries > 0, repeats > 0 and batch sizes in 1...entries")
        }
        guard startServer != (url != nil) else { throw ValidationError("give exactly one of --url and --start-server") }
        var serverOptions = PostgresServer.Options()
        serverOptions.durable = !noFsync
        let server = startServer ? try PostgresServer.start(options: serverOptions) : nil
        defer { server?.cleanup() }
        let password = passwordEnv.map { PostgresPassword.environmentVariable(name: $0) }
        print("mix=\(mix.rawValue) text_index=\(!withoutTextIndex) entries=\(entries) repeats=\(repeats) server=\(server.map { "started, durable=\($0.options.durable)" } ?? "--url")")
        print("batch_entries  run_rows_per_s                      median_rows_per_s")
        var runNumber = 0
        for size in sizes {
            var rates: [Double] = []
            for _ in 0..<repeats {
                runNumber += 1
                let database = try server?.createDatabase("bench_\(runNumber)") ?? url!
                rates.append(try Self.measure(url: database, password: password, entries: entries, batchSize: size, mix: mix, withoutTextIndex: withoutTextIndex, run: runNumber))
            }
            let median = rates.sorted()[rates.count / 2]
            let runs = rates.map { String(format: "%.0f", $0) }.joined(separator: " ")
            print(String(format: "%13d  %-34@  %.0f", size, runs as NSString, median))
        }
    }

    /// Writes the whole backlog under a fresh cluster id; returns rows per second.
    static func measure(url: String, password: PostgresPassword?, entries: Int, batchSize: Int, mix: SyntheticBacklog.Mix, withoutTextIndex: Bool, run: Int) throws -> Double {
        var logger = Logger(label: "archive-bench")
        logger.logLevel = .warning
        let store = try ArchiveStore(url: url, password: password, clusterID: "bench-\(run)-\(UUID().uuidString.prefix(8))", logger: logger)
        try store.migrate()
        if withoutTextIndex {
            try PostgresConnection(url: url, password: password).exec("DROP INDEX IF EXISTS archive_incidents_text")
        }
        var watermark: UInt64 = 0
        var elapsed: Duration = .zero
        var rows = 0
        while watermark < UInt64(entries) {
            let count = min(batchSize, entries - Int(watermark))
            let batch = SyntheticBacklog.batch(first: watermark + 1, count: count, mix: mix)
            let started = ContinuousClock.now
            let result = try store.write(batch, expectedWatermark: watermark)
            elapsed += ContinuousClock.now - started
            guard case .written = result else { throw ValidationError("unexpected \(result)") }
            rows += batch.rowCount
            watermark += UInt64(count)
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(rows) / seconds
    }
}

/// Rows shaped like the incident manager's: realistic field sizes and JSON columns.
enum SyntheticBacklog {
    enum Mix: String, ExpressibleByArgument, CaseIterable {
        case oneToOne = "one-to-one"
        case dedup
    }

    static let start: Int64 = 1_740_787_200_000
    static let sources = ["llm-sentinel", "llm-shield", "alertmanager", "prometheus"]
    static let severities = ["p0", "p1", "p2", "p3", "p4"]
    static let title = "p95 latency above SLO on chat-api"
    static let description = "p95 latency 2.3 s over 5 min on chat-api (threshold 2 s), region eu-west-1"

    static func batch(first: UInt64, count: Int, mix: Mix) -> ArchiveBatch {
        var batch = ArchiveBatch(firstIndex: first, lastIndex: first + UInt64(count) - 1)
        batch.events.reserveCapacity(count)
        var latest: [String: ArchivedIncident] = [:]
        for index in first...batch.lastIndex {
            let opener = mix == .oneToOne ? index : index - (index - 1) % 10
            let incidentID = "inc-\(opener)"
            batch.events.append(event(index, incidentID: incidentID, outcome: opener == index ? "created" : "deduplicated"))
            var incident = latest[incidentID] ?? self.incident(opener, id: incidentID)
            incident.occurrenceCount = Int64(index - opener) + 1
            incident.lastSeen = time(index)
            incident.updatedAt = time(index)
            incident.lastLogIndex = index
            latest[incidentID] = incident
            if mix == .dedup && opener == index {
                batch.timeline.append(
                    ArchivedTimelineEntry(
                        incidentID: incidentID, seq: 0, at: time(index), kind: "created", actor: "system",
                        message: "incident created", detailsJSON: #"{"rule": "default-routing"}"#))
                batch.deliveries.append(
                    ArchivedDelivery(
                        logIndex: index, notificationID: index, incidentID: incidentID, channel: "slack-oncall", kind: "page",
                        level: 1, result: "delivered", error: nil, at: time(index) + 800))
            }
        }
        batch.incidents = latest.values.sorted { $0.lastLogIndex < $1.lastLogIndex }
        return batch
    }

    static func time(_ index: UInt64) -> Int64 { start + Int64(index) * 250 }

    static func event(_ index: UInt64, incidentID: String, outcome: String) -> ArchivedEvent {
        ArchivedEvent(
            logIndex: index, position: 0, eventID: "evt-\(index)", incidentID: incidentID, outcome: outcome,
            source: sources[Int(index % 4)], sourceVersion: "2.4.1", eventType: "anomaly", category: "performance", title: title,
            description: description, rawSeverity: "critical", severity: severities[Int(index % 5)], action: "trigger",
            dedupKey: "chat-api/latency/\(index % 1_000)", environment: "production", occurredAt: time(index) - 1_500,
            receivedAt: time(index), resourceJSON: #"{"id": "chat-api", "type": "service", "region": "eu-west-1"}"#,
            tagsJSON: #"{"team": "ml-platform", "tier": "1"}"#, labelsJSON: #"{"model": "gpt-large", "cluster": "a"}"#,
            metricsJSON: #"{"p95_ms": 2310.5, "rps": 1840}"#, payload: #"{"alert":"latency","value":2310.5,"threshold":2000,"window":"5m"}"#)
    }

    static func incident(_ index: UInt64, id: String) -> ArchivedIncident {
        ArchivedIncident(
            incidentID: id, title: title, description: description, severity: severities[Int(index % 5)], status: "new",
            category: "performance", source: sources[Int(index % 4)], environment: "production", team: "ml-platform", assignee: nil,
            escalationPolicy: "default", escalationLevel: 0, occurrenceCount: 1, firstSeen: time(index) - 1_500,
            lastSeen: time(index), createdAt: time(index), updatedAt: time(index), acknowledgedAt: nil, resolvedAt: nil,
            closedAt: nil, acknowledgeSLABreached: false, resolveSLABreached: false, duplicateOf: nil, rootCause: nil,
            labelsJSON: #"{"model": "gpt-large"}"#, tagsJSON: #"{"tier": "1"}"#, lastLogIndex: index)
    }
}
