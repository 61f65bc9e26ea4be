import Archive
import ArgumentParser
import Foundation
import Logging
import PostgresTesting

/// Catch-up throughput of the archive: writes a synthetic backlog through `ArchiveStore.write`
/// in batches and prints rows per second (docs/ARCHIVE.md, "Benchmarks").
///
/// Every log index carries one event and opens one incident, so a backlog of N entries is 2N
/// rows. Generating the rows is not timed; encoding, COPY, the set-based inserts, the watermark
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
        print("entries=\(entries) rows=\(2 * entries) repeats=\(repeats) server=\(server.map { "started, durable=\($0.options.durable)" } ?? "--url")")
        print("batch_entries  run_rows_per_s                      median_rows_per_s")
        var runNumber = 0
        for size in sizes {
            var rates: [Double] = []
            for _ in 0..<repeats {
                runNumber += 1
                let database = try server?.createDatabase("bench_\(runNumber)") ?? url!
                rates.append(try Self.measure(url: database, password: password, entries: entries, batchSize: size, run: runNumber))
            }
            let median = rates.sorted()[rates.count / 2]
            let runs = rates.map { String(format: "%.0f", $0) }.joined(separator: " ")
            print(String(format: "%13d  %-34@  %.0f", size, runs as NSString, median))
        }
    }

    /// Writes the whole backlog under a fresh cluster id; returns rows per second.
    static func measure(url: String, password: PostgresPassword?, entries: Int, batchSize: Int, run: Int) throws -> Double {
        var logger = Logger(label: "archive-bench")
        logger.logLevel = .warning
        let store = try ArchiveStore(url: url, password: password, clusterID: "bench-\(run)-\(UUID().uuidString.prefix(8))", logger: logger)
        try store.migrate()
        var watermark: UInt64 = 0
        var elapsed: Duration = .zero
        var rows = 0
        while watermark < UInt64(entries) {
            let count = min(batchSize, entries - Int(watermark))
            let batch = SyntheticBacklog.batch(first: watermark + 1, count: count)
            let started = ContinuousClock.now
            let result = try store.write(batch, expectedWatermark: watermark)
            elapsed += ContinuousClock.now - started
            guard case .written(let written) = result else { throw ValidationError("unexpected \(result)") }
            rows += written
            watermark += UInt64(count)
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(rows) / seconds
    }
}

/// Rows shaped like the incident manager's: realistic field sizes and JSON columns.
enum SyntheticBacklog {
    static let start: Int64 = 1_740_787_200_000
    static let sources = ["llm-sentinel", "llm-shield", "alertmanager", "prometheus"]
    static let severities = ["p0", "p1", "p2", "p3", "p4"]

    static func batch(first: UInt64, count: Int) -> ArchiveBatch {
        var events: [ArchivedEvent] = []
        var incidents: [ArchivedIncident] = []
        events.reserveCapacity(count)
        incidents.reserveCapacity(count)
        for index in first..<(first + UInt64(count)) {
            let time = start + Int64(index) * 250
            let source = sources[Int(index % 4)]
            let severity = severities[Int(index % 5)]
            let incidentID = "inc-\(index)"
            events.append(
                ArchivedEvent(
                    logIndex: index, position: 0, eventID: "evt-\(index)", incidentID: incidentID, outcome: "created", source: source,
                    sourceVersion: "2.4.1", eventType: "anomaly", category: "performance", title: "p95 latency above SLO on chat-api",
                    description: "p95 latency 2.3 s over 5 min on chat-api (threshold 2 s), region eu-west-1",
                    rawSeverity: "critical", severity: severity, action: "trigger", dedupKey: "chat-api/latency/\(index % 1_000)",
                    environment: "production", occurredAt: time - 1_500, receivedAt: time,
                    resourceJSON: #"{"id": "chat-api", "type": "service", "region": "eu-west-1"}"#,
                    tagsJSON: #"{"team": "ml-platform", "tier": "1"}"#, labelsJSON: #"{"model": "gpt-large", "cluster": "a"}"#,
                    metricsJSON: #"{"p95_ms": 2310.5, "rps": 1840}"#,
                    payload: #"{"alert":"latency","value":2310.5,"threshold":2000,"window":"5m"}"#))
            incidents.append(
                ArchivedIncident(
                    incidentID: incidentID, title: "p95 latency above SLO on chat-api",
                    description: "p95 latency 2.3 s over 5 min on chat-api (threshold 2 s), region eu-west-1", severity: severity,
                    status: "new", category: "performance", source: source, environment: "production", team: "ml-platform",
                    assignee: nil, escalationPolicy: "default", escalationLevel: 0, occurrenceCount: 1, firstSeen: time - 1_500,
                    lastSeen: time - 1_500, createdAt: time, updatedAt: time, acknowledgedAt: nil, resolvedAt: nil, closedAt: nil,
                    acknowledgeSLABreached: false, resolveSLABreached: false, duplicateOf: nil, rootCause: nil,
                    labelsJSON: #"{"model": "gpt-large"}"#, tagsJSON: #"{"tier": "1"}"#, lastLogIndex: index))
        }
        return ArchiveBatch(firstIndex: first, lastIndex: first + UInt64(count) - 1, events: events, incidents: incidents)
    }
}
